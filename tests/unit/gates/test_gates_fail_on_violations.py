"""Each quality gate is shown to fail on a deliberate violation: a gate that can't fail is a defect.

The gates themselves run in ``scripts/check.sh`` over the real tree; here each runs over a
small planted violation with the project's own configuration.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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


def test_import_contract_fails_when_core_imports_the_store(tmp_path: Path) -> None:
    root = tmp_path / "src"
    shutil.copytree(
        REPO / "src" / "hotline", root / "hotline", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "hotline" / "core" / "leak.py").write_text("from hotline.store import db\n")
    result = run(
        BIN / "lint-imports",
        "--config",
        REPO / "pyproject.toml",
        "--no-cache",
        cwd=tmp_path,
        env={"PYTHONPATH": str(root), "PATH": str(BIN)},
    )
    assert result.returncode == 1
    assert "hotline.core.leak -> hotline.store" in result.stdout


def test_import_contracts_pass_on_the_real_tree() -> None:
    result = run(BIN / "lint-imports", "--config", REPO / "pyproject.toml", "--no-cache")
    assert result.returncode == 0, result.stdout


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
