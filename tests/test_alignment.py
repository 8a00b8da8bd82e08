"""Community alignment on hand-drawn fixtures whose answers are known exactly.

The tiny study (tests/tiny.py) is a 4 x 2 grid of 1 km boxes::

    northing (km above 300 000)
     2 +------+------+------+------+
       | T05  | T06  | T07  | T08  |
     1 +------+------+------+------+      WEST PCN U00001 = A00001 (T01) + A00002 (T02)
       | T01  | T02  | T03  | T04  |      EAST PCN U00002 = A00003 (T03) + A00004/5 (T04)
     0 +------+------+------+------+
       0      1      2      3      4   easting (km above 400 000)

Community layers are added to its study file: team areas as rectangles (``x`` ranges in
km) and sites as easting/northing points.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny import TINY_TOML, X0, Y0, feature_collection, population_of, write_tiny_study

from geo_pcn import Configuration, Study, validate
from geo_pcn.alignment import build_alignment, partition_scores
from geo_pcn.checks import CHECKS
from geo_pcn.datasets import demo
from geo_pcn.render import to_markdown, write_report

# -- fixtures ---------------------------------------------------------------------------


def rect(code: str, x1: float, x2: float, *, name: str | None = None) -> dict:
    """A team area covering easting ``x1..x2`` km of the grid, full height."""
    a, b = X0 + 1000 * x1, X0 + 1000 * x2
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name or f"Team {code}"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[a, Y0], [b, Y0], [b, Y0 + 2000], [a, Y0 + 2000], [a, Y0]]],
        },
    }


TEAMS_TOML = '\n[community.teams]\nfile = "teams.geojson"\nkind = "areas"\n'
SITES_TOML = '\n[community.sites]\nfile = "sites.csv"\nkind = "sites"\npcn = "pcn_code"\n'

#: S1 declares WEST but lies 250 m east of it (in EAST); S2 inside WEST; S3 cannot be
#: located (no coordinates, no postcode lookup); S4 declares a PCN not in the study.
SITES_CSV = (
    "code,name,easting,northing,postcode,pcn_code\n"
    f"S1,Clinic one,{X0 + 2250},{Y0 + 500},AB1 9AA,U00001\n"
    f"S2,Clinic two,{X0 + 500},{Y0 + 1500},AB1 9AB,U00001\n"
    "S3,Clinic three,,,ZZ9 9ZZ,U00002\n"
    f"S4,Clinic four,{X0 + 3500},{Y0 + 1500},AB1 9AD,U99999\n"
)

#: WEST 4,000 patients all west of x = 3 km; EAST 5,000: 3,500 in T03/T07, 1,500 in
#: T04/T08. Every area is won by its own practice.
REG_70_30_FOOTPRINT = (
    "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n"
    "A00001,T01,1000\nA00001,T05,1000\nA00002,T02,1000\nA00002,T06,1000\n"
    "A00003,T03,2000\nA00003,T07,1500\n"
    "A00004,T04,500\nA00004,T08,500\nA00005,T04,500\n"
)

#: WEST 20,000 patients in the west; EAST 10,000: 7,000 in the east and 3,000 in T02,
#: which WEST still wins (5,000 > 3,000), so EAST's footprint stays in the east.
REG_70_30_PATIENTS = (
    "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n"
    "A00001,T01,5000\nA00001,T05,5000\nA00002,T02,5000\nA00002,T06,5000\n"
    "A00003,T03,3000\nA00003,T07,2000\nA00003,T02,3000\n"
    "A00004,T04,1000\nA00005,T08,1000\n"
)


def tiny_with(tmp_path, *, teams=None, sites=None, toml_extra="", **files):
    toml = TINY_TOML + toml_extra
    extra = {}
    if teams is not None:
        toml += TEAMS_TOML
        extra["teams_geojson"] = feature_collection(teams)
    if sites is not None:
        toml += SITES_TOML
        extra["sites_csv"] = sites
    if "registrations_csv" in files and "population_csv" not in files:
        extra["population_csv"] = population_of(files["registrations_csv"])
    return Study.from_toml(write_tiny_study(tmp_path, study_toml=toml, **extra, **files))


def voronoi_toml() -> str:
    return TINY_TOML.replace("band = [3000, 5000]", 'band = [3000, 5000]\nfootprints = "voronoi"')


def alignment_findings(report, kind=None):
    return [f for f in report.findings if f.check == "alignment" and kind in (None, f.kind)]


# -- partition scores -------------------------------------------------------------------


def test_scores_of_identical_partitions():
    s = partition_scores(np.diag([3800, 4650]))
    assert (s["nmi"], s["ari"], s["vi"]) == (pytest.approx(1), pytest.approx(1), 0)


def test_scores_of_a_coarsening():
    """Labels [0,0,1,2] vs [0,0,1,1]: H(U) = 1.5 ln 2, H(V) = I = ln 2, so
    NMI = ln2 / 1.25 ln2 = 0.8, VI = 0.5 ln 2; ARI = 4/7 (scikit-learn's doc example)."""
    s = partition_scores(np.array([[2, 0], [0, 1], [0, 1]]))
    assert s["nmi"] == pytest.approx(0.8)
    assert s["ari"] == pytest.approx(4 / 7)
    assert s["vi"] == pytest.approx(0.5 * math.log(2))


def test_scores_of_independent_partitions():
    """[0,0,1,1] vs [0,1,0,1]: no information shared; ARI = -0.5 (below chance)."""
    s = partition_scores(np.ones((2, 2)))
    assert s["nmi"] == pytest.approx(0)
    assert s["ari"] == pytest.approx(-0.5)
    assert s["vi"] == pytest.approx(2 * math.log(2))


def test_scores_of_trivial_partitions_and_empty_table():
    assert partition_scores(np.array([[5]]))["nmi"] == 1.0
    assert partition_scores(np.array([[5]]))["ari"] == 1.0
    assert partition_scores(np.array([[5, 5]]))["nmi"] == 0.0
    assert math.isnan(partition_scores(np.zeros((2, 2)))["nmi"])


def test_long_and_wide_tables_agree():
    wide = np.array([[20000, 0], [3000, 7000]])
    long = pd.Series(
        [20000, 3000, 7000],
        index=pd.MultiIndex.from_tuples([("W", "TW"), ("E", "TW"), ("E", "TE")]),
    )
    assert partition_scores(long) == pytest.approx(partition_scores(wide))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 50), min_size=3, max_size=3), min_size=2, max_size=5))
