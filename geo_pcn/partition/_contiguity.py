"""The contiguity metrics of a partition, PCN by PCN: practice groups on the home-piece
graph (joined through the PCN's own footprint), the detached groups measured, and the
footprint pieces that hold none of a PCN's practices (exclaves).

Each PCN's value depends on its own practices and footprint, and (for a detached group)
on the footprints its connecting line crosses: the updaters in :mod:`.updaters` recompute
only the PCNs a change touches.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn.geography._codes import positions
from geo_pcn.geography.graph import components
from geo_pcn.settings import AREA_CODE, BNG, N_PATIENTS, PCN_CODE

__all__ = [
    "Detached",
    "DrawnApart",
    "PCNContiguity",
    "Exclave",
    "contiguity_of",
    "exclaves_of",
]


@dataclass(frozen=True)
class Detached:
    """A practice group cut off from its PCN's main group."""

    practices: tuple[str, ...]
    patients: int
    distance_m: float
    line: shapely.Geometry  # shortest line from the group's homes to the main group's
    geometry: shapely.Geometry  # the group's home pieces
    pcns_between: tuple[str, ...]  # codes of the PCNs whose footprints the line runs through


@dataclass(frozen=True)
class DrawnApart:
    """A PCN whose practices join up but whose footprint is drawn in pieces that each hold
    practices (the areas between have more of other PCNs' patients): the practices drawn
    in each piece, their patients, the main one (most patients) and how far each other
    piece is from it."""

    groups: tuple[tuple[str, ...], ...]
    patients: tuple[int, ...]
    main: int
    distance_m: tuple[float, ...]  # per group; 0 for the main one
    geometry: shapely.Geometry  # the pieces apart from the main one


@dataclass(frozen=True)
class PCNContiguity:
    """One PCN's practices on the graph.

    ``unplaced``: practices with no home (no territory and no site in a small area);
    ``joined``: the groups the PCN's own footprint joins (empty when none);
    ``main``: the group with most patients; ``detached``: the others.
    """

    unplaced: tuple[str, ...]
    joined: tuple[tuple[str, ...], ...]
    main: tuple[str, ...]
    detached: tuple[Detached, ...]
    drawn_apart: DrawnApart | None = None

    @property
    def n_components(self) -> int:
        return 1 + len(self.detached)


@dataclass(frozen=True)
class Exclave:
    """A piece of a PCN's footprint holding neither the home nor the site of any of its
    practices."""

    geometry: shapely.Geometry
    distance_m: float
    patients: int
    areas: tuple[str, ...]


class _Anchors:
    """Where each practice is in the footprints: the footprint pieces holding its home
    (the areas of its home piece, or its site area) and its site (registrations method)."""

    def __init__(self, partition) -> None:
        terr = partition.territories
        fp = partition.footprints
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


def _patients(partition, groups) -> list[int]:
    """Patients of each practice group (a practice with no list size counts 0)."""
    size = partition.list_size_of
    return [int(sum(size.get(p, 0) for p in g)) for g in groups]


def _drawn_apart(partition, members, pcn: str, anchors: _Anchors) -> DrawnApart | None:
    """:class:`DrawnApart` when the pieces of ``pcn``'s footprint that hold its practices'
    homes or sites are more than one (joined where one practice holds several)."""
    if anchors.pieces is None:
        return None
    held = {p: anchors.home_pieces([p], pcn) | anchors.site_pieces([p], pcn) for p in members}
    held = {p: h for p, h in held.items() if h}
    labels = sorted({x for h in held.values() for x in h})
    if len(labels) < 2:
        return None
    from networkx.utils import UnionFind  # here: `geo-pcn info` checks no contiguity

    union = UnionFind(labels)
    for h in held.values():
        union.union(*h)
    roots = sorted({union[x] for x in labels})
    if len(roots) < 2:
        return None
    groups = [tuple(sorted(p for p, h in held.items() if union[min(h)] == r)) for r in roots]
    patients = _patients(partition, groups)
    main = min(range(len(groups)), key=lambda i: (-patients[i], -len(groups[i]), groups[i]))
    areas = partition.territories.study_areas.geometry.to_numpy()

    def shape(root):
        mine = [x for x in labels if union[x] == root]
        return shapely.multipolygons(shapely.get_parts(areas[np.isin(anchors.pieces, mine)]))

    main_geom = shape(roots[main])
    shapes = [shape(r) for r in roots]
    distance = tuple(
        0.0 if i == main else float(shapely.distance(g, main_geom)) for i, g in enumerate(shapes)
    )
    others = shapely.union_all([g for i, g in enumerate(shapes) if i != main])
    return DrawnApart(tuple(groups), tuple(patients), main, distance, others)


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


class _Footprints:
    """The PCN footprints as arrays (codes, geometries, spatial index), read once per
    partition: a pandas lookup per detached group costs more than the geometry."""

    def __init__(self, footprints: gpd.GeoDataFrame) -> None:
        self.codes = footprints.index.to_numpy(dtype=object)
        self.geoms = footprints.geometry.to_numpy()
        self.tree = footprints.sindex


