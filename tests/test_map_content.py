"""What the demo's map.html holds, read as text (no browser: tests/test_maps_browser.py
does that): one footprint per PCN, a popup for every practice with its code and PCN, and a
legend that lists every kind of finding drawn. The map comes from
``geo-pcn validate <demo> --out DIR`` (the ``demo_results`` fixture in conftest.py).

folium writes each layer as ``geo_json_N_add({...GeoJSON...})``, names it in the layer
control as ``"Layer name" : geo_json_N``, and binds popups with ``geo_json_N.bindPopup``;
the legend is a JSON string assigned to ``div.innerHTML``."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

FOOTPRINTS = "PCN footprints"
PRACTICES = "Practices (circle area = list size)"
FINDINGS = "Findings"

#: The legend's wording for each kind of finding the demo draws.
DEMO_KIND_LABELS = {
    "detached_group": "Detached practices",
    "practice_in_no_pcn": "Practice in no PCN",
    "split_across_areas": "PCN split across community areas",
    "site_outside_pcn": "Community site outside the PCN it declares",
    "recorded_code_mismatch": "Practice site not in its recorded sub-ICB",
    "area_served_from_outside": "Served from outside",
}
#: Demo findings that have no shape of their own (size is drawn as the PCN's red outline).
DEMO_NOT_DRAWN = {
    "above_band",
    "below_band",
    "crosses_boundary",
    "residents_registered_outside",
    "exempt",
    "single_practice",
}


# -- reading the page ---------------------------------------------------------------------
def _json_at(text: str, start: int):
    return json.JSONDecoder().raw_decode(text, start)[0]


def layers(page: str) -> dict[str, dict]:
    """Layer name (as in the layer control) -> its GeoJSON FeatureCollection."""
    data = {m.group(1): _json_at(page, m.end()) for m in re.finditer(r"(geo_json_\d+)_add\(", page)}
    names = dict(re.findall(r'"([^"\n]+)"\s*:\s*(geo_json_\d+)\b', page))
    return {name: data[var] for name, var in names.items() if var in data}


def layer_var(page: str, name: str) -> str:
    (var,) = re.findall(rf'"{re.escape(name)}"\s*:\s*(geo_json_\d+)\b', page)
    return var


def styler_cases(page: str, var: str, ids) -> dict[str, dict]:
    """Feature id -> the style folium's ``switch(feature.id)`` gives it (folium folds the
    commonest style into ``default:``)."""
    body = page[page.index(f"function {var}_styler(feature)") :]
    body = body[: body.index("\n        }\n")]
    out = {}
    for cases, style in re.findall(r"((?:case \"[^\"]*\":\s*)+)\s*return (\{[^}]*\});", body):
        for code in re.findall(r'case "([^"]*)":', cases):
            out[code] = json.loads(style)
    default = re.search(r"default:\s*return (\{[^}]*\});", body)
    if default:
        out.update({i: json.loads(default.group(1)) for i in ids if i not in out})
    return out


def popup_fields(page: str, var: str) -> dict[str, str]:
    """Property -> label of the popup bound to layer ``var``."""
    body = page[page.index(f"{var}.bindPopup(") :]
    fields = _json_at(body, body.index("let fields = ") + len("let fields = "))
    aliases = _json_at(body, body.index("let aliases = ") + len("let aliases = "))
    return dict(zip(fields, aliases, strict=True))


@dataclass
class _Section:
    heading: str
    rows: list[str]


class _LegendParser(HTMLParser):
    """Headings (``gp-h`` divs and ``<summary>``) with the text of the ``gp-row``s under them."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[_Section] = []
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class") or ""
        kind = "h" if cls == "gp-h" or tag == "summary" else "row" if cls == "gp-row" else ""
        if kind == "h":
            self.sections.append(_Section("", []))
        elif kind == "row" and self.sections:
            self.sections[-1].rows.append("")
        self._open.append(kind)

    def handle_endtag(self, tag):
        self._open.pop()

    def handle_data(self, data):
        if "h" in self._open:
            self.sections[-1].heading += data
        elif "row" in self._open and self.sections:
            self.sections[-1].rows[-1] += data


def legend(page: str) -> dict[str, list[str]]:
    """The legend: heading -> row texts (``{"Findings": [...], "PCNs (13)": [...]}``)."""
    for m in re.finditer(r"\.innerHTML = ", page):
        text = _json_at(page, m.end())
        if isinstance(text, str) and ">Legend</summary>" in text:
            parser = _LegendParser()
            parser.feed(text)
            return {s.heading.strip(): [r.strip() for r in s.rows] for s in parser.sections}
    raise AssertionError("no legend in the page")


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


