"""Aligning a community **sites** layer (clinics, bases: points or postcodes) with the
PCN footprints: :func:`align_sites` (see :mod:`geo_pcn.alignment`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo_pcn.alignment._shared import _pcn_sizes, _point_in
from geo_pcn.alignment.results import SiteAlignment
from geo_pcn.geography import Footprints
from geo_pcn.settings import (
    GUESSED_SITE,
    PCN_CODE,
    PRACTICE_CODE,
)

#: Sites this close to the study area (metres) still count as the study's.
SITE_MARGIN_M = 1_000.0


def _postcode_district(postcodes: pd.Series) -> pd.Series:
    """``ST16 2HE`` -> ``ST16`` (the outward code; ``""`` when there is none)."""
    text = postcodes.fillna("").astype(str).str.upper().str.replace(r"\s+", "", regex=True)
    return text.str.extract(r"^([A-Z]{1,2}\d[A-Z\d]?)\d[A-Z]{2}$")[0].fillna("")


def _sites_in_study(study, data, footprints: Footprints, fp_codes) -> np.ndarray:
    """Which sites of a community layer concern the study (see :func:`align_sites`)."""
    boundary = footprints.territories.region
    points = data.geometry.to_numpy()
    located = ~shapely.is_missing(points)
    keep = np.zeros(len(data), dtype=bool)
    if boundary is not None and not shapely.is_empty(boundary):
        near = shapely.buffer(boundary, SITE_MARGIN_M)
        shapely.prepare(near)
        keep[located] = shapely.intersects(near, points[located])
    else:
        keep[located] = True
    if PCN_CODE in data:
        keep |= np.isin(data[PCN_CODE].fillna("").astype(str).to_numpy(), fp_codes)
    if "postcode" in data and (~located).any():
        districts = set(_postcode_district(study.practices["postcode"])) - {""}
        site_district = _postcode_district(data["postcode"]).to_numpy()
        keep |= ~located & (np.isin(site_district, list(districts)) | (site_district == ""))
    elif (~located).any():
        keep |= ~located
    return keep


def _positions(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position in ``codes`` of each value (``-1`` for ``""`` or a code not there)."""
    return pd.Index(codes, dtype=object).get_indexer(pd.Index(values, dtype=object))


def _site_facts(study, layer, footprints: Footprints, fp_codes) -> dict:
    """What :func:`align_sites` finds the same for every configuration with the PCN codes
    ``fp_codes``: the sites that concern the study and their points, declared PCNs and
    table columns; each located practice's nearest site."""
    data = layer.data.reset_index(drop=True)
    # the study area bounds what is counted: a national file (every pharmacy in England)
    # is cut to the sites in or near the study area, those in a footprint and those that
    # declare one of its PCNs; an unplaced site is kept when its postcode district is one
    # of the practices' (ST16 2HE with a practice in ST16); the rest are only counted
    n_all = len(data)
    keep = _sites_in_study(study, data, footprints, fp_codes)
    data = data[keep].reset_index(drop=True)
    points = data.geometry.to_numpy()
    located = ~shapely.is_missing(points)
    declared = (
        data[PCN_CODE].fillna("").astype(str).to_numpy(dtype=object)
        if PCN_CODE in data
        else np.full(len(data), "", dtype=object)
    )
    known = np.isin(declared, fp_codes) & (declared != "")
    declared_at = _positions(fp_codes, declared)
    sites = pd.DataFrame(
        {
            "code": data["code"].to_numpy(),
            "name": data["name"].to_numpy(),
            "postcode": data["postcode"].to_numpy() if "postcode" in data else "",
            "status": data["status"].to_numpy() if "status" in data else "",
            "declared_pcn_code": declared,
            "declared_pcn_known": known | (declared == ""),
            "located": located,
            "locate_method": data["locate_method"].to_numpy() if "locate_method" in data else "",
            "easting": np.round(shapely.get_x(points), 1),
            "northing": np.round(shapely.get_y(points), 1),
            "footprint_pcn_code": "",
            "distance_to_declared_m": np.nan,
            "outside_declared": False,
        }
    )
    practices = study.practices
    p_pts = practices.geometry
    has = ~shapely.is_missing(p_pts.to_numpy())
    site_pts = points[located]
    site_codes = sites["code"].to_numpy()[located]
    method = practices.get("locate_method", pd.Series("", index=practices.index))
    nearest = pd.DataFrame(
        {
            PRACTICE_CODE: practices.index[has],
            PCN_CODE: "",
            "nearest_site_code": "",
            "distance_m": np.nan,
            # measured from a guessed site (the practice's residents' centre): said so
            "site_guessed": (method == GUESSED_SITE).to_numpy()[has],
        }
    )
    if len(site_pts) and has.any():
        tree = shapely.STRtree(site_pts)
        (p_idx, s_idx), dist = tree.query_nearest(
            p_pts.to_numpy()[has], return_distance=True, all_matches=False
        )
        nearest.loc[p_idx, "nearest_site_code"] = site_codes[s_idx]
        nearest.loc[p_idx, "distance_m"] = np.round(dist, 1)
    return {
        "nearest_codes": nearest[PRACTICE_CODE].tolist(),
        "nearest_distance": nearest["distance_m"].to_numpy(dtype=float),
        "data": data,
        "n_all": n_all,
        "points": points,
        "located": located,
        "declared": declared,
        "known": known,
        "declared_at": declared_at,
        "sites": sites,
        "has": has,
        "nearest": nearest,
    }


