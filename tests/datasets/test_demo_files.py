"""The embedded synthetic demo region: reproducible, well-formed, and planted as documented."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from demo_gen.generate import PLANTED, generate
from demo_gen.rules import evaluate, findings_key

from geo_pcn.datasets import demo_dir, demo_planted, demo_study_file

DEMO = demo_dir()
MANIFEST = DEMO.parent / "manifest.json"
LAYERS = ["areas", "place", "sub_icb", "icb", "community_teams"]


@pytest.fixture(scope="module")
def evaluation():
    """The rules applied to the shipped demo files."""
    return evaluate(DEMO)


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- reproducible


def test_generation_is_deterministic(tmp_path, manifest):
    """Regenerating gives byte-identical files, matching the manifest's sha256."""
    generate(tmp_path / "demo")
    expected = {Path(f["path"]).name: f["sha256"] for f in manifest["files"]}
    got = {p.name: _sha256(p) for p in sorted((tmp_path / "demo").iterdir())}
    assert got == expected


def test_manifest_describes_every_shipped_file(manifest):
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {f"demo/{p.name}" for p in DEMO.iterdir() if p.is_file()}
    assert listed == on_disk
    assert manifest["synthetic"] is True
    for f in manifest["files"]:
        assert f["sha256"] == _sha256(DEMO.parent / f["path"]), f["path"]
        assert f["source"].startswith("synthetic")
        assert f["licence"]
        if f["path"].endswith(".geojson"):
            assert f["crs"] == "EPSG:27700"
            assert f["rows"] == len(gpd.read_file(DEMO.parent / f["path"]))
    names = " ".join(s["name"] for s in manifest["real_sources"])
    for needle in ("gp-reg-pat-prac-map.csv", "gp-reg-pat-prac-lsoa-all.csv", "epraccur",
                   "Super Output Areas", "Sub Integrated Care Board", "Local Authority",
                   "Code-Point Open", "TS001"):  # fmt: skip
        assert needle in names
    assert all(s["licence"] == "OGL v3" and s["url"].startswith("https://")
               for s in manifest["real_sources"])  # fmt: skip


# --------------------------------------------------------------------------- well-formed


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_read_back_in_bng_as_valid_polygons(layer):
    gdf = gpd.read_file(DEMO / f"{layer}.geojson")
    assert gdf.crs is not None and gdf.crs.to_epsg() == 27700
    assert shapely.is_valid(gdf.geometry.values).all()
    assert set(gdf.geom_type) == {"Polygon"}
    assert shapely.coverage_is_valid(gdf.geometry.values)
    # whole metres, and inside the intended part of England
    xy = shapely.get_coordinates(gdf.geometry.values)
    assert np.array_equal(xy, np.round(xy))
    assert (xy[:, 0] > 435_000).all() and (xy[:, 0] < 475_000).all()
    assert (xy[:, 1] > 245_000).all() and (xy[:, 1] < 280_000).all()


def test_areas_are_a_gapless_coverage_of_the_icb():
    areas = gpd.read_file(DEMO / "areas.geojson")
    icb = gpd.read_file(DEMO / "icb.geojson").geometry.iloc[0]
    assert len(areas) == 300
    assert areas["code"].is_unique and areas["code"].str.fullmatch(r"DM01\d{5}").all()
    union = shapely.coverage_union_all(areas.geometry.values)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert shapely.symmetric_difference(union, icb).area == 0
    assert areas.area.sum() == pytest.approx(icb.area)
    assert 650e6 > icb.area > 500e6  # about 30 km x 25 km, not a rectangle
    assert icb.area < 0.85 * shapely.envelope(icb).area


@pytest.mark.parametrize("layer", ["place", "sub_icb", "community_teams"])
def test_areas_nest_in_boundary_layers(layer):
    """Each boundary polygon is a union of whole small areas."""
    areas = gpd.read_file(DEMO / "areas.geojson")
    gdf = gpd.read_file(DEMO / f"{layer}.geojson")
    overlap = shapely.area(
        shapely.intersection(
            np.asarray(areas.geometry.values)[:, None], np.asarray(gdf.geometry.values)[None, :]
        )
    )
    share = overlap / areas.area.to_numpy()[:, None]
    assert np.isclose(share.max(axis=1), 1.0).all()
    assert np.isclose(share.sum(axis=1), 1.0).all()


