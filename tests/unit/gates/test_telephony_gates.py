"""The telephony gates fail on planted violations, as every gate must."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from tests.unit.gates.test_gates_fail_on_violations import PURE, REPO, broken, lint_imports_with

FAKES = "Only tests use the telephony fakes"


def test_production_code_importing_the_telephony_fakes_breaks(tmp_path: Path) -> None:
    """The fakes are for tests; the voice driver's SDP helpers live in ``media/sdp.py``."""
    result = lint_imports_with(
        tmp_path, {"telephony/consult.py": "from hotline.telephony.fake import placeholder_sdp"}
    )
    assert result.returncode == 1
    assert "hotline.telephony.consult -> hotline.telephony.fake" in result.stdout
    assert broken(result) == {FAKES}


def test_the_call_state_machine_reaching_io_breaks_purity(tmp_path: Path) -> None:
    """The call state machine is pure: the media server's client would bring sockets in."""
    result = lint_imports_with(
        tmp_path, {"telephony/call_state.py": "from hotline.telephony.media import rtpengine"}
    )
    assert result.returncode == 1
    assert "hotline.telephony.call_state -> hotline.telephony.media.rtpengine" in result.stdout
    assert broken(result) == {PURE}


# -- the voice driver's privates stay its own

SOURCE = REPO / "src" / "hotline"
CALL_CENTER = Path("telephony") / "call_center.py"


def call_center_privates(package: Path) -> set[str]:
    """The private members of ``CallCenter``: its ``_methods`` and the ``self._attributes`` it
    sets or reads."""
    tree = ast.parse((package / CALL_CENTER).read_text())
    [center] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "CallCenter"]
    names: set[str] = set()
    for node in ast.walk(center):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.add(node.attr)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def reaches_into_call_center(package: Path, *others: Path) -> list[str]:
    """Every ``something._member`` outside call_center.py naming a private member of
    ``CallCenter`` (``self._x`` of another class is that class's own business)."""
    privates = call_center_privates(package)
    found: list[str] = []
    for root in (package, *others):
        for path in sorted(root.rglob("*.py")):
            if path == package / CALL_CENTER:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in privates
                    and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
                ):
                    found.append(
                        f"{path.relative_to(root.parent)}:{node.lineno}: {ast.unparse(node)}"
                    )
    return found


def test_no_module_touches_the_voice_drivers_private_members() -> None:
    """Consults, transfers, calls out and callbacks use the CallControl protocol instead."""
    assert "_by_leg" in call_center_privates(SOURCE)  # the gate sees what it guards
    # the voice driver's tests too (other tests' ``driver._tasks`` are the live driver's)
    telephony_tests = [
        REPO / "tests" / kind / "telephony" for kind in ("unit", "integration", "e2e")
    ]
    assert reaches_into_call_center(SOURCE, REPO / "bench", *telephony_tests) == []


def test_the_private_member_gate_fails_on_a_planted_violation(tmp_path: Path) -> None:
    package = tmp_path / "hotline"
    (package / "telephony").mkdir(parents=True)
    shutil.copy(SOURCE / CALL_CENTER, package / CALL_CENTER)
    (package / "telephony" / "consult.py").write_text(
        (SOURCE / "telephony" / "consult.py").read_text()
        + "\n\ndef _peek(center: Any) -> None:\n    center._by_leg.clear()\n"
    )
    found = reaches_into_call_center(package)
    assert len(found) == 1 and found[0].startswith("hotline/telephony/consult.py:")
    assert found[0].endswith("center._by_leg")
