"""The map's GeoJSON geometries (``render._map_layers._mappings``) are exactly what
``shapely.geometry.mapping`` gives, geometry by geometry, now that the coordinates of the
polygons are taken at once (issue 21): the same values, the same nesting, the same JSON."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import mapping

from geo_pcn.render._map_layers import _mappings


def _expected(geoms):
    return [None if g is None or g.is_empty else mapping(g) for g in geoms]


def test_every_kind_of_geometry_maps_as_shapely_maps_it():
    """Drawn in metres::

    +-------+      a square with a square hole (ring 2 runs the other way),
    | +-+   |      a multipolygon of it and a far triangle, a line and a 3D polygon
    | +-+   |      (both left to ``mapping``), a point, a missing and an empty
    +-------+      geometry, and a multipolygon with an empty part."""
    holed = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)], [[(2, 2), (2, 4), (4, 4), (4, 2), (2, 2)]]
    )
    triangle = shapely.Polygon([(20, 0), (25, 0), (20, 5.5), (20, 0)])
    shapes = [
        holed,
        shapely.MultiPolygon([holed, triangle]),
        shapely.LineString([(0, 0), (1, 2)]),
        shapely.Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 2), (0, 0, 1)]),
        shapely.Point(3.25, 4.5),
        None,
        shapely.Polygon(),
        shapely.MultiPolygon([triangle]),
        triangle,
    ]
    got = _mappings(np.array(shapes, dtype=object))
    expected = _expected(shapes)
    assert got[0] == expected[0]  # tuples and floats, as mapping nests them
    assert got[0]["coordinates"][1] == ((2.0, 2.0), (2.0, 4.0), (4.0, 4.0), (4.0, 2.0), (2.0, 2.0))
    assert got[1]["type"] == "MultiPolygon" and len(got[1]["coordinates"]) == 2
    assert got[4] == {"type": "Point", "coordinates": [3.25, 4.5]}
    assert got[5] is None and got[6] is None
    assert json.dumps(got) == json.dumps(expected)


@pytest.mark.real_data
def test_real_boundaries_map_as_shapely_maps_them(shared_data):
    """Every CCG 2021 and local authority 2024 polygon (multipolygons with islands and
    holes) gives the JSON ``mapping`` gives, in BNG and in lon/lat."""
    frames = [
        gpd.read_file(shared_data / "geographr" / name)
        for name in ("boundaries_ccg21.geojson", "boundaries_ltla24.geojson")
    ]
    for frame in frames:
        for geoms in (frame.geometry.to_numpy(), frame.geometry.to_crs(27700).to_numpy()):
            assert json.dumps(_mappings(geoms)) == json.dumps(_expected(geoms))
