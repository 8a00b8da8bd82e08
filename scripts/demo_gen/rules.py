"""An independent implementation of the planning rules, used to verify the demo region.

The generator and the tests run :func:`evaluate` on the files of ``boundaries/demo/`` and
compare what it finds with ``planted.json``; ``tests/test_demo_validate.py`` then checks that
``geo_pcn.validate`` finds the same. For that comparison to mean something this module never
imports geo_pcn: it reads the raw files with plain pandas / geopandas, and computes every
rule its own way from the text of README.md ("What it checks", "Which inputs make the
territories right") and DESIGN.md ("Territories and footprints", "Practice graph"). Where
it takes a *different route* from geo_pcn to the same rule, the docstring says so; where a
choice is a policy both make on purpose, it is marked **shared policy**. Where geo_pcn breaks
a tie or falls back, this module refuses instead (``ValueError`` naming the case), so the
demo never depends on a tie-break.

Rules, in the order :func:`evaluate` applies them
-------------------------------------------------

R1 **list size**: the sum of ``NUMBER_OF_PATIENTS`` over every row of the practice in the
   registrations file, pseudo residence codes (``CLOSED``, ``EMPTY``, Welsh ``W01...``)
   included: they are registered patients whose residence is unknown or outside England.
R2 **residents by area**: the rows whose ``LSOA_CODE`` is a small area of ``areas.geojson``.
R3 **served from outside**: the registrations hold only the study's practices, so the
   residents of an area registered elsewhere are its population less the residents
   registered at the study's practices (never below 0). An area whose residents registered
   elsewhere *outnumber* those registered at the study's practices (all of them, practices
   in no PCN included) is served from outside: it is in no territory and no footprint.
   Shared policy: strictly more (an equal split stays with the study); a tie is refused.
R4 **practice territory**: every other small area goes to the practice with most registered
   residents there (the residents of all other practices, in or out of the study, count
   through R3). A tie is refused (geo_pcn gives it to the smaller code). A practice that
   wins no area has no territory: for adjacency it is placed by its *site point* (geo_pcn
   instead gives it the small area its site is in; on the demo both join the same pairs,
   because the only such practice shares its site with the practice that won that area).
R5 **PCN footprint**: each area of R4 goes to the PCN with most registered residents there,
   summed over its practices; each practice in no PCN competes on its own, and an area one
   of them wins is in no footprint (it is served by a practice in no PCN, not drawn as a
   neighbouring PCN's). A tie is refused. A PCN that wins no area has an empty footprint;
   on the demo every PCN wins areas.
R6 **shared sites**: practices whose sites lie within ``site_tolerance_m`` (1 m) of each
   other share a site (transitively); every pair of practices at one site is adjacent (a
   clique, not a chain). Computed from a full pairwise distance matrix of the site points.
R7 **adjacency**: two practices are adjacent when their territories (R4) touch or lie within
   ``adjacency_tolerance_m`` (250 m) of each other, by a full pairwise distance matrix of the
   territory geometries (geo_pcn uses a spatial index and records reasons on the edges).
R8 **detached groups** (README: "PCNs whose practices' territories do not join up"): the
   connected components of the adjacency graph restricted to the PCN's own practices. Two
   components whose territories both overlap (by more than 1 m²) one connected part of the
   PCN's own footprint are one group (shared policy: the PCN's footprint joins them; geo_pcn
   notes it as ``joined_by_footprint``). The main group has most patients (a tie is
   refused); each other group is detached, with its practices, patients and distance from
   the main group's territory.
R9 **exclaves** (README: "footprint fragments with none of the PCN's practices"): a polygon
   part of a PCN footprint that holds none of the PCN's practice sites and is farther than
   the adjacency tolerance from every part that holds one. None are planted: the demo's
   footprint fragment (R9b) holds its PCN's detached practice, so it shows as the detached
   group of R8; :func:`evaluate` raises if R9 finds any.
R9b **footprint fragments** (planted kind ``exclave``, ``finding: null``): parts of a PCN
   footprint farther than the adjacency tolerance from its main part (the group of parts,
   joined when within the tolerance, with most residents). This is a geometric fact of the
   design, not a geo_pcn finding.
R10 **crossings**: a PCN whose practice *sites* lie in more than one unit of the place,
   sub-ICB or ICB layer crosses that line (patients on each side = the list sizes of its
   practices there). Each site must lie in exactly one unit of each layer.
R11 **code mismatches**: a practice whose recorded sub-ICB (ODS ``SUB_ICB_LOCATION_CODE``
   against the layer's ``nhs_code``, and ONS ``ONS_SUB_ICB_LOCATION_CODE`` against its
   ``code``) or ICB (``ICB_CODE`` / ``ONS_ICB_CODE``) differs from the unit its site lies in.
   Codes are compared only within one code system, never ODS against ONS.
R12 **coverage**: practices in no PCN (``PCN_CODE`` ``U``), their list size and the areas they
   win (R5: in no footprint, named with the practice, not as a hole); other small areas
   of the region (the whole areas layer: the demo's layer is its ICB) in no footprint,
   grouped by touching (shared edges or corners): a group served from outside (R3) is the
   planted ``hole`` (geo_pcn: ``area_served_from_outside``); areas the study serves that no
   PCN wins would be ``uncovered_study_area`` (geo_pcn: ``hole``; none in the demo);
   residents of the footprints registered elsewhere (R3 summed over footprint areas).
R13 **split across teams**: each small area belongs to the team area it overlaps most (by
   area, not by a representative point). A team cuts a PCN when it holds at least 5 % of the
   residents (census population) of the PCN's footprint; two or more cutting teams split it
   (geo_pcn weighs the footprint by registered residents; same 5 %, shared policy). Patients
   by team: the PCN's practices' registered residents by the team their area is in.
R14 **sites outside their PCN**: a community site not inside or on the footprint of the PCN
   it declares, with the distance to that footprint and the PCN whose footprint holds it.
R15 **size**: list size of a PCN = sum of its practices' (R1); outside the inclusive band is
   ``below_band`` / ``above_band`` (ERROR), or ``below_band_exempt`` (INFO) for a PCN in
   ``rules.exempt``; a PCN of one practice is ``single_practice`` (INFO).
"""

