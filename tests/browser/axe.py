"""axe-core in a page: the serious and critical accessibility violations of what it shows now.

axe-core comes from the npm registry for the tests only (`make test` puts it in test-deps/).
The page's Content-Security-Policy forbids inline script, so it is not added as a <script>
tag (page.add_script_tag inlines the file and the CSP refuses it): its text is evaluated
through the DevTools protocol, which the CSP does not govern.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

from tests.support.requirements import missing

AXE_JS = Path(__file__).resolve().parents[2] / "test-deps" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = frozenset({"serious", "critical"})


def axe_source() -> str:
    if not AXE_JS.exists():
        missing("axe-core", f"{AXE_JS} is missing (make test installs it with npm)", "REQUIRE_BROWSER")
    return AXE_JS.read_text(encoding="utf-8")


def describe(violation: dict[str, Any]) -> str:
    where = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
    return f"{violation['id']} ({violation['impact']}): {violation['help']} at {where}"


async def serious_violations(page: Page, source: str) -> list[str]:
    """axe.run on the whole document; violations of serious or critical impact, described."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(source)
    result = await page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [describe(v) for v in result["violations"] if v["impact"] in BLOCKING]
