"""Lines from lookups, polygons as the fallback (issue 18 item 3).

The tiny study (tests/tiny.py): 1 km boxes, practices at the centre of the box named,
except A00003, moved here to 150 m east of the true line between WEST and EAST::

    northing (km above 300 000)
     2 +------+------+------+------+
       | T05  | T06  | T07  | T08  |     true lines (the lookup): WEST = T01 T02 T05 T06
     1 +------+------+-:----+------+                             EAST = T03 T04 T07 T08
       | T01  | T02  |3:    | T04  |     3 = A00003 at x = 2.15 km (in T03, EAST)
     0 +------+------+-:----+------+
       0      1      2 :    3      4   easting (km above 400 000)
                       2.3 km: the line as a generalised polygon layer draws it

The generalised layer's WEST is the box (0, 0)-(2.3, 2) km, EAST (2.3, 0)-(4, 2) km: it
puts A00003 in WEST, 150 m from EAST. Its vertex spacing (hand-counted: WEST's sides
2,300 / 2,000 / 2,300 / 2,000 m, EAST's 1,700 / 2,000 / 1,700 / 2,000 m; median 2,000 m)
gives a generalisation of 0.2 x 2,000 = 400 m. EAST PCN is A00003, A00004 and A00005.
"""

from __future__ import annotations

import pytest
from tiny import TINY_LOCATIONS, TINY_TOML, X0, Y0, feature_collection, write_tiny_study

from geo_pcn import Study, validate
from geo_pcn.errors import StudyFileError
from geo_pcn.geography import geography_of
from geo_pcn.geography._placement import generalisation_m


def _box(code: str, x1: float, x2: float, y1: float = 0, y2: float = 2000) -> dict:
    ring = [[X0 + x1, Y0 + y1], [X0 + x2, Y0 + y1], [X0 + x2, Y0 + y2], [X0 + x1, Y0 + y2]]
    return {
        "type": "Feature",
        "properties": {"code": code, "name": code.title()},
        "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]},
    }


def _moved(x: float, y: float = 500, practice: str = "A00003") -> str:
    """The tiny locations with ``practice`` moved to (x, y) m above (X0, Y0)."""
    old = {"A00001": 500, "A00002": 1500, "A00003": 2500, "A00004": 3500}[practice]
    before, after = f"{practice},{X0 + old},{Y0 + 500}", f"{practice},{X0 + x},{Y0 + y}"
    out = TINY_LOCATIONS.replace(before, after)
    assert out != TINY_LOCATIONS
    return out


#: the generalised place layer of the picture: the line drawn 300 m east of the true one
GENERALISED = feature_collection([_box("WEST", 0, 2300), _box("EAST", 2300, 4000)])
#: the true lines as an LSOA -> district lookup
LOOKUP = "lsoa21_code,lad24_code,lad24_name\n" + "".join(
    f"T0{i},{'WEST' if i in (1, 2, 5, 6) else 'EAST'},{'West' if i in (1, 2, 5, 6) else 'East'}\n"
    for i in range(1, 9)
)


def _far_south(locations: str) -> str:
    """A00002 moved to y = -0.5 km (500 m south of the grid)."""
    return locations.replace(f"A00002,{X0 + 1500},{Y0 + 500}", f"A00002,{X0 + 1500},{Y0 - 500}")


def _boundary_findings(study) -> list:
    return [f for f in validate(study).findings if f.check == "boundaries"]


def test_generalisation_is_measured_from_vertex_spacing():
    """Hand-worked: the layer of the picture has median side 2,000 m -> 400 m."""
    from geo_pcn.io import read_boundaries

    assert generalisation_m(read_boundaries(_write(GENERALISED))) == 400.0


def _write(text: str):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "layer.geojson"
    path.write_text(text, encoding="utf-8")
    return path


def test_site_inside_a_generalised_line_is_placed_by_the_lookup(tmp_path):
    """Given as the lookup, the place layer puts A00003 by its small area (T03) in EAST:
    EAST PCN is in one place, no crossing and nothing near a line."""
    toml = TINY_TOML.replace('place = "place.geojson"', 'place = "place.csv"')
    study = Study.from_toml(
        write_tiny_study(tmp_path, study_toml=toml, place_csv=LOOKUP, locations_csv=_moved(2150))
    )
    where = geography_of(study).site_areas["place"]
    assert where.loc["A00003", ["code", "placed_by", "small_area"]].tolist() == [
        "EAST",
        "lookup",
        "T03",
    ]
    assert where["code"].to_dict() == {
        "A00001": "WEST",
        "A00002": "WEST",
        "A00003": "EAST",
        "A00004": "EAST",
        "A00005": "EAST",
    }
    assert _boundary_findings(study) == []