from __future__ import annotations

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

#: Defaults of the rules (README ``[rules]``), used when the study file does not set them.
ADJACENCY_TOLERANCE_M = 250.0
SITE_TOLERANCE_M = 1.0
#: Smallest share of a PCN's footprint a community area must hold to cut it (R13).
MIN_TEAM_SHARE = 0.05
UNALLOCATED = "U"


@dataclass
class Evaluation:
    """What the rules make of a demo folder."""

    practices: pd.DataFrame  # one row per practice: codes, pcn, list_size, place, sub-ICB, ICB
    pcns: pd.DataFrame  # one row per PCN: list_size, n_practices, n_components
    territory: pd.DataFrame  # area_code, practice_code (areas won; no fallback rows)
    footprint: pd.Series  # area_code -> pcn_code (areas no PCN covers are absent)
    areas: gpd.GeoDataFrame  # code, population, place, sub_icb, team, served_from, geometry
    findings: list[dict]
    shares: pd.DataFrame  # area_code, winner, winner_share, runner_up_share
    patients: pd.DataFrame  # area_code, practice_code, n, pcn_code, team (every small area)
    graph: nx.Graph  # practice adjacency: edge attribute ``reasons``


def _read_geo(path: Path) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path)
    if gdf.crs is None or gdf.crs.to_epsg() != 27700:
        raise ValueError(f"{path}: expected EPSG:27700, got {gdf.crs}")
    return gdf


def _round(x: float) -> float:
    return float(round(float(x), 1))


