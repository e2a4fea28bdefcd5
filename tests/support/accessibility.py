"""axe-core (from npm, `make test` installs it) in the browser tests, and the screenshots of
each page at a desktop and a phone width, each checked for accessibility and overflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "tests/browser/axe/node_modules/axe-core/axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
BLOCKING = {"serious", "critical"}

_RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


def install_axe(context: BrowserContext) -> None:
    """Every page of the context gets axe; an init script is exempt from the page's CSP."""
    if not AXE_SCRIPT.exists():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: `make test` installs it (npm ci)")
    context.add_init_script(path=str(AXE_SCRIPT))


def serious_violations(page: Page) -> list[dict[str, Any]]:
    violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE)
    return [v for v in violations if v["impact"] in BLOCKING]


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0 when the layout holds)."""
    overflow: int = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow


def capture(page: Page, name: str) -> list[Path]:
    """Screenshots of the page as it is now at both widths; fails on a serious or critical axe
    violation or a layout wider than the window, at either width."""
    ARTIFACTS.mkdir(exist_ok=True)
    original = page.viewport_size
    shots = []
    try:
        for width, height in WIDTHS.values():
            page.set_viewport_size({"width": width, "height": height})
            page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done(null)))")
            path = ARTIFACTS / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
            violations = serious_violations(page)
            assert violations == [], f"{name} at {width} px: {violations}"
            assert horizontal_overflow(page) <= 0, f"{name} overflows at {width} px"
    finally:
        if original is not None:
            page.set_viewport_size(original)
    return shots