def test_site_within_the_generalisation_is_near_the_line_not_a_crossing(tmp_path):
    """Without the lookup, the generalised polygons put A00003 in WEST, 150 m from EAST:
    within the layer's 400 m, so EAST PCN gets a note that the placement is uncertain, not
    a crossing."""
    study = Study.from_toml(
        write_tiny_study(tmp_path, place_geojson=GENERALISED, locations_csv=_moved(2150))
    )
    where = geography_of(study).site_areas["place"]
    assert where.attrs["generalisation_m"] == 400.0
    assert where.loc["A00003", ["code", "placed_by", "near_code", "near_m"]].tolist() == [
        "WEST",
        "polygon",
        "EAST",
        150.0,
    ]
    found = _boundary_findings(study)
    assert [(f.kind, f.severity.value, f.pcn_code) for f in found] == [
        ("near_line", "info", "U00002")
    ]
    (note,) = found
    assert note.practice_codes == ("A00003", "A00004", "A00005")
    assert note.details["near"] == {
        "A00003": {"code": "WEST", "near_code": "EAST", "near_m": 150.0}
    }
    assert "A00003 (EAST THREE SURGERY), placed in WEST 150 m from EAST," in note.message
    assert "(~400 m)" in note.message


def test_site_beyond_the_generalisation_still_crosses(tmp_path):
    """A00003 moved to the middle of T02 (x = 1.5 km, 800 m west of the drawn line): beyond
    the 400 m, so EAST PCN truly has a practice in WEST: a crossing, as before."""
    study = Study.from_toml(
        write_tiny_study(tmp_path, place_geojson=GENERALISED, locations_csv=_moved(1500))
    )
    found = _boundary_findings(study)
    assert [(f.kind, f.pcn_code) for f in found] == [("crosses_boundary", "U00002")]
    assert found[0].details["sides"]["WEST"]["practices"] == ["A00003"]


def test_generalisation_given_in_the_study_file(tmp_path):
    """``generalisation_m = 100`` (a layer known to be drawn to 100 m) makes 150 m a real
    crossing; a value that is not a distance is a study-file error."""
    toml = TINY_TOML.replace(
        'place = "place.geojson"', 'place = { file = "place.geojson", generalisation_m = 100 }'
    )
    study = Study.from_toml(
        write_tiny_study(
            tmp_path, study_toml=toml, place_geojson=GENERALISED, locations_csv=_moved(2150)
        )
    )
    assert geography_of(study).site_areas["place"].attrs["generalisation_m"] == 100.0
    assert [f.kind for f in _boundary_findings(study)] == ["crosses_boundary"]
    bad = toml.replace("generalisation_m = 100", 'generalisation_m = "far"')
    with pytest.raises(StudyFileError, match=r"\[boundaries\] place generalisation_m must be"):
        Study.from_toml(write_tiny_study(tmp_path / "bad", study_toml=bad))


def test_recorded_code_near_the_line_is_not_a_mismatch(tmp_path):
    """An ``icb`` layer whose generalised line is drawn at x = 1.8 km (true line 2 km)::

        QXX = (0, 0)-(1.8, 2) km   QYY = (1.8, 0)-(4, 2) km

    Every practice is recorded in QXX. A00002, moved to x = 1.9 km (100 m east of the
    drawn line; median side 2,000 m -> 400 m), is placed in QYY but near QXX: a note, not
    a mismatch; WEST PCN (A00001 in QXX, A00002) gets a near-the-line note, not a
    crossing. A00003 and A00004/A00005 (x = 2.5, 3.5 km) are 700 m and more beyond the
    line: real mismatches."""
    icb = feature_collection([_box("QXX", 0, 1800), _box("QYY", 1800, 4000)])
    toml = TINY_TOML.replace('place = "place.geojson"', 'icb = "icb.geojson"')
    study = Study.from_toml(
        write_tiny_study(
            tmp_path,
            study_toml=toml,
            icb_geojson=icb,
            locations_csv=_moved(1900, practice="A00002"),
        )
    )
    kinds = sorted((f.kind, f.practice_codes) for f in _boundary_findings(study))
    assert kinds == [
        ("near_line", ("A00001", "A00002")),
        ("recorded_code_mismatch", ("A00003",)),
        ("recorded_code_mismatch", ("A00004",)),
        ("recorded_code_mismatch", ("A00005",)),
        ("recorded_code_near_line", ("A00002",)),
    ]


