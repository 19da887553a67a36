"""Each quality gate is shown to fail on a deliberate violation: a gate that can't fail is a defect.

The gates themselves run in ``scripts/check.sh`` over the real tree; here each runs over a
small planted violation with the project's own configuration.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def run(
    *args: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_ruff_lint_fails_on_unused_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    result = run(BIN / "ruff", "check", "--config", REPO / "pyproject.toml", bad)
    assert result.returncode == 1 and "F401" in result.stdout


def test_ruff_format_fails_on_unformatted_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("x = {  'a':1 }\n")
    result = run(BIN / "ruff", "format", "--check", "--config", REPO / "pyproject.toml", bad)
    assert result.returncode == 1 and "would be reformatted" in result.stdout


def test_mypy_strict_fails_on_untyped_core_function(tmp_path: Path) -> None:
    package = tmp_path / "hotline" / "core"
    package.mkdir(parents=True)
    (tmp_path / "hotline" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text("def add(a, b):\n    return a + b\n")
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n[mypy-hotline.core.*]\nstrict = True\n")
    result = run(
        BIN / "mypy",
        "--config-file",
        config,
        "--no-incremental",
        "-p",
        "hotline.core",
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Function is missing a type annotation" in result.stdout


def test_mypy_checks_the_tests_too(tmp_path: Path) -> None:
    # The project's own configuration, over a tree whose only test has a type error.
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "hotline").mkdir(parents=True)
    (tmp_path / "src" / "hotline" / "__init__.py").write_text("")
    (tmp_path / "conftest.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "test_bad.py").write_text(
        "def helper(x):\n    return x\n\n\ndef test_count() -> None:\n    count: int = 'one'\n"
    )
    result = run(BIN / "mypy", "--no-incremental", cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "tests/test_bad.py:6: error: Incompatible types in assignment" in result.stdout
    assert "helper" not in result.stdout  # tests are checked, not strictly: helpers may go bare


def lint_imports_with(tmp_path: Path, plants: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the project's import contracts over a copy of the source with lines planted.

    ``plants`` maps a path under ``src/hotline`` to a line appended to that module (or the
    whole text of a new module).
    """
    root = tmp_path / "src"
    shutil.copytree(
        REPO / "src" / "hotline",
        root / "hotline",
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "static", "templates"),
    )
    for relative, line in plants.items():
        module = root / "hotline" / relative
        before = module.read_text() if module.exists() else ""
        module.write_text(before + line + "\n")
    return run(
        BIN / "lint-imports",
        "--config",
        REPO / "pyproject.toml",
        "--no-cache",
        cwd=tmp_path,
        # The repository root too: our own contract types live in scripts/import_contracts.py.
        env={
            "PYTHONPATH": os.pathsep.join([str(root), str(REPO)]),
            "PATH": str(BIN),
            "COLUMNS": "200",  # one line per contract in the summary
        },
    )


