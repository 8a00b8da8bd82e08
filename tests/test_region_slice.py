"""A region study works on the areas in play; other practices' rows elsewhere are one count.

Hand-drawn (1 km boxes, easting in km above 400 000; column 3 is empty, so T04 is 1 km
from T03 and 2 km from T02)::

    0      1      2      3      4      5      6
    +------+------+------+      +------+------+
    | T01  | T02  | T03  |      | T04  | T05  |
    +------+------+------+      +------+------+
      A1     A2                          B1          (practice sites)

The study: practices ``where ICB_CODE = "QXX"``: A00001 (site in T01), A00002 (site in
T02). B00001 (ICB QYY, site in T05) and B00002 (not in the practice file) are outside it.

Registrations (3,464 patients in all)::

    A00001 T01 1000   A00001 CLOSED 5   A00002 T02 1100
    B00001 T02  100   B00001 T03  300   B00001 T04  400   B00001 T05 500   B00001 EMPTY 7
    B00002 T05   50   B00002 W01000001 2

Areas in play (adjacency tolerance 250 m): T01 and T02 (the study's residents and sites),
T03 (touches T02). T04 is 2 km from T02: not in play. Kept of the other practices: B00001
in T02 (100) and T03 (300). Not read, one count: 5 rows (T04 400, T05 500, EMPTY 7, T05 50,
W01000001 2), 959 patients, 2 practices, 2 small areas (T04, T05).
Residents table: the areas given hold 1000 + 1200 + 300 = 2,500; the study's patients of
unknown residence 5; not read 959: 2,500 + 5 + 959 = 3,464, the file's total.
"""

from __future__ import annotations

from tiny import box_features, feature_collection, population_of, union_box, write_tiny_study

from geo_pcn import Study
from geo_pcn._residents import residents_grid
from geo_pcn.geography import build_footprints
from geo_pcn.geography.accounting import account_residents

PRACTICES = """PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,SUB_ICB_LOCATION_CODE,ICB_CODE
A00001,ONE SURGERY,AB1 1AA,U00001,WEST PCN,01A,QXX
A00002,TWO SURGERY,AB1 2AA,U00001,WEST PCN,01A,QXX
B00001,OTHER SURGERY,AB1 5AA,U00009,FAR PCN,02B,QYY
"""
LOCATIONS = "PRACTICE_CODE,EASTING,NORTHING\nA00001,400500,300500\nA00002,401500,300500\nB00001,405500,300500\n"
REGISTRATIONS = (
    "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n"
    "A00001,T01,1000\nA00001,CLOSED,5\nA00002,T02,1100\n"
    "B00001,T02,100\nB00001,T03,300\nB00001,T04,400\nB00001,T05,500\nB00001,EMPTY,7\n"
    "B00002,T05,50\nB00002,W01000001,2\n"
)
CELLS = {"T01": (0, 0), "T02": (1, 0), "T03": (2, 0), "T04": (4, 0), "T05": (5, 0)}
TOML = """name = "Region slice"
[practices]
file = "practices.csv"
locations = "locations.csv"
{where}
[registrations]
file = "registrations.csv"
[areas]
file = "areas.geojson"
population = "population.csv"
[boundaries]
place = "place.geojson"
[rules]
band = [1000, 5000]
"""


def _study(tmp_path, where: str) -> Study:
    path = write_tiny_study(
        tmp_path,
        practices_csv=PRACTICES if where else PRACTICES.rsplit("B00001", 1)[0],
        locations_csv=LOCATIONS,
        registrations_csv=REGISTRATIONS,
        areas_geojson=box_features(CELLS),
        population_csv=population_of(REGISTRATIONS),
        place_geojson=feature_collection([union_box("WEST", range(0, 3), range(1))]),
        study_toml=TOML.format(where=where),
    )
    return Study.from_toml(path)


def test_a_region_study_reads_the_areas_in_play_and_counts_the_rest(tmp_path):
    study = _study(tmp_path, 'where = { ICB_CODE = "QXX" }')
    assert list(study.practices.index) == ["A00001", "A00002"]
    assert list(study.areas.index) == ["T01", "T02", "T03"]
    other = study.outside_registrations
    assert sorted(
        zip(other["practice_code"], other["area_code"], other["n_patients"], strict=True)
    ) == [
        ("B00001", "T02", 100),
        ("B00001", "T03", 300),
    ]
    assert study.registrations_not_read == {
        "n_rows": 5, "n_patients": 959, "n_practices": 2, "n_areas": 2,
    }  # fmt: skip
    assert any(
        "registrations outside the areas read: 5 rows, 959 patients at 2 practices in 2 small "
        "areas" in n
        for n in study.notes
    )
    table = account_residents(study, build_footprints(study))
    given = table["rows"][-1]
    assert given["where"] == "areas_given" and given["all"] == 2_500
    away = sum(r["at_pcn_practices"] + r["at_practices_in_no_pcn"] for r in table["not_in_areas"])
    assert away == 5
    assert table["not_read"]["n_patients"] == 959
    assert given["all"] + away + table["not_read"]["n_patients"] == 3_464
    last = residents_grid(table)[-1]
    assert last[0] == "registrations outside the areas read: 5 rows at 2 practices"
    assert last[1:] == [2, None, None, 959, 959]


def test_a_study_holding_most_of_the_registrations_keeps_every_area(tmp_path):
    # no where, and A00001 + A00002 hold 2,105 of the 3,464 patients: not a region study
    study = _study(tmp_path, "")
    assert list(study.areas.index) == ["T01", "T02", "T03", "T04", "T05"]
    assert study.registrations_not_read is None
    assert len(study.outside_registrations) == 7
    assert int(study.outside_registrations["n_patients"].sum()) == 1_359
    table = account_residents(study, build_footprints(study))
    assert "not_read" not in table
    assert len(residents_grid(table)[-1]) == 6
    assert residents_grid(table)[-1][0] == "all the study's registered patients"
