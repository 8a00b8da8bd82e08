"""map.html in a real headless browser (Debian chromium driven by Playwright): the shapes are
drawn, a practice opens its popup, nothing is logged as an error, and no request leaves the
machine. Skipped when chromium or playwright is missing (scripts/test.sh installs both)."""

from __future__ import annotations

import re
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


# -- the map explains itself: labels, findings panel, search, band view ------------------
def _view(visit: Visit) -> dict:
    return visit.page.evaluate(
        """() => { const m = Object.values(window).find(
                v => v && v instanceof L.Map);
            const c = m.getCenter(); return {lat: c.lat, lng: c.lng, zoom: m.getZoom()}; }"""
    )


def _visible_labels(visit: Visit) -> list[str]:
    return visit.page.evaluate(
        """() => [...document.querySelectorAll('.gp-label span')]
            .filter(s => s.style.visibility !== 'hidden').map(s => s.textContent)"""
    )


def test_demo_map_explains_itself(browser, tmp_path):
    report = validate(demo())
    html = write_map(report, tmp_path / "map.html")
    visit = Visit(browser, html)
    try:
        # labels: some PCN names at the fitted view, every one once zoomed in far enough
        shown = _visible_labels(visit)
        assert 3 <= len(shown) < 13, shown
        assert all("(SYNTHETIC)" in t for t in shown)
        layers = visit.page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert any("PCN names" in t for t in layers)
        visit.page.evaluate(
            "() => Object.values(window).find(v => v && v instanceof L.Map).setZoom(3)"
        )
        assert visit.count(".gp-label") == 0  # the whole region is a few pixels wide
        visit.page.evaluate(
            "() => Object.values(window).find(v => v && v instanceof L.Map).setZoom(16)"
        )
        assert visit.count(".gp-label") == 13  # every PCN's name fits somewhere
        visit.page.reload()
        visit.page.wait_for_selector("path.gp-footprint")

        # the findings panel lists every finding, grouped, with counts
        items = visit.page.locator(".gp-findings .gp-item")
        assert items.count() == len(report.findings)
        groups = visit.page.locator(".gp-findings .gp-group-title").all_inner_texts()
        assert len(groups) == len({(f.check, f.kind) for f in report.findings})
        assert all(re.search(r"\(\d+\)$", g.strip()) for g in groups), groups
        assert (
            f"Findings ({len(report.findings)})"
            in visit.page.locator(".gp-findings > summary").inner_text()
        )
        # a click on one moves the map and opens its popup
        before = _view(visit)
        first = visit.page.locator(".gp-findings .gp-item:not(.gp-nowhere)").first
        first.click()
        popup = visit.page.locator(".leaflet-popup-content")
        popup.wait_for(state="visible", timeout=5_000)
        after = _view(visit)
        assert after != before
        assert after["zoom"] > before["zoom"]

        # search: a practice by code, a PCN by name
        box = visit.page.locator(".gp-search input")
        box.fill("Z00024")
        hit = visit.page.locator(".gp-results .gp-hit").first
        assert "Z00024" in hit.inner_text()
        start = _view(visit)
        hit.click()
        visit.page.wait_for_timeout(400)  # the previous popup fades out
        assert "Z00024" in popup.last.inner_text()
        assert _view(visit) != start
        name = report.configuration.name_of("UZ002")
        box.fill(name.lower()[:20])
        hits = visit.page.locator(".gp-results .gp-hit-pcn").all_inner_texts()
        assert any("UZ002" in h for h in hits), hits

        # the band-status view: every footprint filled by its band's colour
        visit.page.locator("input[name=gp-colour-by][value=band]").check()
        fills = visit.page.evaluate(
            """() => [...document.querySelectorAll('path.gp-footprint')]
                .map(p => getComputedStyle(p).fill)"""
        )
        from geo_pcn.render._map_data import BAND_COLOURS

        def rgb(hex_colour: str) -> str:
            r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
            return f"rgb({r}, {g}, {b})"

        assert set(fills) <= {rgb(c) for c in BAND_COLOURS.values()}, set(fills)
        assert rgb(BAND_COLOURS["above"]) in fills and rgb(BAND_COLOURS["within"]) in fills
        assert visit.errors == [] and visit.left == []
    finally:
        visit.close(tmp_path / "explains.png")


