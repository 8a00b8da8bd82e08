"""The tiny hand-drawn study used across the tests (import it: ``from tiny import ...``)."""

from __future__ import annotations

import json
from pathlib import Path

# -- a tiny hand-drawn study ------------------------------------------------------------
#
#   northing (km above 300 000)
#    2 +------+------+------+------+
#      | T05  | T06  | T07  | T08  |      place WEST = T01 T02 T05 T06
#    1 +------+------+------+------+      place EAST = T03 T04 T07 T08
#      | T01  | T02  | T03  | T04  |
#    0 +------+------+------+------+
#      0      1      2      3      4   easting (km above 400 000)
#
#   practices (sites at the centre of the box named):
#     A00001 in T01, A00002 in T02  -> PCN U00001 "WEST PCN"
#     A00003 in T03, A00004 in T04  -> PCN U00002 "EAST PCN"
#     A00005 at the same site as A00004 -> PCN U00002
X0, Y0 = 400_000, 300_000

TINY_PRACTICES = """PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,SUB_ICB_LOCATION_CODE,ICB_CODE
A00001,WEST ONE SURGERY,AB1 1AA,U00001,WEST PCN,01A,QXX
A00002,WEST TWO SURGERY,AB1 2AA,U00001,WEST PCN,01A,QXX
A00003,EAST THREE SURGERY,AB1 3AA,U00002,EAST PCN,01A,QXX
A00004,EAST FOUR SURGERY,AB1 4AA,U00002,EAST PCN,01A,QXX
A00005,EAST FIVE SURGERY,AB1 4AA,U00002,EAST PCN,01A,QXX
"""

TINY_LOCATIONS = "PRACTICE_CODE,EASTING,NORTHING\n" + "".join(
    f"A0000{i},{X0 + 500 + 1000 * col},{Y0 + 500}\n"
    for i, col in ((1, 0), (2, 1), (3, 2), (4, 3), (5, 3))
)

TINY_REGISTRATIONS = (
    "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n"
    "A00001,T01,1000\nA00001,T05,900\nA00001,CLOSED,5\n"
    "A00002,T02,1100\nA00002,T06,800\nA00002,EMPTY,3\n"
    "A00003,T03,1200\nA00003,T07,700\nA00003,W01000001,2\n"
    "A00004,T04,1300\nA00004,T08,600\n"
    "A00005,T04,400\nA00005,T08,450\n"
)


#: Residents of each area: exactly those registered at the tiny practices (nobody is
#: registered elsewhere, so every area is the study's and nothing is served from outside).
TINY_POPULATION = "area_code,population\n" + "".join(
    f"{code},{n}\n"
    for code, n in {
        "T01": 1000,
        "T02": 1100,
        "T03": 1200,
        "T04": 1700,
        "T05": 900,
        "T06": 800,
        "T07": 700,
        "T08": 1050,
    }.items()
)


def population_of(registrations_csv: str) -> str:
    """A population file whose areas hold exactly the residents the registrations name
    (nobody registered elsewhere), for tests that swap the registrations."""
    totals: dict[str, int] = {}
    for line in registrations_csv.strip().splitlines()[1:]:
        _, area, n = line.split(",")
        if area.startswith("T"):
            totals[area] = totals.get(area, 0) + int(n)
    return "area_code,population\n" + "".join(f"{a},{n}\n" for a, n in sorted(totals.items()))


def box_features(cells: dict[str, tuple[int, int]], props: dict[str, dict] | None = None) -> str:
    """GeoJSON (EPSG:27700) of 1 km boxes; ``cells`` maps code -> (column, row)."""
    feats = []
    for code, (col, row) in cells.items():
        x, y = X0 + 1000 * col, Y0 + 1000 * row
        ring = [[x, y], [x + 1000, y], [x + 1000, y + 1000], [x, y + 1000], [x, y]]
        feats.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": f"Area {code}", **(props or {}).get(code, {})},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return json.dumps(
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
            "features": feats,
        }
    )


TINY_CELLS = {f"T0{i + 1}": (i % 4, i // 4) for i in range(8)}


def union_box(code: str, cols: range, rows: range = range(2)) -> str:
    """One feature covering whole columns of the tiny grid."""

    x1, x2 = X0 + 1000 * cols.start, X0 + 1000 * cols.stop
    y1, y2 = Y0 + 1000 * rows.start, Y0 + 1000 * rows.stop
    return {
        "type": "Feature",
        "properties": {"code": code, "name": code.title()},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]],
        },
    }


def feature_collection(features: list[dict], crs: bool = True) -> str:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    return json.dumps(doc)


TINY_TOML = """name = "Tiny test study"
[practices]
file = "practices.csv"
locations = "locations.csv"
[registrations]
file = "registrations.csv"
[areas]
file = "areas.geojson"
population = "population.csv"
[boundaries]
place = "place.geojson"
[rules]
band = [3000, 5000]
"""


def write_tiny_study(folder: Path, **overrides: str) -> Path:
    """Write the tiny study into ``folder``; ``overrides`` replace files by name
    (``practices_csv=...``, ``study_toml=...``). Returns the study file path."""
    files = {
        "practices.csv": TINY_PRACTICES,
        "locations.csv": TINY_LOCATIONS,
        "registrations.csv": TINY_REGISTRATIONS,
        "areas.geojson": box_features(TINY_CELLS),
        "population.csv": TINY_POPULATION,
        "place.geojson": feature_collection(
            [union_box("WEST", range(0, 2)), union_box("EAST", range(2, 4))]
        ),
        "study.toml": TINY_TOML,
    }
    for key, value in overrides.items():
        name = key[::-1].replace("_", ".", 1)[::-1]
        files[name] = value
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    return folder / "study.toml"
