"""Outputs a hostile input cannot break: every input string escaped in Markdown (one escaper
per format, in geo_pcn._escape), CSV headers and cells formula-safe, Configuration.to_csv
round-trips exactly, and a run owns its --out folder (a manifest of the files it wrote)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from tiny import TINY_PRACTICES, TINY_TOML, write_tiny_study

from geo_pcn import Configuration, Scenario, Study, compare, revalidate, validate
from geo_pcn._escape import (
    excel_cell,
    excel_uncell,
    html_text,
    js_string,
    markdown,
    printable,
)
from geo_pcn.cli import cli
from geo_pcn.datasets import demo_study_file
from geo_pcn.errors import InputError
from geo_pcn.io import read_configuration
from geo_pcn.render import to_markdown, write_report

markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py (test extra) not installed")

EVIL_NAME = (
    "<img src=x onerror=alert(1)>\n# heading | [link](http://evil.example) "
    "![i](http://evil.example/i.png) *bold* `code` www.evil.example"
)
EVIL_PCN = "WEST | [PCN](http://evil.example) ![x](http://evil.example/x.png)"
EVIL_LAYER = '=HYPERLINK("http://evil.example")|<b>x</b>'
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


@pytest.fixture
def evil_study_file(tmp_path: Path) -> Path:
    toml = TINY_TOML.replace('"Tiny test study"', _toml_string(EVIL_NAME)).replace(
        'place = "place.geojson"', f'{_toml_string(EVIL_LAYER)} = "place.geojson"'
    )
    practices = TINY_PRACTICES.replace("WEST PCN", _toml_string(EVIL_PCN)).replace(
        "EAST FIVE SURGERY", '"=1+2 ` ${alert(3)} | [y](http://evil.example)"'
    )
    return write_tiny_study(tmp_path / "study", study_toml=toml, practices_csv=practices)


def _render(text: str) -> str:
    return markdown_it.MarkdownIt("commonmark").enable("table").render(text)


def _assert_inert(text: str) -> None:
    """The Markdown renders to nothing but our own structure: one h1, no link, no image,
    no raw HTML from the inputs, and every table row as wide as its header."""
    page = _render(text)
    assert page.count("<h1>") == 1
    assert "<img" not in page and "<a " not in page and "<code>" not in page
    assert "<em>" not in page and "<b>" not in page
    assert "onerror=alert(1)" in page  # present, as text
    tables = re.findall(r"<table>.*?</table>", page, re.S)
    for table in tables:
        widths = {
            len(re.findall(r"<t[hd]>", row)) for row in re.findall(r"<tr>.*?</tr>", table, re.S)
        }
        assert len(widths) == 1, widths
    lines = text.splitlines()
    assert lines[0].startswith("# ") and not any(line.startswith("# ") for line in lines[1:])


# -- Markdown -------------------------------------------------------------------------------
def test_markdown_escaper():
    out = markdown(EVIL_NAME)
    assert "\n" not in out
    assert _render(out).count("<p>") == 1
    page = _render(f"| a |\n|---|\n| {out} |\n")
    assert "<img" not in page and "<a " not in page and page.count("<td>") == 1
    assert markdown("Z00024 (FOXHOLES SURGERY)") == "Z00024 (FOXHOLES SURGERY)"  # readable


def test_report_markdown_escapes_every_input_string(evil_study_file):
    report = validate(Study.from_toml(evil_study_file))
    _assert_inert(to_markdown(report))


def test_compare_markdown_escapes_every_input_string(evil_study_file):
    study = Study.from_toml(evil_study_file)
    before = validate(study)
    after = revalidate(before, study.configuration.move("A00002", to="U00002"))
    text = to_markdown(compare(before, after))
    _assert_inert(text)
    assert "A00002" in text


def test_html_and_javascript_escapers():
    assert html_text('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    js = js_string("`${alert(1)}`</script><!-- \u2028")
    assert js.startswith('"') and js.endswith('"')
    for bad in ("`", "${", "</", "<!--", "\u2028"):
        assert bad not in js
    assert json.loads(js) == "`${alert(1)}`</script><!-- \u2028"


# -- CSV ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["=X", "'=X", "''x", "+1", "-2", "@a", "\tb", "'t Hooft", "ok"])
def test_excel_cell_round_trips(value):
    safe = excel_cell(value)
    assert not safe.startswith(FORMULA)
    assert excel_uncell(safe) == value


def test_csv_headers_and_cells_are_formula_safe(evil_study_file, tmp_path):
    report = validate(Study.from_toml(evil_study_file))
    written = write_report(report, tmp_path / "out", map_html=False)
    csvs = [p for p in written if p.suffix == ".csv"]
    assert {"pcns.csv", "practices.csv", "findings.csv"} <= {p.name for p in csvs}
    headers = set()
    for path in csvs:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        headers |= set(rows[0])
        for row in rows:
            for cell in row:
                assert not cell.startswith(FORMULA), (path.name, cell)
    assert any("HYPERLINK" in h for h in headers)  # the layer is there, made safe


def test_configuration_csv_round_trip_is_exact(tmp_path):
    names = {"U1": "=X", "U2": "'=X", "U3": "-1 NORTH", "U4": "'t HOOFT PCN", "U5": "@HOME"}
    config = Configuration({f"A{i}": code for i, code in enumerate(names, 1)}, names)
    path = config.to_csv(tmp_path / "c.csv")
    for line in path.read_text(encoding="utf-8").splitlines():
        assert not any(cell.startswith(FORMULA) for cell in line.split(","))
    back = Configuration.from_frame(read_configuration(path))
    assert back.names == config.names
    assert back == config


# -- the --out folder -----------------------------------------------------------------------
def _run(*args: str):
    return CliRunner().invoke(cli, [*args, "-q"])


def test_rerun_clears_files_of_the_previous_run(tmp_path, tiny_study_file):
    out = tmp_path / "out"
    first = _run("validate", str(demo_study_file()), "--out", str(out), "--png")
    assert first.exit_code == 1, first.output
    assert (out / "map.png").is_file() and (out / "alignment_pcns.csv").is_file()
    manifest = json.loads((out / ".geo_pcn-manifest.json").read_text())
    assert "map.png" in manifest["files"]
    second = _run("validate", str(tiny_study_file), "--out", str(out))
    assert second.exit_code == 0, second.output
    names = {p.name for p in out.iterdir()}
    assert "map.png" not in names and "alignment_pcns.csv" not in names
    manifest = json.loads((out / ".geo_pcn-manifest.json").read_text())
    assert names == {*manifest["files"], ".geo_pcn-manifest.json"}
    assert "Tiny test study" in (out / "report.md").read_text()


def test_folder_with_files_it_did_not_write_is_refused(tmp_path, tiny_study_file):
    out = tmp_path / "out"
    out.mkdir()
    (out / "budget.xlsx").write_text("mine")
    result = _run("validate", str(tiny_study_file), "--out", str(out))
    assert result.exit_code == 2, result.output
    assert "budget.xlsx" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["budget.xlsx"]
    # a file added beside an earlier run's outputs is refused too
    other = tmp_path / "other"
    assert _run("validate", str(tiny_study_file), "--out", str(other)).exit_code == 0
    (other / "notes.txt").write_text("mine")
    result = _run("validate", str(tiny_study_file), "--out", str(other))
    assert result.exit_code == 2 and "notes.txt" in result.output
    assert (other / "notes.txt").read_text() == "mine"


def test_report_write_refuses_a_foreign_folder(tmp_path, tiny_study_file):
    report = validate(Study.from_toml(tiny_study_file))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="keep.txt"):
        write_report(report, out, map_html=False)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_scenario_run_owns_one_folder(tmp_path):
    scenario = tmp_path / "s.csv"
    scenario.write_text("practice_code,to_pcn_code\nZ00024,UZ002\n")
    out = tmp_path / "out"
    assert _run("validate", str(demo_study_file()), "--out", str(out), "--png").exit_code == 1
    result = _run("scenario", str(demo_study_file()), str(scenario), "--out", str(out))
    assert result.exit_code == 1, result.output
    names = {p.name for p in out.iterdir()}
    manifest = json.loads((out / ".geo_pcn-manifest.json").read_text())
    assert names == {*manifest["files"], ".geo_pcn-manifest.json"}
    assert {"compare.md", "compare.json", "compare_map.html", "report.md"} <= names
    assert "map.png" not in names
    plan = Scenario.from_file(scenario)
    assert len(plan) == 1


def test_a_failed_write_leaves_the_folder_as_it_was(tmp_path, tiny_study_file):
    report = validate(Study.from_toml(tiny_study_file))
    new = tmp_path / "new"
    with pytest.raises(InputError, match="unknown basemap"):
        write_report(report, new, tiles="nope")
    assert not new.exists()
    old = tmp_path / "old"
    first = {p.name: p.read_bytes() for p in write_report(report, old)}
    with pytest.raises(InputError, match="unknown basemap"):
        write_report(report, old, tiles="nope", png=True)
    assert {p.name: p.read_bytes() for p in old.iterdir() if p.is_file()} == {
        **first,
        ".geo_pcn-manifest.json": (old / ".geo_pcn-manifest.json").read_bytes(),
    }


def test_markdown_keeps_ampersands_readable_and_entities_inert():
    from markdown_it import MarkdownIt

    assert markdown("RUGELEY & GREAT HAYWOOD PCN") == "RUGELEY & GREAT HAYWOOD PCN"
    html = MarkdownIt().render(markdown("A &amp; B &#60;script&#62;"))
    assert "&amp;amp;" in html and "<script" not in html


# -- control characters (issue 19 item 1) -------------------------------------------------------
#: Every C0 control and DEL. NUL is refused by the CSV reader ("not a text file") and ends
#: a GeoJSON string read by GDAL, so those names carry the rest; the study name (a TOML
#: "\u0000" escape) carries NUL too.
C0 = "".join(chr(i) for i in range(32)) + "\x7f"
C0_CSV = C0.replace("\x00", "")


def _holdable(text: str) -> str:
    """What every output shows of ``text``, worked out by hand from the rule in the README:
    each C0 control but tab, line feed and carriage return becomes its Unicode control
    picture (U+2400 + its code), DEL becomes U+2421."""
    return "".join(
        chr(0x2400 + ord(c)) if ord(c) < 32 and c not in "\t\n\r" else "\u2421" if c == "\x7f" else c
        for c in text
    )


def test_printable_stand_ins():
    assert printable("A\x1bB\x1aC\x0cD\x7fE") == "A\u241bB\u241aC\u240cD\u2421E"
    assert printable("tab\tline\nreturn\r") == "tab\tline\nreturn\r"  # held by every format
    assert printable("lone \ud800 and \ufffe") == "lone \ufffd and \ufffd"
    assert printable("ST. MARY'S \u00e9 \U0001f600") == "ST. MARY'S \u00e9 \U0001f600"
    # every escaper starts with it: no output gets a raw control character
    for escaped in (markdown(C0), html_text(C0), js_string(C0), excel_cell(C0)):
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", escaped), escaped


@pytest.fixture
def control_study_file(tmp_path: Path) -> Path:
    """The tiny study with every C0 character (and DEL) in the study, a PCN, a practice
    and a place name."""
    from tiny import feature_collection, union_box

    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    practices = TINY_PRACTICES.replace("WEST PCN", quoted(f"WEST{C0_CSV}PCN")).replace(
        "EAST FIVE SURGERY", quoted(f"FIVE{C0_CSV}SURGERY")
    )
    west, east = union_box("WEST", range(0, 2)), union_box("EAST", range(2, 4))
    west["properties"]["name"] = f"West{C0_CSV}Place"
    toml = TINY_TOML.replace('"Tiny test study"', _toml_string(f"Tiny{C0}study"))
    return write_tiny_study(
        tmp_path / "study",
        study_toml=toml,
        practices_csv=practices,
        place_geojson=feature_collection([west, east]),
    )


def test_control_characters_in_names_reach_every_output(control_study_file, tmp_path):
    """ESC, SUB, FF... in the study, PCN, practice and place names: validate writes every
    output (report.xlsx crashed with an openpyxl traceback), no output holds a raw control
    character, and the names are there with the stand-ins, the same in each."""
    out = tmp_path / "out"
    result = _run("validate", str(control_study_file), "--out", str(out))
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "report.html", "report.json", "report.xlsx", "map.html"} <= names
    assert {"pcns.csv", "practices.csv", "findings.csv", "footprints.gpkg"} <= names
    raw = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    for name in ("report.md", "report.html", "map.html", "report.json", "pcns.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert not raw.search(text), name
    study, pcn, practice = (
        _holdable(f"Tiny{C0}study"),
        _holdable(f"WEST{C0_CSV}PCN"),
        _holdable(f"FIVE{C0_CSV}SURGERY"),
    )
    # JSON: the same strings, exactly
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["study"] == study
    assert pcn in {row["pcn_name"] for row in report["pcns"]}
    # CSV: exactly (a CSV holds tab, line feed and carriage return in quotes)
    with (out / "practices.csv").open(newline="", encoding="utf-8") as handle:
        rows = {r["practice_code"]: r for r in csv.DictReader(handle)}
    assert rows["A00005"]["practice_name"] == practice
    assert rows["A00001"]["pcn_name"] == pcn
    # Excel: openpyxl opens it; XML keeps every character but turns a carriage return
    # into a line feed
    from openpyxl import load_workbook

    book = load_workbook(out / "report.xlsx")
    assert book["Summary"]["B2"].value == study.replace("\r", "\n")
    sheet = {r[0]: r for r in book["Practices"].iter_rows(values_only=True)}
    assert sheet["A00005"][1] == practice.replace("\r", "\n")
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        pass
    else:
        rows = CalamineWorkbook.from_path(str(out / "report.xlsx")).get_sheet_by_name(
            "Practices"
        ).to_python()
        assert any(r[1] == practice.replace("\r", "\n") for r in rows)
    # GeoPackage
    import geopandas as gpd

    footprints = gpd.read_file(out / "footprints.gpkg", layer="pcn_footprints")
    assert pcn in set(footprints["pcn_name"])
    # Markdown and HTML: the names on one line (line breaks are spaces in Markdown)
    md_text = (out / "report.md").read_text(encoding="utf-8")
    one_line = re.sub("[\r\n]+", " ", study)
    assert md_text.splitlines()[0] == f"# PCN configuration check: {one_line}"
    page = (out / "report.html").read_bytes().decode("utf-8")  # \r kept
    assert html_text(pcn) in page  # the PCN table
    # the map: the names reach its scripts with the same stand-ins (ESC -> U+241B)
    map_page = (out / "map.html").read_text(encoding="utf-8")
    assert "Tiny\u2400\u2401\u2402" in map_page  # the title
    assert "West\\u2401\\u2402" in map_page  # the place, in the map's (ASCII) GeoJSON
    # a scenario writes compare.md / compare.json / the change map from the same names
    scenario = tmp_path / "move.csv"
    scenario.write_text("practice_code,to_pcn_code\nA00002,U00002\n")
    after = tmp_path / "after"
    result = _run("scenario", str(control_study_file), str(scenario), "--out", str(after))
    assert result.exit_code in (0, 1), result.output
    for name in ("compare.md", "compare.json", "compare_map.html"):
        text = (after / name).read_text(encoding="utf-8")
        assert not raw.search(text), name
