"""Contiguity check: a PCN's practices should form one connected group, and its footprint
should have no fragments cut off from its practices (exclaves)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn.checks.delta import rerun, updates
from geo_pcn.findings import Finding, Severity
from geo_pcn.geography.graph import components
from geo_pcn.settings import AREA_CODE, BNG, N_PATIENTS, PCN_CODE, PRACTICE_CODE

__all__ = ["check_contiguity"]


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def check_contiguity(study, configuration, *, context) -> list[Finding]:
    """Detached practice groups (ERROR), practices with no home (WARNING) and footprint
    exclaves (WARNING), judged on the pieces the map draws.

    Practices are connected through their *home pieces* (the practice graph); groups whose
    homes lie in one piece of the PCN's own footprint are joined (its areas between have
    more of the PCN's patients than any other PCN's). A detached group is named with its
    practices, its patients, its distance to the main group (the group with most patients;
    measured between their homes) and the PCNs whose footprints lie between.
    """
    graph = context.graph
    home = context.territories.home
    sizes = context.list_sizes
    footprints = context.footprints.pcns
    anchors = _Anchors(context)
    findings: list[Finding] = []
    registered: list[frozenset] = []  # practices with residents in a small area: found once
    for code, members in configuration.members.items():
        label = context.pcn_label(code)
        placed = tuple(p for p in members if graph.nodes[p]["has_home"])
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
            findings.extend(_drawn_in_pieces(placed, code, anchors, context))
            continue
        groups, joined = _join_through_footprint(groups, anchors, code)
        if joined:
            findings.append(
                Finding(
                    check="contiguity",
                    kind="joined_by_footprint",
                    severity=Severity.INFO,
                    message=(
                        f"{label}: the home pieces of {' and '.join(', '.join(g) for g in joined)} "
                        "do not touch, but the PCN's own footprint joins them or their sites "
                        "(the areas between "
                        "have more of the PCN's patients than any other PCN's), so it counts as "
                        "contiguous."
                    ),
                    pcn_code=code,
                    practice_codes=tuple(sorted(p for g in joined for p in g)),
                    details={"groups": [list(g) for g in joined]},
                )
            )
        if len(groups) < 2:
            findings.extend(_drawn_in_pieces(placed, code, anchors, context))
            continue
        patients = [int(sizes.reindex(list(g)).sum()) for g in groups]
        # the main group has most patients (then most practices, then the smallest code)
        main_i = min(range(len(groups)), key=lambda i: (-patients[i], -len(groups[i]), groups[i]))
        main = groups[main_i]
        main_geom = shapely.union_all(home.reindex(list(main)).to_numpy())
        guessed = _guessed_sites(study)
        for i, group in enumerate(groups):
            if i == main_i:
                continue
            geom = shapely.union_all(home.reindex(list(group)).to_numpy())
            distance = float(shapely.distance(geom, main_geom))
            line = shapely.shortest_line(geom, main_geom)
            between = _pcns_between(footprints, line, exclude=code, context=context)
            names = ", ".join(between) if between else "no other PCN"
            # a group with no registered patients (a practice closed or not yet reporting)
            # is placed only by its site: worth a look, not a failed configuration
            empty = patients[i] == 0 and context.territories.method == "registrations"
            sited = sorted(p for p in (*group, *main) if p in guessed)
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
                        + (
                            f" (The site of {', '.join(sited)} is guessed from its residents: "
                            "the distance is approximate.)"
                            if sited
                            else ""
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
                        **({"guessed_sites": sited} if sited else {}),
                    },
                    geometry=shapely.GeometryCollection([geom, line]),
                )
            )
    findings.extend(_exclaves(study, configuration, context, anchors))
    return findings


def _guessed_sites(study) -> frozenset:
    """Practices whose site was placed at their residents' centre (not a real address)."""
    method = study.practices.get("locate_method")
    if method is None:
        return frozenset()
    text = method.fillna("").astype(str)
    return frozenset(text.index[text.str.contains("resident", case=False)])