def _pcns_between(footprints: _Footprints, line, *, exclude: str) -> tuple[str, ...]:
    """Codes of PCNs (other than ``exclude``) whose footprints the line runs through."""
    if shapely.is_empty(line) or line.length == 0:
        return ()
    idx = footprints.tree.query(line, predicate="intersects")
    idx = idx[footprints.codes[idx] != exclude]
    if not len(idx):
        return ()
    lengths = shapely.length(shapely.intersection(footprints.geoms[idx], line))
    return tuple(sorted(footprints.codes[idx[lengths > 1.0]].tolist()))


def contiguity_of(partition, codes) -> dict[str, PCNContiguity]:
    """:class:`PCNContiguity` of each PCN of ``codes`` (code order)."""
    graph = partition.graph
    home = partition.territories.home
    home_geoms = home.to_numpy()
    home_at = partition.study_fact(  # (built once: a move asks for a few PCNs)
        "home_at", lambda: dict(zip(home.index.tolist(), range(len(home)), strict=True))
    )

    def homes(group) -> list:  # as home.reindex(group): None for a practice not there
        return [home_geoms[home_at[p]] if p in home_at else None for p in group]

    footprints = _Footprints(partition.footprints.pcns)
    members = partition.configuration.members
    anchors = _Anchors(partition)
    out: dict[str, PCNContiguity] = {}
    for code in sorted(codes):
        practices = members.get(code, ())
        placed = tuple(p for p in practices if graph.nodes[p]["has_home"])
        unplaced = tuple(p for p in practices if p not in placed)
        groups = components(graph, placed)
        joined: list = []
        if len(groups) >= 2:
            groups, joined = _join_through_footprint(groups, anchors, code)
        if len(groups) < 2:
            main = tuple(groups[0]) if groups else ()
            apart = _drawn_apart(partition, placed, code, anchors)
            out[code] = PCNContiguity(unplaced, tuple(map(tuple, joined)), main, (), apart)
            continue
        patients = _patients(partition, groups)
        # the main group has most patients (then most practices, then the smallest code)
        main_i = min(range(len(groups)), key=lambda i: (-patients[i], -len(groups[i]), groups[i]))
        main = groups[main_i]
        main_geom = shapely.union_all(homes(main))
        detached = []
        for i, group in enumerate(groups):
            if i == main_i:
                continue
            geom = shapely.union_all(homes(group))
            distance = float(shapely.distance(geom, main_geom))
            line = shapely.shortest_line(geom, main_geom)
            between = _pcns_between(footprints, line, exclude=code)
            detached.append(Detached(tuple(group), patients[i], distance, line, geom, between))
        out[code] = PCNContiguity(unplaced, tuple(map(tuple, joined)), tuple(main), tuple(detached))
    return out


def exclaves_of(partition, codes) -> dict[str, tuple[Exclave, ...]]:
    """The exclaves of each PCN of ``codes`` that has any: pieces of its footprint holding
    neither the home nor the site of any of its practices, each farther than the adjacency
    tolerance from every other piece (pieces within it are one piece), with their small
    areas and the PCN's patients living there. Voronoi footprints have no small areas:
    their polygon parts are judged."""
    fp = partition.footprints
    codes = [c for c in sorted(codes) if c in partition.configuration.members]
    if not codes:
        return {}
    if fp.area_piece is None:
        return _voronoi_exclaves(partition, codes)
    terr = partition.territories
    configuration = partition.configuration
    pieces, owner = fp.area_piece, fp.area_owner
    if len(codes) <= 16:  # the few PCNs of a move: comparisons, not a sort of every owner
        wanted = np.zeros(len(owner), dtype=bool)
        for code in codes:
            wanted |= owner == code
        wanted &= pieces >= 0
        at_of = None
    else:  # many: each area's owner as a number, the areas of each owner a slice
        owner_id, owners = pd.factorize(owner)
        owner_id[pieces < 0] = -1
        wanted = (pd.Index(codes, dtype=object).get_indexer(owners) >= 0)[owner_id]
        wanted &= owner_id >= 0
        at_of = _positions_by_key(owner_id, owners)
    if not wanted.any():
        return {}
    # PCNs whose footprint has more than one piece (a piece label is one PCN's)
    _, first = np.unique(pieces[wanted], return_index=True)
    piece_pcn, n_pieces = np.unique(owner[wanted][first].astype(str), return_counts=True)
    split = sorted(piece_pcn[n_pieces > 1].tolist())
    if not split:
        return {}
    anchors = _Anchors(partition)
    areas = terr.study_areas
    geoms = areas.geometry.to_numpy()
    names = areas.index.to_numpy(dtype=object)
    out: dict[str, tuple[Exclave, ...]] = {}
    for code in sorted(split):
        members = configuration.members[code]
        at = np.flatnonzero((owner == code) & (pieces >= 0)) if at_of is None else at_of[code]
        labels = pieces[at]
        held = anchors.home_pieces(members, code) | anchors.site_pieces(members, code)
        # the PCN's patients living in each of its pieces (labels in order)
        patients = _pcn_residents_by_area(partition, members, code)[at]
        piece, inverse = np.unique(labels, return_inverse=True)
        by_piece = pd.Series(
            np.bincount(inverse.ravel(), weights=patients, minlength=len(piece)).astype("int64"),
            index=piece,
        )
        if not held:  # no piece holds a practice: the piece with most patients anchors
            held = {int(by_piece.sort_values(ascending=False, kind="stable").index[0])}
        anchor_at = at[_isin_few(labels, held)]
        anchor_geom = shapely.multipolygons(shapely.get_parts(geoms[anchor_at]))
        found = []
        for label in sorted(set(labels.tolist()) - held):
            mine = at[labels == label]
            geom = shapely.union_all(geoms[mine])
            distance = float(shapely.distance(geom, anchor_geom))
            found.append(
                Exclave(
                    geom, distance, int(by_piece.get(label, 0)), tuple(sorted(names[mine].tolist()))
                )
            )
        if found:
            out[code] = tuple(found)
    return out


