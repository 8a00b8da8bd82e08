"""The faster paths of the national run give what the slower ones gave: per-group unions
with the general union only where a group's polygons are not a clean coverage, each
practice's piece with most residents, the map's GeoJSON, CSV escaping once per text, and
the exclaves of many PCNs at once (issue 21)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_pcn._escape import excel_cell, excel_frame
from geo_pcn.geography._unions import _union_groups
from geo_pcn.geography.territories import _piece_by_residents
from geo_pcn.render._map_layers import _features


def test_union_groups_general_union_only_for_groups_that_need_it():
    """Three groups of unit squares side by side (metres)::

        key 1 (clean)       key 2 (noded on one side) key 3 (B leans into A)
        +----+----+         +----+----+               +----+----+
        | C  | D  |         | A  | B  |  B has a      | A  | B' |  B' starts at
        +----+----+         +----+----+  vertex at    +---/+----+  (0.99, 0): a
        0    1    2         0    1    2  (1, 0.5)     0 0.99    2  sliver over A

    Group 2's coverage union fails and group 3's is invalid (GEOS does not notice the
    overlap): with ``invalid="union"`` both get the general union, one 2 x 1 rectangle;
    group 1 keeps its coverage union."""
    a = shapely.box(0, 0, 1, 1)
    b = shapely.Polygon([(1, 0), (2, 0), (2, 1), (1, 1), (1, 0.5)])
    b_leaning = shapely.Polygon([(0.99, 0), (2, 0), (2, 1), (1, 1), (1, 0.5)])
    c, d = shapely.box(10, 0, 11, 1), shapely.box(11, 0, 12, 1)
    with pytest.raises(shapely.errors.GEOSException):
        shapely.coverage_union_all([a, b])
    assert not shapely.coverage_union_all([a, b_leaning]).is_valid  # silently wrong
    keys, merged = _union_groups(
        np.array([c, a, b, d, a, b_leaning], dtype=object),
        np.array([1, 2, 2, 1, 3, 3]),
        invalid="union",
    )
    assert keys.tolist() == [1, 2, 3]
    assert shapely.is_valid(merged).all()
    assert shapely.equals(merged[0], shapely.box(10, 0, 12, 1))
    assert shapely.equals(merged[1], shapely.box(0, 0, 2, 1))
    assert merged[2].area == pytest.approx(2.0)
    assert shapely.equals(merged[2], shapely.union_all([a, b_leaning]))


def test_piece_by_residents_most_residents_then_smaller_label():
    """Five areas; P1 wins A1 (piece 0) and A3, A4 (piece 1), P2 wins A2 (piece 2) and
    A5 (piece 3), P3 wins nothing::

        area   A1  A2  A3  A4  A5
        owner  P1  P2  P1  P1  P2
        piece   0   2   1   1   3

    P1's residents in its own areas: A1 10, A3 6, A4 6 -> piece 1 (12 > 10); its 50 in
    A2 (P2's) do not count. P2: A2 5, A5 5 -> a tie, the smaller label 2. P3: none."""
    study_areas = pd.DataFrame(index=pd.Index(["A1", "A2", "A3", "A4", "A5"]))
    owner = np.array(["P1", "P2", "P1", "P1", "P2"], dtype=object)
    piece = np.array([0, 2, 1, 1, 3])
    residents = pd.DataFrame(
        {
            "area_code": ["A1", "A3", "A4", "A2", "A2", "A5", "A5"],
            "practice_code": ["P1", "P1", "P1", "P1", "P2", "P2", "P3"],
            "n_patients": [10, 6, 6, 50, 5, 5, 7],
        }
    )
    got = _piece_by_residents(
        study_areas, residents, owner, piece, np.array(["P1", "P2", "P3", "P4"], dtype=object)
    )
    assert got[:2].tolist() == [1.0, 2.0]
    assert math.isnan(got[2]) and math.isnan(got[3])


def test_map_features_are_geopandas_geojson():
    """The map's layer GeoJSON (built without geopandas' per-row loop) is what geopandas'
    ``to_geo_dict`` gives: points, a polygon with a hole, a multipolygon, a line, a
    missing and an empty geometry; missing property values as null, numbers as numbers,
    Arrow text as text."""
    square = shapely.box(0, 0, 4, 4)
    holed = shapely.Polygon(square.exterior.coords, [shapely.box(1, 1, 2, 2).exterior.coords])
    frame = gpd.GeoDataFrame(
        {
            "tip": pd.array(["a", None, "c", "d", "e", "f", "g"], dtype="string[pyarrow]"),
            "n": [1, 2, 3, 4, 5, 6, 7],
            "share": [0.5, np.nan, 1.25, 2.0, 3.0, 4.0, 5.0],
        },
        geometry=[
            shapely.Point(1.5, 2.25),
            holed,
            shapely.MultiPolygon([square, shapely.box(10, 10, 11, 11)]),
            shapely.LineString([(0, 0), (3, 1)]),
            None,
            shapely.Polygon(),
            shapely.Point(-0.12345, 51.5),
        ],
        index=pd.Index([10, 11, 12, 13, 14, 15, 16]),
        crs=4326,
    )
    expected = gpd.GeoDataFrame(frame[["tip", "n", "share"]], geometry=frame.geometry, crs=4326)
    expected.index = expected.index.astype(str)
    want = expected.to_geo_dict(drop_id=False)
    got = _features(frame, ["tip", "n", "share"])
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    assert got["features"][1]["properties"] == {"tip": None, "n": 2, "share": None}


def test_csv_cells_escaped_as_cell_by_cell():
    """``excel_frame`` escapes each distinct text once: the same cells as ``excel_cell``
    applied to every cell (formulas prefixed, repeated texts, missing values and numbers in
    a text column left as they are)."""
    cells = ["=1+2", "ok", "=1+2", None, "-x", "ok", 5, np.nan, "'=y"]
    frame = pd.DataFrame({"t": pd.Series(cells, dtype=object), "s": ["a"] * 9})
    out = excel_frame(frame)
    want = [excel_cell(v) for v in cells]
    got = out["t"].tolist()
    assert got[:7] == want[:7] and math.isnan(got[7]) and got[8] == want[8]
    assert got[:3] == ["'=1+2", "ok", "'=1+2"]


@pytest.mark.real_data
def test_exclaves_of_many_pcns_at_once_as_one_by_one(shared_data, tmp_path):
    """The exclaves of all QNC PCNs from the national files of July 2022 at once (each
    PCN's areas one slice of one sort) are those of each PCN asked for alone (the path of a
    move): the same areas, patients, distances and polygons (two PCNs have exclaves)."""
    from pathlib import Path

    from geo_pcn import Study
    from geo_pcn.partition import Partition
    from geo_pcn.partition._contiguity import exclaves_of

    source = Path(__file__).parent / "real" / "qnc_national_2022.toml"
    study_file = tmp_path / source.name
    study_file.write_text(
        source.read_text().replace("../../../shared/data", shared_data.resolve().as_posix())
    )
    partition = Partition(Study.from_toml(study_file))
    codes = list(partition.configuration.pcn_codes)
    assert len(codes) > 16
    together = exclaves_of(partition, codes)
    alone = {}
    for code in codes:
        alone.update(exclaves_of(partition, [code]))
    assert together.keys() == alone.keys() and len(together) == 2
    for code in together:
        assert [(e.areas, e.patients, e.distance_m) for e in together[code]] == [
            (e.areas, e.patients, e.distance_m) for e in alone[code]
        ]
        assert all(
            shapely.equals(x.geometry, y.geometry)
            for x, y in zip(together[code], alone[code], strict=True)
        )
