"""Polygons of one layer must not overlap: every place in exactly one of them (the first of
two overlapping polygons would otherwise take every practice and area of the overlap,
depending on file order). Used by :mod:`geo_pcn.io.ons` on every polygon layer it reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo_pcn.errors import GeometryError, list_some

__all__ = ["OVERLAP_SHARE", "check_coverage"]


#: Two features overlap when their intersection is more than this share of the smaller one
#: (generalised ONS files have slivers of a few square metres between neighbours).
OVERLAP_SHARE = 0.01


def check_coverage(
    geoms: np.ndarray, codes: np.ndarray, label: str, *, level: str = "areas"
) -> None:
    """Raise when polygons overlap: a copy under a new code, the same code twice, one
    polygon covering others.

    Vectorised: GEOS's coverage validator (:func:`shapely.coverage_invalid_edges`) finds
    the few polygons whose edges do not match their neighbours' (12 of the 35,672 national
    LSOA 2021 polygons), and an STRtree query finds polygons holding another's
    representative point; only those are intersected with their neighbours. A pair
    overlaps when it shares more than :data:`OVERLAP_SHARE` (1%) of the smaller polygon's
    area, or one holds the other's representative point, so the slivers of generalised
    files (at most a few square metres) pass.

    Raises
    ------
    GeometryError
        Naming the overlapping codes (and the feature numbers when a code repeats).
    """
    n = len(geoms)
    if n < 2:
        return
    tree = shapely.STRtree(geoms)
    points = shapely.point_on_surface(geoms)
    pi, pj = tree.query(points, predicate="intersects")
    inside = pi != pj
    held = set(
        zip(np.minimum(pi, pj)[inside].tolist(), np.maximum(pi, pj)[inside].tolist(), strict=True)
    )
    try:
        edges = shapely.coverage_invalid_edges(geoms)
        suspects = np.flatnonzero(~shapely.is_empty(edges))
    except Exception:  # GEOS < 3.12: look at every polygon
        suspects = np.arange(n)
    suspects = np.union1d(suspects, pi[inside])
    if not len(suspects) and not held:
        return
    left, right = tree.query(geoms[suspects], predicate="intersects")
    left = suspects[left]
    pairs = np.unique(np.sort(np.column_stack([left, right]), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    if not len(pairs):
        return
    a, b = pairs[:, 0], pairs[:, 1]
    shared = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    areas = shapely.area(geoms)
    smaller = np.minimum(areas[a], areas[b])
    share = np.divide(shared, smaller, out=np.ones_like(shared), where=smaller > 0)
    by_point = np.array(
        [(x, y) in held for x, y in zip(a.tolist(), b.tolist(), strict=True)], dtype=bool
    )
    bad = (share > OVERLAP_SHARE) | by_point
    if not bad.any():
        return
    _raise_overlaps(a[bad], b[bad], share[bad], codes, label, level)


def _raise_overlaps(
    a: np.ndarray, b: np.ndarray, share: np.ndarray, codes: np.ndarray, label: str, level: str
) -> None:
    """Raise naming the overlapping pairs ``a``, ``b`` (positions; ``share`` of the smaller
    polygon): one code twice, different codes, one polygon covering many said once. Two
    features of one code in a layer that is not the areas layer are no problem (they are
    dissolved into one polygon)."""
    what = "small areas" if level == "areas" else f"the polygons of a {level} layer"
    same = []
    other = []
    for x, y, pct in zip(a.tolist(), b.tolist(), share.tolist(), strict=True):
        if codes[x] == codes[y]:
            if level != "areas":
                continue  # features of one code: dissolved into one polygon
            same.append(f"{codes[x]} (features {x + 1} and {y + 1})")
        else:
            other.append((codes[x], codes[y], min(pct, 1.0)))
    # one polygon covering many: say so once ("D overlaps 98 areas: A, B, C and 95 more")
    n_pairs = pd.Series([c for x, y, _ in other for c in (x, y)]).value_counts()
    described = []
    left = other
    for code, n in n_pairs.items():
        if n < 3:
            break
        mine = [p for p in left if code in p[:2]]
        if len(mine) < 3:
            continue
        others = sorted(y if x == code else x for x, y, _ in mine)
        described.append(f"{code} overlaps {len(mine)} areas ({list_some(others, 3)})")
        left = [p for p in left if code not in p[:2]]
    described += [f"{x} and {y} ({pct:.0%} of the smaller)" for x, y, pct in left]
    other = described
    parts = []
    if same:
        parts.append(
            f"{len(same)} area code(s) appear more than once with overlapping polygons: "
            f"{list_some(same, 3)}"
        )
    if other:
        parts.append(f"areas overlap: {list_some(other, 3)}")
    if not parts:
        return
    raise GeometryError(
        f"{label}: {what} must not overlap (every place in exactly one of them), but "
        f"{'; '.join(parts)}; delete the duplicate features or fix the polygons (e.g. QGIS "
        "'Topology Checker'), or give the official ONS boundary file"
    )