def test_scores_are_symmetric_bounded_and_label_free(rows):
    table = np.array(rows)
    if table.sum() == 0:
        return
    s = partition_scores(table)
    t = partition_scores(table.T)
    p = partition_scores(table[::-1, ::-1])
    for key in ("nmi", "ari", "vi"):
        assert s[key] == pytest.approx(t[key], abs=1e-9)
        assert s[key] == pytest.approx(p[key], abs=1e-9)
    assert -1 - 1e-9 <= s["ari"] <= 1 + 1e-9
    assert 0 <= s["nmi"] <= 1
    assert 0 <= s["vi"] <= math.log(table.sum()) + 1e-9


# -- areas, patient-weighted --------------------------------------------------------------


def test_identical_team_areas_align_perfectly(tmp_path):
    study = tiny_with(tmp_path, teams=[rect("TW", 0, 2), rect("TE", 2, 4)])
    report = validate(study)
    result = report.alignment.layers["teams"]
    s = result.summary
    assert result.weight == "patients"
    assert s["coterminosity"] == 1.0
    assert s["nmi"] == pytest.approx(1.0)
    assert s["ari"] == pytest.approx(1.0)
    assert s["vi"] == pytest.approx(0.0, abs=1e-12)
    assert s["pct_pcns_in_one_area"] == 100.0
    assert s["n"] == 3800 + 4650  # residents of the grid at the five practices
    assert result.docking.to_dict() == {"U00001": "TW", "U00002": "TE"}
    assert result.actions.empty
    assert alignment_findings(report) == []


