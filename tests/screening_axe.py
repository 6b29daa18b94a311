"""axe-core in a Playwright page, for the screening admin's browser tests.

axe-core comes from npm (`npm install --no-save axe-core` in the project folder; `.ci/run` does
it). Tests that need it are skipped with the reason when it is missing.
"""

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[dict]:
    """Run axe-core (WCAG 2.x A and AA, and best practices) on the page; the violations found."""
    if not AXE.exists():
        pytest.skip("needs axe-core: run `npm install --no-save axe-core` in the project folder")
    # Evaluated through the DevTools protocol, not as a <script> tag, so the site's
    # Content-Security-Policy (no inline scripts) stays on while axe runs.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:10],
        }
        for violation in result["violations"]
    ]
