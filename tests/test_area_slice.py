"""A region study projects and checks only the polygons near its residents and sites, and
gets the areas and outputs of the whole layer's read.

Hand-drawn (1 km boxes, eastings in km above 400 000, northings above 300 000; adjacency
tolerance 250 m)::

    northing
      2.4 +------+
          | T05  |    (T05: 0.4 km above T01)
      1.4 +------+------+
                 | T04  |    (T04: 0.1 km above T02)
      1.1        +------+
      1.0 +------+------+------+            +------+------+      +------+
          | T01  | T02  | T03  |            | T06  | T07  |      | T08  |  (T08: a bow-tie,
          |  A1  |      |      |            |  A2  |  B1  |      |  ><  |   invalid)
      0.0 +------+------+------+            +------+------+      +------+
          0      1      2      3            5      6      7      8      9   easting

The study: ``where ICB_CODE = "QXX"``: A00001 (site A1 in T01, 1,000 residents in T01) and
A00002 (site A2 in T06, 900 residents in T02: its patients live away from its site).
B00001 (ICB QYY, site in T07) has residents in T03 300, T04 200, T05 400, T07 500, T08 50.

Areas in play, by hand: T01 and T02 (residents), T06 (holds A2); T03 (touches T02), T04
(0.1 km from T02, within 250 m), T07 (touches T06). Not: T05 (0.4 km from T01), T08 (1 km
from T07). B00001's rows kept: T03, T04, T07 (1,000 patients); not read: T05 and T08, 2
rows, 450 patients, 1 practice, 2 small areas. T08's bow-tie is never projected, so its
repair is not warned about; the whole layer's read repairs it and says so.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pyproj
import pytest
import shapely
from tiny import feature_collection, population_of, union_box, write_tiny_study

from geo_pcn import Study, validate
from geo_pcn.render import write_report

X0, Y0 = 400_000, 300_000
#: code -> (west, south) corner in metres from (X0, Y0)
CORNERS = {
    "T01": (0, 0),
    "T02": (1000, 0),
    "T03": (2000, 0),
    "T04": (1000, 1100),
    "T05": (0, 1400),
    "T06": (5000, 0),
    "T07": (6000, 0),
    "T08": (8000, 0),
}
PRACTICES = """PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,SUB_ICB_LOCATION_CODE,ICB_CODE
A00001,ONE SURGERY,AB1 1AA,U00001,WEST PCN,01A,QXX
A00002,TWO SURGERY,AB1 2AA,U00001,WEST PCN,01A,QXX
B00001,OTHER SURGERY,AB1 5AA,U00009,FAR PCN,02B,QYY
"""
LOCATIONS = (
    "PRACTICE_CODE,EASTING,NORTHING\n"
    "A00001,400500,300500\nA00002,405500,300500\nB00001,406500,300500\n"
)
REGISTRATIONS = (
    "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n"
    "A00001,T01,1000\nA00002,T02,900\n"
    "B00001,T03,300\nB00001,T04,200\nB00001,T05,400\nB00001,T07,500\nB00001,T08,50\n"
)
TOML = """name = "Area slice"
[practices]
file = "practices.csv"
locations = "locations.csv"
where = { ICB_CODE = "QXX" }
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


def _rings(lonlat: bool) -> dict[str, list]:
    rings = {}
    for code, (dx, dy) in CORNERS.items():
        x, y = X0 + dx, Y0 + dy
        if code == "T08":  # a bow-tie: its edges cross at the box's centre
            ring = [[x, y], [x + 1000, y + 1000], [x + 1000, y], [x, y + 1000], [x, y]]
        else:
            ring = [[x, y], [x + 1000, y], [x + 1000, y + 1000], [x, y + 1000], [x, y]]
        rings[code] = ring
    if lonlat:  # the same corners in longitude/latitude (the file then has no crs member)
        to_wgs = pyproj.Transformer.from_crs(27700, 4326, always_xy=True)
        rings = {
            code: [list(to_wgs.transform(x, y)) for x, y in ring] for code, ring in rings.items()
        }
    return rings


def _areas_geojson(lonlat: bool) -> str:
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": f"Area {code}"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for code, ring in _rings(lonlat).items()
    ]
    collection = {"type": "FeatureCollection", "features": features}
    if not lonlat:
        collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    return json.dumps(collection)


