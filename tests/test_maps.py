"""Maps: the rendered HTML holds every layer, a legend, no network reference, escaped text,
and neighbouring PCNs in different colours; the PNG and the `geo-pcn map` command work."""

from __future__ import annotations

import re
import warnings

import folium
import networkx as nx
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from tiny import TINY_PRACTICES, write_tiny_study

from geo_pcn import InputError, Study, validate
from geo_pcn.cli import cli
from geo_pcn.datasets import demo, demo_study_file
from geo_pcn.render import write_png, write_report
from geo_pcn.render._map_data import PALETTE, colour_graph, simplify_coverage
from geo_pcn.render._map_legend import _KIND_LABELS
from geo_pcn.render.map import (
    LAYER_ERRORS,
    LAYER_FINDINGS,
    LAYER_FOOTPRINTS,
    LAYER_PRACTICES,
    build_map,
    pcn_colours,
    write_map,
)

EVIL = "<script>alert(1)</script>"
EVIL_PCN = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def report():
    return validate(demo())


@pytest.fixture(scope="module")
def demo_html(report, tmp_path_factory) -> str:
    path = write_map(report, tmp_path_factory.mktemp("map") / "map.html")
    return path.read_text(encoding="utf-8")


def _unescape_json(text: str) -> str:
    """Undo the ``\\u00XX`` escapes folium puts on ``< > & '`` inside its scripts."""
    return re.sub(r"\\u00(26|3c|3e|27)", lambda m: chr(int(m.group(1), 16)), text)


# -- content ------------------------------------------------------------------------------
def test_every_layer_is_in_the_layer_control(demo_html):
    names = [
        LAYER_FOOTPRINTS,
        LAYER_ERRORS,
        LAYER_PRACTICES,
        LAYER_FINDINGS,
        "Boundary: Sub-ICB",
        "Boundary: ICB",
        "Boundary: Place",
        "Community: Teams (areas)",
        "Community: Sites (sites)",
    ]
    control = demo_html[demo_html.index("overlays") :]
    for name in names:
        assert f'"{name}"' in control, name


def test_legend_and_synthetic_title(demo_html):
    assert "gp-legend" in demo_html
    assert "Legend" in demo_html
    assert "SYNTHETIC DEMO DATA" in demo_html
    assert re.search(r"<title>[^<]*synthetic[^<]*</title>", demo_html, re.IGNORECASE)
    # the legend names the symbols a planner sees
    legend = _unescape_json(demo_html)
    for text in ("PCN with an ERROR finding", "Detached practices", "Practice in no PCN"):
        assert text in legend
    # and every kind of finding drawn on the map
    report = validate(demo())
    for kind in {f.kind for f in report.findings if f.geometry is not None}:
        label = _KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())
        assert label in legend, kind


def test_real_study_title_is_not_synthetic(tiny_study_file):
    page = build_map(Study.from_toml(tiny_study_file)).get_root().render()
    assert "SYNTHETIC" not in page


def test_popups_and_tooltips_carry_the_practice_facts(demo_html):
    text = _unescape_json(demo_html)
    for alias in ("Practice", "List size", "PCN", "Sub-ICB", "Place", "Findings"):
        assert f'"{alias}"' in text
    assert "FOXHOLES SURGERY (SYNTHETIC)" in text
    assert "in no PCN" in text


def test_findings_geometry_is_drawn_in_parts(report, demo_html):
    # the detached group (territory + line) is split into a polygon and a line feature,
    # so folium never meets a GeometryCollection
    assert '"type": "GeometryCollection"' not in demo_html
    assert '"type": "LineString"' in demo_html


def test_no_geometry_collection_warning(report):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_map(report.study, report).get_root().render()
    assert not [w for w in caught if "GeometryCollection" in str(w.message)]


# -- offline, one file --------------------------------------------------------------------
def test_no_network_reference(demo_html):
    assert not re.search(r"<script[^>]*\bsrc\s*=", demo_html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", demo_html, re.IGNORECASE)
    assert not re.search(r"url\(\s*[\"']?(https?:)?//", demo_html, re.IGNORECASE)
    assert not re.search(r"url\(\s*[\"']?images/", demo_html)
    assert "@import" not in demo_html
    assert "sourceMappingURL" not in demo_html
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "fontawesome"):
        assert cdn not in demo_html


def test_leaflet_and_jquery_are_inline(demo_html):
    assert "Leaflet 1.9" in demo_html  # the embedded library's banner
    assert "jQuery v3" in demo_html
    assert "leaflet-control-layers-toggle" in demo_html  # leaflet.css, with its image inline
    assert "data:image/png;base64," in demo_html


