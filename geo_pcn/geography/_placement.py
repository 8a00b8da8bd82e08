"""Where each practice site lies in every boundary layer, and how sure that is.

A practice is placed in each layer (sub-ICB, ICB, place...) by the most exact source the
study gives, in this order (``placed_by``):

1. ``district code``: a layer of local authority districts (most of its codes are ONS
   district codes, ``E06``-``E09``) and a practice geocoded by Code-Point Open, whose
   postcode carries its own ``Admin_district_code``: used when the layer holds that code.
2. ``lookup``: a layer given as a small-area lookup (``[boundaries] sub_icb =
   "lookup.csv"``): the small area holding the site goes, whole, to its area in the
   lookup (a site just outside every small area, by less than the small-area polygons'
   own generalisation, is in the nearest). Exact wherever the small-area polygons are:
   the lines are those of the small areas, as the territories are.
3. ``polygon``: the polygon holding the site. Boundary files are often generalised (ONS
   BGC 20 m, BSC 200 m, BUC 500 m; some further simplified), so a site within the layer's
   generalisation of another area's polygon is *near the line*: ``near_code`` names that
   area and ``near_m`` the distance, and the checks report it as placement uncertain, not
   as a crossing. A site outside every polygon but within the generalisation of one (a
   coast cut off by a generalised line) is placed in the nearest (``nearest polygon``).

The generalisation is measured from the layer itself (:func:`generalisation_m`): on the
national data the internal lines of the CCG 2021 and LAD 2024 BUC layers lie within 311 m
and 290 m (95th percentile) of the lines the ONS LSOA lookups give, 0.17 and 0.19 times
their median vertex spacing (1,779 m and 1,544 m); the further simplified ICB 2022 layer
within 2,287 m, 0.15 times its 14,935 m spacing. The estimate is 0.2 times the median
spacing.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

from geo_pcn._spatial import polygon_of

__all__ = ["place_sites", "generalisation_m", "SPACING_TO_ERROR"]

#: generalisation error (95th percentile of a line's displacement) per metre of the
#: layer's median vertex spacing: measured 0.15-0.19 on national ONS layers (see above)
SPACING_TO_ERROR = 0.2
#: ONS local authority district codes (England, Wales, Scotland, Northern Ireland)
_DISTRICT = re.compile(r"^(?:E0[6789]|W06|S12|N09)\d{6}$")
#: the practice column holding the district code of its postcode (Code-Point Open)
DISTRICT_COLUMN = "admin_district_code"

_COLUMNS = ["code", "name", "nhs_code", "placed_by", "small_area", "near_code", "near_m"]


def generalisation_m(frame) -> float:
    """How far a line of ``frame`` may lie from the true line: ``SPACING_TO_ERROR`` times
    the median distance between consecutive vertices of its polygons' rings (metres,
    EPSG:27700); 0 for an empty layer.

    Examples
    --------
    >>> import geopandas as gpd
    >>> square = gpd.GeoSeries([shapely.box(0, 0, 1000, 1000)], crs=27700)
    >>> generalisation_m(square)  # 4 sides of 1,000 m
    200.0
    """
    geoms = np.asarray(getattr(frame, "geometry", frame).values, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    if not len(geoms):
        return 0.0
    rings = shapely.get_rings(shapely.get_parts(geoms))
    coords, which = shapely.get_coordinates(rings, return_index=True)
    if len(coords) < 2:
        return 0.0
    steps = np.hypot(*np.diff(coords, axis=0).T)[which[1:] == which[:-1]]
    steps = steps[steps > 0]
    return round(float(SPACING_TO_ERROR * np.median(steps)), 1) if len(steps) else 0.0


def _is_district_layer(frame) -> bool:
    codes = frame["code"].astype(str).str.strip().str.upper()
    return bool(len(codes)) and codes.str.match(_DISTRICT).mean() > 0.5


def place_sites(study) -> dict[str, pd.DataFrame]:
    """layer -> one row per practice: ``code, name, nhs_code`` of the area its site lies
    in (blank where none, or not located), ``placed_by`` (``district code``, ``lookup``,
    ``polygon``, ``nearest polygon`` or blank), ``small_area`` (the small area holding the
    site, for a lookup layer), ``near_code`` / ``near_m`` (another area within the
    layer's generalisation, for a polygon placement). ``attrs``: ``generalisation_m`` (the
    tolerance used for polygons; 0 for a lookup layer) and ``source`` (``lookup`` or
    ``polygons``)."""
    practices = study.practices
    sites = practices.geometry
    located = sites.notna().to_numpy()
    pts = sites[located]
    district = practices.get(DISTRICT_COLUMN)
    out: dict[str, pd.DataFrame] = {}
    areas_error = None  # the small-area polygons' own generalisation, measured when needed
    for layer, frame in study.boundaries.items():
        table = pd.DataFrame("", index=practices.index, columns=_COLUMNS)
        table["near_m"] = np.nan
        is_lookup = frame.attrs.get("format") == "lookup"
        given = frame.attrs.get("generalisation_m")  # [boundaries] generalisation_m
        if is_lookup:
            tolerance = 0.0
        elif given is not None:
            tolerance = float(given)
        else:
            tolerance = generalisation_m(frame)
        table.attrs = {
            "generalisation_m": tolerance,
            "source": "lookup" if is_lookup else "polygons",
        }
        cols = [c for c in ("code", "name", "nhs_code") if c in frame]
        if len(pts) and len(frame):
            at = np.full(len(pts), -1, dtype=np.int64)
            how = np.full(len(pts), "", dtype=object)
            if district is not None and _is_district_layer(frame):
                codes = frame["code"].astype(str).str.strip().str.upper()
                position = pd.Series(np.arange(len(frame)), index=codes.to_numpy())
                position = position[~position.index.duplicated()]
                own = district.reindex(pts.index).fillna("").astype(str).str.strip().str.upper()
                hit = position.reindex(own.to_numpy()).to_numpy()
                ok = ~np.isnan(hit)
                at[ok] = hit[ok].astype(np.int64)
                how[ok] = "district code"
            todo = at < 0
            if is_lookup and study.areas is not None and todo.any():
                small = polygon_of(study.areas, pts.to_numpy()[todo])
                if (small < 0).any():  # just outside a (generalised) coast: the nearest
                    if areas_error is None:
                        areas_error = generalisation_m(study.areas)
                    small = _nearest(study.areas, pts.to_numpy()[todo], small, areas_error)
                inside = small >= 0
                table.loc[pts.index[todo][inside], "small_area"] = study.areas.index[
                    small[inside]
                ].to_numpy()
                # the small area goes whole to one area: a point inside it stands for it
                rep = shapely.point_on_surface(study.areas.geometry.to_numpy()[small[inside]])
                found = np.full(int(todo.sum()), -1, dtype=np.int64)
                found[inside] = polygon_of(frame, rep)
                idx = np.flatnonzero(todo)
                at[idx] = found
                how[idx[found >= 0]] = "lookup"
                todo = at < 0
            if todo.any():
                idx = np.flatnonzero(todo)
                hit = polygon_of(frame, pts.to_numpy()[idx])
                at[idx] = hit
                how[idx[hit >= 0]] = "lookup" if is_lookup else "polygon"
            if tolerance > 0:
                _near_the_line(frame, pts, at, how, tolerance, table)
            placed = at >= 0
            table.loc[pts.index[placed], cols] = frame.iloc[at[placed]][cols].to_numpy()
            table.loc[pts.index, "placed_by"] = how
        out[layer] = table
    return out


def _nearest(polygons, points, at: np.ndarray, distance: float) -> np.ndarray:
    """``at`` with each point in no polygon given the nearest within ``distance`` (ties:
    the first polygon)."""
    out = at.copy()
    missing = np.flatnonzero(at < 0)
    if distance <= 0 or not len(missing):
        return out
    left, right = polygons.sindex.nearest(points[missing], max_distance=distance, return_all=True)
    hits = pd.DataFrame({"p": left, "a": right}).sort_values(["p", "a"]).drop_duplicates("p")
    out[missing[hits["p"].to_numpy()]] = hits["a"].to_numpy()
    return out


def _near_the_line(frame, pts, at, how, tolerance, table) -> None:
    """Sites placed by polygon within ``tolerance`` of another area's polygon: name the
    nearest such area and its distance; a site in no polygon within ``tolerance`` of one
    is placed in the nearest (``at``/``how`` updated in place)."""
    by_polygon = np.isin(how, ["polygon", ""])
    idx = np.flatnonzero(by_polygon)
    if not len(idx):
        return
    geoms = pts.to_numpy()[idx]
    left, right = frame.sindex.query(geoms, predicate="dwithin", distance=tolerance)
    if not len(left):
        return
    pairs = pd.DataFrame({"site": idx[left], "area": right})
    polys = np.asarray(frame.geometry.values, dtype=object)
    pairs["m"] = shapely.distance(
        pts.to_numpy()[pairs["site"].to_numpy()], polys[pairs["area"].to_numpy()]
    )
    pairs["code"] = frame["code"].astype(str).to_numpy()[pairs["area"].to_numpy()]
    pairs = pairs.sort_values(["site", "m", "code"])
    # outside every polygon: the nearest within reach takes the site
    nearest = pairs.drop_duplicates("site")
    outside = nearest[at[nearest["site"].to_numpy()] < 0]
    at[outside["site"].to_numpy()] = outside["area"].to_numpy()
    how[outside["site"].to_numpy()] = "nearest polygon"
    # another area within reach: the site is near the line between the two
    pairs = pairs[pairs["area"].to_numpy() != at[pairs["site"].to_numpy()]]
    first = pairs.drop_duplicates("site")
    rows = pts.index[first["site"].to_numpy()]
    table.loc[rows, "near_code"] = first["code"].to_numpy()
    table.loc[rows, "near_m"] = first["m"].round(0).to_numpy()
