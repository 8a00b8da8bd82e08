"""The geography records the tolerances it was built with (issue 20, item 3): the
adjacency tolerance, the site tolerance and each boundary layer's generalisation are
fields of the :class:`~geo_pcn.geography.Geography`, and the findings read them from
there.

The tiny study (``tests/tiny.py``), with its place layer drawn 300 m east of the true line
(as ``tests/test_lines.py`` does)::

    y 2 km +------+------+---:--+------+
           | T05  | T06  | T07: | T08  |     WEST | EAST generalised at x = 2.3 km
    y 1 km +------+------+---:--+------+     (the true line is at x = 2 km)
           | T01  | T02  | T03: | T04  |
    y 0    +------+------+---:--+------+
           0      1      2   2.3  3      4 km
    A00001 T01, A00002 T02 (WEST PCN U00001); A00003 moved to x = 2.15 km, A00004 and
    A00005 T04 (EAST PCN U00002).

A00003 lies in the generalised WEST polygon, 150 m from the line: within the layer's
generalisation, so EAST PCN's split is a ``near_line`` note quoting that generalisation.
"""

from __future__ import annotations

import dataclasses

import pytest
from test_lines import GENERALISED, _moved
from tiny import TINY_TOML, write_tiny_study

from geo_pcn import Study, validate
from geo_pcn.errors import GeoPCNError
from geo_pcn.geography import geography_of


def _study(tmp_path, *, adjacency: float, site: float, generalisation: float) -> Study:
    toml = TINY_TOML.replace(
        'place = "place.geojson"',
        f'place = {{ file = "place.geojson", generalisation_m = {generalisation} }}',
    ).replace(
        "[rules]\n",
        f"[rules]\nadjacency_tolerance_m = {adjacency}\nsite_tolerance_m = {site}\n",
    )
    return Study.from_toml(
        write_tiny_study(
            tmp_path, study_toml=toml, place_geojson=GENERALISED, locations_csv=_moved(2150)
        )
    )


def test_the_geography_holds_the_tolerances_the_study_gives(tmp_path):
    study = _study(tmp_path, adjacency=123.0, site=2.5, generalisation=600.0)
    geo = geography_of(study)
    assert geo.adjacency_tolerance_m == 123.0
    assert geo.site_tolerance_m == 2.5
    assert dict(geo.generalisation_m) == {"place": 600.0}


def test_the_near_line_finding_quotes_the_layers_generalisation(tmp_path):
    """A00003 is 150 m from the generalised line, within the 600 m given: a note that
    quotes ~600 m; with 100 m given it is beyond the generalisation, a crossing."""
    study = _study(tmp_path / "wide", adjacency=123.0, site=1.0, generalisation=600.0)
    (near,) = [f for f in validate(study).findings if f.check == "boundaries"]
    assert (near.kind, near.pcn_code) == ("near_line", "U00002")
    assert "(~600 m) of the line" in near.message
    assert near.threshold == 600.0 and near.details["generalisation_m"] == 600.0

    narrow = _study(tmp_path / "narrow", adjacency=123.0, site=1.0, generalisation=100.0)
    assert geography_of(narrow).generalisation_m["place"] == 100.0
    kinds = [(f.kind, f.pcn_code) for f in validate(narrow).findings if f.check == "boundaries"]
    assert kinds == [("crosses_boundary", "U00002")]


def test_a_detached_group_is_judged_with_the_geographys_adjacency_tolerance(tmp_path):
    """A00001 (T01) into EAST PCN: its home is 1 km from T03/T04 across T02 (WEST's), more
    than the 123 m tolerance, so it is a detached group whose threshold is that tolerance."""
    study = _study(tmp_path, adjacency=123.0, site=1.0, generalisation=600.0)
    moved = study.configuration.move("A00001", to="U00002")
    found = [
        f
        for f in validate(study, moved).findings
        if f.check == "contiguity" and f.kind == "detached_group"
    ]
    assert [(f.pcn_code, f.practice_codes, f.threshold) for f in found] == [
        ("U00002", ("A00001",), 123.0)
    ]


@pytest.mark.parametrize(
    "field, value",
    [("adjacency_tolerance_m", -5.0), ("site_tolerance_m", float("inf"))],
)
def test_a_geography_refuses_a_tolerance_that_is_no_distance(tmp_path, field, value):
    geo = geography_of(_study(tmp_path, adjacency=123.0, site=1.0, generalisation=600.0))
    with pytest.raises(GeoPCNError, match=f"{field} is"):
        dataclasses.replace(geo, **{field: value})


def test_the_checks_read_the_tolerances_from_the_geography_not_the_rules(tmp_path):
    """A geography recording other tolerances than the study's rules (77 m, 450 m): the
    contiguity threshold and the near-line text quote the geography's."""
    from types import MappingProxyType

    from geo_pcn.checks import check_boundaries, check_contiguity
    from geo_pcn.partition import Partition

    study = _study(tmp_path, adjacency=123.0, site=1.0, generalisation=600.0)
    other = dataclasses.replace(
        geography_of(study),
        adjacency_tolerance_m=77.0,
        generalisation_m=MappingProxyType({"place": 450.0}),
    )
    moved = study.configuration.move("A00001", to="U00002")
    partition = Partition(study, moved, geography=other)
    (detached,) = [f for f in check_contiguity(partition) if f.kind == "detached_group"]
    assert detached.threshold == 77.0
    (near,) = check_boundaries(Partition(study, geography=other))
    assert "(~450 m) of the line" in near.message and near.threshold == 450.0
