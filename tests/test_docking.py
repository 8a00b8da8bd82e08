"""Docking (issue 18, item 6): every community area is given the PCNs it hosts, or why it
hosts none. The tiny study with a community ``areas`` layer of three service areas::

    northing (km)
     2 +------+------+------+------+
       | T05  | T06  | T07  | T08 .|      CA = T05
     1 +------+------+------+------+      CB = everything else but the 100 m square CC
       | T01  | T02  | T03  | T04  |      CC = (3.1-3.2, 1.8-1.9) km, inside T08 ('.')
     0 +------+------+------+------+
       0      1      2      3      4

    WEST PCN (A00001, A00002): T01 1,000, T05 900, T02 1,100, T06 800 = 3,800 patients
    EAST PCN (A00003-5): T03, T04, T07, T08 = 4,650 patients, all in CB

WEST docks to CB (2,900 of 3,800 = 76.3%), EAST to CB (100%): CB hosts both. CA holds 900
patients, all WEST's, but WEST has only 23.7% of its patients there: CA hosts none, and says
so. CC holds no small area's point: no patients, and says so.
"""

from __future__ import annotations

import json

import pytest
from tiny import TINY_TOML, X0, Y0, write_tiny_study

from geo_pcn import Study, validate
from geo_pcn.render import to_markdown


def _ring(x1, y1, x2, y2):
    pts = [(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)]
    return [[X0 + 1000 * x, Y0 + 1000 * y] for x, y in pts]


def _feature(code, rings):
    return {
        "type": "Feature",
        "properties": {"code": code, "name": f"Team {code}"},
        "geometry": {"type": "Polygon", "coordinates": rings},
    }


TEAMS = json.dumps(
    {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
        "features": [
            _feature("CA", [_ring(0, 1, 1, 2)]),
            _feature(
                "CB",
                [
                    [[X0, Y0], [X0 + 4000, Y0], [X0 + 4000, Y0 + 2000], [X0 + 1000, Y0 + 2000],
                     [X0 + 1000, Y0 + 1000], [X0, Y0 + 1000], [X0, Y0]],
                    _ring(3.1, 1.8, 3.2, 1.9),
                ],
            ),
            _feature("CC", [_ring(3.1, 1.8, 3.2, 1.9)]),
        ],
    }
)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    toml = TINY_TOML.replace(
        "[rules]", '[community.teams]\nfile = "teams.geojson"\nkind = "areas"\n\n[rules]'
    )
    folder = tmp_path_factory.mktemp("docking")
    report = validate(
        Study.from_toml(write_tiny_study(folder, study_toml=toml, teams_geojson=TEAMS))
    )
    return report, report.alignment.layers["teams"]


def test_every_service_area_hosts_its_pcns_or_says_why_not(result):
    _, teams = result
    areas = teams.areas.set_index("area_code")
    assert sorted(areas.index) == ["CA", "CB", "CC"]
    assert areas["docked_pcn_codes"].to_dict() == {"CA": "", "CB": "U00001;U00002", "CC": ""}
    assert areas.loc["CB", "why_no_pcn"] == ""
    assert areas.loc["CA", "n"] == 900
    assert areas.loc["CA", "why_no_pcn"] == (
        "no PCN has most of its patients here: the largest here, WEST PCN (U00001, 100.0% "
        "of the area's 900), has 23.7% of its patients here and 76.3% in CB, where it docks"
    )
    assert areas.loc["CC", "n"] == 0
    assert areas.loc["CC", "why_no_pcn"] == "none of the PCNs' patients is in it"


def test_report_md_lists_the_docking_by_area(result):
    report, _ = result
    text = to_markdown(report)
    assert "- CB Team CB: hosts U00001, U00002" in text
    assert "- CA Team CA: hosts no PCN: no PCN has most of its patients here" in text
    assert "- CC Team CC: hosts no PCN: none of the PCNs' patients is in it" in text