def test_no_basemap_by_default_and_optional_tiles(report):
    plain = build_map(report.study, report).get_root().render()
    assert "L.tileLayer" not in plain
    tiled = build_map(report.study, report, tiles="OpenStreetMap").get_root().render()
    assert "L.tileLayer" in tiled and "tile.openstreetmap.org" in tiled
    with pytest.raises(InputError, match="unknown basemap"):
        build_map(report.study, report, tiles="no such basemap")


def test_demo_map_is_light(report, tmp_path):
    path = write_map(report, tmp_path / "map.html")
    assert path.stat().st_size < 1_500_000


# -- safety -------------------------------------------------------------------------------
def test_input_strings_are_escaped(tmp_path):
    practices = TINY_PRACTICES.replace("WEST ONE SURGERY", EVIL).replace(
        "EAST PCN", EVIL_PCN.replace(",", "")
    )
    study = Study.from_toml(write_tiny_study(tmp_path, practices_csv=practices))
    report = validate(study)
    page = write_map(report, tmp_path / "map.html").read_text(encoding="utf-8")
    assert EVIL not in page
    assert "<img src=x" not in page
    assert "alert(1)" in page  # present, as text
    text = _unescape_json(page)
    assert EVIL not in text  # not even once folium's JSON escapes are undone
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(2)&gt;" in text
    # the picture draws the same names without choking on them
    png = write_png(report, tmp_path / "map.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- colours ------------------------------------------------------------------------------
def test_touching_pcns_never_share_a_colour(report):
    colours = pcn_colours(report)
    fp = report.context.footprints.pcns
    fp = fp[~fp.geometry.is_empty]
    left, right = fp.sindex.query(fp.geometry.to_numpy(), predicate="intersects")
    pairs = [(fp.index[a], fp.index[b]) for a, b in zip(left, right, strict=True) if a < b]
    assert pairs, "the demo has touching PCNs"
    for a, b in pairs:
        assert colours[a] != colours[b], (a, b)
    assert set(colours.values()) <= set(PALETTE)


def test_colours_are_deterministic_and_colour_blind_safe(report):
    assert pcn_colours(report) == pcn_colours(report)


def test_colouring_extends_the_palette_when_it_must():
    dense = nx.complete_graph([f"U{i:05d}" for i in range(len(PALETTE) + 5)])
    colours = colour_graph(dense)
    assert len(set(colours.values())) == dense.number_of_nodes()


def test_map_colours_match_the_footprint_colours(report, demo_html):
    for colour in set(pcn_colours(report).values()):
        assert colour in demo_html


# -- display geometry ---------------------------------------------------------------------
def test_coverage_simplification_keeps_shared_edges(report):
    fp = report.context.footprints.pcns
    geoms = fp.geometry.to_numpy()
    simple = simplify_coverage(geoms, 50.0)
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(geoms).sum()
    assert bool(shapely.coverage_is_valid(simple))
    # neighbours still share edges: no gap opens between them
    union = shapely.coverage_union_all(simple)
    assert shapely.get_num_interior_rings(union) <= shapely.get_num_interior_rings(
        shapely.coverage_union_all(geoms)
    )


def test_coordinates_are_rounded(demo_html):
    coords = re.findall(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]", demo_html)
    assert coords
    assert max(len(x.split(".")[1]) for pair in coords for x in pair) <= 5


# -- API, files, CLI ----------------------------------------------------------------------
def test_build_map_validates_when_no_report():
    m = build_map(demo())
    assert isinstance(m, folium.Map)
    assert "leaflet" in m._repr_html_().lower()  # shows itself in Jupyter


def test_write_png(report, tmp_path):
    path = write_png(report, tmp_path / "map.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = np.frombuffer(data[16:24], dtype=">u4")
    assert width > height > 1000


def test_report_write_includes_the_map(report, tmp_path):
    written = {p.name for p in write_report(report, tmp_path, png=True)}
    assert {"map.html", "map.png"} <= written


def test_cli_map(tmp_path):
    out = tmp_path / "maps" / "demo.html"
    result = CliRunner().invoke(
        cli, ["map", str(demo_study_file()), "--out", str(out), "--png", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.with_suffix(".png").is_file()
    assert "FAIL" in result.output


def test_cli_map_bad_tiles_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["map", str(demo_study_file()), "--out", str(tmp_path / "m.html"), "--tiles", "nope"],
    )
    assert result.exit_code == 2
    assert "unknown basemap" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "m.html").exists()


@pytest.mark.real_data
@pytest.mark.slow
def test_qnc_map_is_under_3_mb(qnc_study_file, tmp_path):
    report = validate(Study.from_toml(qnc_study_file))
    path = write_map(report, tmp_path / "map.html")
    assert path.stat().st_size < 3_000_000
    text = path.read_text(encoding="utf-8")
    assert "Boundary: Sub-ICB" in text and "Community: Pharmacies (sites)" in text