def _registered(study) -> frozenset:
    """Codes of the practices with registered residents in any small area."""
    reg = study.registrations
    if reg is None:
        return frozenset()
    codes = reg[PRACTICE_CODE].to_numpy(dtype=object)[(reg["area_kind"] == "small_area").to_numpy()]
    return frozenset(pd.unique(codes))


def _why_unplaced(study, context, practices, registered: frozenset) -> dict[str, str]:
    """Why each practice has no home (no territory and no located site in a small area),
    exactly."""
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
            parts.append(
                "wins no small area of the study (other practices have more of the registered "
                "residents wherever its patients live)"
            )
        if not located:
            parts.append("is not located (no coordinates or postcode match)")
        else:
            parts.append("its site lies outside every small area of the areas layer")
        out[p] = " and ".join(parts)
    return out


class _Anchors:
    """Where each practice is in the footprints: the footprint pieces holding its home
    (the areas of its home piece, or its site area) and its site (registrations method)."""

    def __init__(self, context) -> None:
        terr = context.territories
        fp = context.footprints
        self.pieces = fp.area_piece
        self.owner = None if self.pieces is None else fp.area_owner
        self._home = terr.home_positions if self.pieces is not None else {}
        self._site = terr.site_positions if self.pieces is not None else {}

    def home_pieces(self, practices, pcn: str) -> set[int]:
        """Labels of ``pcn``'s footprint pieces that hold the homes of ``practices``."""
        if self.pieces is None:
            return set()
        out: set[int] = set()
        for p in practices:
            at = self._home.get(p)
            if at is not None and len(at):
                out.update(self.pieces[at][self.owner[at] == pcn].tolist())
        return out

    def site_pieces(self, practices, pcn: str) -> set[int]:
        """Labels of ``pcn``'s footprint pieces holding the sites of ``practices``."""
        if self.pieces is None:
            return set()
        at = np.array([self._site.get(p, -1) for p in practices], dtype=np.int64)
        at = at[at >= 0]
        return set(self.pieces[at][self.owner[at] == pcn].tolist())


def _drawn_in_pieces(members, pcn: str, anchors: _Anchors, context) -> list[Finding]:
    """A WARNING when the PCN's practices join up (their home pieces touch, or its footprint
    joins them) but its footprint, as drawn, is in pieces that each hold practices: the
    areas between are won by other PCNs' patients, so the map shows the PCN in pieces."""
    if anchors.pieces is None:
        return []
    held = {p: anchors.home_pieces([p], pcn) | anchors.site_pieces([p], pcn) for p in members}
    held = {p: h for p, h in held.items() if h}
    # pieces that hold one practice are one drawn group (a practice can hold several)
    labels = sorted({x for h in held.values() for x in h})
    if len(labels) < 2:
        return []
    parent = {x: x for x in labels}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for h in held.values():
        first, *rest = sorted(h)
        for x in rest:
            parent[find(x)] = find(first)
    roots = sorted({find(x) for x in labels})
    if len(roots) < 2:
        return []
    sizes = context.list_sizes
    groups = [tuple(sorted(p for p, h in held.items() if find(min(h)) == r)) for r in roots]
    patients = [int(sizes.reindex(list(g)).sum()) for g in groups]
    main_i = min(range(len(groups)), key=lambda i: (-patients[i], -len(groups[i]), groups[i]))
    areas = context.territories.study_areas.geometry.to_numpy()
    pieces = anchors.pieces

    def shape(root):
        mine = [x for x in labels if find(x) == root]
        return shapely.multipolygons(shapely.get_parts(areas[np.isin(pieces, mine)]))

    main_geom = shape(roots[main_i])
    others = [i for i in range(len(groups)) if i != main_i]
    far = {i: float(shapely.distance(shape(roots[i]), main_geom)) for i in others}
    label = context.pcn_label(pcn)
    apart = "; ".join(
        f"{', '.join(groups[i])} ({patients[i]:,} patients) {_km(far[i])} away" for i in others
    )
    return [
        Finding(
            check="contiguity",
            kind="footprint_in_pieces",
            severity=Severity.WARNING,
            message=(
                f"{label}: its practices' home pieces join up, but its footprint is drawn in "
                f"{len(groups)} pieces holding practices (the areas between have more of other "
                f"PCNs' patients): {apart} from the piece of {', '.join(groups[main_i])}."
            ),
            pcn_code=pcn,
            practice_codes=tuple(sorted(p for i in others for p in groups[i])),
            value=round(max(far.values()), 1),
            threshold=context.study.rules.adjacency_tolerance_m,
            details={
                "groups": [list(g) for g in groups],
                "patients": patients,
                "main_group": list(groups[main_i]),
                "distance_m": {", ".join(groups[i]): round(far[i], 1) for i in others},
            },
            geometry=shapely.union_all([shape(roots[i]) for i in others]),
        )
    ]