def test_a_pcn_whose_footprint_a_team_line_cuts_70_30(tmp_path):
    study = tiny_with(
        tmp_path,
        teams=[rect("TA", 0, 3), rect("TB", 3, 4)],
        registrations_csv=REG_70_30_FOOTPRINT,
    )
    report = validate(study)
    result = report.alignment.layers["teams"]
    east = result.pcns.set_index("pcn_code").loc["U00002"]
    assert (east["n"], east["dominant_area_code"], east["pct_dominant"]) == (5000, "TA", 70.0)
    assert (east["second_area_code"], east["pct_second"]) == ("TB", 30.0)
    assert east["n_areas_5pct"] == 2 and not east["in_one_area"]
    assert (east["pct_footprint_dominant"], east["pct_footprint_second"]) == (70.0, 30.0)
    assert result.summary["coterminosity"] == pytest.approx(7500 / 9000)
    assert result.summary["pct_pcns_in_one_area"] == 50.0

    (finding,) = alignment_findings(report)
    assert (finding.kind, finding.pcn_code, finding.severity.value) == (
        "split_across_areas",
        "U00002",
        "warning",
    )
    assert finding.practice_codes == ("A00003", "A00004", "A00005")
    assert (finding.value, finding.threshold) == (30.0, 5.0)
    assert finding.details["patients_by_area"] == {"TA": 3500, "TB": 1500}
    assert finding.details["pct_footprint_by_area"] == {"TA": 70.0, "TB": 30.0}
    assert "70% live in Team TA (TA) and 30% in Team TB (TB)" in finding.message

    areas = result.areas.set_index("area_code")
    assert areas.loc["TA", "docked_pcn_codes"] == "U00001;U00002"
    assert areas.loc["TA", "cut_pcn_codes"] == "U00002"
    assert areas.loc["TB", "cut_pcn_codes"] == "U00002"
    assert (areas.loc["TA", "n_pcns"], areas.loc["TB", "n_pcns"]) == (2, 1)
    assert areas.loc["TA", "pct_dominant_pcn"] == round(100 * 4000 / 7500, 1)
    (action,) = result.actions.itertuples()
    assert (action.pcn_code, action.area_code, action.n, action.pct) == ("U00002", "TB", 1500, 30.0)
    assert action.action == "move 1,500 patients of EAST PCN (U00002) living in TB, or agree " \
        "that TB serves them"  # fmt: skip


def test_patients_over_a_team_line_are_an_action_not_a_split(tmp_path):
    """EAST's footprint is wholly in TE; 30 % of its patients live across the line."""
    study = tiny_with(
        tmp_path,
        teams=[rect("TW", 0, 2), rect("TE", 2, 4)],
        registrations_csv=REG_70_30_PATIENTS,
    )
    report = validate(study)
    result = report.alignment.layers["teams"]
    east = result.pcns.set_index("pcn_code").loc["U00002"]
    assert (east["dominant_area_code"], east["pct_dominant"], east["pct_second"]) == (
        "TE",
        70.0,
        30.0,
    )
    assert east["pct_footprint_dominant"] == 100.0 and not east["split"]
    assert alignment_findings(report) == []
    assert result.actions[["pcn_code", "area_code", "n"]].values.tolist() == [
        ["U00002", "TW", 3000]
    ]
    # contingency W: TW 20,000; E: TW 3,000, TE 7,000 -- scores by hand
    s = result.summary
    assert s["coterminosity"] == pytest.approx(27000 / 30000)
    n, cells, rows, cols = 30000, [20000, 3000, 7000], [20000, 10000], [23000, 7000]

    def h(parts):
        return -sum(p / n * math.log(p / n) for p in parts)

    mi = (
        20000 / n * math.log(20000 * n / (20000 * 23000))
        + 3000 / n * math.log(3000 * n / (10000 * 23000))
        + 7000 / n * math.log(7000 * n / (10000 * 7000))
    )
    assert s["nmi"] == pytest.approx(mi / ((h(rows) + h(cols)) / 2))
    assert s["vi"] == pytest.approx(h(rows) + h(cols) - 2 * mi)

    def c2(x):
        return x * (x - 1) / 2

    index, sa, sb = sum(map(c2, cells)), sum(map(c2, rows)), sum(map(c2, cols))
    expected = sa * sb / c2(n)
    assert s["ari"] == pytest.approx((index - expected) / ((sa + sb) / 2 - expected))


def test_patients_living_outside_every_team_area_are_counted(tmp_path):
    study = tiny_with(tmp_path, teams=[rect("TW", 0, 2)])
    result = build_alignment(study).layers["teams"]
    pcns = result.pcns.set_index("pcn_code")
    assert pcns.loc["U00002", "n"] == 0
    assert pcns.loc["U00002", "n_outside"] == 4650
    assert result.summary["n_outside_layer"] == 4650
    assert result.summary["n_pcns_not_in_layer"] == 1
    assert result.summary["coterminosity"] == 1.0


# -- areas, area-weighted (voronoi) ---------------------------------------------------------