def test_demo_change_map_panel_and_both_configurations(browser, tmp_path):
    from geo_pcn import compare, revalidate

    study = demo()
    before = validate(study)
    after = revalidate(before, study.configuration.move(["Z00024", "Z00035"], to="UZ008"))
    comparison = compare(before, after)
    html = write_change_map(comparison, tmp_path / "compare_map.html")
    visit = Visit(browser, html)
    try:
        # the lines of the moves
        assert visit.count("path.gp-move-line") == 2
        # the panel lists the moves and the findings resolved and introduced
        changes = visit.page.locator(".gp-changes").inner_text()
        assert "Z00024" in changes and "Z00035" in changes
        assert "UZ008" in changes
        assert visit.count(".gp-resolved .gp-item") == len(comparison.resolved)
        assert visit.count(".gp-introduced .gp-item") == len(comparison.introduced)
        assert visit.count(".gp-findings .gp-item") == len(after.findings)
        # both configurations: the switch shows the one before, then the one after
        n_after = visit.count("path.gp-footprint")
        assert n_after > 0 and visit.count("path.gp-footprint-before") == 0
        visit.page.locator("input[name=gp-config][value=before]").check()
        assert visit.count("path.gp-footprint-before") > 0
        assert visit.count("path.gp-footprint") == 0
        visit.page.locator("input[name=gp-config][value=after]").check()
        assert visit.count("path.gp-footprint") == n_after
        assert visit.errors == [] and visit.left == []
    finally:
        visit.close(tmp_path / "compare_panel.png")


def test_proposal_change_map_in_a_browser(browser, tmp_path):
    """The change map `geo-pcn propose` writes draws in a browser, one ring per moved or
    placed practice."""
    from geo_pcn import compare, propose, revalidate

    study = demo()
    before = validate(study)
    proposal = propose(study)
    after = revalidate(before, proposal.configuration)
    html = write_change_map(compare(before, after), tmp_path / "compare_map.html")
    n = len(proposal.changes)
    _check_change_map(browser, html, n, tmp_path / "proposal_map.png")
    assert (tmp_path / "proposal_map.png").stat().st_size > 10_000


def test_popups_open_clear_of_the_panel(browser, tmp_path):
    """Issue 18: a popup opened near the left edge went under the panel. The leftmost
    practice's popup, and the popup of a finding clicked in the panel, open wholly inside
    the map, right of the panel and below the title."""
    html = write_map(validate(demo()), tmp_path / "map.html")
    visit = Visit(browser, html)
    try:
        page = visit.page
        point = page.evaluate(
            """() => {
                const pts = [...document.querySelectorAll('path.gp-practice')].map(el => {
                    const r = el.getBoundingClientRect();
                    return [r.left + r.width / 2, r.top + r.height / 2, el];
                }).filter(p => document.elementFromPoint(p[0], p[1]) === p[2]);
                pts.sort((a, b) => a[0] - b[0]);
                return pts.length ? [pts[0][0], pts[0][1]] : null;
            }"""
        )
        assert point, "no practice circle is clickable"
        boxes = """() => {
            const r = s => document.querySelector(s).getBoundingClientRect().toJSON();
            return {pop: r('.leaflet-popup'), panel: r('.gp-panel'), map: r('.leaflet-container'),
                    title: r('.gp-titlebar')};
        }"""
        for opener in ("practice", "finding"):
            if opener == "practice":
                page.mouse.click(*point)
            else:
                page.locator(".gp-item:not(.gp-nowhere)").first.click()
            page.wait_for_selector(".leaflet-popup", timeout=5_000)
            page.wait_for_timeout(400)  # the pan that brings it into view
            b = page.evaluate(boxes)
            assert b["pop"]["left"] >= b["panel"]["right"], (opener, b)
            assert b["pop"]["top"] >= b["map"]["top"] and b["pop"]["right"] <= b["map"]["right"]
            if b["pop"]["left"] < b["title"]["right"] and b["pop"]["right"] > b["title"]["left"]:
                assert b["pop"]["top"] >= b["title"]["bottom"], (opener, b)
            page.locator(".leaflet-popup-close-button").click()
    finally:
        visit.close(tmp_path / "popups.png")
    assert not visit.left and not visit.errors