CODEPOINT = "".join(
    f'"{pc}",10,{x},{y},"E92000001","","","","{district}",""\n'
    for pc, x, y, district in (
        ("AB1 1AA", X0 + 500, Y0 + 500, "E07000001"),
        ("AB1 2AA", X0 + 1500, Y0 + 500, "E07000001"),
        ("AB1 3AA", X0 + 2150, Y0 + 500, "E07000002"),
        ("AB1 4AA", X0 + 3500, Y0 + 500, "E07000002"),
    )
)


def test_codepoint_district_code_places_the_practice(tmp_path):
    """Practices geocoded by Code-Point carry their postcode's own district: A00003's
    postcode AB1 3AA is in E07000002 (EAST), though the generalised polygons put its site
    (x = 2.15 km) in E07000001: it is placed by the district code, and EAST PCN lies in
    one district."""
    layer = feature_collection([_box("E07000001", 0, 2300), _box("E07000002", 2300, 4000)])
    toml = TINY_TOML.replace('locations = "locations.csv"', 'postcodes = "codepoint"')
    path = write_tiny_study(tmp_path, study_toml=toml, place_geojson=layer, locations_csv=None)
    (tmp_path / "codepoint" / "Data" / "CSV").mkdir(parents=True)
    (tmp_path / "codepoint" / "Data" / "CSV" / "ab.csv").write_text(CODEPOINT)
    study = Study.from_toml(path)
    where = geography_of(study).site_areas["place"]
    assert where["code"].to_dict() == {
        "A00001": "E07000001",
        "A00002": "E07000001",
        "A00003": "E07000002",
        "A00004": "E07000002",
        "A00005": "E07000002",
    }
    assert set(where["placed_by"]) == {"district code"}
    assert _boundary_findings(study) == []


def test_site_just_outside_a_generalised_coast(tmp_path):
    """A layer covering only y = 0.2-2 km (its south edge drawn 200 m north of the true
    one; median side 2,000 m -> 400 m): A00001 moved to y = 0.1 km is 100 m outside it and
    goes to the nearest area, WEST; A00002 moved to y = -0.5 km is 700 m outside: still
    reported outside the layer."""
    layer = feature_collection([_box("WEST", 0, 2000, 200), _box("EAST", 2000, 4000, 200)])
    locations = _moved(500, 100, practice="A00001")
    locations = _far_south(locations)
    study = Study.from_toml(
        write_tiny_study(tmp_path, place_geojson=layer, locations_csv=locations)
    )
    where = geography_of(study).site_areas["place"]
    assert where.loc["A00001", ["code", "placed_by"]].tolist() == ["WEST", "nearest polygon"]
    assert where.loc["A00002", "code"] == ""
    assert [(f.kind, f.practice_codes) for f in _boundary_findings(study)] == [
        ("outside_layer", ("A00002",))
    ]


def test_lookup_site_just_outside_the_small_areas(tmp_path):
    """With the lookup, A00001 moved to y = -0.1 km (100 m south of T01; the small areas'
    sides are 1,000 m -> 200 m) is in its nearest small area, T01, so in WEST; A00002 moved
    to y = -0.5 km (500 m out) is in none: outside the layer."""
    toml = TINY_TOML.replace('place = "place.geojson"', 'place = "place.csv"')
    locations = _moved(500, -100, practice="A00001")
    locations = _far_south(locations)
    study = Study.from_toml(
        write_tiny_study(tmp_path, study_toml=toml, place_csv=LOOKUP, locations_csv=locations)
    )
    where = geography_of(study).site_areas["place"]
    assert where.loc["A00001", ["code", "placed_by", "small_area"]].tolist() == [
        "WEST",
        "lookup",
        "T01",
    ]
    assert where.loc["A00002", "code"] == ""
    assert [(f.kind, f.practice_codes) for f in _boundary_findings(study)] == [
        ("outside_layer", ("A00002",))
    ]
