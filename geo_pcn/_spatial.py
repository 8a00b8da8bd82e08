"""The one point-in-polygon lookup every stage uses (vectorised with a spatial index),
which geometries are there to use or to draw, and connected components of linked
geometries (numpy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

__all__ = ["connected_labels", "drawable", "polygon_of", "present"]


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


def connected_labels(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    """The connected component of each of ``n`` nodes joined by the links ``left``-``right``:
    the smallest node of its component.

    Vectorised hooking and pointer jumping in numpy (each round, the larger of two linked
    roots points at the smaller, then every node at its root), a few rounds nationally;
    scipy's ``connected_components`` gives the same components but its import alone takes
    about 0.3 s of a 10 s national run, networkx's about 0.1 s of
    ``geo-pcn info`` (issue 21).

    Examples
    --------
    >>> connected_labels(np.array([3, 1, 4]), np.array([1, 0, 5]), 7).tolist()
    [0, 0, 2, 0, 4, 4, 6]
    """
    labels = np.arange(n, dtype=np.intp)
    left, right = np.asarray(left, dtype=np.intp), np.asarray(right, dtype=np.intp)
    while len(left):
        a, b = labels[left], labels[right]  # roots: every label is one after the jumps
        apart = a != b
        if not apart.any():
            break
        lo, hi = np.minimum(a[apart], b[apart]), np.maximum(a[apart], b[apart])
        np.minimum.at(labels, hi, lo)  # a label never exceeds its node: no cycle
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
    return labels
