"""map.html in a real headless browser (Debian chromium driven by Playwright): the shapes are
drawn, a practice opens its popup, nothing is logged as an error, and no request leaves the
machine. Skipped when chromium or playwright is missing (scripts/test.sh installs both)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo_pcn import Study, validate
from geo_pcn.datasets import demo
from geo_pcn.render import write_change_map, write_map

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} not found (Debian chromium; scripts/test.sh installs it)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright (python) not installed: pip install -e '.[test]' (never `playwright install`)",
)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class Visit:
    """One page load of a local map.html: requests that tried to leave, console errors."""

    def __init__(self, browser, html: Path) -> None:
        self.left: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.route("**/*", self._route)
        self.page.on("request", self._request)
        self.page.on(
            "console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(html.resolve().as_uri())
        self.page.wait_for_selector("path.gp-footprint")
        # the view is fitted without animation; make sure nothing is still moving
        self.page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim')")

    def _route(self, route) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.left.append(route.request.url)
            route.abort()

    def _request(self, request) -> None:
        if not request.url.startswith(("file:", "data:")) and request.url not in self.left:
            self.left.append(request.url)

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()

    def free_point(self, selector: str) -> list[float] | None:
        """The centre of the first ``selector`` element that nothing covers there (not the
        legend, not a control, not another shape)."""
        return self.page.evaluate(
            """(selector) => {
                for (const el of document.querySelectorAll(selector)) {
                    const r = el.getBoundingClientRect();
                    const x = r.left + r.width / 2, y = r.top + r.height / 2;
                    if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
                    if (document.elementFromPoint(x, y) === el) return [x, y];
                }
                return null;
            }""",
            selector,
        )

    def close(self, screenshot: Path) -> None:
        self.page.screenshot(path=str(screenshot))
        self.page.close()


def _check_map(browser, html: Path, n_footprints: int, screenshot: Path) -> Visit:
    visit = Visit(browser, html)
    try:
        assert visit.count("path.leaflet-interactive") >= n_footprints
        assert visit.count("path.gp-footprint") == n_footprints  # one path per PCN
        assert visit.count("path.gp-practice") > 0
        assert visit.count(".gp-legend") == 1
        assert visit.count(".leaflet-control-layers-overlays label") >= 4
        # click a practice circle: its popup opens with the practice's facts
        point = visit.free_point("path.gp-practice")
        assert point, "no practice circle is clickable"
        visit.page.mouse.click(*point)
        popup = visit.page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible", timeout=5_000)
        assert "List size" in popup.inner_text()
        visit.page.keyboard.press("Escape")  # closes the popup
        # hover a footprint: its tooltip names the PCN
        point = visit.free_point("path.gp-footprint")
        assert point, "no footprint can be hovered"
        visit.page.mouse.move(*point)
        tooltip = visit.page.locator(".leaflet-tooltip", has_text="patients")
        tooltip.first.wait_for(state="visible", timeout=5_000)
        assert visit.errors == []
        assert visit.left == []
    finally:
        visit.close(screenshot)
    return visit


def test_demo_map_in_a_browser(browser, tmp_path):
    report = validate(demo())
    html = write_map(report, tmp_path / "map.html")
    fp = report.context.footprints.pcns
    _check_map(browser, html, int((~fp.geometry.is_empty).sum()), tmp_path / "demo.png")
    assert (tmp_path / "demo.png").stat().st_size > 10_000


def test_escaped_name_shows_as_text_in_the_popup(browser, tmp_path):
    from tiny import TINY_PRACTICES, write_tiny_study

    evil = "<script>alert(1)</script>"
    practices = TINY_PRACTICES.replace("WEST ONE SURGERY", evil)
    study = Study.from_toml(write_tiny_study(tmp_path / "study", practices_csv=practices))
    html = write_map(validate(study), tmp_path / "map.html")
    visit = Visit(browser, html)
    try:
        dialogs: list[str] = []
        visit.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        texts = visit.page.evaluate(
            """() => { const out = [];
                for (const el of document.querySelectorAll('path.gp-practice')) {
                    el.dispatchEvent(new MouseEvent('click', {bubbles: true,
                        clientX: 300, clientY: 300}));
                    const p = document.querySelector('.leaflet-popup-content');
                    if (p) out.push(p.innerText);
                }
                return out; }"""
        )
        assert any(evil in t for t in texts)
        assert dialogs == []
        assert visit.errors == [] and visit.left == []
    finally:
        visit.close(tmp_path / "tiny.png")


@pytest.mark.real_data
def test_qnc_map_in_a_browser(browser, qnc_study_file, tmp_path):
    report = validate(Study.from_toml(qnc_study_file))
    html = write_map(report, tmp_path / "map.html")
    assert html.stat().st_size < 3_000_000
    fp = report.context.footprints.pcns
    _check_map(browser, html, int((~fp.geometry.is_empty).sum()), tmp_path / "qnc.png")
    assert (tmp_path / "qnc.png").stat().st_size > 10_000


# -- compare_map.html: the change map of a scenario ----------------------------------------
def _check_change_map(browser, html: Path, n_moved: int, screenshot: Path) -> Visit:
    visit = Visit(browser, html)
    try:
        dialogs: list[str] = []
        visit.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        assert visit.count("path.gp-footprint") > 0
        assert visit.count(".gp-legend") == 1
        labels = visit.page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert any("What changed" in t for t in labels), labels
        assert visit.count("path.gp-changed-after") > 0
        assert visit.count("path.gp-changed-before") > 0
        assert visit.count("path.gp-moved") == n_moved
        # hover a moved practice's ring (not its middle: that is the practice's own circle,
        # which still opens its popup): the tooltip says where it went
        point = visit.page.evaluate(
            """() => {
                for (const el of document.querySelectorAll('path.gp-moved')) {
                    const r = el.getBoundingClientRect();
                    const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
                    for (const [x, y] of [[r.left + 1, cy], [r.right - 1, cy],
                                          [cx, r.top + 1], [cx, r.bottom - 1]]) {
                        if (document.elementFromPoint(x, y) === el) return [x, y];
                    }
                }
                return null;
            }"""
        )
        assert point, "no moved-practice marker can be hovered"
        visit.page.mouse.move(*point)
        tooltip = visit.page.locator(".leaflet-tooltip", has_text="moved from").first
        tooltip.wait_for(state="visible", timeout=5_000)
        visit.moved_tooltip = tooltip.inner_text()
        assert "What changed" in visit.page.locator(".gp-legend").inner_text()
        assert visit.errors == []
        assert visit.left == []
        assert dialogs == []
    finally:
        visit.close(screenshot)
    return visit


def test_demo_change_map_in_a_browser(browser, tmp_path):
    from geo_pcn import compare, revalidate

    study = demo()
    before = validate(study)
    after = revalidate(before, study.configuration.move(["Z00024", "Z00035"], to="UZ008"))
    html = write_change_map(compare(before, after), tmp_path / "compare_map.html")
    _check_change_map(browser, html, 2, tmp_path / "compare_map.png")
    assert (tmp_path / "compare_map.png").stat().st_size > 10_000


def test_change_map_with_a_hostile_practice_name(browser, tmp_path):
    from tiny import TINY_PRACTICES, write_tiny_study

    from geo_pcn import compare, revalidate

    evil = "`${alert(1)}` </script><img src=x onerror=alert(2)>"
    practices = TINY_PRACTICES.replace("WEST TWO SURGERY", f'"{evil}"')
    study = Study.from_toml(write_tiny_study(tmp_path / "study", practices_csv=practices))
    before = validate(study)
    after = revalidate(before, study.configuration.move("A00002", to="U00002"))
    html = write_change_map(compare(before, after), tmp_path / "compare_map.html")
    visit = _check_change_map(browser, html, 1, tmp_path / "evil.png")
    assert evil in visit.moved_tooltip  # shown as text, run nowhere (no dialog, no error)