def _placed_from(before, footprints: Footprints, facts: dict) -> np.ndarray | None:
    """The footprint each site lies in (as :func:`_point_in`), from the alignment against
    the footprints these were updated from: the sites within the bounds of a rebuilt
    footprint (old or new) placed again against every footprint whose bounds hold them,
    the rest kept. ``None`` when ``before`` does not fit (other PCNs, other sites)."""
    if before is None or footprints.recomputed is None:
        return None
    old_fp, old = before
    pcns, old_pcns = footprints.pcns, old_fp.pcns
    if not pcns.index.equals(old_pcns.index) or len(old.sites) != len(facts["sites"]):
        return None
    where = old.sites["footprint_pcn_code"].to_numpy(dtype=object).copy()
    redo = list(footprints.recomputed)
    geoms = np.concatenate(
        [pcns.geometry.reindex(redo).to_numpy(), old_pcns.geometry.reindex(redo).to_numpy()]
    )
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    points = facts["points"]
    if not len(geoms) or not facts["located"].any():
        return where
    if "xy" not in facts:
        facts["xy"] = (shapely.get_x(points), shapely.get_y(points))
    x, y = facts["xy"]
    box = shapely.bounds(geoms)
    near = facts["located"] & (
        (x[:, None] >= box[:, 0])
        & (x[:, None] <= box[:, 2])
        & (y[:, None] >= box[:, 1])
        & (y[:, None] <= box[:, 3])
    ).any(axis=1)
    idx = np.flatnonzero(near)
    if not len(idx):
        return where
    # every footprint whose bounds hold a site, tested (the spatial index's own filter)
    all_geoms = pcns.geometry.to_numpy()
    b = shapely.bounds(all_geoms)
    px, py = x[idx][:, None], y[idx][:, None]
    hold = (px >= b[:, 0]) & (px <= b[:, 2]) & (py >= b[:, 1]) & (py <= b[:, 3])
    s_at, g_at = np.nonzero(hold)
    hit = shapely.intersects(points[idx[s_at]], all_geoms[g_at])
    site, code = s_at[hit], pcns.index.to_numpy(dtype=object)[g_at[hit]]
    first = np.lexsort((code.astype(str), site))  # by site, then code: the smallest first
    keep = np.ones(len(first), dtype=bool)
    keep[1:] = site[first][1:] != site[first][:-1]
    found = np.full(len(idx), "", dtype=object)
    found[site[first][keep]] = code[first][keep]
    where[idx] = found
    return where


