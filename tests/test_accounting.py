"""Every resident accounted for (issue 18, item 5): one residents table, the same in
``geo-pcn info``, report.md, report.html, report.json and report.xlsx, and every small area
of the areas layer in ``areas.csv`` with its status.

The tiny study, widened by three areas (every answer below is worked out by hand)::

    northing (km)
     2 +------+------+------+------+------+
       | T05  | T06  | T07  | T08  | T11  |          place WEST = T01 T02 T05 T06
     1 +------+------+------+------+------+------+   place EAST = T03 T04 T07 T08 T11
       | T01  | T02  | T03  | T04  | T09  | T10  |   place FAR  = T09 T10
     0 +------+------+------+------+------+------+
       0      1      2      3      4      5      6   easting (km)

    A00001 (T01) -> WEST; A00002 (T02) in no PCN; A00003 (T03), A00004 = A00005 (T04) -> EAST
    the tiny registrations, plus A00004 50 in T09, and two practices outside the study:
    B00001 T08 2,000, T07 100; B00002 T09 500, T10 300, T02 40. Nobody is registered in T11.

    area  study: PCN / no PCN   outside   status
    T01   1,000 /     0            0      in a PCN footprint (WEST)
    T05     900 /     0            0      in a PCN footprint (WEST)
    T03   1,200 /     0            0      in a PCN footprint (EAST)
    T07     700 /     0          100      in a PCN footprint (EAST)
    T04   1,700 /     0            0      in a PCN footprint (EAST)
    T02       0 / 1,100           40      served by a practice in no PCN (A00002)
    T06       0 /   800            0      served by a practice in no PCN (A00002)
    T08   1,050 /     0        2,000      served from outside, in the region (EAST is the
                                          study's: 4,650 of its 6,750 registered residents)
    T11       0 /     0            0      nobody registered (in EAST, so in the region)
    T09      50 /     0          500      left out: FAR is not the study's (50 of 850)
    T10       0 /     0          300      left out: none of the study's practices there
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from tiny import TINY_CELLS, TINY_REGISTRATIONS, X0, Y0, box_features, write_tiny_study

from geo_pcn import Study, validate
from geo_pcn.cli import cli
from geo_pcn.render import to_markdown
from geo_pcn.render.outputs import write_report
from geo_pcn.render.xlsx import to_xlsx

REGISTRATIONS = TINY_REGISTRATIONS + (
    "A00004,T09,50\nB00001,T08,2000\nB00001,T07,100\nB00002,T09,500\nB00002,T10,300\n"
    "B00002,T02,40\n"
)
#: T01 100 above its 1,000 registered; T08 50 below its 3,050; every other as registered
POPULATION = "area_code,population\n" + "".join(
    f"{a},{n}\n"
    for a, n in {
        "T01": 1100,
        "T02": 1140,
        "T03": 1200,
        "T04": 1700,
        "T05": 900,
        "T06": 800,
        "T07": 800,
        "T08": 3000,
        "T09": 550,
        "T10": 300,
        "T11": 0,
    }.items()
)
PRACTICES = """PRACTICE_CODE,PRACTICE_NAME,PCN_CODE,PCN_NAME
A00001,WEST ONE SURGERY,U00001,WEST PCN
A00002,WEST TWO SURGERY,,
A00003,EAST THREE SURGERY,U00002,EAST PCN
A00004,EAST FOUR SURGERY,U00002,EAST PCN
A00005,EAST FIVE SURGERY,U00002,EAST PCN
"""


def _polygon(code: str, ring_km: list[tuple[int, int]]) -> dict:
    ring = [[X0 + 1000 * x, Y0 + 1000 * y] for x, y in ring_km]
    return {
        "type": "Feature",
        "properties": {"code": code, "name": code.title()},
        "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
    }


PLACES = json.dumps(
    {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
        "features": [
            _polygon("WEST", [(0, 0), (2, 0), (2, 2), (0, 2)]),
            _polygon("EAST", [(2, 0), (4, 0), (4, 1), (5, 1), (5, 2), (2, 2)]),
            _polygon("FAR", [(4, 0), (6, 0), (6, 1), (4, 1)]),
        ],
    }
)

#: (where, small areas, at PCN practices, at practices in no PCN, outside, all), by hand
EXPECTED_ROWS = [
    ("pcn_footprint", 5, 5_500, 0, 100, 5_600),
    ("practice_in_no_pcn", 2, 0, 1_900, 40, 1_940),
    ("served_from_outside", 1, 1_050, 0, 2_000, 3_050),
    ("nobody_registered", 1, 0, 0, 0, 0),
    ("region", 9, 6_550, 1_900, 2_140, 10_590),
    ("left_out", 1, 50, 0, 500, 550),
    ("beyond_region", 1, 0, 0, 300, 300),
    ("areas_given", 11, 6_600, 1_900, 2_940, 11_440),
]


@pytest.fixture(scope="module")
def study_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("accounting")
    cells = {**TINY_CELLS, "T09": (4, 0), "T10": (5, 0), "T11": (4, 1)}
    return write_tiny_study(
        folder,
        practices_csv=PRACTICES,
        registrations_csv=REGISTRATIONS,
        population_csv=POPULATION,
        areas_geojson=box_features(cells),
        place_geojson=PLACES,
    )


@pytest.fixture(scope="module")
def report(study_file):
    return validate(Study.from_toml(study_file))


def _rows(table: dict) -> list[tuple]:
    keys = ("where", "n_areas", "at_pcn_practices", "at_practices_in_no_pcn")
    return [(*(r[k] for k in keys), r["at_outside_practices"], r["all"]) for r in table["rows"]]


def test_the_residents_table_adds_up_by_hand(report):
    table = report.summary["residents"]
    assert table["basis"] == "registrations"
    assert _rows(table) == EXPECTED_ROWS
    # the study's patients living in no area given: CLOSED 5 (A00001), EMPTY 3 (A00002),
    # Wales 2 (A00003)
    assert [
        (r["where"], r["at_pcn_practices"], r["at_practices_in_no_pcn"])
        for r in table["not_in_areas"]
    ] == [("unknown", 5, 3), ("wales", 2, 0)]


def test_the_areas_left_out_are_named_with_who_serves_them_and_why(report):
    left = report.summary["residents"]["left_out"]
    assert (left["n_areas"], left["n_residents"], left["n_at_study_practices"]) == (1, 550, 50)
    (t09,) = left["named"]
    assert (t09["area_code"], t09["residents"], t09["at_study_practices"]) == ("T09", 550, 50)
    assert t09["served_by"] == [{"practice_code": "B00002", "patients": 500}]
    assert t09["lies_in"].startswith("place FAR")
    assert "500 of 550" in t09["why"] and "place FAR" in t09["why"]


def test_population_against_registrations_net_and_area_by_area(report):
    """Areas given: population 11,490 against 11,440 registered: 50 net; T01 100 higher,
    T08 50 lower. The PCN footprints (T01 T05 T03 T07 T04): 5,700 against 5,600."""
    pop = report.summary["residents"]["population"]
    assert (pop["population"], pop["registered"], pop["net"]) == (11_490, 11_440, 50)
    assert (pop["n_areas_population_higher"], pop["population_higher_by"]) == (1, 100)
    assert (pop["n_areas_registrations_higher"], pop["registrations_higher_by"]) == (1, 50)
    (finding,) = [f for f in report.findings if f.kind == "population_vs_registrations"]
    assert not [f for f in report.findings if f.kind == "residents_not_registered"]
    assert (finding.details["population"], finding.details["registered"]) == (5_700, 5_600)
    assert (finding.details["net"], finding.value) == (100, 100)
    assert "not a count of people with no GP" in finding.message


def test_every_area_of_the_layer_is_in_areas_csv_with_its_status(report, tmp_path):
    write_report(report, tmp_path / "out", map_html=False)
    areas = pd.read_csv(tmp_path / "out" / "areas.csv", keep_default_na=False).set_index(
        "area_code"
    )
    assert sorted(areas.index) == [f"T{i:02d}" for i in range(1, 12)]
    status = areas["status"].to_dict()
    assert status == {
        **dict.fromkeys(["T01", "T03", "T04", "T05", "T07"], "in a PCN footprint"),
        **dict.fromkeys(["T02", "T06"], "served by a practice in no PCN"),
        "T08": "served from outside, in the region",
        "T11": "nobody registered",
        **dict.fromkeys(["T09", "T10"], "left out of the region"),
    }
    assert areas.loc["T10", "why_left_out"] == "none of the study's practices has residents there"
    assert "place FAR" in areas.loc["T09", "why_left_out"]
    assert areas.loc["T01", "why_left_out"] == ""
    assert areas["population_less_registered"].astype(int).to_dict() == {
        **{f"T{i:02d}": 0 for i in range(1, 12)},
        "T01": 100,
        "T08": -50,
    }


def test_the_same_table_in_info_markdown_json_and_xlsx(report, study_file, tmp_path):
    given = "| all the areas given | 11 | 6,600 | 1,900 | 2,940 | 11,440 |"
    assert given in to_markdown(report)
    result = CliRunner().invoke(cli, ["info", str(study_file)])
    assert result.exit_code == 0, result.output
    line = [ln for ln in result.output.splitlines() if ln.strip().startswith("all the areas")]
    assert line[0].split()[-5:] == ["11", "6,600", "1,900", "2,940", "11,440"]
    result = CliRunner().invoke(cli, ["info", str(study_file), "--json"])
    assert json.loads(result.output)["residents"] == json.loads(report.to_json())["summary"][
        "residents"
    ]
    ws = load_workbook(io.BytesIO(to_xlsx(report)))["Residents"]
    rows = {r[0]: r[1:] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["all the areas given"] == (11, 6_600, 1_900, 2_940, 11_440)
    assert rows["in areas left out of the region, where the study's practices have residents"] == (
        1,
        50,
        0,
        500,
        550,
    )


def test_a_study_that_owns_its_region_has_no_left_out_rows(tmp_path):
    """The tiny study as written: nobody is registered elsewhere, every area is the
    study's; the table is the footprints and the areas given, equal."""
    report = validate(Study.from_toml(write_tiny_study(tmp_path)))
    table = report.summary["residents"]
    assert table["basis"] == "population"
    assert [r["where"] for r in table["rows"]] == ["pcn_footprint", "areas_given"]
    assert table["rows"][0]["all"] == table["rows"][1]["all"] == 8_450


