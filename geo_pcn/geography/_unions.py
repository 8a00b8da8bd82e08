"""Unions of small-area polygons: the fast coverage union where the polygons form a clean
coverage (shared edges noded alike), the general union only where they do not (a
generalised ONS file has a few wrongly noded edges among 35,000 polygons; GEOS then fails,
or gives an invalid polygon without a word)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn.settings import BNG

__all__: list[str] = []


#: Below this many polygons a failed coverage union falls back to the general union at
#: once (splitting further costs more than it saves).
_UNION_LEAF = 64
#: A failed coverage union of many polygons is redone in this many stretches of the layer.
_UNION_STRETCHES = 128


def _union(geoms: np.ndarray) -> shapely.Geometry:
    """Union of polygons: the fast coverage union when they form a clean coverage (shared
    edges noded alike), else the same in stretches of the layer (in its order, so each is
    one compact stretch of the country): each stretch's coverage union, or the general
    union for the few holding a wrongly noded edge (a generalised ONS file has a few among
    35,000 polygons), then the stretches' coverage union (the general union if that fails
    too). A coverage union that comes out invalid counts as failed. Nationally 1.9 ->
    0.3 CPU seconds; the union is the same polygon.

    Examples
    --------
    >>> boxes = shapely.box(np.arange(100.0), 0, np.arange(100.0) + 1, 1)
    >>> odd = shapely.Polygon([(100, 0), (101, 0), (101, 1), (100, 1), (100, 0.5)])
    >>> united = _union(np.append(boxes, odd))  # (100, 0.5): noded on one side only
    >>> united.area, united.geom_type, bool(shapely.equals(united, shapely.box(0, 0, 101, 1)))
    (101.0, 'Polygon', True)
    """
    geoms = np.asarray(geoms, dtype=object)
    united = _coverage_union(geoms)
    if united is not None:
        return united
    if len(geoms) <= _UNION_LEAF:
        return shapely.union_all(geoms)
    n = min(_UNION_STRETCHES, len(geoms) // _UNION_LEAF)
    stretches = [geoms[at] for at in np.array_split(np.arange(len(geoms)), n)]
    parts = [_coverage_union(g) for g in stretches]
    parts = np.asarray(
        [shapely.union_all(g) if p is None else p for g, p in zip(stretches, parts, strict=True)]
        + [None],
        dtype=object,
    )[:-1]
    united = _coverage_union(parts)
    return shapely.union_all(parts) if united is None else united


def _coverage_union(geoms: np.ndarray) -> shapely.Geometry | None:
    """The coverage union of ``geoms``, ``None`` when it fails or comes out invalid."""
    try:
        united = shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return None
    return united if shapely.is_valid(united) else None


def _dissolve(
    geoms: gpd.GeoSeries, keys: pd.Series, *, invalid: str = "make_valid"
) -> gpd.GeoSeries:
    """Union of ``geoms`` grouped by ``keys`` (aligned on index; indexed by the sorted
    keys), fast for coverages: see :func:`_union_groups`."""
    keys_, merged = _union_groups(geoms.to_numpy(), keys.to_numpy(), invalid=invalid)
    return gpd.GeoSeries(merged, index=pd.Index(keys_, name="key"), crs=BNG)


def _union_groups(
    geoms: np.ndarray, keys: np.ndarray, *, invalid: str = "make_valid"
) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct ``keys`` and, for each, the union of its geometries (in their
    order): the coverage union, or the general union for a group whose polygons are not a
    clean coverage, where the coverage union fails (a generalised ONS file has a few
    wrongly noded edges: only the groups holding one pay for the general union).

    A group with a wrongly noded edge can also give an invalid coverage union rather than
    fail: ``invalid="union"`` takes the general union of such a group (the right polygon;
    footprints and catchments), ``"make_valid"`` repairs every result when any is invalid
    (territories, as they have always been made: a repaired coverage union can keep a
    sliver hole of a few square metres along the wrong edge).

    Examples
    --------
    >>> boxes = shapely.box(np.arange(4.0), 0, np.arange(4.0) + 1, 1)
    >>> odd = shapely.Polygon([(4, 0), (5, 0), (5, 1), (4, 1), (4, 0.5)])
    >>> keys, merged = _union_groups(np.append(boxes, odd), np.array([2, 2, 1, 1, 1]))
    >>> keys.tolist(), shapely.area(merged).tolist()
    ([1, 2], [3.0, 2.0])
    """
    geoms = np.asarray(geoms, dtype=object)
    codes, uniques = pd.factorize(np.asarray(keys), sort=True)
    order = np.argsort(codes, kind="stable")
    edges = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    merged = np.empty(len(uniques), dtype=object)
    failed = []
    for i in range(len(uniques)):
        try:
            merged[i] = shapely.coverage_union_all(geoms[order[edges[i] : edges[i + 1]]])
        except shapely.errors.GEOSException:
            failed.append(i)
    if invalid == "union" and len(merged):
        failed = sorted({*failed, *np.flatnonzero(~shapely.is_valid(merged)).tolist()})
    for i in failed:
        merged[i] = shapely.union_all(geoms[order[edges[i] : edges[i + 1]]])
    if len(merged) and not shapely.is_valid(merged).all():
        merged = shapely.make_valid(merged)
    return np.asarray(uniques), merged