def test_places_nest_in_sub_icbs():
    place = gpd.read_file(DEMO / "place.geojson").set_index("code")
    sub = gpd.read_file(DEMO / "sub_icb.geojson").set_index("nhs_code")
    assert len(place) == 3 and len(sub) == 2
    a = shapely.coverage_union_all(place.loc[["Z07000001", "Z07000002"]].geometry.values)
    assert shapely.symmetric_difference(a, sub.loc["ZZA"].geometry).area == 0
    assert shapely.symmetric_difference(place.loc["Z07000003"].geometry,
                                        sub.loc["ZZB"].geometry).area == 0  # fmt: skip
    assert set(sub.columns) >= {"code", "name"} and sub["code"].str.startswith("Z38").all()


def test_nhs_file_layouts():
    pmap = pd.read_csv(DEMO / "gp-reg-pat-prac-map.csv", dtype=str)
    assert list(pmap.columns) == [
        "PUBLICATION", "EXTRACT_DATE", "PRACTICE_CODE", "PRACTICE_NAME", "PRACTICE_POSTCODE",
        "PCN_CODE", "PCN_NAME", "ONS_SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_CODE",
        "SUB_ICB_LOCATION_NAME", "ONS_ICB_CODE", "ICB_CODE", "ICB_NAME", "ONS_COMM_REGION_CODE",
        "COMM_REGION_CODE", "COMM_REGION_NAME", "SUPPLIER_NAME",
    ]  # fmt: skip
    assert pmap["PRACTICE_CODE"].str.fullmatch(r"Z\d{5}").all()
    allocated = pmap[pmap["PCN_CODE"] != "U"]
    assert allocated["PCN_CODE"].str.fullmatch(r"UZ\d{3}").all()
    assert (pmap.loc[pmap["PCN_CODE"] == "U", "PCN_NAME"] == "Unallocated").all()
    assert pmap["PRACTICE_POSTCODE"].str.fullmatch(r"DM\d \d[A-Z]{2}").all()
    assert set(pmap["SUB_ICB_LOCATION_CODE"]) == {"ZZA", "ZZB"}
    assert set(pmap["ICB_CODE"]) == {"ZZZ"} and set(pmap["ONS_ICB_CODE"]) == {"Z54000001"}

    reg = pd.read_csv(DEMO / "gp-reg-pat-prac-lsoa-all.csv", dtype={"LSOA_CODE": str})
    assert list(reg.columns) == [
        "PUBLICATION", "EXTRACT_DATE", "PRACTICE_CODE", "PRACTICE_NAME", "LSOA_CODE", "SEX",
        "NUMBER_OF_PATIENTS",
    ]  # fmt: skip
    assert set(reg["SEX"]) == {"ALL"}
    assert (reg["NUMBER_OF_PATIENTS"] > 0).all()
    assert set(reg["PRACTICE_CODE"]) == set(pmap["PRACTICE_CODE"])
    pseudo = reg[~reg["LSOA_CODE"].str.startswith("DM01")]
    assert {"CLOSED", "EMPTY"} <= set(pseudo["LSOA_CODE"])
    assert pseudo["LSOA_CODE"].str.startswith("W01").any()
    assert pseudo["NUMBER_OF_PATIENTS"].max() < 100  # small, as in the real file

    loc = pd.read_csv(DEMO / "practice_locations.csv")
    assert list(loc.columns) == ["PRACTICE_CODE", "EASTING", "NORTHING"]
    assert set(loc["PRACTICE_CODE"]) == set(pmap["PRACTICE_CODE"])
    sites = pd.read_csv(DEMO / "community_sites.csv")
    assert list(sites.columns) == ["code", "name", "easting", "northing", "pcn_code"]
    assert 8 <= len(sites) <= 12