def _positions_by_key(key_id: np.ndarray, keys) -> dict:
    """``key -> positions (ascending) where key_id is its number``, ``-1`` left out: one
    stable sort, not a comparison of every position per key."""
    order = np.argsort(key_id, kind="stable")
    edges = np.searchsorted(key_id[order], np.arange(len(keys) + 1))
    return {k: order[edges[i] : edges[i + 1]] for i, k in enumerate(keys)}


def _isin_few(values: np.ndarray, few) -> np.ndarray:
    """``np.isin(values, list(few))`` for a handful of integers (np.isin sorts)."""
    mask = np.zeros(len(values), dtype=bool)
    for x in few:
        mask |= values == x
    return mask


def _pcn_residents_by_area(partition, members, code: str) -> np.ndarray:
    """Patients of PCN ``code`` (its practices ``members``) living in each study area its
    footprint holds (0 elsewhere), in the order of the study areas: over the residents'
    rows of its practices, each row's study area a study fact (no pandas lookup a move)."""
    terr, fp = partition.territories, partition.footprints
    by_practice = terr.resident_rows[0]
    area_at, n = partition.study_fact("resident_study_area", lambda: _resident_study_area(terr))
    out = np.zeros(len(terr.study_areas), dtype=n.dtype)
    rows = [by_practice[p] for p in members if p in by_practice]
    if not rows:
        return out
    rows = np.concatenate(rows)
    at = area_at[rows]
    mine = at >= 0
    mine[mine] = fp.area_owner[at[mine]] == code  # areas its footprint holds
    np.add.at(out, at[mine], n[rows[mine]])
    return out


def _resident_study_area(terr) -> tuple[np.ndarray, np.ndarray]:
    """Each residents row's position among the study areas (-1: none) and its patients."""
    res = terr.residents
    at = positions(pd.Index(terr.study_areas.index.to_numpy(dtype=object)), res[AREA_CODE])
    return at, res[N_PATIENTS].to_numpy()


def _voronoi_exclaves(partition, codes) -> dict[str, tuple[Exclave, ...]]:
    """Voronoi footprints: polygon parts holding none of the PCN's practice sites and
    farther than the adjacency tolerance from every part that does."""
    tol = partition.geography.adjacency_tolerance_m
    fp = partition.footprints
    configuration = partition.configuration
    wanted = set(codes)
    pcns = fp.pcns.loc[[c for c in fp.pcns.index if c in wanted]]
    parts = pcns.geometry.explode(index_parts=False)
    parts = parts[~parts.is_empty]
    if parts.index.nunique() == len(parts):
        return {}
    parts = gpd.GeoDataFrame({PCN_CODE: parts.index.to_numpy()}, geometry=parts.to_numpy(), crs=BNG)
    assign = configuration.assignments
    sites = partition.study.practices.geometry
    sites = sites[sites.notna() & assign.reindex(sites.index).fillna("").ne("").to_numpy()]
    p_idx, s_idx = parts.sindex.query(sites.to_numpy(), predicate="intersects")
    own = parts[PCN_CODE].to_numpy()[s_idx] == assign.reindex(sites.index).to_numpy()[p_idx]
    anchored = np.zeros(len(parts), dtype=bool)
    anchored[s_idx[own]] = True
    out: dict[str, tuple[Exclave, ...]] = {}
    for code, group in parts.groupby(PCN_CODE, sort=True):
        if len(group) < 2:
            continue
        pos = group.index.to_numpy()
        anchors = pos[anchored[pos]] if anchored[pos].any() else pos[:1]
        anchor_geom = shapely.union_all(parts.geometry.to_numpy()[anchors])
        found = []
        for p in pos:
            if p in anchors:
                continue
            geom = parts.geometry.iloc[p]
            distance = float(shapely.distance(geom, anchor_geom))
            if distance > tol:
                found.append(Exclave(geom, distance, 0, ()))
        if found:
            out[str(code)] = tuple(found)
    return out