def test_the_demo_table_against_plain_pandas():
    """The demo's residents table against its raw files read with pandas: each area's
    residents are the study's registered residents, or its population where that is
    higher (only the study's practices are in the registrations)."""
    from geo_pcn.datasets import demo, demo_dir

    folder = demo_dir()
    reg = pd.read_csv(folder / "gp-reg-pat-prac-lsoa-all.csv", dtype={"LSOA_CODE": str})
    pop = pd.read_csv(folder / "population.csv").set_index("area_code")["population"]
    practices = pd.read_csv(folder / "gp-reg-pat-prac-map.csv", dtype=str, keep_default_na=False)
    in_pcn = set(practices.loc[~practices["PCN_CODE"].isin(["", "U"]), "PRACTICE_CODE"])
    here = reg[reg["LSOA_CODE"].isin(pop.index)]
    at_pcn = here["PRACTICE_CODE"].isin(in_pcn)
    pcn = here[at_pcn].groupby("LSOA_CODE")["NUMBER_OF_PATIENTS"].sum().reindex(pop.index)
    no_pcn = here[~at_pcn].groupby("LSOA_CODE")["NUMBER_OF_PATIENTS"].sum().reindex(pop.index)
    study = pcn.fillna(0) + no_pcn.fillna(0)
    everyone = study.where(study > pop, pop)

    table = validate(demo()).summary["residents"]
    given = table["rows"][-1]
    assert given["where"] == "areas_given" and given["n_areas"] == len(pop) == 300
    assert given["at_pcn_practices"] == int(pcn.sum())
    assert given["at_practices_in_no_pcn"] == int(no_pcn.sum())
    assert given["all"] == int(everyone.sum())
    assert given["at_outside_practices"] == int((everyone - study).sum())
    parts = [r for r in table["rows"][:-1] if r["where"] != "region"]
    for column in ("n_areas", "at_pcn_practices", "at_practices_in_no_pcn", "all"):
        assert sum(r[column] for r in parts) == given[column], column
    # every patient of the study's practices: in the areas given, or in no area of them
    away = sum(r["at_pcn_practices"] + r["at_practices_in_no_pcn"] for r in table["not_in_areas"])
    in_areas = given["at_pcn_practices"] + given["at_practices_in_no_pcn"]
    assert in_areas + away == int(reg["NUMBER_OF_PATIENTS"].sum())