def broken(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The names of the contracts lint-imports reports broken."""
    return set(re.findall(r"^(.+) BROKEN\b", result.stdout, flags=re.MULTILINE))


LAYERS = "Layers: adapters > drivers > independent domains > kernels > store > core"
PURE = "Pure domains do no I/O"
SIBLING_CYCLES = "No import cycles inside a package"
PACKAGE_CYCLES = "No package's own module in an import cycle with its modules"


def test_import_contract_fails_when_core_imports_the_store(tmp_path: Path) -> None:
    result = lint_imports_with(tmp_path, {"core/leak.py": "from hotline.store import db"})
    assert result.returncode == 1
    assert "hotline.core.leak -> hotline.store" in result.stdout


def test_import_contracts_pass_on_the_real_tree() -> None:
    result = run(BIN / "lint-imports", "--config", REPO / "pyproject.toml", "--no-cache")
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout


def test_a_domain_importing_another_domain_breaks_the_layers(tmp_path: Path) -> None:
    """Domains are independent: routing may not use the tickets service (nor anything else)."""
    result = lint_imports_with(
        tmp_path, {"routing/strategies.py": "from hotline.tickets import service as _tickets"}
    )
    assert result.returncode == 1
    assert "hotline.routing is not allowed to import hotline.tickets" in result.stdout
    assert "hotline.routing.strategies -> hotline.tickets.service" in result.stdout
    # Through tickets.service, routing's pure modules would reach SQLAlchemy too.
    assert broken(result) == {LAYERS, PURE}


def test_a_domain_reaching_past_another_domains_service_breaks_the_layers(
    tmp_path: Path,
) -> None:
    """tickets.service may use crm.service (a declared edge) but not CRM's other modules."""
    result = lint_imports_with(
        tmp_path, {"tickets/service.py": "from hotline.crm import matching as _matching"}
    )
    assert result.returncode == 1
    assert "hotline.tickets.service -> hotline.crm.matching" in result.stdout
    assert broken(result) == {LAYERS}


def test_an_adapter_importing_the_web_app_breaks_the_layers(tmp_path: Path) -> None:
    result = lint_imports_with(tmp_path, {"telephony/fake.py": "from hotline.web import app"})
    assert result.returncode == 1
    assert "hotline.telephony is not allowed to import hotline.web" in result.stdout
    assert "hotline.telephony.fake -> hotline.web.app" in result.stdout
    # The web app imports telephony, so this is also a cycle between hotline's packages.
    assert broken(result) == {LAYERS, SIBLING_CYCLES}


def test_the_replay_driver_reaching_up_into_the_simulator_breaks_the_layers(
    tmp_path: Path,
) -> None:
    """Replay sits under the simulator (which replays recorded arrivals through it)."""
    result = lint_imports_with(tmp_path, {"replay/leak.py": "from hotline.sim import scenario"})
    assert result.returncode == 1
    assert "hotline.replay is not allowed to import hotline.sim" in result.stdout
    assert "hotline.replay.leak -> hotline.sim.scenario" in result.stdout
    assert LAYERS in broken(result)


def test_the_replay_driver_doing_io_breaks_purity(tmp_path: Path) -> None:
    result = lint_imports_with(tmp_path, {"replay/driver.py": "from hotline.store import db"})
    assert result.returncode == 1
    assert "hotline.replay.driver -> hotline.store" in result.stdout
    assert PURE in broken(result)


def test_the_pacing_domain_doing_io_or_using_routing_breaks_purity_and_layers(
    tmp_path: Path,
) -> None:
    """Pacing is a pure domain: no event loop, and no other domain (the dialler composes)."""
    result = lint_imports_with(
        tmp_path,
        {"pacing/budget.py": "import asyncio as _loop\nfrom hotline.routing import engine"},
    )
    assert result.returncode == 1
    assert "hotline.pacing.budget -> asyncio" in result.stdout
    assert "hotline.pacing is not allowed to import hotline.routing" in result.stdout
    assert broken(result) == {LAYERS, PURE}


@pytest.mark.parametrize("kernel", ["config", "identity"])
def test_a_shared_kernel_importing_a_domain_breaks_the_layers(tmp_path: Path, kernel: str) -> None:
    """The center model and identity sit below the domains."""
    result = lint_imports_with(tmp_path, {f"{kernel}/leak.py": "from hotline.kb import text"})
    assert result.returncode == 1
    assert f"hotline.{kernel} is not allowed to import hotline.kb" in result.stdout
    assert f"hotline.{kernel}.leak -> hotline.kb.text" in result.stdout
    # (kb uses identity's audit log, so for identity this is a package cycle as well.)
    assert LAYERS in broken(result)


def test_a_domain_reading_another_domains_tables_breaks_their_protection(
    tmp_path: Path,
) -> None:
    result = lint_imports_with(
        tmp_path, {"kb/service.py": "from hotline.store.models.tickets import Ticket as _Ticket"}
    )
    assert result.returncode == 1
    assert "hotline.kb.service -> hotline.store.models.tickets" in result.stdout
    assert broken(result) == {"Only tickets and the adapters use tickets's tables"}


def test_campaigns_tables_are_protected_and_its_rules_pure(tmp_path: Path) -> None:
    """The campaigns domain's place in the contracts: its tables are its own, its rules pure."""
    result = lint_imports_with(
        tmp_path,
        {
            "tickets/service.py": "from hotline.store.models.campaigns import DoNotCall as _D",
            "campaigns/rules.py": "import sqlalchemy as _sqlalchemy",
        },
    )
    assert result.returncode == 1
    assert broken(result) == {"Only campaigns and the adapters use campaigns's tables", PURE}


def test_tickets_reading_the_follow_up_tables_breaks_their_protection(tmp_path: Path) -> None:
    """Follow-up tasks are the followup domain's: tickets ask followup.service, never the rows."""
    result = lint_imports_with(
        tmp_path,
        {"tickets/sla.py": "from hotline.store.models.followup import FollowUpTask as _Task"},
    )
    assert result.returncode == 1
    assert "hotline.tickets.sla -> hotline.store.models.followup" in result.stdout
    assert "Only followup and the adapters use followup's tables" in broken(result)


def test_the_follow_up_rules_doing_io_breaks_purity(tmp_path: Path) -> None:
    result = lint_imports_with(
        tmp_path, {"followup/rules.py": "from hotline.followup import service as _service"}
    )
    assert result.returncode == 1
    assert "hotline.followup.rules -> hotline.followup.service" in result.stdout
    assert PURE in broken(result)


def test_a_pure_module_reaching_io_through_another_module_breaks_purity(
    tmp_path: Path,
) -> None:
    """No indirect imports either: kb.text -> identity.audit -> store -> SQLAlchemy."""
    result = lint_imports_with(tmp_path, {"kb/text.py": "from hotline.identity import audit"})
    assert result.returncode == 1
    assert "hotline.kb.text -> hotline.identity.audit" in result.stdout
    assert broken(result) == {PURE}


def test_an_import_cycle_between_modules_of_a_package_breaks(tmp_path: Path) -> None:
    result = lint_imports_with(
        tmp_path, {"telephony/consult.py": "from hotline.telephony import call_center"}
    )
    assert result.returncode == 1
    assert "No cycles are allowed in hotline.telephony" in result.stdout
    assert broken(result) == {SIBLING_CYCLES}


def test_an_import_cycle_through_a_packages_own_module_breaks(tmp_path: Path) -> None:
    """pages/__init__ mounts pages/admin; admin importing the package back is a cycle."""
    result = lint_imports_with(tmp_path, {"web/pages/admin.py": "from hotline.web import pages"})
    assert result.returncode == 1
    assert "hotline.web.pages is in an import cycle with hotline.web.pages.admin" in result.stdout
    assert broken(result) == {PACKAGE_CYCLES}


def test_the_dependency_picture_is_regenerated_from_the_code(tmp_path: Path) -> None:
    """docs/architecture.md shows the imports as they are; a stale picture is reported."""
    script = REPO / "scripts" / "deps_graph.py"
    current = run(sys.executable, script, "--check")
    assert current.returncode == 0, current.stdout
    page = tmp_path / "architecture.md"
    text = (REPO / "docs" / "architecture.md").read_text()
    arrow = re.search(r"^  \w+ --> \w+\n", text, flags=re.MULTILINE)
    assert arrow is not None
    page.write_text(text.replace(arrow.group(0), "", 1))  # as if a dependency were new
    stale = run(sys.executable, script, "--check", "--page", page)
    assert stale.returncode == 1 and "stale" in stale.stdout


def test_pytest_treats_warnings_as_errors(tmp_path: Path) -> None:
    (tmp_path / "test_warns.py").write_text(
        "import warnings\n\ndef test_it():\n    warnings.warn('deprecated', DeprecationWarning)\n"
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    result = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_warns.py",
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "DeprecationWarning" in result.stdout


def test_rosters_tables_are_wfm_s_and_the_roster_rules_pure(tmp_path: Path) -> None:
    """Rosters belong to the workforce domain: the people compositions ask ``wfm.service``, and
    the roster rules do no I/O."""
    result = lint_imports_with(
        tmp_path,
        {
            "people/schedules.py": "from hotline.store.models.wfm import Roster as _Roster",
            "wfm/roster.py": "import sqlalchemy as _sqlalchemy",
        },
    )
    assert result.returncode == 1
    assert "hotline.people.schedules -> hotline.store.models.wfm" in result.stdout
    assert broken(result) == {"Only wfm and the adapters use the rosters' tables", PURE}


def test_the_survey_statistics_doing_io_or_reading_quality_break_purity_and_layers(
    tmp_path: Path,
) -> None:
    """Survey statistics are pure, and surveys reach no other domain (the web composes)."""
    result = lint_imports_with(
        tmp_path,
        {
            "surveys/statistics.py": "from hotline.store import db\n"
            "from hotline.quality import service"
        },
    )
    assert result.returncode == 1
    assert "hotline.surveys.statistics -> hotline.store" in result.stdout
    assert "hotline.surveys is not allowed to import hotline.quality" in result.stdout
    assert broken(result) == {LAYERS, PURE}