def test_study_file_shape():
    study = tomllib.loads(demo_study_file().read_text(encoding="utf-8"))
    assert study["name"] == "Demo Vale ICB (synthetic demo region)"
    assert "SYNTHETIC" in demo_study_file().read_text(encoding="utf-8")
    assert study["rules"]["band"] == [30000, 50000]
    exempt = [p["pcn_code"] for p in demo_planted() if p["kind"] == "below_band_exempt"]
    assert study["rules"]["exempt"] == exempt
    assert study["community"]["teams"]["kind"] == "areas"
    assert study["community"]["sites"] == {
        "file": "community_sites.csv", "kind": "sites", "pcn": "pcn_code"
    }  # fmt: skip
    paths = [
        study["practices"]["file"], study["practices"]["locations"],
        study["registrations"]["file"], study["areas"]["file"], study["areas"]["population"],
        *study["boundaries"].values(), study["community"]["teams"]["file"],
        study["community"]["sites"]["file"],
    ]  # fmt: skip
    for p in paths:
        assert (DEMO / p).is_file(), p


def test_everything_is_labelled_synthetic():
    assert "SYNTHETIC" in (DEMO / "README.md").read_text(encoding="utf-8")
    for layer in LAYERS:
        gdf = gpd.read_file(DEMO / f"{layer}.geojson")
        assert gdf["name"].str.contains("(synthetic)", regex=False).all(), layer
    pmap = pd.read_csv(DEMO / "gp-reg-pat-prac-map.csv", dtype=str)
    for col in ("PRACTICE_NAME", "ICB_NAME", "SUB_ICB_LOCATION_NAME"):
        assert pmap[col].str.upper().str.contains("(SYNTHETIC)", regex=False).all(), col
    assert (
        pmap.loc[pmap["PCN_CODE"] != "U", "PCN_NAME"].str.contains("(SYNTHETIC)", regex=False).all()
    )
    sites = pd.read_csv(DEMO / "community_sites.csv")
    assert sites["name"].str.contains("(synthetic)", regex=False).all()


# --------------------------------------------------------------------------- realism


def test_registrations_are_realistic(evaluation):
    ev = evaluation
    pop = pd.read_csv(DEMO / "population.csv")
    assert pop["population"].between(1_000, 2_500).all()
    # the nearest practice clearly wins every area that has registrations
    assert (ev.shares["winner_share"] >= 1.5 * ev.shares["runner_up_share"]).all()
    reg = pd.read_csv(DEMO / "gp-reg-pat-prac-lsoa-all.csv", dtype={"LSOA_CODE": str})
    in_areas = reg.loc[reg["LSOA_CODE"].str.startswith("DM01"), "NUMBER_OF_PATIENTS"].sum()
    assert 0.96 <= in_areas / pop["population"].sum() <= 0.98
    sizes = ev.practices.set_index("practice_code")["list_size"]
    assert 55 <= len(sizes) <= 65
    single = [p for p in demo_planted() if p["kind"] == "single_practice"][0]
    assert sizes.drop(index=single["practice_codes"]).between(3_000, 20_000).all()
    assert 12 <= len(ev.pcns) <= 14
    assert (ev.pcns["list_size"].between(30_000, 50_000)).sum() >= len(ev.pcns) - 3


# --------------------------------------------------------------------------- planted problems


def test_planted_file_matches_the_rules(evaluation):
    """The rules find every planted problem with the recorded numbers, and nothing else."""
    planted = demo_planted()
    without_text = [
        {k: v for k, v in p.items() if k not in ("description", "finding")} for p in planted
    ]
    assert findings_key(evaluation.findings) == findings_key(without_text)
    by_key = {(f["check"], f["kind"], f["pcn_code"]): f for f in evaluation.findings}
    for p in without_text:
        assert by_key[(p["check"], p["kind"], p["pcn_code"])] == p