def _join_through_footprint(groups, anchors: _Anchors, pcn: str):
    """Merge practice groups whose homes or sites lie in the same piece of their PCN's
    footprint (a practice whose site is in a piece of its PCN's footprint is drawn there,
    even when its home piece, holding most of its residents, is elsewhere). Returns the
    merged groups (largest first) and, when any merge happened, the original groups that
    were joined."""
    held = [anchors.home_pieces(g, pcn) | anchors.site_pieces(g, pcn) for g in groups]
    merged: list[set[int]] = []
    for i in range(len(groups)):
        hit = [m for m in merged if any(held[i] & held[j] for j in m)]
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


def _exclaves(study, configuration, context, anchors: _Anchors) -> list[Finding]:
    """Pieces of a PCN's footprint holding neither the home nor the site of any of its
    practices: each is farther than the adjacency tolerance from every other piece (pieces
    within it are one piece), and is named with its small areas and the PCN's patients
    living there. Voronoi footprints have no small areas: their polygon parts are judged."""
    fp = context.footprints
    if fp.area_piece is None:
        return _voronoi_exclaves(study, configuration, context)
    terr = context.territories
    tol = study.rules.adjacency_tolerance_m
    pieces, owner = fp.area_piece, fp.area_owner
    codes = np.asarray(list(configuration.members), dtype=object)
    if not len(codes):
        return []
    wanted = np.isin(owner, codes) & (pieces >= 0)
    if not wanted.any():
        return []
    frame = pd.DataFrame({"pcn": owner[wanted], "piece": pieces[wanted]})
    n_pieces = frame.drop_duplicates("piece").groupby("pcn").size()
    split = n_pieces.index[n_pieces.to_numpy() > 1]
    if not len(split):
        return []
    areas = terr.study_areas
    geoms = areas.geometry.to_numpy()
    names = areas.index.to_numpy(dtype=object)
    residents = _pcn_residents_by_area(terr, fp, configuration, split)
    findings: list[Finding] = []
    for code in sorted(split):
        members = configuration.members[code]
        at = np.flatnonzero((owner == code) & (pieces >= 0))
        labels = pieces[at]
        held = anchors.home_pieces(members, code) | anchors.site_pieces(members, code)
        by_piece = pd.Series(residents.reindex(names[at]).fillna(0).to_numpy(), index=labels)
        by_piece = by_piece.groupby(level=0).sum()
        if not held:  # no piece holds a practice: the piece with most patients anchors
            held = {int(by_piece.sort_values(ascending=False, kind="stable").index[0])}
        anchor_at = at[np.isin(labels, list(held))]
        anchor_geom = shapely.multipolygons(shapely.get_parts(geoms[anchor_at]))
        pieces_out = []
        for label in sorted(set(labels.tolist()) - held):
            mine = at[labels == label]
            geom = shapely.union_all(geoms[mine])
            distance = float(shapely.distance(geom, anchor_geom))
            pieces_out.append(
                (geom, distance, int(by_piece.get(label, 0)), sorted(names[mine].tolist()))
            )
        if not pieces_out:
            continue
        findings.append(_exclave_finding(code, pieces_out, tol, context))
    return findings


