"""The part's practice graph as the searches use it: PCNs found in pieces and the separator
cuts that part them (:class:`_Graph`), and the slots no configuration brings up to the band
(:func:`free_unreachable`)."""

from __future__ import annotations

from dataclasses import replace

from geo_pcn.proposal._objective import _needs
from geo_pcn.proposal._part import Part, Slot

__all__ = ["free_unreachable"]


def free_unreachable(part: Part) -> tuple[Part, tuple[int, ...]]:
    """``part`` with the band lifted from the slots that can never reach it, and which.

    A slot whose candidates hold fewer patients in all than the band's lower limit is
    below it whenever it is used (a practice with no neighbours, or a small group touching
    no other PCN within reach). When some practice may be in such slots only, no
    configuration meets the band: those slots are freed of the band (so that the rest of
    the part is still solved exactly, and the heuristic can still answer) and reported
    outside it by :func:`solve`, each with its size."""
    low = part.band[0]
    slots = list(part.slots)
    alone = _light_groups(part, slots)  # a detached group too light for the band, alone
    doomed = {
        k
        for k, s in enumerate(slots)
        if s.band and sum(part.weights[p] for p in s.candidates) < low
    }
    allowed: dict[int, set[int]] = {p: set() for p in range(len(part.practices))}
    for k, s in enumerate(slots):
        for p in s.candidates:
            allowed[p].add(k)
    trapped = {k for ks in allowed.values() if ks and ks <= doomed for k in ks} | alone
    if not trapped:
        return part, ()
    slots = [replace(s, band=False, cap=None) if k in trapped else s for k, s in enumerate(slots)]
    return replace(part, slots=tuple(slots)), tuple(sorted(trapped))


def _light_groups(part: Part, slots: list[Slot]) -> set[int]:
    """Groups of practices of one PCN that touch no practice outside the group (a
    component of the part's graph) and hold fewer patients than the band's lower limit,
    while their PCN has practices elsewhere: whatever PCN holds them is inside the group
    (contiguity), so below the band. Each is given one of its PCN's new slots, for it
    alone, and taken out of every other PCN that must be in the band and in one piece
    (which could never hold it inside the band). Returns those slots (``slots`` is
    changed in place)."""
    import networkx as nx

    low = part.band[0]
    needs = _needs(part)
    graph = nx.Graph()
    graph.add_nodes_from(p for p in range(len(part.practices)) if part.placed[p])
    graph.add_edges_from((i, j) for i, j in part.edges if part.placed[i] and part.placed[j])
    out: set[int] = set()
    for group in sorted(nx.connected_components(graph), key=min):
        if sum(part.weights[p] for p in group) >= low or not any(needs[p] for p in group):
            continue
        owners = {part.current[p] for p in group}
        if len(owners) != 1 or min(owners) < 0:
            continue
        k0 = min(owners)
        own = slots[k0]
        whole = {p for p, k in enumerate(part.current) if k == k0}
        if whole <= group or not own.band:
            continue  # the PCN is all here (freed whole, if it must be), or free of the band
        spare = [
            k for k, s in enumerate(slots)
            if s.new and s.parent == own.code and k not in out and group <= set(s.candidates)
        ]  # fmt: skip
        if not spare:
            continue
        k = spare[-1]  # the last: the new slots are used first to last
        slots[k] = replace(slots[k], candidates=tuple(sorted(group)))
        for j, s in enumerate(slots):
            if j != k and s.band and s.contiguous and group & set(s.candidates):
                slots[j] = replace(s, candidates=tuple(p for p in s.candidates if p not in group))
        out.add(k)
    return out


class _Graph:
    """The part's practice graph, for finding PCNs in pieces and the cuts that part them."""

    def __init__(self, part: Part) -> None:
        import networkx as nx

        self.part = part
        self.graph = nx.Graph()
        self.graph.add_nodes_from(range(len(part.practices)))
        self.graph.add_edges_from(part.edges)
        self.slot = {s.code: k for k, s in enumerate(part.slots)}
        self.candidates = [frozenset(s.candidates) for s in part.slots]
        self.needs = _needs(part)
        self.holding: dict[int, list[int]] = {p: [] for p in range(len(part.practices))}
        for k, s in enumerate(part.slots):
            if s.contiguous:
                for p in s.candidates:
                    self.holding[p].append(k)

    def pieces(self, assignment) -> dict[int, list[set[int]]]:
        """slot -> its pieces, for every contiguous slot in more than one piece."""
        import networkx as nx

        by_slot: dict[int, list[int]] = {}
        for p, code in enumerate(assignment):
            if self.part.placed[p]:
                by_slot.setdefault(self.slot[code], []).append(p)
        out = {}
        for k, members in by_slot.items():
            if not self.part.slots[k].contiguous or len(members) < 2:
                continue
            comps = [set(c) for c in nx.connected_components(self.graph.subgraph(members))]
            # a piece of practices with no patients only is apart, not in pieces (a WARNING
            # for the contiguity check); it still connects the practices it lies between
            comps = [c for c in comps if any(self.needs[p] for p in c)]
            if len(comps) > 1:
                out[k] = sorted(comps, key=min)
        return out

    def cuts(self, pieces: dict[int, list[set[int]]]) -> set:
        """Separator cuts: ``x[a,k] + x[b,k] - sum(x[s,k] for s in S) <= 1`` for ``a`` in a
        piece ``C`` and ``b`` in another piece of a slot: a path from ``a`` to ``b`` leaves
        ``C`` through a practice around it. The same holds in every slot that may hold both
        ``a`` and ``b``, so each cut is added to all of them (a sibling slot would
        otherwise find the same pieces again in the next round); ``S`` is that slot's
        minimal separator of ``C`` and ``b`` (:meth:`separator`)."""
        out = set()
        for comps in pieces.values():
            for c in comps:
                for d in comps:
                    if d is c:
                        continue
                    for a in (p for p in c if self.needs[p]):
                        for k in self.holding[a]:
                            cand = self.candidates[k]
                            sides = self.sides(k, c)
                            out |= {(k, a, b, sides(b)) for b in d if b in cand and self.needs[b]}
        return out

    def sides(self, k: int, c: set[int]):
        """For slot ``k`` and a group ``C`` of practices: a function giving, for a practice
        ``b`` outside ``C`` and not next to it, the minimal separator of ``C`` and ``b``
        among ``k``'s candidates: the candidates around ``C`` that touch ``b``'s side (the
        candidates ``b`` reaches without passing ``C`` or those around it).

        A path of ``k``'s candidates from ``C`` to ``b`` leaves ``C`` through the practices
        around it; after the last of them it stays on ``b``'s side, so that last one
        touches ``b``'s side: the cut needs no other (Fischetti et al. 2017, as Validi,
        Buchanan and Lykhovyd 2022 use it). Practices around ``C`` that only touch other
        sides are left out, which makes the cut stronger."""
        import networkx as nx

        cand = self.candidates[k]
        placed = self.part.placed
        around = {q for p in c for q in self.graph.neighbors(p) if placed[q]} - c
        around &= cand
        rest = self.graph.subgraph(q for q in cand if q not in around and q not in c)
        side = {q: i for i, comp in enumerate(nx.connected_components(rest)) for q in comp}
        cache: dict[int, tuple[int, ...]] = {}

        def separator(b: int) -> tuple[int, ...]:
            i = side.get(b)
            if i is None:  # b is around C (then not a cut) or not a candidate
                return tuple(sorted(around))
            if i not in cache:
                cache[i] = tuple(
                    sorted(q for q in around if any(side.get(r) == i for r in self.graph[q]))
                )
            return cache[i]

        return separator
