"""Accessibility checks in the browser tests: axe-core (from the npm registry) run in the page.

``scripts/npm-deps.sh`` installs axe-core from ``package-lock.json``; ``make test`` runs it.
A page passes when axe finds no violation of serious or critical impact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}"""


def serious_violations(page: Any, *, under_csp: bool = False) -> list[dict[str, Any]]:
    """The serious and critical accessibility violations axe finds on the page as it is now.

    The page's context must bypass the Content Security Policy (``bypass_csp=True``): axe is
    injected as a script the page itself never loads. A page kept under its own policy (a
    test that proves the page works with it) takes ``under_csp=True``: axe's source is then
    evaluated through the browser's debugging protocol, which the policy does not govern.
    """
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run scripts/npm-deps.sh")
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        if under_csp:
            page.evaluate(AXE.read_text(encoding="utf-8"))
        else:
            page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(_RUN)
    return [v for v in violations if v["impact"] in BLOCKING]