def _plurality(frame: pd.DataFrame, key: str, what: str) -> pd.DataFrame:
    """``area_code, key, n, runner_up`` for the ``key`` with most ``n`` in each area.

    Raises ``ValueError`` on a tie for the most: the demo must not depend on a tie-break.
    """
    totals = frame.groupby(["area_code", key], as_index=False)["n"].sum()
    best = totals.groupby("area_code")["n"].transform("max")
    top = totals[totals["n"] == best]
    tied = top["area_code"][top["area_code"].duplicated()]
    if len(tied):
        raise ValueError(f"tie for the {what} with most residents in {sorted(set(tied))}")
    rest = totals[totals["n"] < best].groupby("area_code")["n"].max()
    out = top.set_index("area_code")
    out["runner_up"] = rest.reindex(out.index).fillna(0).astype("int64")
    return out.reset_index()


def _touching_groups(geoms: np.ndarray, distance: float = 0.0) -> list[list[int]]:
    """Connected groups of geometries within ``distance`` (pairwise, no spatial index)."""
    d = shapely.distance(geoms[:, None], geoms[None, :])
    g = nx.Graph()
    g.add_nodes_from(range(len(geoms)))
    g.add_edges_from(zip(*np.nonzero(np.triu(d <= distance, k=1)), strict=True))
    return [sorted(c) for c in nx.connected_components(g)]


def _label_by_overlap(areas: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, col: str) -> pd.Series:
    """The ``col`` of the ``layer`` polygon each small area overlaps most (by area)."""
    a = np.asarray(areas.geometry.values)
    b = np.asarray(layer.geometry.values)
    overlap = shapely.area(shapely.intersection(a[:, None], b[None, :]))
    best = overlap.argmax(axis=1)
    share = overlap[np.arange(len(a)), best] / shapely.area(a)
    if (share < 0.5).any():
        bad = areas["code"].to_numpy()[share < 0.5]
        raise ValueError(f"small areas not mostly inside one {col!r} polygon: {sorted(bad)}")
    return pd.Series(layer[col].to_numpy()[best], index=areas.index)


