"""What every browser test shares: how long an expectation waits for the page.

Playwright's ``expect`` waits 5 s by default. ``make test`` runs three test files at once on
two cores, and a page's answer to a click (a POST through the SQLite writer, then the script's
update) has taken longer than that there, while the same test passes in under 7 s alone. A
failing expectation still fails; it only waits 15 s first.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _patient_expectations() -> None:
    try:
        from playwright.sync_api import expect
    except ImportError:  # without Playwright there is nothing to set
        return
    expect.set_options(timeout=15_000)