def align_sites(
    study,
    layer,
    footprints: Footprints,
    *,
    fixed: dict | None = None,
    pcn_sizes: pd.Series | None = None,
    before: tuple[Footprints, SiteAlignment] | None = None,
) -> SiteAlignment:
    """Align a community ``sites`` layer with the PCN footprints (see module docstring).

    Parameters
    ----------
    study
        The :class:`~geo_pcn.study.Study`.
    layer
        A :class:`~geo_pcn.study.CommunityLayer` of kind ``sites``.
    footprints
        The configuration's PCN footprints.
    fixed
        A dict kept by the caller for the study (a partition's study facts): what no
        configuration with the same PCN codes changes (the sites that concern the study,
        each practice's nearest site) is kept in it, so a move re-measures only the rest.
    pcn_sizes
        ``pcn_code -> list size`` of every PCN of the footprints' configuration, in its
        order, when already worked out (a partition's ``pcn_list_sizes``: ~2 ms a move
        saved on QNC); default: summed from the study's practices.
    before
        The footprints these were updated from (``footprints.recomputed`` names the PCNs
        rebuilt) and this layer's alignment against them: only the sites within the
        bounds of a rebuilt footprint, old or new, are placed again (the same answer).

    Returns
    -------
    SiteAlignment
    """
    configuration = footprints.configuration
    pcns = footprints.pcns
    fp_codes = pcns.index.to_numpy(dtype=object)
    key = (layer.name, tuple(fp_codes))
    facts = fixed.get(("sites", layer.name)) if fixed is not None else None
    if facts is None or facts["key"] != key:
        facts = _site_facts(study, layer, footprints, fp_codes)
        facts["key"] = key
        if fixed is not None:
            fixed[("sites", layer.name)] = facts
    where = _placed_from(before, footprints, facts)
    if where is None:
        where = _point_in(pcns, facts["points"], fp_codes)
    distance, outside = _declared_distances(pcns, facts, where)
    sites = facts["sites"].copy()
    sites["footprint_pcn_code"] = where
    sites["distance_to_declared_m"] = distance
    sites["outside_declared"] = outside
    sizes = _pcn_sizes(study, configuration) if pcn_sizes is None else pcn_sizes
    nearest = facts["nearest"].copy()
    assign = configuration.pcn_by_practice
    nearest[PCN_CODE] = [assign.get(p, "") for p in facts["nearest_codes"]]
    pcn_table = _pcn_table(footprints, facts, where, outside, sizes)
    summary = _summary(layer.name, facts, sites, where, outside, pcn_table, sizes)
    return SiteAlignment(
        layer=layer.name, sites=sites, pcns=pcn_table, practices=nearest, summary=summary
    )


def _declared_distances(pcns, facts: dict, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each site's distance to the footprint of the PCN it declares (0 inside; NaN when
    it declares none, an unknown one, or is not located) and whether it lies outside."""
    points, located = facts["points"], facts["located"]
    declared, known = facts["declared"], facts["known"]
    distance = np.full(len(points), np.nan)
    check = known & located
    inside = check & (where == declared)
    distance[inside] = 0.0
    measure = check & ~inside
    if measure.any():
        geoms = pcns.geometry.reindex(declared[measure]).to_numpy()
        distance[measure] = np.round(shapely.distance(points[measure], geoms), 1)
    return distance, measure & (distance > 0)


def _nearest_by_pcn(facts: dict, pcn_at: np.ndarray, n_pcns: int) -> tuple:
    """Per PCN position, the largest and the median (1 decimal) of its practices' nearest
    site distances (NaN when none), as pandas' grouped ``max`` and ``median``."""
    d = facts["nearest_distance"]
    valid = (pcn_at >= 0) & ~np.isnan(d)
    order = np.lexsort((d[valid], pcn_at[valid]))
    group, value = pcn_at[valid][order], d[valid][order]
    start = np.searchsorted(group, np.arange(n_pcns), side="left")
    stop = np.searchsorted(group, np.arange(n_pcns), side="right")
    has = stop > start
    largest = np.full(n_pcns, np.nan)
    median = np.full(n_pcns, np.nan)
    largest[has] = value[stop[has] - 1]
    lo, hi = (
        start[has] + (stop[has] - start[has] - 1) // 2,
        start[has] + (stop[has] - start[has]) // 2,
    )
    median[has] = np.round((value[lo] + value[hi]) / 2, 1)
    return largest, median