def test_voronoi_footprints_are_weighted_by_area(tmp_path):
    """Cells are 1 km strips: WEST = x 0-2 km, EAST = x 2-4 km (8 km² in all). A team
    line at x = 2.6 km puts 1.2 km² of EAST in TW and 2.8 km² in TE."""
    study = Study.from_toml(
        write_tiny_study(
            tmp_path,
            study_toml=voronoi_toml() + TEAMS_TOML,
            teams_geojson=feature_collection([rect("TW", 0, 2.6), rect("TE", 2.6, 4)]),
        )
    )
    report = validate(study)
    result = report.alignment.layers["teams"]
    assert result.weight == "km2"
    table = result.contingency.set_index(["pcn_code", "area_code"])["n"]
    assert table.to_dict() == pytest.approx(
        {("U00001", "TW"): 4.0, ("U00002", "TE"): 2.8, ("U00002", "TW"): 1.2}
    )
    assert result.summary["coterminosity"] == pytest.approx(6.8 / 8)
    (finding,) = alignment_findings(report)
    assert (finding.kind, finding.pcn_code, finding.value) == ("split_across_areas", "U00002", 30.0)
    assert (
        "of the area of its footprint, 70% lies in Team TE (TE) and 30% in Team TW (TW)"
        in finding.message
    )


# -- sites ----------------------------------------------------------------------------------


def test_sites_per_pcn_outside_their_pcn_and_not_located(tmp_path):
    study = tiny_with(tmp_path, sites=SITES_CSV)
    report = validate(study)
    result = report.alignment.layers["sites"]
    sites = result.sites.set_index("code")
    assert sites.loc["S1", "distance_to_declared_m"] == 250.0
    assert sites.loc["S1", "footprint_pcn_code"] == "U00002"
    assert sites.loc["S2", "distance_to_declared_m"] == 0.0
    assert result.not_located["code"].tolist() == ["S3"]  # listed, not dropped
    assert len(result.sites) == 4

    pcns = result.pcns.set_index("pcn_code")
    assert pcns["n_sites"].to_dict() == {"U00001": 1, "U00002": 2}
    # list sizes include the pseudo-area rows: WEST 3,808, EAST 4,652
    assert pcns.loc["U00001", "sites_per_10k"] == round(1e4 * 1 / 3808, 2)
    assert pcns.loc["U00002", "sites_per_10k"] == round(1e4 * 2 / 4652, 2)
    assert pcns["n_declared_outside"].to_dict() == {"U00001": 1, "U00002": 0}
    nearest = result.practices.set_index("practice_code")
    assert nearest["distance_m"].to_dict() == {
        "A00001": 1000.0,
        "A00002": 750.0,
        "A00003": 250.0,
        "A00004": 1000.0,
        "A00005": 1000.0,
    }
    assert nearest.loc["A00003", "nearest_site_code"] == "S1"

    outside = alignment_findings(report, "site_outside_pcn")
    (finding,) = outside
    assert (finding.pcn_code, finding.value) == ("U00001", 250.0)
    assert finding.details == {
        "layer": "sites",
        "n_sites": 1,
        "site_code": "S1",
        "distance_m": 250.0,
        "footprint_pcn_at_site": "U00002",
        "sites": [{"site_code": "S1", "distance_m": 250.0, "footprint_pcn_at_site": "U00002"}],
    }
    assert "lies 250 m outside" in finding.message
    (unknown,) = alignment_findings(report, "site_pcn_unknown")
    assert unknown.severity.value == "info" and unknown.details["site_codes"] == ["S4"]
    assert result.summary["not_located"] == ["S3"]
    assert "not located (kept, listed): S3 (ZZ9 9ZZ)" in to_markdown(report)


def test_a_pcn_with_no_site_is_listed(tmp_path):
    only_east = "\n".join(line for line in SITES_CSV.splitlines() if "S2" not in line) + "\n"
    result = build_alignment(tiny_with(tmp_path, sites=only_east)).layers["sites"]
    assert result.summary["pcns_without_sites"] == ["U00001"]


# -- configurations, outputs, empty layers ------------------------------------------------


def test_alignment_follows_the_configuration(tmp_path):
    study = tiny_with(tmp_path, teams=[rect("TW", 0, 2), rect("TE", 2, 4)])
    moved = study.configuration.to_frame()
    moved.loc[moved["practice_code"] == "A00003", ["pcn_code", "pcn_name"]] = [
        "U00001",
        "WEST PCN",
    ]
    report = validate(study, Configuration.from_frame(moved))
    result = report.alignment.layers["teams"]
    west = result.pcns.set_index("pcn_code").loc["U00001"]
    assert west["pct_footprint_second"] == round(100 * 1900 / (3800 + 1900), 1)
    assert [f.pcn_code for f in alignment_findings(report)] == ["U00001"]
    assert validate(study).alignment.layers["teams"].summary["coterminosity"] == 1.0