def _exclave_finding(code, pieces, tol, context) -> Finding:
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
    return Finding(
        check="contiguity",
        kind="exclave",
        severity=Severity.WARNING,
        message=(
            f"{context.pcn_label(code)} has {what}, with none of its practices' sites or home "
            f"pieces in {'it' if len(pieces) == 1 else 'them'}."
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
                {"areas": x[3], "patients": x[2], "distance_m": round(x[1], 1)} for x in pieces
            ],
        },
        geometry=shapely.union_all([x[0] for x in pieces]),
    )


def _pcn_residents_by_area(terr, fp, configuration, pcns) -> pd.Series:
    """Patients of each of ``pcns`` living in each area that PCN wins (area_code index)."""
    by_practice = terr.resident_rows[0]
    practices = [p for c in pcns for p in configuration.members[c] if p in by_practice]
    if not practices:
        return pd.Series(dtype="int64")
    res = terr.residents.iloc[np.concatenate([by_practice[p] for p in practices])]
    pcn = res[PRACTICE_CODE].map(configuration.assignments).to_numpy(dtype=object)
    won = fp.area_pcn.reindex(res[AREA_CODE]).to_numpy(dtype=object)
    res = res[pcn == won]
    return res.groupby(AREA_CODE)[N_PATIENTS].sum()


def _voronoi_exclaves(study, configuration, context) -> list[Finding]:
    """Voronoi footprints: polygon parts holding none of the PCN's practice sites and
    farther than the adjacency tolerance from every part that does."""
    tol = study.rules.adjacency_tolerance_m
    fp = context.footprints
    pcns = fp.pcns.loc[[c for c in fp.pcns.index if c in configuration.members]]
    parts = pcns.geometry.explode(index_parts=False)
    parts = parts[~parts.is_empty]
    if parts.index.nunique() == len(parts):
        return []
    parts = gpd.GeoDataFrame({PCN_CODE: parts.index.to_numpy()}, geometry=parts.to_numpy(), crs=BNG)
    assign = configuration.assignments
    sites = study.practices.geometry
    sites = sites[sites.notna() & assign.reindex(sites.index).fillna("").ne("").to_numpy()]
    p_idx, s_idx = parts.sindex.query(sites.to_numpy(), predicate="intersects")
    own = parts[PCN_CODE].to_numpy()[s_idx] == assign.reindex(sites.index).to_numpy()[p_idx]
    anchored = np.zeros(len(parts), dtype=bool)
    anchored[s_idx[own]] = True
    findings = []
    for code, group in parts.groupby(PCN_CODE, sort=True):
        if len(group) < 2:
            continue
        pos = group.index.to_numpy()
        anchors = pos[anchored[pos]] if anchored[pos].any() else pos[:1]
        anchor_geom = shapely.union_all(parts.geometry.to_numpy()[anchors])
        pieces = []
        for p in pos:
            if p in anchors:
                continue
            geom = parts.geometry.iloc[p]
            distance = float(shapely.distance(geom, anchor_geom))
            if distance > tol:
                pieces.append((geom, distance, 0, []))
        if pieces:
            findings.append(_exclave_finding(code, pieces, tol, context))
    return findings


@updates(check_contiguity)
def update_contiguity(parent, study, configuration, *, context, delta) -> list[Finding]:
    """Contiguity findings of a changed configuration: the touched PCNs checked again;
    the rest reused (a PCN's pieces depend on its own areas only)."""
    new = [
        f
        for f in rerun(check_contiguity, study, context, members=delta.redo)
        if f.pcn_code in delta.redo
    ]
    return [f for f in parent if f.pcn_code not in delta.touched] + new
