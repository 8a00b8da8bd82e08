"""The parts of a proposal: each ICB (or area of ``within``) as its own
:class:`~geo_pcn.proposal.model.Part` (plain numbers: practices, weights, the graph's
edges, the slots a practice may join), built from the study's geography."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import networkx as nx
import pandas as pd

from geo_pcn.configuration import Configuration
from geo_pcn.geography import geography_of
from geo_pcn.proposal._explain import NO_AREA
from geo_pcn.proposal.model import Part, Slot


def _parts(study, config: Configuration, settings: dict) -> tuple[list[Part], dict[str, str]]:
    geo = geography_of(study)
    graph = geo.graph
    sizes = geo.list_sizes.reindex(list(config.practice_codes)).fillna(0).astype("int64")
    assign = config.assignments
    members = config.members
    low, high = study.rules.band
    exempt = set(settings["exempt"])
    no_contiguity = {e.pcn_code for e in study.rules.exceptions if "contiguity" in tuple(e.checks)}
    layer = settings["parts_by"]
    area = pd.Series(NO_AREA, index=assign.index)
    if layer is not None:
        table = geo.site_areas[layer].reindex(assign.index)
        codes = table["code"].fillna("").astype(str)
        area = codes.where(codes != "", NO_AREA)

    # each PCN lives in the area holding most of its patients (then practices, then code)
    frame = pd.DataFrame({"pcn": assign, "area": area, "n": sizes})
    held = frame[frame["pcn"] != ""].groupby(["pcn", "area"]).agg(n=("n", "sum"), k=("n", "size"))
    held = held.reset_index().sort_values(["pcn", "n", "k", "area"], ascending=[1, 0, 0, 1])
    held = held[(held["area"] != NO_AREA) | ~held["pcn"].duplicated(keep=False)]
    home = held.drop_duplicates("pcn").set_index("pcn")["area"]

    # each practice's part: its own area with `within`, else its PCN's
    part_of = area.copy() if settings["within"] else assign.map(home).fillna(area)
    lost = part_of[part_of == NO_AREA].index
    for p in lost:  # not placed by the layer: with its PCN, else with its neighbours
        if assign[p] and home.get(assign[p], NO_AREA) != NO_AREA:
            part_of[p] = home[assign[p]]
            continue
        near = [part_of[q] for q in graph.neighbors(p) if part_of[q] != NO_AREA]
        if near:
            part_of[p] = pd.Series(near).value_counts().sort_index().idxmax()

    # the lines a proposal keeps: each layer's area of every practice's site, as the
    # boundary check places it ("": none); the `within` layer is kept by the parts
    lines = {
        name: where["code"].reindex(assign.index).fillna("").astype(str)
        for name, where in sorted(geo.site_areas.items())
        if name != settings["within"]
    }
    parts = []
    names = config.names
    settings = {**settings, "_registrations": geo.territories.method == "registrations"}
    for name in sorted(part_of.unique()):
        codes = sorted(part_of.index[part_of == name])
        parts.append(
            _part(
                name, codes, graph, sizes, assign, members, home, names,
                band=(low, high), exempt=exempt, no_contiguity=no_contiguity,
                settings=settings, lines=lines,
            )
        )  # fmt: skip
    return parts, names


def _part(
    name, codes, graph, sizes, assign, members, home, names, *, band, exempt, no_contiguity,
    settings, lines=None,
) -> Part:  # fmt: skip
    """Part ``name`` (practices ``codes``) as plain numbers: each PCN a slot whose
    candidates are the practices within ``reach`` steps, new slots for the PCNs that can
    split or for detached groups, and the lines per practice.

    Long because: the slots are built from closures over the part's graph (``near``,
    ``keep``, ``pieces_of``) and each rule of a slot (band, cap, contiguity, candidates)
    is one line beside the comment that says why; split, eight arguments would travel."""
    low, high = band
    index = {p: i for i, p in enumerate(codes)}
    inside = set(codes)
    sub = graph.subgraph(codes)
    # in the contiguity flow: practices with a territory, as the contiguity check counts
    # them; with registrations, one with no registered patients need not be connected (the
    # check reports it apart as a WARNING, closed or not yet reporting) but still connects
    placed = tuple(bool(graph.nodes[p]["has_home"]) for p in codes)
    empty = settings["_registrations"]
    needs = tuple(pl and not (empty and sizes[p] == 0) for pl, p in zip(placed, codes, strict=True))
    edges = tuple(sorted((min(index[a], index[b]), max(index[a], index[b])) for a, b in sub.edges))
    reach = settings["reach"]

    def near(group: Iterable[str]) -> tuple[int, ...]:
        seen = set(group)
        frontier = set(group)
        for _ in range(reach):
            frontier = {q for p in frontier for q in sub.neighbors(p)} - seen
            seen |= frontier
        return tuple(sorted(index[p] for p in seen))

    # a practice above the band on its own cannot be in a PCN inside it: it stays where it
    # is (or with the practices in no PCN around it), and its PCN is free of the band
    giant = {p for p in codes if sizes[p] > high}

    def keep(candidates: tuple[int, ...], pcn: str) -> tuple[int, ...]:
        return tuple(c for c in candidates if codes[c] not in giant or assign[codes[c]] == pcn)

    # a practice in no PCN without a territory is bound by no contiguity: any PCN here
    anywhere = tuple(index[p] for p in codes if not assign[p] and not placed[index[p]])

    def pieces_of(group: list[str]) -> int:
        comps = nx.connected_components(sub.subgraph([p for p in group if placed[index[p]]]))
        return sum(any(needs[index[p]] for p in c) for c in comps)

    slots: list[Slot] = []
    spare: list[Slot] = []
    frozen: set[int] = set()  # practices of PCNs kept as they are
    kept_codes: set[str] = set()
    for pcn in sorted({assign[p] for p in codes if assign[p]}):
        here = [p for p in members[pcn] if p in inside]
        total = int(sizes.reindex(list(members[pcn])).sum())
        piece = int(sizes.reindex(here).sum())
        pieces = pieces_of(here)
        candidates = tuple(sorted({*keep(near(here), pcn), *anywhere}))
        big = bool(giant.intersection(here))
        banded = pcn not in exempt and not big
        # a PCN the contiguity check accepts through its own footprint is not held to the
        # graph (its footprint joins groups whose territories do not touch) while it stays
        # as it is; changed, its footprint need not join them any more: inside the band it
        # is kept as it is (frozen), outside it it is held to the graph like any other
        # (softer, ``_soft``: it may change either way, not held to the graph; the
        # contiguity check judges the answer, :mod:`geo_pcn.proposal._judge`)
        contiguous, kept = pcn not in no_contiguity, False
        if pcn in settings.get("_joined", ()) and contiguous:
            inside_band = not banded or low <= total <= high
            whole = len(here) == len(members[pcn])
            if settings.get("_soft") and whole and not inside_band:
                contiguous = False
            if inside_band and whole:
                contiguous, kept = False, True
                if not settings.get("_soft"):
                    frozen.update(index[p] for p in here)
                    kept_codes.add(pcn)
                    candidates = tuple(sorted(index[p] for p in here))
        # a new PCN is made of the parent's practices here only: a modelling choice (it
        # keeps the search small), stated with the results
        own = tuple(sorted(index[p] for p in here if p not in giant))
        # free of the band is not free of every limit: it may hold what it holds now or
        # the band's upper limit, whichever is more (EXEMPT_RULE)
        cap = None if banded else max(piece, int(high))
        if home.get(pcn) == name or not settings["within"]:
            leaves = len(here) < len(members[pcn])  # some of its practices are elsewhere
            slots.append(Slot(pcn, pcn, False, banded, contiguous, candidates, leaves, cap))
            # a new PCN per detached group, or as many as the band can hold: whichever is more
            most = total // low if banded and low > 0 else 1
            n_new = 0 if kept else max(pieces, most, 1) - 1
        else:  # its practices over another area's line: they leave, or make PCNs here
            n_new = max(pieces, piece // low if low > 0 else 1, 1)
            if big:  # the first new PCN holds its practice above the band (no band)
                whole = tuple(sorted(index[p] for p in here))
                spare.append(
                    Slot(f"\0new {pcn} 0", pcn, True, False, True, whole, cap=max(piece, high))
                )
                n_new -= 1
        spare += [
            Slot(f"\0new {pcn} {i + len(spare)}", pcn, True, True, True, own) for i in range(n_new)
        ]
    loose = [p for p in codes if not assign[p]]
    for i, group in enumerate(sorted(nx.connected_components(graph.subgraph(loose)), key=min)):
        group = sorted(group)
        n_new = max(1, int(sizes.reindex(group).sum()) // low if low > 0 else 1)
        candidates = keep(near(group), "")
        banded = not giant.intersection(group)
        spare += [
            Slot(f"\0new {name} {i + 1} {j}", "", True, banded, True, candidates)
            for j in range(n_new)
        ]
    slots += spare
    if frozen:  # no other PCN takes a practice of a PCN kept as it is
        slots = [
            s
            if s.code in kept_codes
            else replace(s, candidates=tuple(c for c in s.candidates if c not in frozen))
            for s in slots
        ]
    slot_index = {s.code: k for k, s in enumerate(slots) if not s.new}
    current = tuple(slot_index.get(assign[p], -2) if assign[p] else -1 for p in codes)
    return Part(
        name=name,
        practices=tuple(codes),
        weights=tuple(int(sizes[p]) for p in codes),
        current=current,
        placed=placed,
        needs=needs,
        edges=edges,
        slots=tuple(slots),
        band=(int(low), int(high)),
        objective=settings["objective"],
        time_limit=settings["time_limit_s"],
        gap=settings["gap"],
        lines=tuple(
            (layer, _area_index(where.reindex(codes).fillna("")))
            for layer, where in (lines or {}).items()
        ),
    )


def _area_index(codes: pd.Series) -> tuple[int, ...]:
    """Area codes as indices (by code order; -1 for none)."""
    names = sorted(set(codes) - {""})
    at = {c: i for i, c in enumerate(names)}
    return tuple(at.get(c, -1) for c in codes)
