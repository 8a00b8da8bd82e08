"""Silent wrong answers (issue 19, item 6): each is now refused with one line, or warned.

* a boundary or community polygon covering the others, listed first, took every practice
  and area (a crossing and a code mismatch vanished): every polygon layer is checked for
  overlaps as the areas layer is;
* ``adjacency_tolerance_m = inf`` (or NaN, a negative number, a reversed band) was
  accepted: checked where ``Rules`` is made, and in the study file;
* a CRS typo (``EPSG:277000``) was a pyproj traceback;
* a population of 1 per area was accepted without a word: warned with the counts.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from cli_checks import copy_demo, one_line, set_in_study
from click.testing import CliRunner

from geo_pcn import Study
from geo_pcn.cli import cli
from geo_pcn.errors import CRSError, GeoPCNWarning, InputError
from geo_pcn.io import Source, read_boundaries
from geo_pcn.study import Rules


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return copy_demo(tmp_path / "study")






def _cover_first(path: Path, code: str) -> None:
    """Put first a feature whose box covers every other feature of the layer."""
    doc = json.loads(path.read_text())
    x0, y0, x1, y1 = gpd.read_file(path).total_bounds
    big = json.loads(json.dumps(doc["features"][0]))
    big["properties"]["code"] = code
    big["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }
    doc["features"].insert(0, big)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("layer", "code"), [("sub_icb.geojson", "Z38000099"), ("community_teams.geojson", "CT99")]
)
def test_polygon_covering_the_others(demo, tmp_path, layer, code):
    _cover_first(demo / layer, code)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["validate", str(demo / "demo.toml"), "--out", str(out)])
    one_line(result, layer, code, "must not overlap")
    assert not out.exists()


def test_features_of_one_code_in_a_boundary_layer_are_still_one_polygon(demo):
    """A boundary code split over two overlapping features is dissolved, not refused (the
    small-areas layer alone refuses a code twice)."""
    path = demo / "sub_icb.geojson"
    doc = json.loads(path.read_text())
    doc["features"].append(json.loads(json.dumps(doc["features"][0])))
    path.write_text(json.dumps(doc))
    layer = read_boundaries(path, level="sub_icb")
    assert sorted(layer["code"]) == ["Z38000001", "Z38000002"]


@pytest.mark.parametrize(
    "rules",
    [
        {"adjacency_tolerance_m": math.inf},
        {"site_tolerance_m": math.inf},
        {"adjacency_tolerance_m": math.nan},
        {"site_tolerance_m": -1.0},
        {"min_share": math.nan},
        {"band": (50_000, 30_000)},
        {"band": (30_000, math.inf)},
    ],
)
def test_rules_numbers_checked_where_rules_are_made(rules):
    key = next(iter(rules))
    with pytest.raises(InputError, match=key):
        Rules(**rules)


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_rules_numbers_in_the_study_file(demo, value):
    set_in_study(demo, "[rules]\n", f"[rules]\nadjacency_tolerance_m = {value}\n")
    result = CliRunner().invoke(cli, ["info", str(demo / "demo.toml")])
    one_line(result, "demo.toml", "adjacency_tolerance_m must be a finite number")


def test_crs_typo_in_the_study_file(demo):
    set_in_study(demo, 'sub_icb = "sub_icb.geojson"', 'sub_icb = { file = "sub_icb.geojson", crs = "EPSG:277000" }')
    result = CliRunner().invoke(cli, ["info", str(demo / "demo.toml")])
    one_line(result, "[boundaries] sub_icb", "EPSG:277000", "not a coordinate reference system")


def test_crs_typo_from_python(demo):
    with pytest.raises(CRSError, match="EPSG:277000"):
        read_boundaries(Source(demo / "sub_icb.geojson", options={"crs": "EPSG:277000"}))


def test_population_far_below_the_registered_residents(demo):
    """Population 1 per area: the warning counts the areas and patients, worked out here
    with pandas from the raw files (areas of the layer where the study's practices have
    at least 10 registered residents)."""
    pop = pd.read_csv(demo / "population.csv")
    pop["population"] = 1
    pop.to_csv(demo / "population.csv", index=False)
    reg = pd.read_csv(demo / "gp-reg-pat-prac-lsoa-all.csv")
    areas = set(gpd.read_file(demo / "areas.geojson").iloc[:, 0].astype(str))
    per_area = reg.groupby("LSOA_CODE")["NUMBER_OF_PATIENTS"].sum()
    per_area = per_area[per_area.index.isin(areas) & (per_area >= 10)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Study.from_toml(demo / "demo.toml")
    messages = [str(w.message) for w in caught if issubclass(w.category, GeoPCNWarning)]
    expected = (
        f"the population of {len(per_area):,} of {len(per_area):,} small areas is less than "
        f"half the residents registered there at the study's practices (population "
        f"{len(per_area):,} against {per_area.sum():,} registered"
    )
    assert any(expected in m for m in messages), messages


def test_the_real_population_is_not_warned(demo):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Study.from_toml(demo / "demo.toml")
    assert not [w for w in caught if "less than half the residents" in str(w.message)]
