"""The one point-in-polygon lookup every stage uses (vectorised with a spatial index), and
which geometries are there to use or to draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

__all__ = ["drawable", "polygon_of", "present"]


def present(geoms) -> pd.Series:
    """Which geometries of a GeoSeries are not missing (``None``), as a boolean Series on
    its index: what ``GeoSeries.notna()`` now means, without the warning geopandas gives
    for it when the series also holds empty geometries (a PCN with no footprint).

    Examples
    --------
    >>> import geopandas as gpd
    >>> present(gpd.GeoSeries([shapely.Point(0, 0), shapely.Polygon(), None])).tolist()
    [True, True, False]
    """
    return pd.Series(~shapely.is_missing(np.asarray(geoms, dtype=object)), index=geoms.index)


def drawable(geoms) -> pd.Series:
    """Which geometries of a GeoSeries are neither missing nor empty (what a map can draw).

    Examples
    --------
    >>> import geopandas as gpd
    >>> drawable(gpd.GeoSeries([shapely.Point(0, 0), shapely.Polygon(), None])).tolist()
    [True, False, False]
    """
    values = np.asarray(geoms, dtype=object)
    return pd.Series(~shapely.is_missing(values) & ~shapely.is_empty(values), index=geoms.index)


def polygon_of(polygons, points, *, keys=None) -> np.ndarray:
    """Position (in ``polygons``) of the polygon each point lies in, ``-1`` where none.

    A point on a shared edge or in an overlap gets the polygon with the smallest ``keys``
    value (default: the first by position). Missing points get ``-1``.

    Parameters
    ----------
    polygons
        A GeoDataFrame or GeoSeries of polygons (its spatial index is used).
    points
        Array-like of shapely points (``None`` allowed).
    keys
        Optional array, one per polygon, to break ties (e.g. codes).

    Examples
    --------
    >>> import geopandas as gpd
    >>> boxes = gpd.GeoSeries([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> polygon_of(boxes, shapely.points([[0.5, 0.5], [1, 0.5], [5, 5]])).tolist()
    [0, 0, -1]
    """
    points = np.asarray(points, dtype=object)
    out = np.full(len(points), -1, dtype=np.int64)
    present = ~shapely.is_missing(points)
    if not present.any() or len(polygons) == 0:
        return out
    idx = np.flatnonzero(present)
    p_idx, a_idx = polygons.sindex.query(points[idx], predicate="intersects")
    order = a_idx if keys is None else np.asarray(keys, dtype=object)[a_idx]
    hits = pd.DataFrame({"p": idx[p_idx], "key": order, "a": a_idx}).sort_values(["p", "key"])
    hits = hits.drop_duplicates("p")
    out[hits["p"].to_numpy()] = hits["a"].to_numpy()
    return out