def evaluate(folder: Path | str) -> Evaluation:
    """Apply the planning rules (module docstring, R1-R15) to the demo files in ``folder``.

    Parameters
    ----------
    folder
        A folder written by :func:`demo_gen.generate.generate`.

    Returns
    -------
    Evaluation
        Tables plus ``findings``: one dict per problem with ``check``, ``kind``, ``severity``,
        ``pcn_code``, ``practice_codes`` and ``expected`` (numbers).

    Raises
    ------
    ValueError
        On a tie the rules would have to break, a site outside or on the line between units
        of a layer, or an exclave by the README's rule (R9; none is planted).
    """
    folder = Path(folder)
    study = tomllib.loads((folder / "demo.toml").read_text(encoding="utf-8"))
    rules = study["rules"]
    band = rules["band"]
    exempt = set(rules.get("exempt", []))
    tol = float(rules.get("adjacency_tolerance_m", ADJACENCY_TOLERANCE_M))
    site_tol = float(rules.get("site_tolerance_m", SITE_TOLERANCE_M))

    pmap = pd.read_csv(folder / study["practices"]["file"], dtype=str)
    loc = pd.read_csv(folder / study["practices"]["locations"], dtype={"PRACTICE_CODE": str})
    reg = pd.read_csv(
        folder / study["registrations"]["file"],
        dtype={"PRACTICE_CODE": str, "LSOA_CODE": str, "NUMBER_OF_PATIENTS": np.int64},
    )
    areas = _read_geo(folder / study["areas"]["file"])
    pop = pd.read_csv(folder / study["areas"]["population"], dtype={"area_code": str})
    areas = areas.merge(pop, left_on="code", right_on="area_code", how="left")
    if areas["population"].isna().any():
        raise ValueError("every small area needs a population (R3)")
    layers = {name: _read_geo(folder / study["boundaries"][name]) for name in ("place", "sub_icb")}
    layers["icb"] = _read_geo(folder / study["boundaries"]["icb"])
    teams = _read_geo(folder / study["community"]["teams"]["file"])
    sites = pd.read_csv(folder / study["community"]["sites"]["file"], dtype=str)

    practices = pmap.rename(
        columns={
            "PRACTICE_CODE": "practice_code",
            "PCN_CODE": "pcn_code",
            "PCN_NAME": "pcn_name",
            "SUB_ICB_LOCATION_CODE": "recorded_sub_icb",
            "ONS_SUB_ICB_LOCATION_CODE": "recorded_ons_sub_icb",
            "ICB_CODE": "recorded_icb",
            "ONS_ICB_CODE": "recorded_ons_icb",
        }
    )[
        [
            "practice_code",
            "pcn_code",
            "pcn_name",
            "recorded_sub_icb",
            "recorded_ons_sub_icb",
            "recorded_icb",
            "recorded_ons_icb",
        ]
    ]
    practices = practices.merge(loc.rename(columns={"PRACTICE_CODE": "practice_code"}))
    # R1: list size = every registration row of the practice
    list_size = reg.groupby("PRACTICE_CODE")["NUMBER_OF_PATIENTS"].sum()
    practices["list_size"] = practices["practice_code"].map(list_size).fillna(0).astype(int)
    site_xy = practices[["EASTING", "NORTHING"]].to_numpy(dtype=float)
    site_pts = shapely.points(site_xy)
    size_of = practices.set_index("practice_code")["list_size"]

    # R10/R11: the unit of each layer each site lies in (exactly one, not on a line)
    def _unit_of(layer: gpd.GeoDataFrame, col: str, name: str) -> np.ndarray:
        inside = shapely.contains_properly(
            np.asarray(layer.geometry.values)[None, :], site_pts[:, None]
        )
        if (inside.sum(axis=1) != 1).any():
            bad = practices["practice_code"].to_numpy()[inside.sum(axis=1) != 1]
            raise ValueError(f"sites not strictly inside one {name} unit: {sorted(bad)}")
        return layer[col].to_numpy()[inside.argmax(axis=1)]

    practices["site_area"] = _unit_of(areas, "code", "small area")
    practices["place"] = _unit_of(layers["place"], "code", "place")
    practices["sub_icb"] = _unit_of(layers["sub_icb"], "nhs_code", "sub-ICB")
    practices["ons_sub_icb"] = _unit_of(layers["sub_icb"], "code", "sub-ICB")
    practices["icb"] = _unit_of(layers["icb"], "nhs_code", "ICB")
    practices["ons_icb"] = _unit_of(layers["icb"], "code", "ICB")

    # small areas by the layer polygon they overlap most
    for layer, col, name in (
        (layers["place"], "code", "place"),
        (layers["sub_icb"], "nhs_code", "sub_icb"),
        (teams, "code", "team"),
    ):
        areas[name] = _label_by_overlap(areas, layer, col)

    # ---- R2/R3: residents by area; served from outside
    in_area = reg[reg["LSOA_CODE"].isin(areas["code"]) & (reg["NUMBER_OF_PATIENTS"] > 0)].rename(
        columns={"LSOA_CODE": "area_code", "PRACTICE_CODE": "practice_code"}
    )
    in_area = in_area.assign(n=in_area["NUMBER_OF_PATIENTS"])[["area_code", "practice_code", "n"]]
    n_study = areas["code"].map(in_area.groupby("area_code")["n"].sum()).fillna(0).astype("int64")
    n_elsewhere = (areas["population"] - n_study).clip(lower=0).astype("int64")
    if ((n_elsewhere == n_study) & (n_study > 0)).any():
        raise ValueError("an area's residents split evenly between the study and elsewhere (R3)")
    outside = n_elsewhere > n_study
    areas["n_study"], areas["n_elsewhere"] = n_study, n_elsewhere
    areas["served_from"] = np.where(outside, "outside", "study")
    study_codes = set(areas.loc[~outside, "code"])
    residents = in_area[in_area["area_code"].isin(study_codes)]

    # ---- R4: practice territories (no fallback: a practice that wins nothing has none)
    won = _plurality(residents, "practice_code", "practice")
    territory = won[["area_code", "practice_code"]].sort_values("area_code", ignore_index=True)
    totals = residents.groupby("area_code")["n"].sum()
    shares = pd.DataFrame(
        {
            "area_code": won["area_code"],
            "practice_code": won["practice_code"],
            "winner_share": won["n"].to_numpy() / won["area_code"].map(totals).to_numpy(),
            "runner_up_share": won["runner_up"].to_numpy()
            / won["area_code"].map(totals).to_numpy(),
        }
    )
    geom_of_area = pd.Series(areas.geometry.values, index=areas["code"])
    terr_geom = {
        p: shapely.union_all(geom_of_area[g].to_numpy())
        for p, g in territory.groupby("practice_code")["area_code"]
    }
    # R7: a practice with no territory is placed by its site point
    placed = np.array(
        [terr_geom.get(p, pt) for p, pt in zip(practices["practice_code"], site_pts, strict=True)]
    )

    # ---- R5: PCN footprints
    pcn_of = practices.set_index("practice_code")["pcn_code"]
    cfg = residents.assign(pcn_code=residents["practice_code"].map(pcn_of))
    loose = cfg["pcn_code"] == UNALLOCATED
    cfg.loc[loose, "pcn_code"] = "practice in no PCN " + cfg.loc[loose, "practice_code"]
    footprint = _plurality(cfg, "pcn_code", "PCN").set_index("area_code")["pcn_code"]
    loose_won = footprint.str.startswith("practice in no PCN ")
    loose_winner = footprint[loose_won].str.removeprefix("practice in no PCN ")
    footprint = footprint[~loose_won]
    areas["pcn_code"] = areas["code"].map(footprint)
    covered = areas["pcn_code"].notna()
    cov = areas[covered].reset_index(drop=True)
    foot_geom = gpd.GeoSeries(
        {
            code: shapely.coverage_union_all(cov.geometry.values[idx])
            for code, idx in cov.groupby("pcn_code").indices.items()
        },
        crs=areas.crs,
    )

    # ---- R6/R7: the practice graph
    codes = practices["practice_code"].to_numpy()
    graph = nx.Graph()
    graph.add_nodes_from(codes)
    near = shapely.distance(placed[:, None], placed[None, :]) <= tol
    for i, j in zip(*np.nonzero(np.triu(near, k=1)), strict=True):
        graph.add_edge(codes[i], codes[j], reasons=["territories within tolerance"])
    same_site = np.hypot(*(site_xy[:, None, :] - site_xy[None, :, :]).transpose(2, 0, 1))
    site_graph = nx.Graph()
    pairs = np.nonzero(np.triu(same_site <= site_tol, k=1))
    site_graph.add_edges_from(zip(codes[pairs[0]], codes[pairs[1]], strict=True))
    co_located = sorted(sorted(c) for c in nx.connected_components(site_graph))
    for group in co_located:
        for a in group:
            for b in group:
                if a < b:
                    reasons = graph.edges[a, b]["reasons"] if graph.has_edge(a, b) else []
                    graph.add_edge(a, b, reasons=[*reasons, "same site"])

    allocated = practices[practices["pcn_code"] != UNALLOCATED]
    members = allocated.groupby("pcn_code")["practice_code"].agg(sorted)
    pcns = allocated.groupby("pcn_code").agg(
        pcn_name=("pcn_name", "first"),
        list_size=("list_size", "sum"),
        n_practices=("practice_code", "size"),
    )

    # R8: components of the PCN's own practices, joined through the PCN's own footprint
    def _groups(code: str) -> list[list[str]]:
        comps = [sorted(c) for c in nx.connected_components(graph.subgraph(members[code]))]
        geom = foot_geom.get(code)
        if len(comps) < 2 or geom is None:
            return comps
        parts = shapely.get_parts(geom)
        join = nx.Graph()
        join.add_nodes_from(range(len(comps)))
        hits = []
        for comp in comps:
            t = shapely.union_all([terr_geom[p] for p in comp if p in terr_geom])
            hits.append(shapely.area(shapely.intersection(t, parts)) > 1.0)
        for i in range(len(comps)):
            for j in range(i + 1, len(comps)):
                if (hits[i] & hits[j]).any():
                    join.add_edge(i, j)
        return [sorted(p for i in c for p in comps[i]) for c in nx.connected_components(join)]

    groups = {code: _groups(code) for code in pcns.index}
    pcns["n_components"] = [len(groups[c]) for c in pcns.index]

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

    # ---- R15: size
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

    # ---- R8: detached groups
    def _geom(group) -> shapely.Geometry:
        return shapely.union_all([placed[np.flatnonzero(codes == p)[0]] for p in group])

    for code in pcns.index[pcns["n_components"] > 1]:
        by_size = sorted(groups[code], key=lambda g: -int(size_of[g].sum()))
        if int(size_of[by_size[0]].sum()) == int(size_of[by_size[1]].sum()):
            raise ValueError(f"{code}: two groups tie for the most patients (R8)")
        main, rest = by_size[0], by_size[1:]
        detached = sorted(p for g in rest for p in g)
        add(
            "contiguity",
            "split",
            "ERROR",
            code,
            members[code],
            {
                "n_components": len(by_size),
                "list_size": int(pcns.loc[code, "list_size"]),
                "detached_practices": detached,
                "detached_list_size": int(size_of[detached].sum()),
                "distance_m": _round(shapely.distance(_geom(main), _geom(detached))),
            },
        )

    # ---- R9: exclaves by the README's rule (parts with none of the PCN's sites)
    site_of = pd.Series(list(site_pts), index=codes)
    for code, geom in foot_geom.items():
        parts = shapely.get_parts(geom)
        own = [site_of[p] for p in members.get(code, [])]
        anchored = np.array([any(shapely.intersects(part, s) for s in own) for part in parts])
        if not anchored.any() or anchored.all():
            continue
        anchor = shapely.union_all(parts[anchored])
        far = shapely.distance(parts[~anchored], anchor) > tol
        if far.any():
            raise ValueError(f"{code}: footprint part(s) with none of its practices (R9)")

    # ---- R9b: footprint fragments (planted kind "exclave")
    area_pop = areas.set_index("code")["population"]
    for code, geom in foot_geom.items():
        parts = shapely.get_parts(geom)
        if len(parts) == 1:
            continue
        pieces = [shapely.union_all(parts[g]) for g in _touching_groups(parts, tol)]
        if len(pieces) == 1:
            continue
        mine = areas[areas["pcn_code"] == code]
        inside = [
            mine.loc[shapely.covered_by(mine.geometry.values, piece), "code"] for piece in pieces
        ]
        gpops = [int(area_pop[c].sum()) for c in inside]
        order = np.argsort(gpops, kind="stable")[::-1]
        main = pieces[order[0]]
        for k in order[1:]:
            holders = territory.loc[territory["area_code"].isin(inside[k]), "practice_code"]
            add(
                "contiguity",
                "exclave",
                "WARNING",
                code,
                sorted(set(holders) & set(members[code])),
                {
                    "n_parts": len(pieces),
                    "exclave_areas": int(len(inside[k])),
                    "exclave_population": int(area_pop[inside[k]].sum()),
                    "exclave_area_km2": _round(pieces[k].area / 1e6),
                    "distance_m": _round(shapely.distance(main, pieces[k])),
                },
            )

    # ---- R6: co-located practices (INFO, planted; joined in the graph)
    for group in co_located:
        pcn = sorted(set(pcn_of[group]))
        add(
            "contiguity",
            "co_located",
            "INFO",
            pcn[0] if len(pcn) == 1 else None,
            group,
            {
                "n_practices": len(group),
                "distance_m": 0.0,
                "list_sizes": [int(size_of[c]) for c in group],
            },
        )

    # ---- R10: crossings
    for level, col, kind in (
        ("place", "place", "crosses_place"),
        ("sub_icb", "sub_icb", "crosses_sub_icb"),
        ("icb", "icb", "crosses_icb"),
    ):
        for code, mine in allocated.groupby("pcn_code"):
            if mine[col].nunique() < 2:
                continue
            add(
                "boundaries",
                kind,
                "WARNING",
                code,
                mine["practice_code"],
                {
                    f"n_{level}s": int(mine[col].nunique()),
                    "practices_by_" + level: mine.groupby(col).size().astype(int).to_dict(),
                    "list_size_by_" + level: mine.groupby(col)["list_size"]
                    .sum()
                    .astype(int)
                    .to_dict(),
                },
            )

    # ---- R11: recorded codes against where the site is, within one code system each
    for level, ods, ons in (("sub_icb", "sub_icb", "ons_sub_icb"), ("icb", "icb", "ons_icb")):
        wrong = (practices[f"recorded_{ods}"] != practices[ods]) | (
            practices[f"recorded_{ons}"] != practices[ons]
        )
        for _, row in practices[wrong].iterrows():
            add(
                "boundaries",
                f"{level}_mismatch",
                "WARNING",
                row["pcn_code"] if row["pcn_code"] != UNALLOCATED else None,
                [row["practice_code"]],
                {
                    f"recorded_{level}": row[f"recorded_{ods}"],
                    f"site_{level}": row[ods],
                    "list_size": int(row["list_size"]),
                },
            )

    # ---- R12: coverage
    won_loose = areas["code"].map(loose_winner)
    for _, row in practices[practices["pcn_code"] == UNALLOCATED].iterrows():
        add(
            "coverage",
            "unallocated_practice",
            "ERROR",
            None,
            [row["practice_code"]],
            {
                "list_size": int(row["list_size"]),
                "area_codes": sorted(areas.loc[won_loose == row["practice_code"], "code"]),
            },
        )
    # areas a practice in no PCN wins are named with it (above), not as holes
    holes = areas[~covered & won_loose.isna()].reset_index(drop=True)
    for group in _touching_groups(np.asarray(holes.geometry.values)):
        inside = holes.iloc[group]
        served = set(inside["served_from"])
        if len(served) > 1:
            raise ValueError(f"uncovered areas {sorted(inside['code'])} mix study and outside")
        add(
            "coverage",
            "hole" if served == {"outside"} else "uncovered_study_area",
            "WARNING",
            None,
            [],
            {
                "n_areas": int(len(inside)),
                "area_codes": sorted(inside["code"]),
                "population": int(inside["population"].sum()),
                "area_km2": _round(shapely.area(inside.geometry.values).sum() / 1e6),
            },
        )
    elsewhere = int(areas.loc[covered, "n_elsewhere"].sum())
    if elsewhere > 0:
        add(
            "coverage",
            "residents_registered_outside",
            "INFO",
            None,
            [],
            {"patients": elsewhere},
        )

    # ---- R13: split across community team areas
    team_of = areas.set_index("code")["team"]
    patients = in_area.assign(
        pcn_code=in_area["practice_code"].map(pcn_of), team=in_area["area_code"].map(team_of)
    )
    for code in pcns.index:
        by_team = areas[areas["pcn_code"] == code].groupby("team")["population"].sum()
        if (by_team >= MIN_TEAM_SHARE * by_team.sum()).sum() < 2:
            continue
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

    # ---- R14: community sites outside the PCN they declare
    points = shapely.points(sites[["easting", "northing"]].to_numpy(dtype=float))
    for point, (_, row) in zip(points, sites.iterrows(), strict=True):
        geom = foot_geom.get(row["pcn_code"])
        if geom is not None and shapely.covers(geom, point):
            continue
        holding = [c for c, g in foot_geom.items() if shapely.covers(g, point)]
        add(
            "alignment",
            "site_outside_footprint",
            "WARNING",
            row["pcn_code"],
            [],
            {
                "site_code": row["code"],
                "distance_m": _round(shapely.distance(point, geom)) if geom is not None else None,
                "footprint_pcn_at_site": holding[0] if holding else None,
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
        graph=graph,
    )


def findings_key(findings: list[dict]) -> list[tuple]:
    """A sortable identity for each finding: (check, kind, pcn_code, practice_codes)."""
    return sorted(
        (f["check"], f["kind"], f["pcn_code"] or "", tuple(f["practice_codes"])) for f in findings
    )


def dumps(obj) -> str:
    """JSON as the demo files write it (stable key order, two-space indent)."""
    return json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