def test_one_of_each_planted_problem():
    planted = demo_planted()
    assert sorted((p["check"], p["kind"]) for p in planted) == sorted((c, k) for c, k, _ in PLANTED)
    for p in planted:
        assert set(p) == {"check", "kind", "severity", "pcn_code", "practice_codes",
                          "expected", "finding", "description"}  # fmt: skip
        assert p["description"].endswith(".")
    kinds = {p["kind"]: p for p in planted}
    assert 20_000 <= kinds["below_band"]["expected"]["list_size"] <= 27_000
    assert 55_000 <= kinds["above_band"]["expected"]["list_size"] <= 65_000
    assert kinds["below_band_exempt"]["expected"]["list_size"] < 30_000
    assert 31_000 <= kinds["single_practice"]["expected"]["list_size"] <= 35_000
    assert 30_000 <= kinds["split"]["expected"]["list_size"] <= 50_000
    assert kinds["split"]["expected"]["distance_m"] > 1_000
    assert kinds["exclave"]["pcn_code"] == kinds["split"]["pcn_code"]
    assert 1 <= kinds["hole"]["expected"]["n_areas"] <= 3
    assert kinds["hole"]["expected"]["population"] > 0
    pct = sorted(kinds["split_across_teams"]["expected"]["pct_footprint_population_by_team"]
                 .values())  # fmt: skip
    assert 30 <= pct[0] <= 40 and 60 <= pct[1] <= 70
    assert kinds["site_outside_footprint"]["expected"]["distance_m"] > 0
    assert kinds["crosses_place"]["expected"]["n_places"] == 2


def test_planted_hole_is_on_the_region_edge():
    hole = [p for p in demo_planted() if p["kind"] == "hole"][0]
    areas = gpd.read_file(DEMO / "areas.geojson").set_index("code")
    icb = gpd.read_file(DEMO / "icb.geojson").geometry.iloc[0]
    geoms = areas.loc[hole["expected"]["area_codes"]].geometry
    assert shapely.intersects(geoms.values, icb.exterior).all()
    pop = pd.read_csv(DEMO / "population.csv").set_index("area_code")["population"]
    assert pop[hole["expected"]["area_codes"]].sum() == hole["expected"]["population"]
    reg = pd.read_csv(DEMO / "gp-reg-pat-prac-lsoa-all.csv", dtype={"LSOA_CODE": str})
    assert not reg["LSOA_CODE"].isin(hole["expected"]["area_codes"]).any()


def test_totals_match_the_readme(evaluation):
    text = (DEMO / "README.md").read_text(encoding="utf-8")

    def number(label: str) -> int:
        m = re.search(rf"\| {re.escape(label)} \| ([\d,]+)", text)
        assert m, label
        return int(m.group(1).replace(",", ""))

    reg = pd.read_csv(DEMO / "gp-reg-pat-prac-lsoa-all.csv")
    pmap = pd.read_csv(DEMO / "gp-reg-pat-prac-map.csv")
    pop = pd.read_csv(DEMO / "population.csv")
    assert number("small areas (LSOA-like)") == len(pop)
    assert number("practices") == len(pmap)
    assert number("PCNs") == pmap.loc[pmap["PCN_CODE"] != "U", "PCN_CODE"].nunique()
    assert (
        number("registered patients (sum of NUMBER_OF_PATIENTS)") == reg["NUMBER_OF_PATIENTS"].sum()
    )
    assert number("residents (population.csv)") == pop["population"].sum()
    for _, row in evaluation.pcns.iterrows():
        assert f"| {row['pcn_code']} | {row['pcn_name']} | {row['n_practices']} | " \
               f"{row['list_size']:,} |" in text  # fmt: skip


# --------------------------------------------------------------------------- public API


def test_demo_paths_api():
    assert demo_dir().is_dir()
    assert demo_study_file() == demo_dir() / "demo.toml"
    planted = demo_planted()
    assert isinstance(planted, list) and len(planted) == len(PLANTED)


def test_demo_loads_as_a_study():
    pytest.importorskip("geo_pcn.study", reason="geo_pcn.study is not written yet")
    from geo_pcn.datasets import demo

    study = demo()
    assert study is not None
