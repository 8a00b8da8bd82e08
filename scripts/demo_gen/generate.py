"""Generate the synthetic demo region (deterministic, offline, a few seconds).

``generate(out_dir)`` builds the region from the design in :mod:`._design`, checks that the
rules (see :mod:`._rules`) find exactly the planted problems and nothing else, and writes the
files of ``boundaries/demo/`` in the real NHS England / ONS layouts. ``scripts/make_demo.py``
runs it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from demo_gen import design as D
from demo_gen import rules as _rules
from demo_gen.geometry import build_areas, build_outline, build_river

__all__ = ["SEED", "Region", "build_region", "generate", "write_manifest"]

SEED = 20_250_401
BNG = "EPSG:27700"
PUBLICATION = "GP_PRAC_PAT_LIST"
EXTRACT_DATE = "01Oct2025"
#: Decay length (m) of the pull of a practice on residents.
DECAY_M = 650.0
#: Extra effective distance (m) for crossing the river (few bridges).
RIVER_PENALTY_M = 3_000.0
#: Smallest share of an area's registered residents held by its nearest practice.
MIN_WINNER_SHARE = 0.62
#: How many practices share an area's residents.
TOP_K = 8
POP_BOUNDS = (1_000, 2_500)
ICB = ("Z54000001", "ZZZ", "NHS Demo Vale Integrated Care Board (synthetic)")
REGION = ("Z40000001", "Z99", "Demo Region (synthetic)")
HOLE_SIZE = 2
#: Smoothing length (m) of the population level between neighbouring PCN footprints.
SMOOTH_M = 1_500.0


@dataclass
class Region:
    """Everything the generator builds, before it is written."""

    areas: gpd.GeoDataFrame  # geometry, north, hole, population (+ code, name, place... later)
    practices: pd.DataFrame  # practice_code, practice_name, key, x, y, attract, place, team
    shares: np.ndarray  # (n_areas, n_practices) share of the area's registered residents
    reg_rate: np.ndarray  # registered / residents per area
    counts: np.ndarray  # (n_areas, n_practices) registered patients
    pseudo: dict[str, np.ndarray]  # pseudo area code -> patients per practice
    welsh: tuple[list, list]  # per practice: Welsh LSOA numbers, patients
    river: shapely.LineString
    outline: shapely.Polygon


def _practice_table() -> pd.DataFrame:
    rows = []
    n = 0
    for spec in D.PCN_SPECS:
        for i, (x, y, attract) in enumerate(spec.practices):
            n += 1
            rows.append(
                {
                    "practice_code": f"Z{n:05d}",
                    "practice_name": f"{spec.practice_names[i]} (SYNTHETIC)",
                    "key": spec.key,
                    "index": i,
                    "x": float(x),
                    "y": float(y),
                    "attract": attract,
                    "place": spec.practice_places[i] if spec.practice_places else spec.place,
                    "team": spec.practice_teams[i] if spec.practice_teams else spec.team,
                }
            )
    return pd.DataFrame(rows)


def _shares(areas: gpd.GeoDataFrame, practices: pd.DataFrame, north_p: np.ndarray) -> np.ndarray:
    """Share of each area's registered residents at each practice (rows sum to 1)."""
    c = shapely.get_coordinates(areas.geometry.centroid)
    d = np.hypot(c[:, 0:1] - practices["x"].to_numpy(), c[:, 1:2] - practices["y"].to_numpy())
    d = d + RIVER_PENALTY_M * (areas["north"].to_numpy()[:, None] != north_p[None, :])
    score = practices["attract"].to_numpy() * np.exp(-d / DECAY_M)
    # keep the TOP_K strongest practices per area
    order = np.argsort(-score, axis=1, kind="stable")
    keep = np.zeros_like(score, dtype=bool)
    np.put_along_axis(keep, order[:, :TOP_K], True, axis=1)
    score = np.where(keep, score, 0.0)
    share = score / score.sum(axis=1, keepdims=True)
    win = order[:, 0]
    rows = np.arange(len(share))
    w = share[rows, win]
    low = w < MIN_WINNER_SHARE
    scale = np.where(low, (1 - MIN_WINNER_SHARE) / np.maximum(1 - w, 1e-12), 1.0)
    share = share * scale[:, None]
    share[rows, win] = np.where(low, MIN_WINNER_SHARE, w)
    return share


def _pick_hole(areas: gpd.GeoDataFrame, practices: pd.DataFrame, outline) -> np.ndarray:
    """Indices of HOLE_SIZE neighbouring areas on the region edge, far from every practice."""
    geoms = areas.geometry.values
    on_edge = shapely.intersects(geoms, outline.exterior) & ~areas["north"].to_numpy()
    sites = shapely.points(practices[["x", "y"]].to_numpy())
    c = shapely.get_coordinates(areas.geometry.centroid)
    dmin = np.hypot(
        c[:, 0:1] - practices["x"].to_numpy(), c[:, 1:2] - practices["y"].to_numpy()
    ).min(axis=1)
    has_site = shapely.STRtree(sites).query(geoms, predicate="intersects")[0]
    ok = on_edge & ~np.isin(np.arange(len(areas)), has_site)
    first = int(np.argmax(np.where(ok, dmin, -1)))
    chosen = [first]
    while len(chosen) < HOLE_SIZE:
        touching = shapely.length(
            shapely.intersection(geoms, shapely.union_all(geoms[chosen]).boundary)
        )
        cand = np.where(ok & (touching > 0) & ~np.isin(np.arange(len(areas)), chosen), dmin, -1)
        chosen.append(int(np.argmax(cand)))
    return np.array(sorted(chosen))


def _footprint_index(shares: np.ndarray, pcn_idx: np.ndarray, n_pcn: int, skip: int) -> np.ndarray:
    """PCN (index) holding most of each area's registrations, ignoring PCN ``skip``."""
    by_pcn = np.zeros((shares.shape[0], n_pcn))
    np.add.at(by_pcn.T, pcn_idx, shares.T)
    by_pcn[:, skip] = -1
    return by_pcn.argmax(axis=1)


