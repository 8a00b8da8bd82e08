"""A GeoJSON boundary file is not opened only to list its layers (issue 21).

GDAL parses a GeoJSON file whole each time it opens it (0.24 s for the national LSOA
2011 file), and a GeoJSON file holds one layer, so :func:`geo_pcn.io.read_boundaries`
lists the layers only of the formats that can hold several (a GeoPackage). The fixture is
two 1 km boxes side by side::

    +-----+-----+
    | A   | B   |
    +-----+-----+
"""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
import shapely

from geo_pcn.errors import SchemaError
from geo_pcn.io import read_boundaries
from geo_pcn.io._cache import caching

BOXES = [
    shapely.box(400_000, 300_000, 401_000, 301_000),
    shapely.box(401_000, 300_000, 402_000, 301_000),
]


@pytest.fixture
def listed(monkeypatch):
    """The paths :func:`pyogrio.list_layers` was asked about."""
    calls = []
    real = pyogrio.list_layers

    def spy(path, *args, **kwargs):
        calls.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pyogrio, "list_layers", spy)
    return calls


def test_geojson_layers_are_not_listed(tmp_path, listed):
    path = tmp_path / "two.geojson"
    gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=BOXES, crs="EPSG:27700").to_file(path)
    with caching(False):
        out = read_boundaries(path)
    assert list(out["code"]) == ["A", "B"]
    assert out.attrs["format"] == "GeoJSON"
    assert listed == []


def test_geopackage_layers_are_still_listed(tmp_path, listed):
    frame = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=BOXES, crs="EPSG:27700")
    two = tmp_path / "two.gpkg"
    frame.to_file(two, layer="first")
    frame.to_file(two, layer="second")
    one = tmp_path / "one.gpkg"
    frame.to_file(one, layer="only")
    with caching(False):
        with pytest.raises(SchemaError, match=r"two\.gpkg: has 2 layers"):
            read_boundaries(two)
        out = read_boundaries(one)
    assert listed == [str(two), str(one)]
    assert list(out["code"]) == ["A", "B"]
    assert out.attrs["format"] == "GPKG"
