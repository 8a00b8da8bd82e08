"""The one point-in-polygon lookup (issue 10 item 24: three copies became one)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo_pcn._spatial import polygon_of


def test_points_on_edges_overlaps_and_outside():
    """Two 1 km boxes side by side and a third overlapping the second:

    +----+----+          a point on the shared edge x=1000 -> the first box
    | 0  | 1 [2]         a point in the overlap of 1 and 2 -> 1 by position, 2 by key
    +----+----+          a point far away, and a missing one -> -1
    """
    boxes = gpd.GeoSeries(
        [
            shapely.box(0, 0, 1000, 1000),
            shapely.box(1000, 0, 2000, 1000),
            shapely.box(1500, 0, 2500, 1000),
        ]
    )
    points = np.array(
        [shapely.Point(1000, 500), shapely.Point(1700, 500), shapely.Point(9000, 9000), None],
        dtype=object,
    )
    assert polygon_of(boxes, points).tolist() == [0, 1, -1, -1]
    assert polygon_of(boxes, points, keys=["B", "Z", "A"]).tolist() == [0, 2, -1, -1]