def _allocate(total: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Split integer ``total`` per row over columns by ``shares`` (largest remainder)."""
    raw = total[:, None] * shares
    out = np.floor(raw).astype(np.int64)
    left = total - out.sum(axis=1)
    frac = raw - out
    order = np.argsort(-frac, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(shares.shape[1])[None, :], axis=1)
    out += (rank < left[:, None]).astype(np.int64)
    return out


def build_region(seed: int = SEED) -> Region:
    """Build the region in memory (no files written).

    Parameters
    ----------
    seed
        Seed of the random generator; the shipped demo uses :data:`SEED`.

    Returns
    -------
    Region
    """
    rng = np.random.default_rng(seed)
    outline = build_outline()
    river = build_river()
    polygons, _seeds, north = build_areas(rng, outline, river)
    outline = shapely.coverage_union_all(polygons)
    areas = gpd.GeoDataFrame({"north": north}, geometry=list(polygons), crs=BNG)
    practices = _practice_table()
    north_bank = shapely.coverage_union_all(polygons[north])
    north_p = shapely.contains_xy(north_bank, practices["x"].to_numpy(), practices["y"].to_numpy())
    shares = _shares(areas, practices, north_p)

    # registration rate: lower on the region edge (people register across the border)
    on_edge = shapely.intersects(areas.geometry.values, outline.exterior)
    reg_rate = np.clip(0.98 + rng.normal(0.0, 0.005, len(areas)) - 0.025 * on_edge, 0.9, 0.995)
    hole = _pick_hole(areas, practices, outline)
    reg_rate[hole] = 0.0
    areas["hole"] = False
    areas.loc[hole, "hole"] = True

    # pseudo rows (CLOSED, EMPTY, Welsh LSOAs) per practice
    n_p = len(practices)
    pseudo = {
        "CLOSED": rng.integers(4, 30, n_p),
        "EMPTY": rng.integers(8, 55, n_p),
    }
    welsh = rng.integers(0, 3, n_p)
    welsh_codes = [sorted(rng.choice(np.arange(1, 1900), size=k, replace=False)) for k in welsh]
    welsh_counts = [rng.integers(1, 7, k) for k in welsh]
    pseudo_total = pseudo["CLOSED"] + pseudo["EMPTY"] + np.array([c.sum() for c in welsh_counts])

    # population: a base level per area, scaled per PCN footprint to hit the design targets
    keys = [spec.key for spec in D.PCN_SPECS]
    pcn_idx = practices["key"].map({k: i for i, k in enumerate(keys)}).to_numpy()
    u = keys.index("U")
    foot = _footprint_index(shares, pcn_idx, len(keys), skip=u)
    base = 1_650.0 * np.clip(rng.normal(1.0, 0.07, len(areas)), 0.85, 1.15)
    per_pcn = np.zeros((len(areas), len(keys)))  # share of area's residents at each PCN
    np.add.at(per_pcn.T, pcn_idx, (shares * reg_rate[:, None]).T)
    target = np.array([spec.target for spec in D.PCN_SPECS], dtype=float)
    pseudo_pcn = np.bincount(pcn_idx, weights=pseudo_total, minlength=len(keys))
    # each area's level is a smoothed mix of the factors of the footprints around it, so the
    # population has no steps along PCN lines; solve the (linear) factors for the targets
    c = shapely.get_coordinates(areas.geometry.centroid)
    d2 = ((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    kernel = np.exp(-d2 / (2 * SMOOTH_M**2))
    kernel /= kernel.sum(axis=1, keepdims=True)
    mix = kernel @ np.eye(len(keys))[foot]  # (areas, PCNs): weight of each PCN's factor
    m = (per_pcn * base[:, None]).T @ mix  # m[p, q]: patients of PCN p per unit factor of q
    rows = [i for i in range(len(keys)) if i != u]
    factor = np.ones(len(keys))
    factor[rows] = np.linalg.solve(m[np.ix_(rows, rows)], (target - pseudo_pcn)[rows])
    factor[u] = 1.0
    population = base * (mix @ factor)
    population[hole] = base[hole]
    population = np.clip(np.round(population), *POP_BOUNDS).astype(np.int64)
    areas["population"] = population

    registered = np.round(population * reg_rate).astype(np.int64)
    counts = _allocate(registered, shares)

    return Region(
        areas=areas,
        practices=practices,
        shares=shares,
        reg_rate=reg_rate,
        counts=counts,
        pseudo=pseudo,
        welsh=(welsh_codes, welsh_counts),
        river=river,
        outline=outline,
    )


# --------------------------------------------------------------------------- derived layers


def _neighbour_fill(areas: gpd.GeoDataFrame, labels: pd.Series) -> pd.Series:
    """Give unlabelled areas the label of the same-bank neighbour they share most edge with."""
    labels = labels.copy()
    geoms = np.asarray(areas.geometry.values)
    north = areas["north"].to_numpy()
    for _ in range(10):
        missing = np.flatnonzero(labels.isna().to_numpy())
        if len(missing) == 0:
            return labels
        for k in missing:
            shared = shapely.length(shapely.intersection(geoms, geoms[k].boundary))
            shared[labels.isna().to_numpy() | (north != north[k])] = -1
            if shared.max() > 0:
                labels.iloc[k] = labels.iloc[int(np.argmax(shared))]
    raise RuntimeError("could not label every small area")


def _derive_layers(region: Region) -> None:
    """Codes and names of areas, their place/sub-ICB/team, practice codes in the map file."""
    areas, practices, counts = region.areas, region.practices, region.counts
    keys = [spec.key for spec in D.PCN_SPECS]
    pcn_idx = practices["key"].map({k: i for i, k in enumerate(keys)}).to_numpy()
    allocated = practices["key"].to_numpy() != "U"
    # footprint PCN of each area, then the strongest practice of that PCN in the area: its
    # place and team label the area (so lines follow PCN footprints except where designed)
    by_pcn = np.zeros((len(areas), len(keys)))
    np.add.at(by_pcn.T, pcn_idx[allocated], counts[:, allocated].T)
    foot = np.where(by_pcn.max(axis=1) > 0, by_pcn.argmax(axis=1), -1)
    own = np.where(pcn_idx[None, :] == foot[:, None], counts, -1)
    best = own.argmax(axis=1)
    has = foot >= 0
    place = pd.Series(np.where(has, practices["place"].to_numpy()[best], None), dtype=object)
    team = pd.Series(np.where(has, practices["team"].to_numpy()[best], None), dtype=object)
    north = areas["north"].to_numpy()
    if (place[~north].dropna() != "P3").any() or (place[north].dropna() == "P3").any():
        raise AssertionError("a PCN footprint crosses the river: place 3 must be the south bank")
    areas["place"] = _neighbour_fill(areas, place)
    areas["team"] = _neighbour_fill(areas, team)
    areas["sub_icb"] = areas["place"].map({k: v[2] for k, v in D.PLACES.items()})
    areas["foot"] = foot

    # codes and names: numbered within place, north to south then west to east
    c = shapely.get_coordinates(areas.geometry.representative_point())
    order = pd.DataFrame(
        {"place": areas["place"], "band": -np.floor(c[:, 1] / 2_000), "x": c[:, 0]}
    ).sort_values(["place", "band", "x"])
    k = order.groupby("place").cumcount().to_numpy()
    short = {"P1": "Brackenford", "P2": "Thornmere and Uplands", "P3": "Stallingford and Kelsham"}
    areas.loc[order.index, "code"] = [f"DM01{n:05d}" for n in range(1, len(order) + 1)]
    areas.loc[order.index, "name"] = [
        f"{short[pl]} {kk // 4 + 1:03d}{'ABCD'[kk % 4]} (synthetic)"
        for pl, kk in zip(order["place"], k, strict=True)
    ]


def _sites(region: Region) -> pd.DataFrame:
    """Community sites deep inside their PCN footprint; the planted one in a neighbour's."""
    areas = region.areas
    keys = [spec.key for spec in D.PCN_SPECS]
    foot_geom = {
        keys[k]: shapely.coverage_union_all(areas.geometry.values[areas["foot"] == k])
        for k in np.unique(areas["foot"])
        if k >= 0
    }
    probe = np.asarray(areas.geometry.representative_point().values)
    practice_pts = shapely.points(region.practices[["x", "y"]].to_numpy())
    rows = []
    for n, (name, declared, where) in enumerate(D.SITES):
        mine = np.flatnonzero(areas["foot"].to_numpy() == keys.index(where))
        depth = shapely.distance(probe[mine], foot_geom[where].boundary)
        clear = shapely.distance(probe[mine][:, None], practice_pts[None, :]).min(axis=1) > 150
        if declared == where:
            score = np.where(clear, depth, -1)
            k = mine[int(np.argmax(score))]
        else:  # the planted site: ~1.2 km from the declared PCN, well inside the other one
            gap = shapely.distance(probe[mine], foot_geom[declared])
            score = np.where(clear & (depth > 200), -np.abs(gap - 1_200), -np.inf)
            k = mine[int(np.argmax(score))]
        x, y = shapely.get_coordinates(probe[k])[0]
        rows.append(
            {
                "code": f"CS{n + 1:02d}",
                "name": name,
                "easting": int(round(x)),
                "northing": int(round(y)),
                "pcn_key": declared,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- writers

MAP_COLUMNS = [
    "PUBLICATION", "EXTRACT_DATE", "PRACTICE_CODE", "PRACTICE_NAME", "PRACTICE_POSTCODE",
    "PCN_CODE", "PCN_NAME", "ONS_SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_CODE",
    "SUB_ICB_LOCATION_NAME", "ONS_ICB_CODE", "ICB_CODE", "ICB_NAME", "ONS_COMM_REGION_CODE",
    "COMM_REGION_CODE", "COMM_REGION_NAME", "SUPPLIER_NAME",
]  # fmt: skip
REG_COLUMNS = [
    "PUBLICATION", "EXTRACT_DATE", "PRACTICE_CODE", "PRACTICE_NAME", "LSOA_CODE", "SEX",
    "NUMBER_OF_PATIENTS",
]  # fmt: skip


def _int_coords(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], float):
            return [int(round(v)) for v in obj]
        return [_int_coords(o) for o in obj]
    return obj


def write_geojson(path: Path, gdf: gpd.GeoDataFrame, columns: list[str], name: str) -> None:
    """Write a GeoJSON FeatureCollection in EPSG:27700, byte-for-byte reproducibly.

    Written by hand (not through GDAL) so that the bytes, and so the sha256 in the
    manifest, do not depend on the GDAL version. The ``crs`` member is the one GDAL writes
    and reads for British National Grid; coordinates are whole metres.
    """
    geoms = shapely.orient_polygons(gdf.geometry.values, exterior_cw=False)
    lines = []
    for props, geom in zip(gdf[columns].to_dict("records"), geoms, strict=True):
        feature = {
            "type": "Feature",
            "properties": props,
            "geometry": {
                "type": geom.geom_type,
                "coordinates": _int_coords(shapely.geometry.mapping(geom)["coordinates"]),
            },
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    head = {
        "type": "FeatureCollection",
        "name": name,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
    }
    text = json.dumps(head, separators=(",", ":"))[:-1] + ',"features":[\n'
    text += ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    df.to_csv(path, index=False, lineterminator="\n")


def _postcodes(practices: pd.DataFrame) -> list[str]:
    """Fictional postcodes in the 'DM' area: one district per town, unique per site."""
    from demo_gen.geometry import TOWNS

    towns = np.array([[t.x, t.y] for t in TOWNS])
    xy = practices[["x", "y"]].to_numpy()
    district = np.hypot(*(xy[:, None, :] - towns[None, :, :]).transpose(2, 0, 1)).argmin(axis=1)
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    seen: dict[tuple[float, float], str] = {}
    out = []
    for n, ((x, y), d) in enumerate(zip(xy, district, strict=True)):
        if (x, y) not in seen:
            seen[(x, y)] = f"DM{d + 1} {n % 9 + 1}{letters[n % 20]}{letters[(7 * n) % 20]}"
        out.append(seen[(x, y)])
    return out


def _tables(region: Region) -> dict[str, pd.DataFrame]:
    """The CSV tables of the demo folder."""
    practices, areas = region.practices, region.areas
    pcn_code = {}
    n = 0
    for spec in D.PCN_SPECS:
        if spec.key == "U":
            pcn_code["U"] = ("U", "Unallocated")
        else:
            n += 1
            pcn_code[spec.key] = (f"UZ{n:03d}", spec.name)
    practices["pcn_code"] = practices["key"].map(lambda k: pcn_code[k][0])
    practices["pcn_name"] = practices["key"].map(lambda k: pcn_code[k][1])
    practices["postcode"] = _postcodes(practices)
    sub = practices["place"].map({k: v[2] for k, v in D.PLACES.items()})
    mis = (practices["key"] == D.MISRECORDED[0]) & (practices["index"] == D.MISRECORDED[1])
    sub[mis] = sub[mis].map({"SA": "SB", "SB": "SA"})
    rng = np.random.default_rng(SEED + 1)
    pmap = pd.DataFrame(
        {
            "PUBLICATION": PUBLICATION,
            "EXTRACT_DATE": EXTRACT_DATE,
            "PRACTICE_CODE": practices["practice_code"],
            "PRACTICE_NAME": practices["practice_name"],
            "PRACTICE_POSTCODE": practices["postcode"],
            "PCN_CODE": practices["pcn_code"],
            "PCN_NAME": practices["pcn_name"],
            "ONS_SUB_ICB_LOCATION_CODE": sub.map({k: v[0] for k, v in D.SUB_ICBS.items()}),
            "SUB_ICB_LOCATION_CODE": sub.map({k: v[1] for k, v in D.SUB_ICBS.items()}),
            "SUB_ICB_LOCATION_NAME": sub.map({k: v[2] for k, v in D.SUB_ICBS.items()}),
            "ONS_ICB_CODE": ICB[0],
            "ICB_CODE": ICB[1],
            "ICB_NAME": ICB[2],
            "ONS_COMM_REGION_CODE": REGION[0],
            "COMM_REGION_CODE": REGION[1],
            "COMM_REGION_NAME": REGION[2],
            "SUPPLIER_NAME": rng.choice(["EMIS", "TPP"], size=len(practices), p=[0.55, 0.45]),
        }
    )[MAP_COLUMNS]
    locations = pd.DataFrame(
        {
            "PRACTICE_CODE": practices["practice_code"],
            "EASTING": practices["x"].round().astype(int),
            "NORTHING": practices["y"].round().astype(int),
        }
    )
    # registrations: area rows, then the pseudo rows
    ai, pj = np.nonzero(region.counts)
    rows = [
        pd.DataFrame(
            {
                "PRACTICE_CODE": practices["practice_code"].to_numpy()[pj],
                "LSOA_CODE": areas["code"].to_numpy()[ai],
                "NUMBER_OF_PATIENTS": region.counts[ai, pj],
            }
        )
    ]
    for code, values in region.pseudo.items():
        rows.append(
            pd.DataFrame(
                {
                    "PRACTICE_CODE": practices["practice_code"],
                    "LSOA_CODE": code,
                    "NUMBER_OF_PATIENTS": values,
                }
            )
        )
    welsh_codes, welsh_counts = region.welsh
    for k, (codes, counts) in enumerate(zip(welsh_codes, welsh_counts, strict=True)):
        if len(codes):
            rows.append(
                pd.DataFrame(
                    {
                        "PRACTICE_CODE": practices["practice_code"].iloc[k],
                        "LSOA_CODE": [f"W01{c:06d}" for c in codes],
                        "NUMBER_OF_PATIENTS": counts,
                    }
                )
            )
    reg = pd.concat(rows, ignore_index=True)
    reg = reg.sort_values(["PRACTICE_CODE", "LSOA_CODE"], ignore_index=True)
    reg["PRACTICE_NAME"] = reg["PRACTICE_CODE"].map(
        practices.set_index("practice_code")["practice_name"]
    )
    reg["PUBLICATION"] = PUBLICATION
    reg["EXTRACT_DATE"] = EXTRACT_DATE
    reg["SEX"] = "ALL"
    reg = reg[REG_COLUMNS]
    population = pd.DataFrame(
        {"area_code": areas["code"], "population": areas["population"]}
    ).sort_values("area_code", ignore_index=True)
    sites = _sites(region)
    sites["pcn_code"] = sites.pop("pcn_key").map(lambda k: pcn_code[k][0])
    return {
        "gp-reg-pat-prac-map.csv": pmap,
        "practice_locations.csv": locations,
        "gp-reg-pat-prac-lsoa-all.csv": reg,
        "population.csv": population,
        "community_sites.csv": sites,
    }


def _layers(region: Region) -> dict[str, tuple[gpd.GeoDataFrame, list[str]]]:
    """The GeoJSON layers of the demo folder."""
    areas = region.areas.sort_values("code", ignore_index=True)

    def dissolve(by: str, table: dict) -> gpd.GeoDataFrame:
        keys = sorted(areas[by].unique())
        rows = [table[k] for k in keys]
        geoms = [
            shapely.coverage_union_all(areas.geometry.values[(areas[by] == k).to_numpy()])
            for k in keys
        ]
        return gpd.GeoDataFrame(rows, geometry=geoms, crs=BNG)

    place = dissolve("place", {k: {"code": v[0], "name": v[1]} for k, v in D.PLACES.items()})
    sub_icb = dissolve(
        "sub_icb",
        {k: {"code": v[0], "nhs_code": v[1], "name": v[2]} for k, v in D.SUB_ICBS.items()},
    )
    icb = gpd.GeoDataFrame(
        [{"code": ICB[0], "nhs_code": ICB[1], "name": ICB[2]}],
        geometry=[shapely.coverage_union_all(areas.geometry.values)],
        crs=BNG,
    )
    teams = dissolve("team", {k: {"code": v[0], "name": v[1]} for k, v in D.TEAMS.items()})
    return {
        "areas.geojson": (areas, ["code", "name"]),
        "place.geojson": (place, ["code", "name"]),
        "sub_icb.geojson": (sub_icb, ["code", "nhs_code", "name"]),
        "icb.geojson": (icb, ["code", "nhs_code", "name"]),
        "community_teams.geojson": (teams, ["code", "name"]),
    }


STUDY_TOML = """\
# SYNTHETIC DEMO REGION - not real data. Generated by scripts/make_demo.py
# (scripts/demo_gen, not shipped); every code, name, place and number here is invented.
# Paths are relative to this file. See README.md for the planted problems.
name = "Demo Vale ICB (synthetic demo region)"
synthetic = true

[practices]
file = "gp-reg-pat-prac-map.csv"
locations = "practice_locations.csv"

[registrations]
file = "gp-reg-pat-prac-lsoa-all.csv"

[areas]
file = "areas.geojson"
population = "population.csv"

[boundaries]
sub_icb = "sub_icb.geojson"
icb = "icb.geojson"
place = "place.geojson"

[community.teams]
file = "community_teams.geojson"
kind = "areas"

[community.sites]
file = "community_sites.csv"
kind = "sites"
pcn = "pcn_code"

[rules]
band = [30000, 50000]
exempt = [{exempt}]
"""

#: What the design plants: (check, kind, spec key of the PCN or None).
PLANTED = (
    ("size", "above_band", "A1"),
    ("size", "below_band", "B2"),
    ("size", "below_band_exempt", "UP"),
    ("size", "single_practice", "K"),
    ("contiguity", "split", "S1"),
    ("contiguity", "exclave", "S1"),
    ("contiguity", "co_located", "A3"),
    ("boundaries", "crosses_place", "M"),
    ("boundaries", "sub_icb_mismatch", "SV"),
    ("coverage", "unallocated_practice", None),
    ("coverage", "hole", None),
    ("coverage", "residents_registered_outside", None),
    ("alignment", "split_across_teams", "A5"),
    ("alignment", "site_outside_footprint", "B2"),
)


#: design kind -> the (check, kind) of the finding ``geo_pcn.validate`` reports for it, or
#: None where the problem shows through another finding (the exclave is the detached
#: practice's own territory; co-located practices are joined in the graph, not a problem).
FINDING_OF = {
    "above_band": ("size", "above_band"),
    "below_band": ("size", "below_band"),
    "below_band_exempt": ("size", "exempt"),
    "single_practice": ("size", "single_practice"),
    "split": ("contiguity", "detached_group"),
    "exclave": None,
    "co_located": None,
    "crosses_place": ("boundaries", "crosses_boundary"),
    "sub_icb_mismatch": ("boundaries", "recorded_code_mismatch"),
    "unallocated_practice": ("coverage", "practice_in_no_pcn"),
    "hole": ("coverage", "area_served_from_outside"),
    "residents_registered_outside": ("coverage", "residents_registered_outside"),
    "split_across_teams": ("alignment", "split_across_areas"),
    "site_outside_footprint": ("alignment", "site_outside_pcn"),
}


def _check_design(ev: _rules.Evaluation, pcn_code: dict[str, str]) -> None:
    """Raise AssertionError unless the rules find exactly the planted problems, as designed."""
    got = sorted((f["check"], f["kind"], f["pcn_code"]) for f in ev.findings)
    want = sorted((c, k, pcn_code[p] if p else None) for c, k, p in PLANTED)
    if got != want:
        raise AssertionError(f"rules found {got}\nbut the design plants {want}")
    f = {f["kind"]: f for f in ev.findings}
    pcns = ev.pcns.set_index("pcn_code")
    problems = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    need(20_000 <= f["below_band"]["expected"]["list_size"] <= 27_000, "below-band size")
    need(55_000 <= f["above_band"]["expected"]["list_size"] <= 65_000, "above-band size")
    need(f["below_band_exempt"]["expected"]["list_size"] < 30_000, "exempt size")
    need(31_000 <= f["single_practice"]["expected"]["list_size"] <= 35_000, "single size")
    split = f["split"]["expected"]
    need(30_000 <= split["list_size"] <= 50_000, "split PCN within band")
    need(split["distance_m"] > 1_000, "split practice > 1 km away")
    need(f["hole"]["expected"]["n_areas"] <= 3, "hole size")
    pct = sorted(f["split_across_teams"]["expected"]["pct_footprint_population_by_team"].values())
    need(len(pct) == 2 and 30 <= pct[0] <= 40, f"team split ~65/35 of residents, got {pct}")
    pct = sorted(f["split_across_teams"]["expected"]["pct_patients_by_team"].values())
    need(30 <= pct[-2] <= 40, f"team split ~65/35 of patients, got {pct}")
    need(f["site_outside_footprint"]["expected"]["distance_m"] > 300, "misplaced site distance")
    # everything else comfortably inside the rules
    normal = pcns.drop(
        index=[f[k]["pcn_code"] for k in ("above_band", "below_band", "below_band_exempt")]
    )
    need(normal["list_size"].between(31_000, 49_000).all(), "other PCNs well within band")
    sizes = ev.practices.set_index("practice_code")["list_size"]
    big = f["single_practice"]["practice_codes"]
    need(sizes.drop(index=big).between(3_000, 20_000).all(), "practice list sizes 3k-20k")
    won = ev.shares
    need((won["winner_share"] >= 1.5 * won["runner_up_share"]).all(), "nearest practice wins")
    co = set(f["co_located"]["practice_codes"])
    holders = ev.territory.groupby("practice_code").size().reindex(sizes.index, fill_value=0)
    need(
        (holders.drop(index=list(co)) >= 1).all(), "every practice not sharing a site wins an area"
    )
    need(ev.graph.has_edge(*sorted(co)[:2]), "co-located practices are joined")
    # the hole is served from outside (geo_pcn reports it as area_served_from_outside)
    hole = ev.areas.set_index("code").loc[f["hole"]["expected"]["area_codes"], "served_from"]
    need((hole == "outside").all(), "hole served from outside")
    # other PCNs: their footprint is in one team, and >= 90 % of their patients live there
    pat = ev.patients.groupby(["pcn_code", "team"])["n"].sum()
    main_share = pat.groupby(level=0).max() / pat.groupby(level=0).sum()
    others = main_share.drop(index=[f["split_across_teams"]["pcn_code"], "U"])
    need((others >= 0.9).all(), f"patients in their PCN's team: {others.round(3).to_dict()}")
    # small areas nest in one place / sub-ICB / team each, and each layer is one polygon
    need(ev.areas[["place", "sub_icb", "team"]].notna().all().all(), "areas nest in layers")
    if problems:
        raise AssertionError("demo design checks failed: " + "; ".join(problems))


def _describe(f: dict, tables: dict[str, pd.DataFrame], names: dict[str, str]) -> str:
    """One sentence a planner understands."""
    e, kind = f["expected"], f["kind"]
    pcn = f"{names.get(f['pcn_code'], '')} ({f['pcn_code']})" if f["pcn_code"] else ""
    pnames = tables["gp-reg-pat-prac-map.csv"].set_index("PRACTICE_CODE")["PRACTICE_NAME"]
    prac = [f"{pnames[c]} ({c})" for c in f["practice_codes"]]
    if kind == "above_band":
        return (
            f"{pcn} has {e['list_size']:,} registered patients, {e['excess']:,} above the "
            f"{e['band_high']:,} top of the band."
        )
    if kind == "below_band":
        return (
            f"{pcn} has {e['list_size']:,} registered patients, {e['shortfall']:,} short "
            f"of the {e['band_low']:,} minimum, and is not an agreed exception."
        )
    if kind == "below_band_exempt":
        return (
            f"{pcn} is a rural PCN with {e['list_size']:,} patients: below "
            f"{e['band_low']:,} but an agreed exception (listed in rules.exempt)."
        )
    if kind == "single_practice":
        return (
            f"{pcn} is one large practice, {prac[0]}, with {e['list_size']:,} patients: "
            "a single-practice PCN inside the band."
        )
    if kind == "split":
        d = e["detached_practices"][0]
        return (
            f"{pnames[d]} ({d}) belongs to {pcn} but sits {e['distance_m'] / 1000:.1f} km "
            "from the rest of it, inside another PCN's territory, so the PCN is in "
            f"{e['n_components']} pieces."
        )
    if kind == "exclave":
        return (
            f"The footprint of {pcn} has a detached part around {', '.join(prac)} "
            f"({e['exclave_areas']} small areas, {e['exclave_population']:,} residents), "
            f"{e['distance_m'] / 1000:.1f} km from its main part."
        )
    if kind == "co_located":
        return (
            f"{' and '.join(prac)} share one site (same postcode and coordinates) in "
            f"{pcn}; they count as adjacent."
        )
    if kind == "crosses_place":
        by = ", ".join(
            f"{n} practice(s) with {e['list_size_by_place'][p]:,} patients in {names[p]} ({p})"
            for p, n in e["practices_by_place"].items()
        )
        return f"{pcn} has practices in two places within one sub-ICB: {by}."
    if kind == "sub_icb_mismatch":
        return (
            f"{prac[0]} is recorded in sub-ICB {e['recorded_sub_icb']} but its site lies "
            f"in sub-ICB {e['site_sub_icb']}."
        )
    if kind == "unallocated_practice":
        return (
            f"{prac[0]} is in no PCN (PCN_CODE U, 'Unallocated'): its {e['list_size']:,} "
            "patients are not covered by any PCN."
        )
    if kind == "hole":
        return (
            f"{e['n_areas']} small area(s) on the region edge ({', '.join(e['area_codes'])}; "
            f"{e['population']:,} residents) are in no PCN footprint: their residents are "
            "registered with practices outside the study."
        )
    if kind == "residents_registered_outside":
        return (
            f"{e['patients']:,} residents of the PCN footprints are not registered at the "
            "region's practices (each area's population less its registered residents): "
            "registered elsewhere or not at all."
        )
    if kind == "split_across_teams":
        res = e["pct_footprint_population_by_team"]
        (t1, p1), (t2, p2) = sorted(res.items(), key=lambda kv: -kv[1])
        pat = e["pct_patients_by_team"]
        rest = round(100 - pat.get(t1, 0) - pat.get(t2, 0), 1)
        return (
            f"{pcn} is cut by a community team boundary: {p1:g}% of the residents of its "
            f"footprint are in {names[t1]} ({t1}) and {p2:g}% in {names[t2]} ({t2}); of "
            f"its registered patients {pat.get(t1, 0):g}% / {pat.get(t2, 0):g}% "
            f"({rest:g}% live elsewhere)."
        )
    if kind == "site_outside_footprint":
        sites = tables["community_sites.csv"].set_index("code")["name"]
        return (
            f"{sites[e['site_code']]} ({e['site_code']}) declares {pcn} but lies "
            f"{e['distance_m']:,.0f} m outside that PCN's footprint, in "
            f"{names[e['footprint_pcn_at_site']]} ({e['footprint_pcn_at_site']})."
        )
    raise ValueError(kind)


def _readme(
    ev: _rules.Evaluation,
    planted: list[dict],
    tables: dict[str, pd.DataFrame],
    names: dict[str, str],
) -> str:
    reg = tables["gp-reg-pat-prac-lsoa-all.csv"]
    pop = tables["population.csv"]["population"]
    pcns = ev.pcns.sort_values("pcn_code")
    in_areas = int(reg.loc[reg["LSOA_CODE"].str.startswith("DM01"), "NUMBER_OF_PATIENTS"].sum())
    total = int(reg["NUMBER_OF_PATIENTS"].sum())
    n_practices = len(tables["gp-reg-pat-prac-map.csv"])
    lines = [
        "# Demo Vale: a SYNTHETIC NHS region",
        "",
        "**Everything in this folder is invented.** Demo Vale ICB, its places, practices, PCNs,",
        "postcodes (`DM`), codes (`Z…`, `UZ…`, `DM01…`) and every number are synthetic, made by a",
        "deterministic generator so that geo_pcn can be demonstrated and tested offline. The",
        "files use the real NHS England / ONS layouts so that the real readers are exercised.",
        "It is placed on the British National Grid (EPSG:27700) inland in England but does not",
        "describe any real place.",
        "",
        "## The region in numbers",
        "",
        "| | |",
        "|---|---|",
        f"| small areas (LSOA-like) | {len(ev.areas)} |",
        f"| residents (population.csv) | {int(pop.sum()):,} |",
        f"| practices | {n_practices} (one unallocated) |",
        f"| PCNs | {len(pcns)} |",
        f"| registered patients (sum of NUMBER_OF_PATIENTS) | {total:,} |",
        f"| of whom living in the region's small areas | {in_areas:,} "
        f"({100 * in_areas / pop.sum():.1f}% of residents) |",
        "| places / sub-ICB locations / ICB | 3 / 2 (ZZA = places 1 + 2, ZZB = place 3) / 1 |",
        "| community team areas / community sites | "
        f"{len(D.TEAMS)} / {len(tables['community_sites.csv'])} |",
        "",
        "Four towns (Brackenford, Thornmere, Stallingford, Kelsham) and three large villages sit",
        "in countryside split by a river; the river is the line between sub-ICB ZZA (north) and",
        "ZZB (south). Registrations fall off with distance, so the nearest practice holds most",
        "residents of every small area; 97% of residents are registered at the study's",
        "practices, the rest elsewhere. Each practice also has a few pseudo rows (`CLOSED`,",
        "`EMPTY`, Welsh `W01…` codes), as the real NHS England file has.",
        "",
        "| PCN | name | practices | list size |",
        "|---|---|---:|---:|",
    ]
    for _, row in pcns.iterrows():
        lines.append(
            f"| {row['pcn_code']} | {row['pcn_name']} | {row['n_practices']} | "
            f"{row['list_size']:,} |"
        )
    lines += [
        "",
        "## Planted problems",
        "",
        "One of each problem the checks find, and nothing else (every other PCN is inside the",
        "30,000-50,000 band, contiguous, in one place and one sub-ICB). `planted.json` has the",
        "same list with the exact numbers; the generator refuses to write the demo unless an",
        "independent implementation of the rules finds exactly these.",
        "",
        "| # | check | kind | PCN | practices | what a planner sees |",
        "|---:|---|---|---|---|---|",
    ]
    for n, p in enumerate(planted, 1):
        lines.append(
            f"| {n} | {p['check']} | {p['kind']} | {p['pcn_code'] or ''} | "
            f"{', '.join(p['practice_codes'])} | {p['description']} |"
        )
    lines += [
        "",
        "## Files",
        "",
        "| file | layout |",
        "|---|---|",
        "| `demo.toml` | the study file (paths relative to it) |",
        "| `gp-reg-pat-prac-map.csv` | NHS England practice → PCN → sub-ICB → ICB map |",
        "| `practice_locations.csv` | `PRACTICE_CODE,EASTING,NORTHING` (metres, EPSG:27700) |",
        "| `gp-reg-pat-prac-lsoa-all.csv` | NHS England patients by practice by LSOA, SEX = ALL |",
        "| `areas.geojson`, `population.csv` | small areas (`code`, `name`) and residents |",
        "| `place.geojson`, `sub_icb.geojson`, `icb.geojson` | unions of whole small areas |",
        "| `community_teams.geojson`, `community_sites.csv` | community nursing team areas; "
        "clinics and hubs with the PCN each serves |",
        "| `planted.json` | the planted problems, machine-readable |",
        "",
        "## Regenerate",
        "",
        "```",
        "python scripts/make_demo.py   # writes boundaries/demo/ and boundaries/manifest.json",
        "```",
        "",
        "The generator (`scripts/demo_gen/` in the source tree, a development tool not shipped",
        f"in the wheel) is pure numpy / shapely / geopandas with a fixed seed ({SEED}), needs no",
        "network and takes a few seconds. Its output is byte-for-byte reproducible;",
        "`boundaries/manifest.json` records each file's sha256. Its checker",
        "(`scripts/demo_gen/rules.py`) implements the rules again without geo_pcn's code.",
        "",
    ]
    return "\n".join(lines)


def generate(out_dir: Path | str, *, seed: int = SEED) -> list[dict]:
    """Build, verify and write the demo region into ``out_dir``.

    The files are written to a temporary folder first, checked with the rules in
    :mod:`demo_gen.rules`, and only then moved into ``out_dir`` (existing files of
    the same names are replaced), so a failed check leaves nothing half-written.

    Parameters
    ----------
    out_dir
        Folder to write (created if missing).
    seed
        Random seed; the shipped demo uses :data:`SEED`.

    Returns
    -------
    list of dict
        The planted problems (the content of ``planted.json``).

    Raises
    ------
    AssertionError
        When the rules do not find exactly the planted problems.
    """
    out_dir = Path(out_dir)
    region = build_region(seed)
    _derive_layers(region)
    tables = _tables(region)
    layers = _layers(region)
    pcn_code = dict(zip(region.practices["key"], region.practices["pcn_code"], strict=True))
    exempt = pcn_code["UP"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        for name, df in tables.items():
            _write_csv(tmp_dir / name, df)
        for name, (gdf, cols) in layers.items():
            write_geojson(tmp_dir / name, gdf, cols, name.removesuffix(".geojson"))
        (tmp_dir / "demo.toml").write_text(
            STUDY_TOML.format(exempt=f'"{exempt}"'), encoding="utf-8"
        )
        ev = _rules.evaluate(tmp_dir)
        _check_design(ev, pcn_code)
        names = dict(
            zip(
                tables["gp-reg-pat-prac-map.csv"]["PCN_CODE"],
                tables["gp-reg-pat-prac-map.csv"]["PCN_NAME"],
                strict=False,
            )
        )
        for gdf, _ in layers.values():
            names.update(dict(zip(gdf["code"], gdf["name"], strict=True)))
        order = {(c, k): n for n, (c, k, _) in enumerate(PLANTED)}
        planted = []
        for f in sorted(ev.findings, key=lambda f: order[(f["check"], f["kind"])]):
            finding = FINDING_OF[f["kind"]]
            planted.append(
                {
                    **f,
                    "finding": None
                    if finding is None
                    else {"check": finding[0], "kind": finding[1]},
                    "description": _describe(f, tables, names),
                }
            )
        (tmp_dir / "planted.json").write_text(_rules.dumps(planted), encoding="utf-8")
        (tmp_dir / "README.md").write_text(_readme(ev, planted, tables, names), encoding="utf-8")
        out_dir.mkdir(parents=True, exist_ok=True)
        for path in sorted(tmp_dir.iterdir()):
            shutil.copyfile(path, out_dir / path.name)
    return planted


def file_records(demo_dir: Path | str, root: Path | str | None = None) -> list[dict]:
    """Path (relative to ``root``), rows, CRS and sha256 of every file of a demo folder."""
    demo_dir = Path(demo_dir)
    root = Path(root) if root is not None else demo_dir.parent
    records = []
    for path in sorted(demo_dir.iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".geojson":
            rows, crs = len(json.loads(data)["features"]), BNG
        elif path.suffix == ".csv":
            rows, crs = (
                data.count(b"\n") - 1,
                BNG if path.name in ("practice_locations.csv", "community_sites.csv") else None,
            )
        elif path.suffix == ".json":
            rows, crs = len(json.loads(data)), None
        else:
            rows, crs = None, None
        records.append(
            {
                "path": path.relative_to(root).as_posix(),
                "source": "synthetic, generated by scripts/make_demo.py",
                "licence": "MIT (synthetic data, part of geo_pcn)",
                "vintage": "synthetic; NHS England / ONS file layouts as of October 2025",
                "crs": crs,
                "rows": rows,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return records


REAL_SOURCES = [
    {
        "name": "Patients Registered at a GP Practice (gp-reg-pat-prac-map.csv, "
        "gp-reg-pat-prac-lsoa-all.csv)",
        "publisher": "NHS England",
        "url": "https://digital.nhs.uk/data-and-information/publications/statistical/"
        "patients-registered-at-a-gp-practice",
        "replaces": ["demo/gp-reg-pat-prac-map.csv", "demo/gp-reg-pat-prac-lsoa-all.csv"],
        "licence": "OGL v3",
    },
    {
        "name": "ODS GP practices (epraccur) and PCN membership (ePCN)",
        "publisher": "NHS England Organisation Data Service",
        "url": "https://digital.nhs.uk/services/organisation-data-service/"
        "export-data-files/csv-downloads/gp-and-gp-practice-related-data",
        "replaces": ["demo/gp-reg-pat-prac-map.csv"],
        "licence": "OGL v3",
    },
    {
        "name": "Lower layer Super Output Areas (December 2021) Boundaries EW BSC",
        "publisher": "ONS Open Geography Portal",
        "url": "https://geoportal.statistics.gov.uk/",
        "replaces": ["demo/areas.geojson"],
        "licence": "OGL v3",
    },
    {
        "name": "Sub Integrated Care Board Locations and Integrated Care Boards boundaries",
        "publisher": "ONS Open Geography Portal",
        "url": "https://geoportal.statistics.gov.uk/",
        "replaces": ["demo/sub_icb.geojson", "demo/icb.geojson"],
        "licence": "OGL v3",
    },
    {
        "name": "Local Authority Districts boundaries (places)",
        "publisher": "ONS Open Geography Portal",
        "url": "https://geoportal.statistics.gov.uk/",
        "replaces": ["demo/place.geojson"],
        "licence": "OGL v3",
    },
    {
        "name": "OS Code-Point Open (postcode coordinates for practice locations)",
        "publisher": "Ordnance Survey",
        "url": "https://www.ordnancesurvey.co.uk/products/code-point-open",
        "replaces": ["demo/practice_locations.csv"],
        "licence": "OGL v3",
    },
    {
        "name": "Census 2021 TS001 Number of usual residents (LSOA)",
        "publisher": "Office for National Statistics",
        "url": "https://www.nomisweb.co.uk/sources/census_2021_bulk",
        "replaces": ["demo/population.csv"],
        "licence": "OGL v3",
    },
]


def write_manifest(boundaries_dir: Path | str) -> Path:
    """Write ``manifest.json`` for the demo folder inside ``boundaries_dir``."""
    boundaries_dir = Path(boundaries_dir)
    manifest = {
        "synthetic": True,
        "comment": "Every file under demo/ is SYNTHETIC (invented, not real NHS data), written "
        "by scripts/make_demo.py from scripts/demo_gen/generate.py. real_sources "
        "names where planners download the real equivalents.",
        "generator": "scripts/demo_gen (demo_gen.generate)",
        "seed": SEED,
        "files": file_records(boundaries_dir / "demo", boundaries_dir),
        "real_sources": REAL_SOURCES,
    }
    path = boundaries_dir / "manifest.json"
    path.write_text(_rules.dumps(manifest), encoding="utf-8")
    return path
