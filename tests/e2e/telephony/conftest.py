"""Fixtures the voice end-to-end modules share.

``make test`` runs these modules one after another on one worker (the root conftest's
"voice" group), so what they can share is set up once per session rather than per module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.telephony.media.prompts import generate_all

from .telephony_peers import require_tools


@pytest.fixture(scope="session")
def voice_prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every prompt in both languages, music on hold and the beep, generated once.

    espeak-ng and sox take about 4 s for the set on a quiet machine, and each voice module
    (some tests too) generated its own. The servers and phones only read the folder.
    """
    require_tools()
    folder = tmp_path_factory.mktemp("prompts")
    generate_all(folder)
    return folder
