"""Contiguity check: a PCN's practices should form one connected group, and its footprint
should have no fragments cut off from its practices (exclaves)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn.checks.delta import near_footprints, rerun, updates
from geo_pcn.findings import Finding, Severity
from geo_pcn.geography.graph import components
from geo_pcn.settings import AREA_CODE, BNG, N_PATIENTS, PCN_CODE, PRACTICE_CODE

__all__ = ["check_contiguity"]


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def check_contiguity(study, configuration, *, context) -> list[Finding]:
    """Detached practice groups (ERROR), practices without a territory (WARNING) and
    footprint exclaves (WARNING).

    A detached group is named with its practices, its patients, its distance to the main
    group (the group with most patients) and the PCNs whose footprints lie between.
    """
    graph = context.graph
    territory = context.territories.practices.geometry
    sizes = context.list_sizes
    footprints = context.footprints.pcns
    findings: list[Finding] = []
    registered: list[frozenset] = []  # practices with residents in a small area: found once
    for code, members in configuration.members.items():
        label = context.pcn_label(code)
        placed = tuple(p for p in members if graph.nodes[p]["has_territory"])
        unplaced = tuple(p for p in members if p not in placed)
        if unplaced:
            if not registered:
                registered.append(_registered(study))
            why = _why_unplaced(study, context, unplaced, registered[0])
            findings.append(
                Finding(
                    check="contiguity",
                    kind="no_territory",
                    severity=Severity.WARNING,
                    message=(
                        f"{label}: "
                        + "; ".join(f"{p} {why[p]}" for p in unplaced)
                        + ". Contiguity is checked without "
                        + ("it." if len(unplaced) == 1 else "them.")
                    ),
                    pcn_code=code,
                    practice_codes=unplaced,
                    details={"reasons": {p: why[p] for p in unplaced}},
                )
            )
        groups = components(graph, placed)
        if len(groups) < 2:
            continue
        groups, joined = _join_through_footprint(groups, territory, footprints.geometry.get(code))
        if joined:
            findings.append(
                Finding(
                    check="contiguity",
                    kind="joined_by_footprint",
                    severity=Severity.INFO,
                    message=(
                        f"{label}: the territories of {' and '.join(', '.join(g) for g in joined)} "
                        "do not touch, but the PCN's own footprint joins them (the areas between "
                        "have more of the PCN's patients than any other PCN's), so it counts as "
                        "contiguous."
                    ),
                    pcn_code=code,
                    practice_codes=tuple(sorted(p for g in joined for p in g)),
                    details={"groups": [list(g) for g in joined]},
                )
            )
        if len(groups) < 2:
            continue
        patients = [int(sizes.reindex(list(g)).sum()) for g in groups]
        # the main group has most patients (then most practices, then the smallest code)
        main_i = min(range(len(groups)), key=lambda i: (-patients[i], -len(groups[i]), groups[i]))
        main = groups[main_i]
        main_geom = shapely.union_all(territory.reindex(list(main)).to_numpy())
        for i, group in enumerate(groups):
            if i == main_i:
                continue
            geom = shapely.union_all(territory.reindex(list(group)).to_numpy())
            distance = float(shapely.distance(geom, main_geom))
            line = shapely.shortest_line(geom, main_geom)
            between = _pcns_between(footprints, line, exclude=code, context=context)
            names = ", ".join(between) if between else "no other PCN"
            # a group with no registered patients (a practice closed or not yet reporting)
            # is placed only by its site: worth a look, not a failed configuration
            empty = patients[i] == 0 and context.territories.method == "registrations"
            findings.append(
                Finding(
                    check="contiguity",
                    kind="detached_group",
                    severity=Severity.WARNING if empty else Severity.ERROR,
                    message=(
                        f"{label} is not contiguous: {', '.join(group)} ({patients[i]:,} patients) "
                        f"{'is' if len(group) == 1 else 'are'} {_km(distance)} from the main group "
                        f"of {len(main)} practice{'s' * (len(main) != 1)}, across {names}"
                        + (
                            "; with no registered patients, only "
                            f"{'its' if len(group) == 1 else 'their'} site places "
                            f"{'it' if len(group) == 1 else 'them'} (closed or not yet reporting?)."
                            if empty
                            else "."
                        )
                    ),
                    pcn_code=code,
                    practice_codes=group,
                    value=round(distance, 1),
                    threshold=context.study.rules.adjacency_tolerance_m,
                    details={
                        "patients": patients[i],
                        "distance_m": round(distance, 1),
                        "main_group": list(main),
                        "pcns_between": between,
                    },
                    geometry=shapely.GeometryCollection([geom, line]),
                )
            )
    findings.extend(_exclaves(study, configuration, context))
    return findings


def _registered(study) -> frozenset:
    """Codes of the practices with registered residents in any small area."""
    reg = study.registrations
    if reg is None:
        return frozenset()
    codes = reg[PRACTICE_CODE].to_numpy(dtype=object)[(reg["area_kind"] == "small_area").to_numpy()]
    return frozenset(pd.unique(codes))


def _why_unplaced(study, context, practices, registered: frozenset) -> dict[str, str]:
    """Why each practice has no territory, exactly."""
    geometry = study.practices.geometry
    terr = context.territories
    out = {}
    for p in practices:
        located = geometry.get(p) is not None and not shapely.is_missing(geometry.get(p))
        if terr.method == "voronoi":
            out[p] = (
                "is not located (no coordinates or postcode match)"
                if not located
                else ("has a site outside the study boundary")
            )
            continue
        parts = []
        if p not in registered:
            parts.append("has no registered residents in any small area of the areas layer")
        else:
            parts.append("has registered residents, but in no small area of the study")
        if not located:
            parts.append("is not located (no coordinates or postcode match)")
        else:
            parts.append("its site lies outside every small area of the areas layer")
        out[p] = " and ".join(parts)
    return out


def _join_through_footprint(groups, territory, footprint):
    """Merge practice groups whose territories overlap the same connected part of their
    PCN's footprint. Returns the merged groups (largest first) and, when any merge
    happened, the original groups that were joined."""
    if footprint is None or shapely.is_empty(footprint):
        return groups, []
    parts = shapely.get_parts(footprint)
    geoms = [shapely.union_all(territory.reindex(list(g)).to_numpy()) for g in groups]
    # group i -> the footprint parts its territory overlaps (by area, not just touching)
    overlap = shapely.area(shapely.intersection(np.asarray(geoms)[:, None], parts[None, :])) > 1.0
    merged: list[set[int]] = []
    for i in range(len(groups)):
        hit = [m for m in merged if any(overlap[i] & overlap[list(m)].any(axis=0))]
        new = {i}.union(*hit)
        merged = [m for m in merged if m not in hit] + [new]
    if len(merged) == len(groups):
        return groups, []
    joined = [groups[i] for m in merged if len(m) > 1 for i in sorted(m)]
    out = [tuple(sorted(p for i in m for p in groups[i])) for m in merged]
    return sorted(out, key=lambda g: (-len(g), g)), joined


def _pcns_between(footprints: gpd.GeoDataFrame, line, *, exclude: str, context) -> list[str]:
    """Labels of PCNs (other than ``exclude``) whose footprints the line runs through."""
    if shapely.is_empty(line) or line.length == 0:
        return []
    idx = footprints.sindex.query(line, predicate="intersects")
    hits = footprints.iloc[idx]
    hits = hits[hits.index != exclude]
    if hits.empty:
        return []
    lengths = shapely.length(shapely.intersection(hits.geometry.to_numpy(), line))
    hits = hits[lengths > 1.0]
    return [context.pcn_label(c) for c in sorted(hits.index)]


def _exclaves(study, configuration, context) -> list[Finding]:
    """Footprint parts holding none of the PCN's practice sites and farther than the
    adjacency tolerance from every part that does."""
    tol = study.rules.adjacency_tolerance_m
    fp = context.footprints
    parts = fp.pcns.geometry.explode(index_parts=False)
    parts = parts[~parts.is_empty]
    if parts.index.nunique() == len(parts):  # every PCN in one piece
        return []
    parts = gpd.GeoDataFrame({PCN_CODE: parts.index.to_numpy()}, geometry=parts.to_numpy(), crs=BNG)
    # which parts hold a site of one of their PCN's practices
    assign = configuration.assignments
    sites = study.practices.geometry
    sites = sites[sites.notna() & assign.reindex(sites.index).fillna("").ne("").to_numpy()]
    p_idx, s_idx = parts.sindex.query(sites.to_numpy(), predicate="intersects")
    own = parts[PCN_CODE].to_numpy()[s_idx] == assign.reindex(sites.index).to_numpy()[p_idx]
    anchored = np.zeros(len(parts), dtype=bool)
    anchored[s_idx[own]] = True
    # patients of the PCN living in each part (registrations method)
    part_patients = _patients_by_part(parts, fp, context)
    findings: list[Finding] = []
    for code, group in parts.groupby(PCN_CODE, sort=True):
        if len(group) < 2:
            continue
        pos = group.index.to_numpy()
        anchors = pos[anchored[pos]]
        if len(anchors) == 0:  # no part holds a site: the part with most patients anchors
            anchors = pos[[int(np.argmax(part_patients[pos]))]]
        anchor_geom = shapely.union_all(parts.geometry.to_numpy()[anchors])
        pieces = []
        for p in pos:
            if p in anchors:
                continue
            geom = parts.geometry.iloc[p]
            distance = float(shapely.distance(geom, anchor_geom))
            if distance <= tol:
                continue
            pieces.append((geom, distance, int(part_patients[p]), _areas_in(geom, fp)))
        if not pieces:
            continue
        # many fragments of one PCN are one finding: the count, the patients, the worst
        n = sum(x[2] for x in pieces)
        areas = sorted(a for x in pieces for a in x[3])
        far = max(pieces, key=lambda x: (x[1], x[2]))
        what = (
            f"a footprint fragment of {len(areas)} small area{'s' * (len(areas) != 1)} "
            f"({n:,} of its patients live there) {_km(far[1])} from the rest of its footprint"
            if len(pieces) == 1
            else f"{len(pieces)} footprint fragments ({len(areas)} small areas, {n:,} of its "
            f"patients) away from the rest of its footprint, the farthest {_km(far[1])}"
        )
        findings.append(
            Finding(
                check="contiguity",
                kind="exclave",
                severity=Severity.WARNING,
                message=(
                    f"{context.pcn_label(code)} has {what}, with none of its practices in "
                    f"{'it' if len(pieces) == 1 else 'them'}."
                ),
                pcn_code=code,
                practice_codes=(),
                value=n,
                threshold=tol,
                details={
                    "areas": areas,
                    "patients": n,
                    "n_fragments": len(pieces),
                    "distance_m": round(far[1], 1),
                    "fragments": [
                        {"areas": x[3], "patients": x[2], "distance_m": round(x[1], 1)}
                        for x in pieces
                    ],
                },
                geometry=shapely.union_all([x[0] for x in pieces]),
            )
        )
    return findings


def _patients_by_part(parts: gpd.GeoDataFrame, fp, context) -> np.ndarray:
    out = np.zeros(len(parts), dtype="int64")
    terr = fp.territories
    if terr.residents is None or fp.area_pcn is None:
        return out
    areas = terr.study_areas
    points = terr.area_points
    a_idx, p_idx = parts.sindex.query(points, predicate="intersects")
    match = parts[PCN_CODE].to_numpy()[p_idx] == fp.area_pcn.reindex(areas.index[a_idx]).to_numpy()
    area_part = pd.Series(p_idx[match], index=areas.index[a_idx[match]])
    area_part = area_part[~area_part.index.duplicated()]
    res = terr.residents
    pcn = res[PRACTICE_CODE].map(fp.configuration.assignments)
    res = res[pcn.to_numpy() == fp.area_pcn.reindex(res[AREA_CODE]).to_numpy()]
    by_area = res.groupby(AREA_CODE)[N_PATIENTS].sum()
    by_part = by_area.groupby(area_part.reindex(by_area.index)).sum()
    out[by_part.index.astype(int)] = by_part.to_numpy()
    return out


def _areas_in(geom, fp) -> list[str]:
    """Codes of the small areas whose representative point lies in ``geom``."""
    areas = fp.territories.study_areas
    if areas is None:
        return []
    hits = fp.territories.area_point_tree.query(geom, predicate="intersects")
    return sorted(areas.index[hits])


@updates(check_contiguity)
def update_contiguity(parent, study, configuration, *, context, delta) -> list[Finding]:
    """Contiguity findings of a changed configuration: the touched PCNs checked again on
    the footprints near them; the rest reused."""
    view = {"footprints": near_footprints(context.footprints, delta.near)}
    new = [
        f
        for f in rerun(check_contiguity, study, context, members=delta.redo, context_view=view)
        if f.pcn_code in delta.redo
    ]
    return [f for f in parent if f.pcn_code not in delta.touched] + new
