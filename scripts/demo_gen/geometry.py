"""Geometry of the synthetic demo region: outline, river and small areas.

Everything here is deterministic (one seeded :class:`numpy.random.Generator`), pure
numpy / shapely, and measured in British National Grid metres. The small areas are a
density-weighted centroidal Voronoi tessellation of the outline, built separately on each
bank of the river, then noded and snapped to a 1 m grid as one piece of linework so that
neighbouring areas share exactly the same vertices (a valid polygon coverage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

__all__ = ["Town", "TOWNS", "CENTRE", "build_outline", "build_river", "build_areas"]

#: Centre of the region (easting, northing): inland England, south of Leicester-ish
#: latitude but nowhere in particular. Purely synthetic.
CENTRE = (455_000.0, 262_500.0)
#: Semi-axes of the outline before it is made irregular (metres).
SEMI_AXES = (15_000.0, 12_500.0)


@dataclass(frozen=True)
class Town:
    """A synthetic town: a Gaussian bump in the density of small areas."""

    name: str
    x: float
    y: float
    sigma: float
    n_areas: float


TOWNS: tuple[Town, ...] = (
    Town("Brackenford", 447_000.0, 267_000.0, 2_300.0, 112.0),
    Town("Thornmere", 463_000.0, 268_500.0, 1_500.0, 40.0),
    Town("Stallingford", 449_500.0, 254_300.0, 1_600.0, 50.0),
    Town("Kelsham", 463_800.0, 253_800.0, 1_000.0, 18.0),
    # large villages
    Town("Upper Vale", 457_000.0, 272_200.0, 1_000.0, 9.0),
    Town("Ashcombe", 455_600.0, 265_600.0, 900.0, 12.0),
    Town("Elmstead", 456_000.0, 254_300.0, 900.0, 10.0),
)
#: Small areas in the countryside (spread evenly over the outline).
N_RURAL_AREAS = 50.0


def build_outline() -> Polygon:
    """The region outline: a smooth irregular blob about 30 km x 25 km.

    Returns
    -------
    shapely.Polygon
        Vertices rounded to whole metres.
    """
    theta = np.linspace(0.0, 2 * np.pi, 240, endpoint=False)
    wobble = (
        1.0
        + 0.06 * np.cos(2 * theta + 0.7)
        + 0.05 * np.cos(3 * theta + 2.1)
        + 0.035 * np.cos(5 * theta + 0.3)
        + 0.02 * np.cos(7 * theta + 1.9)
    )
    x = CENTRE[0] + SEMI_AXES[0] * wobble * np.cos(theta)
    y = CENTRE[1] + SEMI_AXES[1] * wobble * np.sin(theta)
    return Polygon(np.column_stack([np.round(x), np.round(y)]))


def build_river() -> LineString:
    """A meandering river crossing the region from west to east (extends past the outline).

    Returns
    -------
    shapely.LineString
        Vertices rounded to whole metres.
    """
    x = np.linspace(436_000.0, 474_000.0, 320)
    t = (x - 436_000.0) / 38_000.0
    y = (
        259_900.0
        - 1_400.0 * t
        + 700.0 * np.sin(2 * np.pi * t * 3.2 + 0.4)
        + 260.0 * np.sin(2 * np.pi * t * 8.5 + 1.3)
    )
    return LineString(np.column_stack([np.round(x), np.round(y)]))


def split_banks(outline: Polygon, river: LineString) -> tuple[Polygon, Polygon]:
    """Split the outline along the river into its north and south banks."""
    parts = shapely.get_parts(
        shapely.polygonize(
            shapely.get_parts(shapely.union_all([outline.exterior, river], grid_size=1.0))
        )
    )
    parts = parts[shapely.area(parts) > 0]
    inside = shapely.contains_xy(
        outline, *shapely.get_coordinates(shapely.point_on_surface(parts)).T
    )
    parts = parts[inside]
    if len(parts) != 2:
        raise RuntimeError(f"the river should cut the outline in two, got {len(parts)} parts")
    ys = shapely.get_coordinates(shapely.centroid(parts))[:, 1]
    north, south = parts[np.argsort(-ys)]
    return north, south


def _density(x: np.ndarray, y: np.ndarray, region_area: float) -> np.ndarray:
    """Expected small areas per square metre at (x, y)."""
    rho = np.full(x.shape, N_RURAL_AREAS / region_area)
    for town in TOWNS:
        r2 = (x - town.x) ** 2 + (y - town.y) ** 2
        rho += town.n_areas / (2 * np.pi * town.sigma**2) * np.exp(-r2 / (2 * town.sigma**2))
    return rho


def _nearest(points: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Index of the nearest seed for every point (chunked brute force, no scipy)."""
    out = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), 4096):
        block = points[start : start + 4096]
        d2 = ((block[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
        out[start : start + 4096] = d2.argmin(axis=1)
    return out


def _lloyd_seeds(
    rng: np.random.Generator, bank: Polygon, n: int, region_area: float, grid: float = 120.0
) -> np.ndarray:
    """``n`` seed points on one bank, spaced by a density-weighted Lloyd relaxation."""
    xmin, ymin, xmax, ymax = bank.bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax, grid) + grid / 2, np.arange(ymin, ymax, grid))
    gx, gy = gx.ravel(), gy.ravel()
    keep = shapely.contains_xy(bank, gx, gy)
    pts = np.column_stack([gx[keep], gy[keep]])
    rho = _density(pts[:, 0], pts[:, 1], region_area)
    weight = rho**2  # centroidal Voronoi cells then have area ~ 1 / rho
    start = rng.choice(len(pts), size=n, replace=False, p=rho / rho.sum())
    seeds = pts[start] + rng.uniform(-grid / 2, grid / 2, size=(n, 2))
    for _ in range(12):
        owner = _nearest(pts, seeds)
        wsum = np.bincount(owner, weights=weight, minlength=n)
        cx = np.bincount(owner, weights=weight * pts[:, 0], minlength=n)
        cy = np.bincount(owner, weights=weight * pts[:, 1], minlength=n)
        moved = wsum > 0
        seeds[moved] = np.column_stack([cx[moved] / wsum[moved], cy[moved] / wsum[moved]])
    return seeds


def build_areas(
    rng: np.random.Generator, outline: Polygon, river: LineString, n_areas: int = 300
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Small areas: Voronoi cells of density-spaced seeds, clipped to the outline and river.

    Parameters
    ----------
    rng
        The generator's random state.
    outline, river
        From :func:`build_outline` and :func:`build_river`.
    n_areas
        Number of small areas wanted (the result can differ by one or two when the snapping
        merges a sliver).

    Returns
    -------
    polygons : numpy.ndarray of shapely.Polygon
        A valid coverage of the outline, vertices on a 1 m grid.
    seeds : numpy.ndarray, shape (n, 2)
        The seed of each polygon.
    north : numpy.ndarray of bool
        True for areas on the north bank.
    """
    north_bank, south_bank = split_banks(outline, river)
    region_area = outline.area
    xs, ys = np.meshgrid(
        np.arange(outline.bounds[0], outline.bounds[2], 200.0),
        np.arange(outline.bounds[1], outline.bounds[3], 200.0),
    )
    xs, ys = xs.ravel(), ys.ravel()
    rho = _density(xs, ys, region_area)
    in_north = shapely.contains_xy(north_bank, xs, ys)
    in_south = shapely.contains_xy(south_bank, xs, ys)
    n_north = int(
        round(n_areas * rho[in_north].sum() / (rho[in_north].sum() + rho[in_south].sum()))
    )
    cells, seeds, is_north = [], [], []
    for bank, n, flag in ((north_bank, n_north, True), (south_bank, n_areas - n_north, False)):
        s = _lloyd_seeds(rng, bank, n, region_area)
        vor = shapely.voronoi_polygons(
            shapely.multipoints(s), extend_to=outline.buffer(5_000), ordered=True
        )
        c = shapely.intersection(shapely.get_parts(vor), bank)
        cells.append(c)
        seeds.append(s)
        is_north.append(np.full(n, flag))
    cells = np.concatenate(cells)
    seeds = np.concatenate(seeds)
    is_north = np.concatenate(is_north)
    # Node every edge once, on a 1 m grid, then rebuild the faces: shared edges now match
    # vertex for vertex on both sides (including along the river).
    lines = shapely.union_all(shapely.boundary(cells), grid_size=1.0)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    faces = faces[shapely.area(faces) > 0]
    tree = shapely.STRtree(cells)
    probe = shapely.point_on_surface(faces)
    fi, ci = tree.query(probe, predicate="intersects")
    owner = np.full(len(faces), -1)
    owner[fi] = ci  # a probe on a shared edge picks either cell; both are fine for a sliver
    polygons = np.empty(len(cells), dtype=object)
    for k in range(len(cells)):
        mine = faces[owner == k]
        polygons[k] = shapely.coverage_union_all(mine) if len(mine) else None
    ok = np.array([p is not None and not p.is_empty for p in polygons])
    polygons, seeds, is_north = polygons[ok], seeds[ok], is_north[ok]
    # a cell may come back as a MultiPolygon if clipping cut it; keep the pieces together only
    # when they touch, otherwise give the stray piece to its longest-shared-edge neighbour
    polygons = _resolve_multiparts(polygons)
    return polygons, seeds, is_north


def _resolve_multiparts(polygons: np.ndarray) -> np.ndarray:
    """Merge any detached piece of a small area into the neighbour it shares most edge with."""
    polygons = polygons.copy()
    for _ in range(5):
        multi = np.flatnonzero(shapely.get_num_geometries(polygons) > 1)
        if len(multi) == 0:
            return polygons
        for k in multi:
            parts = shapely.get_parts(polygons[k])
            parts = parts[np.argsort(-shapely.area(parts))]
            polygons[k] = parts[0]
            for piece in parts[1:]:
                shared = shapely.length(
                    shapely.intersection(shapely.boundary(polygons), piece.boundary)
                )
                shared[k] = -1
                j = int(np.argmax(shared))
                polygons[j] = shapely.coverage_union_all([polygons[j], piece])
    raise RuntimeError("could not make every small area a single polygon")
