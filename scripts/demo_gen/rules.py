"""An independent, minimal implementation of the planning rules, used to verify the demo.

The generator and the tests run :func:`evaluate` on the files of ``boundaries/demo/`` and
compare what it finds with ``planted.json``. It reads the files with plain pandas /
geopandas (not with geo_pcn's own readers) so that it checks the *data*, and it follows
the rule semantics of DESIGN.md:

* practice territory: each small area goes to the practice with the most registered
  residents there (tie: lowest code); a practice winning no area gets the area its site is
  in. PCN footprint: each area goes to the PCN with the most registered residents there,
  summed over its practices (unallocated practices excluded).
* adjacency: two practices are adjacent when their territories touch or lie within
  250 m, and co-located practices always are; a PCN is contiguous when its practices are
  connected. An exclave is a part of a PCN footprint more than 250 m from its main part
  (the part with most residents).
* size: list size = sum of a practice's registrations, pseudo rows included; the band is
  inclusive; exempt PCNs get INFO instead of ERROR.
* boundaries: a PCN whose practice *sites* lie in more than one place / sub-ICB crosses
  that line; a practice whose recorded sub-ICB differs from the polygon its site is in is a
  mismatch.
* coverage: a practice in no PCN leaves its patients uncovered; residents of the footprints
  not registered at the study's practices are counted; a hole is a group of small
  areas that no PCN footprint covers, with its population.
* alignment: a PCN whose footprint lies in more than one community team area is split
  across teams; a community site outside the footprint of the PCN it declares is misplaced.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

__all__ = ["Evaluation", "evaluate", "findings_key"]

TOLERANCE_M = 250.0
UNALLOCATED = "U"


@dataclass
class Evaluation:
    """What the rules make of a demo folder."""

    practices: pd.DataFrame  # one row per practice: codes, pcn, list_size, place, sub-ICB
    pcns: pd.DataFrame  # one row per PCN: list_size, n_practices, n_components
    territory: pd.DataFrame  # area_code, practice_code (a practice may hold its site area)
    footprint: pd.Series  # area_code -> pcn_code (areas no PCN covers are absent)
    areas: gpd.GeoDataFrame  # code, population, place, sub_icb, team, geometry
    findings: list[dict]
    shares: pd.DataFrame  # area_code, winner, winner_share, runner_up_share
    patients: pd.DataFrame  # area_code, practice_code, n, pcn_code, team (study areas only)


def _read_geo(path: Path) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path)
    if gdf.crs is None or gdf.crs.to_epsg() != 27700:
        raise ValueError(f"{path}: expected EPSG:27700, got {gdf.crs}")
    return gdf


def _dissolve(areas: gpd.GeoDataFrame, by: pd.Series) -> gpd.GeoSeries:
    """Union of the small areas grouped by ``by`` (aligned with ``areas``), exact coverage union."""
    groups = {
        key: shapely.coverage_union_all(areas.geometry.values[idx])
        for key, idx in by.groupby(by).indices.items()
    }
    return gpd.GeoSeries(groups, crs=areas.crs)


def _round(x: float) -> float:
    return float(round(float(x), 1))


def evaluate(folder: Path | str) -> Evaluation:
    """Apply the planning rules to the demo files in ``folder``.

    Parameters
    ----------
    folder
        A folder written by :func:`demo_gen.generate.generate`.

    Returns
    -------
    Evaluation
        Tables plus ``findings``: one dict per problem with ``check``, ``kind``,
        ``pcn_code``, ``practice_codes`` and ``expected`` (numbers).
    """
    folder = Path(folder)
    study = tomllib.loads((folder / "demo.toml").read_text(encoding="utf-8"))
    band = study["rules"]["band"]
    exempt = set(study["rules"].get("exempt", []))

    pmap = pd.read_csv(folder / study["practices"]["file"], dtype=str)
    loc = pd.read_csv(folder / study["practices"]["locations"], dtype={"PRACTICE_CODE": str})
    reg = pd.read_csv(
        folder / study["registrations"]["file"],
        dtype={"PRACTICE_CODE": str, "LSOA_CODE": str, "NUMBER_OF_PATIENTS": np.int64},
    )
    areas = _read_geo(folder / study["areas"]["file"])
    pop = pd.read_csv(folder / study["areas"]["population"], dtype={"area_code": str})
    areas = areas.merge(pop, left_on="code", right_on="area_code", how="left")
    place = _read_geo(folder / study["boundaries"]["place"])
    sub_icb = _read_geo(folder / study["boundaries"]["sub_icb"])
    teams = _read_geo(folder / study["community"]["teams"]["file"])
    sites = pd.read_csv(folder / study["community"]["sites"]["file"], dtype=str)

    practices = pmap.rename(
        columns={
            "PRACTICE_CODE": "practice_code",
            "PCN_CODE": "pcn_code",
            "PCN_NAME": "pcn_name",
            "SUB_ICB_LOCATION_CODE": "recorded_sub_icb",
        }
    )[["practice_code", "pcn_code", "pcn_name", "recorded_sub_icb"]]
    practices = practices.merge(loc.rename(columns={"PRACTICE_CODE": "practice_code"}))
    list_size = reg.groupby("PRACTICE_CODE")["NUMBER_OF_PATIENTS"].sum()
    practices["list_size"] = practices["practice_code"].map(list_size).fillna(0).astype(int)
    pts = gpd.GeoDataFrame(
        practices,
        geometry=gpd.points_from_xy(practices["EASTING"], practices["NORTHING"]),
        crs=areas.crs,
    )

    # where each practice site is: small area, place, sub-ICB
    def _within(layer: gpd.GeoDataFrame, col: str) -> pd.Series:
        j = gpd.sjoin(
            pts[["practice_code", "geometry"]],
            layer[[col, "geometry"]],
            predicate="within",
            how="left",
        )
        if j["practice_code"].duplicated().any() or j[col].isna().any():
            raise ValueError(f"practice sites must each lie inside exactly one {col!r} polygon")
        return j.set_index("practice_code")[col]

    practices["site_area"] = practices["practice_code"].map(_within(areas, "code"))
    practices["place"] = practices["practice_code"].map(_within(place, "code"))
    practices["sub_icb"] = practices["practice_code"].map(_within(sub_icb, "nhs_code"))

    # areas nest in places, sub-ICBs and teams: label each by its representative point
    probe = gpd.GeoDataFrame(geometry=areas.geometry.representative_point(), crs=areas.crs)
    for layer, col, name in (
        (place, "code", "place"),
        (sub_icb, "nhs_code", "sub_icb"),
        (teams, "code", "team"),
    ):
        j = gpd.sjoin(probe, layer[[col, "geometry"]], predicate="within", how="left")
        areas[name] = j[col].groupby(level=0).first()

    # ---- territories
    in_area = reg[reg["LSOA_CODE"].isin(areas["code"])].rename(
        columns={
            "LSOA_CODE": "area_code",
            "PRACTICE_CODE": "practice_code",
            "NUMBER_OF_PATIENTS": "n",
        }
    )[["area_code", "practice_code", "n"]]
    ranked = in_area.sort_values(["area_code", "n", "practice_code"], ascending=[True, False, True])
    won = ranked.drop_duplicates("area_code")[["area_code", "practice_code"]]
    totals = in_area.groupby("area_code")["n"].sum()
    second = ranked.groupby("area_code")["n"].nth(1)
    second = pd.Series(second.to_numpy(), index=ranked.loc[second.index, "area_code"])
    shares = won.assign(
        winner_share=ranked.drop_duplicates("area_code")["n"].to_numpy()
        / won["area_code"].map(totals).to_numpy(),
    )
    shares["runner_up_share"] = (
        shares["area_code"].map(second).fillna(0).to_numpy()
        / shares["area_code"].map(totals).to_numpy()
    )
    no_area = practices.loc[~practices["practice_code"].isin(won["practice_code"])]
    territory = pd.concat(
        [won, no_area.rename(columns={"site_area": "area_code"})[["area_code", "practice_code"]]],
        ignore_index=True,
    )
    area_index = pd.Series(np.arange(len(areas)), index=areas["code"])
    terr_geom = gpd.GeoDataFrame(
        {
            "practice_code": territory.groupby("practice_code").size().index,
        },
        geometry=[
            shapely.coverage_union_all(areas.geometry.values[area_index[g].to_numpy()])
            for _, g in territory.groupby("practice_code")["area_code"]
        ],
        crs=areas.crs,
    )

    # ---- PCN footprints
    cfg = in_area.merge(practices[["practice_code", "pcn_code"]])
    cfg = cfg[cfg["pcn_code"] != UNALLOCATED]
    by_pcn = cfg.groupby(["area_code", "pcn_code"], as_index=False)["n"].sum()
    by_pcn = by_pcn.sort_values(["area_code", "n", "pcn_code"], ascending=[True, False, True])
    footprint = by_pcn.drop_duplicates("area_code").set_index("area_code")["pcn_code"]
    areas["pcn_code"] = areas["code"].map(footprint)
    covered = areas["pcn_code"].notna()
    foot_geom = _dissolve(areas[covered], areas.loc[covered, "pcn_code"])

    # ---- adjacency graph and contiguity
    pairs = gpd.sjoin(terr_geom, terr_geom, predicate="dwithin", distance=TOLERANCE_M)
    graph = nx.Graph()
    graph.add_nodes_from(practices["practice_code"])
    graph.add_edges_from(
        zip(pairs["practice_code_left"], pairs["practice_code_right"], strict=True)
    )
    same_site = practices.groupby(["EASTING", "NORTHING"])["practice_code"].agg(list)
    co_located = [codes for codes in same_site if len(codes) > 1]
    for codes in co_located:  # every pair at one site is joined (a clique, not a chain)
        graph.add_edges_from(itertools.combinations(codes, 2))

    allocated = practices[practices["pcn_code"] != UNALLOCATED]
    pcns = allocated.groupby("pcn_code").agg(
        pcn_name=("pcn_name", "first"),
        list_size=("list_size", "sum"),
        n_practices=("practice_code", "size"),
        n_places=("place", "nunique"),
        n_sub_icbs=("sub_icb", "nunique"),
    )
    members = allocated.groupby("pcn_code")["practice_code"].agg(list)
    pcns["n_components"] = [
        nx.number_connected_components(graph.subgraph(members[p])) for p in pcns.index
    ]

    findings: list[dict] = []

    def add(check, kind, severity, pcn_code, practice_codes, expected):
        findings.append(
            {
                "check": check,
                "kind": kind,
                "severity": severity,
                "pcn_code": pcn_code,
                "practice_codes": sorted(practice_codes),
                "expected": expected,
            }
        )

    # ---- size
    lo, hi = band
    for code, row in pcns.iterrows():
        size = int(row["list_size"])
        if size < lo:
            kind, sev = ("below_band_exempt", "INFO") if code in exempt else ("below_band", "ERROR")
            add(
                "size",
                kind,
                sev,
                code,
                members[code],
                {"list_size": size, "band_low": lo, "band_high": hi, "shortfall": lo - size},
            )
        elif size > hi:
            add(
                "size",
                "above_band",
                "ERROR",
                code,
                members[code],
                {"list_size": size, "band_low": lo, "band_high": hi, "excess": size - hi},
            )
        if row["n_practices"] == 1:
            add(
                "size",
                "single_practice",
                "INFO",
                code,
                members[code],
                {"list_size": size, "n_practices": 1},
            )

    # ---- contiguity: split PCNs, exclaves, co-located practices
    terr_by_code = terr_geom.set_index("practice_code").geometry
    for code in pcns.index[pcns["n_components"] > 1]:
        comps = sorted(
            nx.connected_components(graph.subgraph(members[code])),
            key=lambda c: -practices.set_index("practice_code").loc[list(c), "list_size"].sum(),
        )
        main = shapely.union_all(terr_by_code[list(comps[0])].to_numpy())
        detached = sorted(set().union(*comps[1:]))
        dist = shapely.distance(main, shapely.union_all(terr_by_code[detached].to_numpy()))
        add(
            "contiguity",
            "split",
            "ERROR",
            code,
            members[code],
            {
                "n_components": len(comps),
                "list_size": int(pcns.loc[code, "list_size"]),
                "detached_practices": detached,
                "detached_list_size": int(
                    practices.set_index("practice_code").loc[detached, "list_size"].sum()
                ),
                "distance_m": _round(dist),
            },
        )

    area_pop = areas.set_index("code")["population"]
    for code, geom in foot_geom.items():
        parts = shapely.get_parts(geom)
        if len(parts) == 1:
            continue
        # join parts closer than the tolerance, then call the most populous group the main part
        near = shapely.STRtree(parts).query(parts, predicate="dwithin", distance=TOLERANCE_M)
        g = nx.Graph()
        g.add_nodes_from(range(len(parts)))
        g.add_edges_from(near.T.tolist())
        groups = [shapely.union_all(parts[list(c)]) for c in nx.connected_components(g)]
        if len(groups) == 1:
            continue
        mine = areas[areas["pcn_code"] == code]
        gpops = [
            int(
                mine.loc[
                    shapely.within(mine.geometry.representative_point().values, grp), "population"
                ].sum()
            )
            for grp in groups
        ]
        order = np.argsort(gpops)[::-1]
        main = groups[order[0]]
        for k in order[1:]:
            inside = mine.loc[
                shapely.within(mine.geometry.representative_point().values, groups[k]), "code"
            ]
            holders = territory.loc[territory["area_code"].isin(inside), "practice_code"]
            add(
                "contiguity",
                "exclave",
                "WARNING",
                code,
                sorted(set(holders) & set(members[code])),
                {
                    "n_parts": len(groups),
                    "exclave_areas": int(len(inside)),
                    "exclave_population": int(area_pop[inside].sum()),
                    "exclave_area_km2": _round(groups[k].area / 1e6),
                    "distance_m": _round(shapely.distance(main, groups[k])),
                },
            )

    pcn_of = practices.set_index("practice_code")["pcn_code"]
    for codes in co_located:
        pcn = sorted(set(pcn_of[codes]))
        add(
            "contiguity",
            "co_located",
            "INFO",
            pcn[0] if len(pcn) == 1 else None,
            codes,
            {
                "n_practices": len(codes),
                "distance_m": 0.0,
                "list_sizes": [
                    int(practices.set_index("practice_code").loc[c, "list_size"])
                    for c in sorted(codes)
                ],
            },
        )

    # ---- boundaries
    for level, col, kind in (
        ("place", "place", "crosses_place"),
        ("sub_icb", "sub_icb", "crosses_sub_icb"),
    ):
        counts = allocated.groupby("pcn_code")[col].nunique()
        for code in counts.index[counts > 1]:
            mine = allocated[allocated["pcn_code"] == code]
            add(
                "boundaries",
                kind,
                "WARNING",
                code,
                mine["practice_code"],
                {
                    f"n_{level}s": int(counts[code]),
                    "practices_by_" + level: mine.groupby(col).size().astype(int).to_dict(),
                    "list_size_by_" + level: mine.groupby(col)["list_size"]
                    .sum()
                    .astype(int)
                    .to_dict(),
                },
            )
    wrong = practices[practices["recorded_sub_icb"] != practices["sub_icb"]]
    for _, row in wrong.iterrows():
        add(
            "boundaries",
            "sub_icb_mismatch",
            "WARNING",
            row["pcn_code"] if row["pcn_code"] != UNALLOCATED else None,
            [row["practice_code"]],
            {
                "recorded_sub_icb": row["recorded_sub_icb"],
                "site_sub_icb": row["sub_icb"],
                "list_size": int(row["list_size"]),
            },
        )

    # ---- coverage
    for _, row in practices[practices["pcn_code"] == UNALLOCATED].iterrows():
        add(
            "coverage",
            "unallocated_practice",
            "ERROR",
            None,
            [row["practice_code"]],
            {"list_size": int(row["list_size"])},
        )
    holes = areas[~covered]
    if len(holes):
        groups = shapely.get_parts(shapely.coverage_union_all(holes.geometry.values))
        for grp in groups:
            inside = holes.loc[shapely.within(holes.geometry.representative_point().values, grp)]
            add(
                "coverage",
                "hole",
                "WARNING",
                None,
                [],
                {
                    "n_areas": int(len(inside)),
                    "area_codes": sorted(inside["code"]),
                    "population": int(inside["population"].sum()),
                    "area_km2": _round(grp.area / 1e6),
                },
            )

    # residents of the footprints not registered at the study's practices: the area's
    # population less its registered residents, area by area (never below 0)
    registered = in_area.groupby("area_code")["n"].sum()
    mine = areas[covered]
    gap = (mine["population"] - mine["code"].map(registered).fillna(0)).clip(lower=0)
    if gap.sum() > 0:
        add(
            "coverage",
            "residents_registered_outside",
            "INFO",
            None,
            [],
            {"patients": int(gap.sum())},
        )

    # ---- alignment with community teams and sites
    patients = in_area.merge(practices[["practice_code", "pcn_code"]])
    patients["team"] = patients["area_code"].map(areas.set_index("code")["team"])
    for code in pcns.index:
        mine = areas[areas["pcn_code"] == code]
        by_team = mine.groupby("team")["population"].sum()
        if len(by_team) > 1:
            pts_team = patients[patients["pcn_code"] == code].groupby("team")["n"].sum()
            add(
                "alignment",
                "split_across_teams",
                "WARNING",
                code,
                members[code],
                {
                    "n_teams": int(len(by_team)),
                    "footprint_population_by_team": by_team.astype(int).to_dict(),
                    "pct_footprint_population_by_team": (100 * by_team / by_team.sum())
                    .round(1)
                    .to_dict(),
                    "patients_by_team": pts_team.astype(int).to_dict(),
                    "pct_patients_by_team": (100 * pts_team / pts_team.sum()).round(1).to_dict(),
                },
            )
    site_pts = gpd.GeoSeries(
        gpd.points_from_xy(sites["easting"].astype(float), sites["northing"].astype(float)),
        crs=areas.crs,
    )
    for i, row in sites.iterrows():
        geom = foot_geom.get(row["pcn_code"])
        dist = np.inf if geom is None else shapely.distance(site_pts[i], geom)
        if dist > 0:
            inside = foot_geom.index[shapely.within(site_pts[i], foot_geom.values)]
            add(
                "alignment",
                "site_outside_footprint",
                "WARNING",
                row["pcn_code"],
                [],
                {
                    "site_code": row["code"],
                    "distance_m": _round(dist),
                    "footprint_pcn_at_site": inside[0] if len(inside) else None,
                },
            )

    return Evaluation(
        practices=practices,
        pcns=pcns.reset_index(),
        territory=territory,
        footprint=footprint,
        areas=areas,
        findings=findings,
        shares=shares,
        patients=patients,
    )


def findings_key(findings: list[dict]) -> list[tuple]:
    """A sortable identity for each finding: (check, kind, pcn_code, practice_codes)."""
    return sorted(
        (f["check"], f["kind"], f["pcn_code"] or "", tuple(f["practice_codes"])) for f in findings
    )


def dumps(obj) -> str:
    """JSON as the demo files write it (stable key order, two-space indent)."""
    return json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
