"""The telephony gates fail on planted violations, as every gate must."""

from __future__ import annotations

from pathlib import Path

from tests.unit.gates.test_gates_fail_on_violations import PURE, broken, lint_imports_with

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
