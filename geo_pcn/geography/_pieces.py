"""Pieces: the small areas of one owner (a practice, a PCN) joined where they touch or lie
within the adjacency tolerance.

A small area is one node whatever its polygon parts (an island part goes with its mainland),
and two areas are linked when their polygons are within the tolerance of each other, so
territories, footprints, the practice graph and the contiguity check all judge on the same
pieces a planner sees drawn. Labels come from a connected-components pass over the links
both ends of which have the same owner (scipy, vectorised).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo_pcn._spatial import connected_labels

__all__ = ["area_links", "area_pieces", "pairs_within", "repiece", "largest_part_points"]


def area_links(geoms: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, of the polygons within ``tolerance_m`` of each other.

    Examples
    --------
    >>> boxes = shapely.box([0, 1, 5], 0, [1, 2, 6], 1)
    >>> [a.tolist() for a in area_links(boxes, 0.0)]
    [[0], [1]]
    >>> [a.tolist() for a in area_links(boxes, 3.0)]
    [[0, 1], [1, 2]]
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if tolerance_m > 0:
        left, right, _ = pairs_within(geoms, tolerance_m)
    else:
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
    order = np.lexsort((right, left))
    return left[order].astype(np.int64), right[order].astype(np.int64)


def pairs_within(geoms: np.ndarray, distance_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, of the geometries within ``distance_m`` of each other,
    in the order an STRtree ``dwithin`` query of ``geoms`` against themselves gives them,
    and the distance of each pair.

    The same pairs as that query, about three times faster nationally: the tree gives the
    pairs whose boxes, grown by the distance, meet (in the query's own order), each pair
    is measured once (``i < j``, not both ways), and one vectorised distance decides.

    Examples
    --------
    >>> boxes = shapely.box([0, 1, 5], 0, [1, 2, 6], 1)
    >>> [a.tolist() for a in pairs_within(boxes, 3.0)]
    [[0, 1], [1, 2], [0.0, 3.0]]
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) < 2:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0)
    grown = shapely.bounds(geoms) + np.array([-1.0, -1.0, 1.0, 1.0]) * distance_m
    left, right = shapely.STRtree(geoms).query(shapely.box(*grown.T))
    keep = left < right
    left, right = left[keep], right[keep]
    dist = shapely.distance(geoms[left], geoms[right])
    near = dist <= distance_m
    return left[near], right[near], dist[near]


def area_pieces(links: tuple[np.ndarray, np.ndarray], owner: np.ndarray) -> np.ndarray:
    """The piece of each area: a label shared by the linked areas of one owner.

    Parameters
    ----------
    links
        :func:`area_links` of the areas.
    owner
        One code per area (object array); ``""`` where no one owns the area.

    Returns
    -------
    numpy.ndarray
        int64 labels, ``-1`` for areas no one owns; labels are numbered in the order of
        the areas (the piece of the first area is 0), so the same inputs give the same
        labels.

    Examples
    --------
    >>> links = (np.array([0, 1, 2]), np.array([1, 2, 3]))
    >>> area_pieces(links, np.array(["A", "A", "B", "A"], dtype=object)).tolist()
    [0, 0, 1, 2]
    """
    owner = np.asarray(owner, dtype=object)
    n = len(owner)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    has = owner != ""
    left, right = links
    same = has[left] & (owner[left] == owner[right])
    raw = connected_labels(left[same], right[same], n)
    # renumber by first appearance, then drop the areas no one owns
    return _by_first_appearance(np.where(has, raw, -1), has)


def repiece(
    links: tuple[np.ndarray, np.ndarray], owner: np.ndarray, old: np.ndarray, redo: np.ndarray
) -> np.ndarray:
    """:func:`area_pieces` of ``owner`` from ``old``, the pieces of other owners that
    differ only on the areas ``redo`` marks: every area whose owner, before or after, is
    one whose areas changed. The other areas keep their pieces (an owner none of whose
    areas changed has the same areas and links); only the marked ones are joined again.

    Examples
    --------
    >>> links = (np.array([0, 1, 2]), np.array([1, 2, 3]))
    >>> before = area_pieces(links, np.array(["A", "A", "B", "A"], dtype=object))
    >>> after = np.array(["A", "A", "A", "A"], dtype=object)
    >>> redo = np.array([True, True, True, True])
    >>> repiece(links, after, before, redo).tolist(), area_pieces(links, after).tolist()
    ([0, 0, 0, 0], [0, 0, 0, 0])
    """
    owner = np.asarray(owner, dtype=object)
    n = len(owner)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    has = owner != ""
    left, right = links
    both = redo[left] & redo[right]
    left, right = left[both], right[both]
    same = has[left] & (owner[left] == owner[right])
    raw = connected_labels(left[same], right[same], n)
    raw = np.where(redo, raw + (int(old.max()) + 1 if len(old) else 0), old)
    return _by_first_appearance(np.where(has, raw, -1), has)


def _by_first_appearance(raw: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Labels renumbered by first appearance; ``-1`` where ``has`` is false."""
    kept = raw[has]
    _, first, inverse = np.unique(kept, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    out = np.full(len(raw), -1, dtype=np.int64)
    out[has] = rank[inverse]
    return out


def largest_part_points(geoms: np.ndarray) -> np.ndarray:
    """A point inside the largest polygon part of each geometry (where an area's residents
    are placed: an island part never carries them).

    Examples
    --------
    >>> mp = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(10, 0, 20, 10)])
    >>> shapely.get_x(largest_part_points(np.array([mp]))).round(1).tolist()
    [15.0]
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return out
    idx = np.flatnonzero(present)
    parts, owner = shapely.get_parts(geoms[idx], return_index=True)
    if len(parts) == 0:
        return out
    frame = pd.DataFrame({"owner": owner, "area": shapely.area(parts)})
    best = frame.sort_values(["owner", "area"], ascending=[True, False], kind="stable")
    best = best.drop_duplicates("owner")
    out[idx[best["owner"].to_numpy()]] = shapely.point_on_surface(parts[best.index.to_numpy()])
    return out