# -- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page(demo_results: Path) -> str:
    return (demo_results / "map.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def map_layers(page):
    return layers(page)


@pytest.fixture(scope="module")
def pcns(demo_results: Path) -> list[dict]:
    with open(demo_results / "pcns.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def practices(demo_results: Path) -> list[dict]:
    with open(demo_results / "practices.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# -- tests --------------------------------------------------------------------------------
def test_one_footprint_per_pcn(page, map_layers, pcns, demo_results):
    features = map_layers[FOOTPRINTS]["features"]
    summary = json.loads((demo_results / "report.json").read_text(encoding="utf-8"))["summary"]
    assert len(features) == len(pcns) == summary["n_pcns"] == 13
    assert sorted(f["id"] for f in features) == sorted(p["pcn_code"] for p in pcns)
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}
    by_code = {p["pcn_code"]: p for p in pcns}
    for f in features:
        pcn = by_code[f["id"]]
        tip = _strip_tags(f["properties"]["tip"])
        assert f"({pcn['pcn_code']})" in tip and pcn["pcn_name"] in tip, tip
        assert f"{int(pcn['list_size']):,} patients" in tip, tip
        assert f["properties"]["details"], f["id"]  # the popup: its findings, or that it has none
    # every footprint is filled in its own colour (neighbours told apart)
    ids = {f["id"] for f in features}
    styles = styler_cases(page, layer_var(page, FOOTPRINTS), ids)
    assert set(styles) == ids
    assert all(re.fullmatch(r"#[0-9A-F]{6}", s["fillColor"]) for s in styles.values())
    assert len({s["fillColor"] for s in styles.values()}) >= 4


def test_every_practice_has_a_popup_with_its_code_and_pcn(page, map_layers, practices, pcns):
    features = {f["id"]: f["properties"] for f in map_layers[PRACTICES]["features"]}
    assert sorted(features) == sorted(p["practice_code"] for p in practices)
    assert len(features) == 59
    fields = popup_fields(page, layer_var(page, PRACTICES))
    assert fields["code"] == "Practice" and fields["pcn"] == "PCN" and fields["name"] == "Name"
    names = {p["pcn_code"]: p["pcn_name"] for p in pcns}
    for p in practices:
        props = features[p["practice_code"]]
        assert props["code"] == p["practice_code"]
        want = f"{names[p['pcn_code']]} ({p['pcn_code']})" if p["pcn_code"] else "in no PCN"
        assert props["pcn"] == want, (p["practice_code"], props["pcn"])
        assert props["name"] == p["practice_name"]
        assert props["list_size"] == f"{int(p['list_size']):,}"
        assert set(fields) <= set(props)
    assert [c for c, props in features.items() if props["pcn"] == "in no PCN"] == ["Z00024"]


def test_the_legend_lists_the_finding_kinds_drawn(page, map_layers, demo_results):
    """Each kind of finding drawn on the map has one legend row, in the order drawn."""
    drawn = []
    for f in map_layers[FINDINGS]["features"]:
        head = re.match(r"<b>(ERROR|WARNING|INFO): (\w+) / ([^<]+)</b>", f["properties"]["tip"])
        assert head, f["properties"]["tip"]
        kind = head.group(3).replace(" ", "_")
        if kind not in drawn:
            drawn.append(kind)
    rows = legend(page)["Findings"]
    assert len(rows) == len(drawn)
    for kind, row in zip(drawn, rows, strict=True):
        assert row.startswith(DEMO_KIND_LABELS[kind]), (kind, row)
    report = json.loads((demo_results / "report.json").read_text(encoding="utf-8"))
    kinds = {f["kind"] for f in report["findings"]}
    assert set(drawn) <= kinds
    assert kinds - set(drawn) == DEMO_NOT_DRAWN


def test_the_legend_names_every_pcn_with_its_list_size(page, pcns):
    sections = legend(page)
    assert "PCN with an ERROR finding (size band, split...)" in sections["PCN footprints"]
    rows = sections[f"PCNs ({len(pcns)})"]
    assert len(rows) == 13
    for p, row in zip(pcns, rows, strict=True):
        assert row == f"{p['pcn_name']} ({p['pcn_code']}) · {int(p['list_size']):,}"


def test_pcns_with_errors_are_outlined(map_layers, demo_results):
    report = json.loads((demo_results / "report.json").read_text(encoding="utf-8"))
    with_errors = {
        f["pcn_code"] for f in report["findings"] if f["severity"] == "error" and f["pcn_code"]
    }
    outlined = {f["id"] for f in map_layers["PCNs with errors (outlined)"]["features"]}
    assert outlined == with_errors == {"UZ001", "UZ008", "UZ010"}


def test_no_two_legend_rows_share_a_symbol(page):
    """Issue 18: the legend used one style for two meanings (a community site outside its
    PCN and a practice outside its recorded sub-ICB were the same orange ring). Every row of
    the legend has a symbol of its own, and so has every kind of finding on the map: its
    colour is its severity, its dash pattern its kind."""
    from geo_pcn.render._map_layers import FINDING_DASHES, _finding_style

    for m in re.finditer(r"\.innerHTML = ", page):
        text = _json_at(page, m.end())
        if isinstance(text, str) and ">Legend</summary>" in text:
            break
    else:
        raise AssertionError("no legend in the page")
    symbols = re.findall(r'<span class="gp-sym">(.*?)</span><span>(.*?)</span>', text)
    findings = text.split('<div class="gp-h">Findings</div>', 1)[1]
    rows = re.findall(r'<span class="gp-sym">(.*?)</span><span>(.*?)</span>', findings)
    assert len(rows) >= 6  # the demo draws six kinds
    drawn = [s for s, _ in symbols]
    assert len(drawn) == len(set(drawn)), [label for s, label in symbols if drawn.count(s) > 1]
    # on the map: two kinds of one geometry and severity never look alike
    for gtype in ("point", "line", "polygon"):
        for severity in ("error", "warning", "info"):
            looks = [
                tuple(sorted(_finding_style(severity, gtype, kind).items()))
                for kind in FINDING_DASHES
            ]
            clashes = {
                k for k, look in zip(FINDING_DASHES, looks, strict=True) if looks.count(look) > 1
            }
            assert not clashes, (gtype, severity, clashes)