def _pcn_table(footprints: Footprints, facts, where, outside, sizes: pd.Series) -> pd.DataFrame:
    """Per PCN (in the configuration's order): list size, sites in its footprint and per
    10,000 patients, sites declaring it and those outside it, its practices' distances to
    their nearest site (counted over positions in the footprints' own order)."""
    configuration = footprints.configuration
    pcn_codes = list(configuration.pcn_codes)
    fp_codes = footprints.pcns.index.to_numpy(dtype=object)
    n_pcns = len(pcn_codes)
    at = footprints.pcns.index.get_indexer(pd.Index(pcn_codes))
    in_fp = _positions(fp_codes, where)
    n_sites = np.bincount(in_fp[in_fp >= 0], minlength=n_pcns)[at]
    known = facts["known"]
    n_declared = np.bincount(facts["declared_at"][known], minlength=n_pcns)[at]
    n_declared_out = np.bincount(facts["declared_at"][outside], minlength=n_pcns)[at]
    assign = configuration.pcn_by_practice
    position = {c: i for i, c in enumerate(pcn_codes)}
    pcn_at = np.array([position.get(assign.get(p, ""), -1) for p in facts["nearest_codes"]])
    largest, median = _nearest_by_pcn(facts, pcn_at.astype(np.intp), n_pcns)
    size = sizes.to_numpy()
    return pd.DataFrame(
        {
            PCN_CODE: pcn_codes,
            "pcn_name": [configuration.name_of(c) for c in pcn_codes],
            "list_size": size,
            "n_sites": n_sites.astype("int64"),
            "sites_per_10k": np.where(
                size > 0, np.round(1e4 * n_sites / np.where(size == 0, 1, size), 2), np.nan
            ),
            "n_declared_sites": n_declared.astype("int64"),
            "n_declared_outside": n_declared_out.astype("int64"),
            "max_practice_to_site_m": largest,
            "median_practice_to_site_m": median,
        }
    )


def _summary(name: str, facts, sites, where, outside, pcn_table, sizes) -> dict:
    """The layer's counts (see :meth:`SiteAlignment.to_dict`); what no configuration
    changes is worked out once, with the study's facts."""
    located, declared, known = facts["located"], facts["declared"], facts["known"]
    if "summary" not in facts:
        d = facts["nearest_distance"]
        seen = bool((~np.isnan(d)).any())
        facts["summary"] = {
            "not_located": sites.loc[~located, "code"].tolist(),
            "has_declared_pcn": bool(PCN_CODE in facts["data"]),
            "n_declared": int((declared != "").sum()),
            "n_declared_unknown": int(((declared != "") & ~known).sum()),
            "median_practice_to_site_m": float(facts["nearest"]["distance_m"].median())
            if seen
            else float("nan"),
            "max_practice_to_site_m": float(facts["nearest"]["distance_m"].max())
            if seen
            else float("nan"),
            "practices_site_guessed": facts["nearest"]
            .loc[facts["nearest"]["site_guessed"], PRACTICE_CODE]
            .tolist(),
        }
    fixed = facts["summary"]
    n_sites = pcn_table["n_sites"].to_numpy()
    without = pcn_table[PCN_CODE].to_numpy(dtype=object)[n_sites == 0].tolist()
    total = int(sizes.sum())
    return {
        "layer": name,
        "n_sites": len(sites),
        "n_outside_study": facts["n_all"] - len(sites),
        "n_located": int(located.sum()),
        "n_not_located": int((~located).sum()),
        "not_located": list(fixed["not_located"]),
        "n_in_footprints": int((where != "").sum()),
        "n_outside_footprints": int((located & (where == "")).sum()),
        "n_pcns_without_sites": len(without),
        "pcns_without_sites": without,
        "median_sites_per_pcn": float(np.median(n_sites)) if len(n_sites) else float("nan"),
        "sites_per_10k": round(1e4 * int(n_sites.sum()) / total, 2) if total else float("nan"),
        "has_declared_pcn": fixed["has_declared_pcn"],
        "n_declared": fixed["n_declared"],
        "n_declared_unknown": fixed["n_declared_unknown"],
        "n_outside_declared": int(outside.sum()),
        "median_practice_to_site_m": fixed["median_practice_to_site_m"],
        "max_practice_to_site_m": fixed["max_practice_to_site_m"],
        "practices_site_guessed": list(fixed["practices_site_guessed"]),
    }