def _load(folder, lonlat: bool, *, whole: bool, monkeypatch) -> tuple[Study, list[str]]:
    path = write_tiny_study(
        folder,
        practices_csv=PRACTICES,
        locations_csv=LOCATIONS,
        registrations_csv=REGISTRATIONS,
        areas_geojson=_areas_geojson(lonlat),
        population_csv=population_of(REGISTRATIONS),
        place_geojson=feature_collection([union_box("WEST", range(0, 9), range(3))]),
        study_toml=TOML,
    )
    with monkeypatch.context() as mp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if whole:  # every polygon read, checked and projected (the read before the slice)
            mp.setattr("geo_pcn.study.region_polygons", lambda *args: None)
        study = Study.from_toml(path)
    return study, [str(w.message) for w in caught]


@pytest.mark.parametrize("lonlat", [False, True], ids=["bng", "lonlat"])
def test_the_slice_holds_the_areas_in_play_worked_out_by_hand(tmp_path, monkeypatch, lonlat):
    study, said = _load(tmp_path / "sliced", lonlat, whole=False, monkeypatch=monkeypatch)
    assert list(study.areas.index) == ["T01", "T02", "T03", "T04", "T06", "T07"]
    assert study.registrations_not_read == {
        "n_rows": 2, "n_patients": 450, "n_practices": 1, "n_areas": 2,
    }  # fmt: skip
    other = study.outside_registrations
    assert sorted(zip(other["area_code"], other["n_patients"], strict=True)) == [
        ("T03", 300),
        ("T04", 200),
        ("T07", 500),
    ]
    assert any(
        "works on the 6 small areas in play" in n and "not all 8 of" in n for n in study.notes
    )
    assert not any("repaired" in w for w in said)  # T08 was never projected
    # T04 is kept as a neighbour within 250 m, not as a touching one
    t02, t04 = study.areas.geometry["T02"], study.areas.geometry["T04"]
    assert not t02.intersects(t04) and 99 < t02.distance(t04) < 101


@pytest.mark.parametrize("lonlat", [False, True], ids=["bng", "lonlat"])
def test_the_slice_gives_the_whole_read_s_areas_and_outputs(tmp_path, monkeypatch, lonlat):
    # one folder: the notes and outputs name the files
    sliced, _ = _load(tmp_path / "study", lonlat, whole=False, monkeypatch=monkeypatch)
    whole, said = _load(tmp_path / "study", lonlat, whole=True, monkeypatch=monkeypatch)
    # the whole read projected T08 and repaired it (a warning), then left it out of play
    assert any("repaired 1 invalid polygon" in w and "T08" in w for w in said)
    a, b = sliced.areas, whole.areas
    assert list(a.columns) == list(b.columns) and list(a.index) == list(b.index)
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), 0).all()
    assert sliced.notes == whole.notes
    assert sliced.registrations_not_read == whole.registrations_not_read
    for study, out in ((sliced, tmp_path / "out_sliced"), (whole, tmp_path / "out_whole")):
        write_report(validate(study), out)
    names = sorted(p.name for p in (tmp_path / "out_whole").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "out_sliced").iterdir())
    differ = [
        n
        for n in names
        if (tmp_path / "out_sliced" / n).read_bytes() != (tmp_path / "out_whole" / n).read_bytes()
    ]
    assert differ == []


def test_a_lonlat_box_s_bounds_in_bng_hold_its_polygon(tmp_path):
    """The bounds that choose what to project hold the projected polygon whole: a 30 km
    box in longitude/latitude at 55 degrees north (in BNG its edges are curves, not the
    straight lines between its projected corners)."""
    from geo_pcn.io._area_layer import AreaLayer

    box = shapely.box(-2.2, 55.0, -1.73, 55.27)  # about 30 km by 30 km in Northumberland
    dense = shapely.segmentize(box, 0.001)
    path = tmp_path / "big.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "E01000001"},
                        "geometry": shapely.geometry.mapping(dense),
                    }
                ],
            }
        )
    )
    layer = AreaLayer.read(path)
    x0, y0, x1, y1 = layer.bounds_bng[0]
    geoms, _ = layer.project(np.array([0]))
    gx0, gy0, gx1, gy1 = shapely.bounds(geoms[0])
    assert x0 < gx0 and y0 < gy0 and x1 > gx1 and y1 > gy1
