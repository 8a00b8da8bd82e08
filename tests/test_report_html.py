"""report.html: the whole report on one self-contained page.

Content (verdict, every PCN row, every finding escaped, one bar per PCN and the band lines),
hostile names kept inert, and - in headless chromium with the network blocked - no console
error, no outside request, a table that sorts on a header click, and a print to A4 with the
expected number of pages. Screenshots go to the test's temporary folder (their paths are
printed) to be looked at."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from geo_pcn import Study, validate
from geo_pcn._escape import html_text
from geo_pcn.datasets import demo
from geo_pcn.render import report_html, write_report

DEMO = Path(__file__).resolve().parents[1] / "boundaries" / "demo"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
#: Pages of the demo's report.html printed to A4 by Chromium: summary, map, PCNs (chart and
#: table), findings, community alignment (two), data notes.
DEMO_PDF_PAGES = 8

#: Where screenshots and PDFs go: $GEO_PCN_SHOTS, else the test's temporary folder.
SHOTS = os.environ.get("GEO_PCN_SHOTS")

EVIL_PRACTICE = '=HYPERLINK("http://evil.example","x")'
EVIL_PCN = "<img src=x onerror=alert(1)> & </script><script>alert(2)</script>"
EVIL_STUDY = "Vale `${alert(3)}` <b>bold</b>"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        return Path(SHOTS)
    return tmp_path_factory.mktemp("report_html_shots")


@pytest.fixture(scope="module")
def report():
    return validate(demo())


@pytest.fixture(scope="module")
def page(report) -> str:
    return report_html(report, include_map=False)


def _pcn_table(page: str) -> str:
    match = re.search(r'<table class="sortable" id="pcn-table">.*?</table>', page, re.S)
    assert match, "no PCN table"
    return match.group(0)


def test_verdict_and_summary(report, page):
    assert '<span class="verdict fail" id="verdict">FAIL</span>' in page
    assert "4 errors, 5 warnings, 3 notes." in page
    assert "SYNTHETIC demo region" in page
    assert "508,614 patients" in page
    # how the study area was decided, where the patients live
    area = report.summary["study_area"]
    assert html_text(area["decided_by"]) in page
    assert "298 small areas" in page
    assert "<td>in the study area</td><td class=num>505,578</td>" in page
    assert "<td>in Wales</td><td class=num>188</td>" in page


def test_every_pcn_has_a_row_with_its_band_coloured(report, page):
    table = _pcn_table(page)
    body = table.split("<tbody>")[1]
    assert body.count("<tr>") == len(report.pcns) == 13
    for row in report.pcns.itertuples():
        assert f"<td>{row.pcn_code}</td>" in body
        assert f'data-v="{row.list_size}">{row.list_size:,}</td>' in body
    status = report.pcns["band_status"].value_counts().to_dict()
    assert status == {"within": 10, "above": 1, "below": 1, "exempt": 1}
    for value, n in status.items():
        assert body.count(f'<td class="band-{value}">{value}</td>') == n
    assert ".band-above{background:" in page  # the colours are in the stylesheet


def test_every_finding_is_listed_escaped_with_its_numbers(report, page):
    for f in report.findings:
        assert html_text(f.message) in page, f.message
    for check in {f.check for f in report.findings}:
        assert f'<h3 id="check-{check}">{check} (' in page
    # the detached group's figures, each with its unit: distance, threshold, patients
    assert (
        '<td class=num data-v="1146.9">1,147 m</td><td class=num data-v="250.0">250 m</td>'
        '<td class=num data-v="7849">7,849</td>'
    ) in page


def test_size_chart_has_one_bar_per_pcn_and_the_band_lines(report, page):
    svg = re.search(r'<svg class="chart" id="size-chart".*?</svg>', page, re.S).group(0)
    bars = re.findall(
        r'<rect class="bar" data-pcn="([^"]+)" x="([\d.]+)" y="[\d.]+" '
        r'width="([\d.]+)"',
        svg,
    )
    assert sorted(code for code, _, _ in bars) == sorted(report.pcns["pcn_code"])
    # largest first, widths in proportion to list size
    sizes = report.pcns.set_index("pcn_code")["list_size"]
    widths = {code: float(w) for code, _, w in bars}
    assert [c for c, _, _ in bars] == sorted(sizes.index, key=lambda c: (-sizes[c], c))
    ratio = widths["UZ001"] / sizes["UZ001"]
    for code, w in widths.items():
        assert w == pytest.approx(sizes[code] * ratio, abs=0.2)
    lines = dict(re.findall(r'<line class="band-line" data-band="(\w+)" x1="([\d.]+)"', svg))
    assert set(lines) == {"low", "high"}
    left = float(bars[0][1])
    assert float(lines["low"]) - left == pytest.approx(30_000 * ratio, abs=0.2)
    assert float(lines["high"]) - left == pytest.approx(50_000 * ratio, abs=0.2)
    assert ">30,000</text>" in svg and ">50,000</text>" in svg


def test_alignment_and_data_notes(report, page):
    assert '<section id="alignment"><h2>Community alignment</h2>' in page
    assert "teams (service areas, weighted by patients)" in page
    assert "sites (sites)" in page
    assert "Coterminosity" in page and "NMI " in page
    assert '<section id="notes"><h2>Data notes</h2>' in page
    for note in report.study.notes:
        assert f"<li>{html_text(note)}</li>" in page
    assert "59 of 59 practices" in page
    assert "none (every practice placed)" in page


def test_self_contained_and_printable(page):
    assert "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert page.count("<script") == 1  # the sorting script, nothing else
    assert "@media print" in page and "@page{size:A4" in page
    assert "break-before:page" in page and "tr,dl.facts,svg,figure{break-inside:avoid}" in page


def test_map_is_embedded_inert_until_the_page_starts_it(report):
    page = report_html(report, map_page="<p>MAP & </script><script>x()</script></p>")
    assert (
        'data-srcdoc="&lt;p&gt;MAP &amp; &lt;/script&gt;&lt;script&gt;x()&lt;/script&gt;&lt;/p&gt;"'
    ) in page
    assert page.count("<script") == 1
    assert 'sandbox="allow-scripts"' in page


@pytest.fixture(scope="module")
def evil_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("evil") / "study"
    shutil.copytree(DEMO, folder)
    practices = folder / "gp-reg-pat-prac-map.csv"
    csv_field = '"' + EVIL_PRACTICE.replace('"', '""') + '"'
    text = practices.read_text().replace("MARKET SQUARE SURGERY (SYNTHETIC)", csv_field)
    text = text.replace("BRACKENFORD CENTRAL PCN (SYNTHETIC)", f'"{EVIL_PCN}"')
    practices.write_text(text)
    toml = folder / "demo.toml"
    toml_text = toml.read_text()
    name = re.search(r'^name = "([^"]*)"', toml_text, re.M).group(1)
    toml.write_text(toml_text.replace(f'name = "{name}"', f'name = "{EVIL_STUDY}"', 1))
    return validate(Study.from_toml(toml))


def test_hostile_names_are_escaped(evil_report):
    page = report_html(evil_report, include_map=False)
    assert "<img" not in page and "<b>bold" not in page
    assert page.count("<script") == 1
    assert html_text(EVIL_PCN) in page
    assert html_text(EVIL_STUDY) in page
    for f in evil_report.findings:
        assert html_text(f.message) in page


# -- in a browser --------------------------------------------------------------------------
def browser_test(test):
    """Slow, and skipped without Debian chromium."""
    test = pytest.mark.slow(test)
    return pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found")(test)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="playwright (python) not installed; never `playwright install`",
    )
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class Visit:
    """One load of a local report.html: requests that tried to leave, errors logged."""

    def __init__(self, browser, html: Path, *, width: int = 1300) -> None:
        self.left: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(html.resolve().as_uri())
        self.page.wait_for_load_state("load")

    def _console(self, msg) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)

    def _route(self, route) -> None:
        if route.request.url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            self.left.append(route.request.url)
            route.abort()

    def wait_for_map(self) -> None:
        frame = self.page.frame_locator("iframe.map-frame")
        frame.locator("path.gp-footprint").first.wait_for(timeout=20_000)
        self.page.wait_for_timeout(300)

    def screenshot(self, path: Path) -> None:
        """The whole page; the map scrolled into view first (else chromium may capture
        its frame before it paints)."""
        self.page.locator("#map").scroll_into_view_if_needed()
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")

    def column(self, index: int) -> list[str]:
        return self.page.eval_on_selector_all(
            "#pcn-table tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent)"
        )

    def pdf_pages(self) -> tuple[bytes, int]:
        pdf = self.page.pdf(format="A4", print_background=True)
        return pdf, len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@browser_test
def test_demo_report_in_a_browser(browser, demo_results, shots):
    html = demo_results / "report.html"
    visit = Visit(browser, html)
    visit.wait_for_map()
    page = visit.page
    assert page.locator("#verdict").inner_text() == "FAIL"
    assert page.locator("#size-chart rect.bar").count() == 13
    assert page.locator("#pcn-table tbody tr").count() == 13
    # sort by patients: a click ascending, another descending
    header = page.locator("#pcn-table th", has_text="patients")
    header.click()
    sizes = [_number(t) for t in visit.column(2)]
    assert sizes == sorted(sizes) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    sizes = [_number(t) for t in visit.column(2)]
    assert sizes == sorted(sizes, reverse=True)
    page.locator("#pcn-table th", has_text="name").click()
    names = visit.column(1)
    assert names == sorted(names, key=str.lower) or names == sorted(names)
    page.locator("#pcn-table th", has_text="PCN").first.click()
    assert visit.column(0) == [f"UZ{i:03d}" for i in range(1, 14)]
    visit.screenshot(shots / "report_demo.png")
    assert visit.errors == [] and visit.left == []


@browser_test
def test_demo_report_prints_to_a4(browser, demo_results, shots):
    visit = Visit(browser, demo_results / "report.html")
    visit.wait_for_map()
    visit.page.emulate_media(media="print")
    assert visit.page.locator("nav").is_hidden() and visit.page.locator(".hint").first.is_hidden()
    pdf, pages = visit.pdf_pages()
    out = shots / "report_demo.pdf"
    out.write_bytes(pdf)
    print(f"pdf: {out} ({pages} pages)")
    assert pages == DEMO_PDF_PAGES
    assert visit.errors == [] and visit.left == []


def test_validate_writes_report_html_and_xlsx(demo_results):
    assert (demo_results / "report.html").is_file()
    assert (demo_results / "report.xlsx").is_file()
    text = (demo_results / "report.html").read_text(encoding="utf-8")
    # the map embedded is the map.html written beside it
    map_page = (demo_results / "map.html").read_text(encoding="utf-8")
    assert f'data-srcdoc="{html_text(map_page)}"' in text


@pytest.mark.real_data
@browser_test
def test_qnc_report_html(qnc_study_file, browser, tmp_path, shots):
    report = validate(Study.from_toml(qnc_study_file))
    files = {p.name: p for p in write_report(report, tmp_path / "out")}
    html = files["report.html"]
    text = html.read_text(encoding="utf-8")
    assert text.count('<rect class="bar"') == len(report.pcns) == 25
    for f in report.findings:
        assert html_text(f.message) in text
    visit = Visit(browser, html)
    visit.wait_for_map()
    assert visit.page.locator("#pcn-table tbody tr").count() == 25
    visit.page.locator("#pcn-table th", has_text="patients").click()
    sizes = [_number(t) for t in visit.column(2)]
    assert sizes == sorted(sizes)
    visit.screenshot(shots / "report_qnc.png")
    pdf, pages = visit.pdf_pages()
    (shots / "report_qnc.pdf").write_bytes(pdf)
    print(f"pdf: {shots / 'report_qnc.pdf'} ({pages} pages)")
    assert pages >= 6
    assert visit.errors == [] and visit.left == []


def test_one_number_format_per_column(page):
    """Issue 18: decimals differed from row to row (``100``, ``95.3``, ``7.25`` in one
    column). In every table, the numbers of a column (of one unit) have one number of
    decimals; a finding's value and threshold carry their unit, so a count of patients is
    never paired with a bare ``250``."""
    tables = re.findall(r"<table[^>]*>(.*?)</table>", page, re.S)
    assert len(tables) >= 5
    for table in tables:
        decimals: dict[tuple[int, str], set[int]] = {}
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
            for j, cell in enumerate(re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)):
                m = re.fullmatch(r"-?[\d,]+(\.\d+)?(%| .+)?", cell)
                if m and ("class=num" in row.split("<td")[j + 1][:20]):
                    unit = m.group(2) or ""
                    decimals.setdefault((j, unit), set()).add(len(m.group(1) or ".") - 1)
        for (j, unit), found in decimals.items():
            assert len(found) == 1, (j, unit, found, table[:200])
    findings = page.split('<section id="findings">', 1)[1].split("</section>", 1)[0]
    thresholds = re.findall(r'<td class=num data-v="250.0">([^<]*)</td>', findings)
    assert thresholds and set(thresholds) == {"250 m"}


def test_patients_and_residents_are_two_columns(page):
    """A 'patients' column held population. The served-from-outside finding counts the
    residents of two small areas (3,488, the demo's population file: DM0100229 and
    DM0100269): it is under 'residents', and its 'registered patients' cell is empty."""
    coverage = page.split('<h3 id="check-coverage">', 1)[1].split("</table>", 1)[0]
    head = re.findall(r"<th[^>]*>(.*?)</th>", coverage)
    assert "registered patients" in head and "residents" in head and "patients" not in head
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", coverage, re.S) if "DM0100229" in r)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[head.index("residents")] == "3,488"
    assert cells[head.index("registered patients")] == ""
