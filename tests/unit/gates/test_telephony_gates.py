"""The telephony gates fail on planted violations, as every gate must."""

from __future__ import annotations

from pathlib import Path

from tests.unit.gates.test_gates_fail_on_violations import broken, lint_imports_with

FAKES = "Only tests use the telephony fakes"


def test_production_code_importing_the_telephony_fakes_breaks(tmp_path: Path) -> None:
    """The fakes are for tests; the voice driver's SDP helpers live in ``media/sdp.py``."""
    result = lint_imports_with(
        tmp_path, {"telephony/consult.py": "from hotline.telephony.fake import placeholder_sdp"}
    )
    assert result.returncode == 1
    assert "hotline.telephony.consult -> hotline.telephony.fake" in result.stdout
    assert broken(result) == {FAKES}