def test_report_writes_the_alignment_tables(tmp_path):
    teams = [rect("TW", 0, 2, name="=HYPERLINK(1)"), rect("TE", 2, 4)]
    study = tiny_with(tmp_path / "in", teams=teams, sites=SITES_CSV)
    report = validate(study)
    written = {p.name for p in write_report(report, tmp_path / "out", map_html=False)}
    assert {"alignment_pcns.csv", "alignment_areas.csv"} <= written
    pcns = pd.read_csv(tmp_path / "out" / "alignment_pcns.csv")
    assert sorted(set(pcns["layer"])) == ["sites", "teams"]
    assert len(pcns) == 2 * 2
    areas = pd.read_csv(tmp_path / "out" / "alignment_areas.csv")
    # rows in code order (TE before TW), whatever the order of the input file
    assert areas["area_name"].tolist() == ["Team TE", "'=HYPERLINK(1)"]
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert doc["alignment"]["teams"]["summary"]["coterminosity"] == 1.0
    assert doc["alignment"]["sites"]["not_located"] == [
        {"code": "S3", "name": "Clinic three", "postcode": "ZZ9 9ZZ"}
    ]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## Community alignment" in md and "coterminosity 1.000" in md


def test_no_community_layers_means_no_alignment_output(tmp_path, tiny_study_file):
    report = validate(Study.from_toml(tiny_study_file))
    assert report.alignment.layers == {}
    assert alignment_findings(report) == []
    written = {p.name for p in write_report(report, tmp_path / "out", map_html=False)}
    assert not any(name.startswith("alignment") for name in written)
    assert report.to_dict()["alignment"] == {}


# -- the demo ---------------------------------------------------------------------------------


def test_demo_alignment_figures():
    assert "alignment" in CHECKS
    report = validate(demo())
    teams = report.alignment.layers["teams"]
    pcns = teams.pcns.set_index("pcn_code")
    assert pcns.loc["UZ005", "dominant_area_code"] == "CT01"
    assert pcns.loc["UZ005", "pct_dominant"] == 60.7
    assert teams.split_pcns["pcn_code"].tolist() == ["UZ005"]
    assert teams.summary["n_areas_cutting_pcns"] == 2
    # every other PCN's footprint lies in one team (the demo's design)
    assert (pcns.drop(index="UZ005")["pct_footprint_dominant"] == 100.0).all()
    sites = report.alignment.layers["sites"]
    assert sites.summary["pcns_without_sites"] == ["UZ005", "UZ008", "UZ011"]
    assert sites.outside_declared["code"].tolist() == ["CS07"]


def test_a_declared_pcn_of_a_team_area_is_compared(tmp_path):
    """Areas layers may name the PCN each area is aligned to (a ``pcn_code`` column)."""
    from dataclasses import replace

    study = tiny_with(tmp_path, teams=[rect("TW", 0, 2), rect("TE", 2, 4)])
    layer = study.community["teams"]
    data = layer.data.assign(pcn_code=["U00001", "U00001"])
    study = replace(study, community={"teams": replace(layer, data=data)})
    areas = build_alignment(study).layers["teams"].areas.set_index("area_code")
    assert areas["declared_pcn_code"].to_dict() == {"TW": "U00001", "TE": "U00001"}
    assert areas["pct_declared_pcn"].to_dict() == {"TW": 100.0, "TE": 0.0}


def test_a_team_layer_away_from_the_study_leaves_everyone_outside(tmp_path):
    far = rect("FAR", 10, 12)
    study = tiny_with(tmp_path / "in", teams=[far])
    report = validate(study)
    result = report.alignment.layers["teams"]
    assert result.summary["n"] == 0 and result.summary["n_outside_layer"] == 3800 + 4650
    assert result.areas.empty  # the far area does not concern the study
    assert alignment_findings(report) == []
    write_report(report, tmp_path / "out", map_html=False)
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert doc["alignment"]["teams"]["summary"]["coterminosity"] is None


def test_sites_outside_one_pcn_are_one_finding_with_the_farthest(tmp_path):
    """S1 (250 m east of WEST) and S5 (1,500 m east of WEST, in T04) both declare WEST:
    one finding for WEST with the count and S5, the farthest."""
    sites = SITES_CSV + f"S5,Clinic five,{X0 + 3500},{Y0 + 500},AB1 9AE,U00001\n"
    report = validate(tiny_with(tmp_path, sites=sites))
    (finding,) = alignment_findings(report, "site_outside_pcn")
    assert (finding.pcn_code, finding.value) == ("U00001", 1500.0)
    assert finding.details["n_sites"] == 2
    assert [s["site_code"] for s in finding.details["sites"]] == ["S5", "S1"]
    assert finding.message.startswith("2 sites of community layer 'sites' declare WEST PCN")
    assert finding.geometry.geom_type == "MultiPoint"