# -- a map drawn while hidden (a background notebook tab, a folded report section) ---------
_FIND_MAP = """() => {
    for (const k of Object.keys(window)) {
        try { if (window[k] instanceof window.L.Map) return k; } catch (e) {}
    }
    return null;
}"""


def _map_frame(page):
    """The frame (page or iframe, at any depth) that holds the Leaflet map."""
    for frame in page.frames:
        try:
            if frame.evaluate("() => !!window.L") and frame.evaluate(_FIND_MAP):
                return frame
        except Exception:  # a frame still loading
            continue
    return None


@pytest.mark.parametrize("kind", ["map", "change_map", "report"])
def test_map_drawn_hidden_then_shown(browser, tmp_path, kind):
    """A map laid out in a container of no size (``display:none``) and shown later fits
    then: its footprints are drawn with finite coordinates, its view holds every practice
    of the study, and the page logs no error (before the fix: no shapes, and "Invalid
    LatLng object: (NaN, NaN)" from fitBounds on a 0x0 map)."""
    from geo_pcn.render import write_report_html

    report = validate(demo())
    if kind == "map":
        name = write_map(report, tmp_path / "map.html").name
    elif kind == "change_map":
        from geo_pcn import compare

        after = validate(report.study, report.configuration.move("Z00024", to="UZ002"))
        name = write_change_map(compare(report, after), tmp_path / "compare_map.html").name
    else:
        name = write_report_html(report, tmp_path / "report.html").name
    host = tmp_path / "host.html"
    host.write_text(
        "<!doctype html><html><body>"
        f'<iframe id="f" src="{name}" style="display:none;width:1200px;height:800px">'
        "</iframe></body></html>",
        encoding="utf-8",
    )
    # the practices' extent, worked out here from the study's points (not by the map)
    west, south, east, north = report.study.practices.geometry.to_crs(4326).total_bounds
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(host.resolve().as_uri(), wait_until="load")
        inner = next(f for f in page.frames if f.url.endswith(name))
        inner.wait_for_load_state("load")
        page.wait_for_timeout(500)  # the hidden map has run all its start-up code
        page.evaluate("() => { document.getElementById('f').style.display = 'block'; }")
        if kind == "report":
            page.frame_locator("#f").locator("#map").scroll_into_view_if_needed()
        deadline = 50
        frame = None
        while deadline and frame is None:
            page.wait_for_timeout(200)
            frame = _map_frame(page)
            deadline -= 1
        assert frame is not None, "no Leaflet map in the page"
        frame.wait_for_selector("path.gp-footprint", timeout=10_000)
        paths = frame.eval_on_selector_all(
            "path.gp-footprint", "els => els.map(e => e.getAttribute('d') || '')"
        )
        n = int((~report.partition.footprints.pcns.geometry.is_empty).sum())
        assert len(paths) == n
        assert all(d and "NaN" not in d for d in paths), "a footprint path has NaN coordinates"
        holds = frame.evaluate(
            """([w, s, e, n]) => {
                let m = null;
                for (const k of Object.keys(window)) {
                    try { if (window[k] instanceof window.L.Map) m = window[k]; } catch (x) {}
                }
                const b = m.getBounds();
                return [b.contains([s, w]), b.contains([n, e]), m.getSize().x, m.getZoom()];
            }""",
            [float(west), float(south), float(east), float(north)],
        )
        assert holds[0] and holds[1], f"the view does not hold the study's practices: {holds}"
        assert holds[2] > 0 and holds[3] > 8
        assert not errors, errors
    finally:
        page.screenshot(path=str(tmp_path / f"hidden_{kind}.png"))
        page.close()
