"""A valid configuration in seconds, when the heuristic can find one: the first answer of
every part, and the exact search's incumbent.

:func:`construct` works on a :class:`~geo_pcn.proposal.model.Part` (plain numbers) and
follows the rules the exact model holds (:func:`valid`): every practice in one slot among
its candidates, every banded slot used inside the band, every slot free of the band no
larger than its cap, every contiguous slot in one piece of the practice graph (as the
contiguity check counts pieces). It is deterministic (no clock, no randomness: the same
part gives the same answer on any machine, however loaded):

1. each PCN in pieces keeps its heaviest piece; the other pieces' practices are set aside;
2. each PCN above the band is split along the graph into as few pieces as fit in the band,
   grown from far-apart roots (the heaviest piece keeps the code, the others are new PCNs);
3. the practices set aside (and those in no PCN, or whose PCN is in another part) join the
   neighbouring PCN that fits them best, or open a new PCN when none may take them;
4. local moves (a practice to a neighbouring PCN, or a whole PCN into a neighbour) bring
   every PCN inside the band; where none helps, ejection chains (short ones every way, long
   ones up to ten moves by a counted search), two neighbouring PCNs drawn again and a
   seeded annealing (:mod:`geo_pcn.proposal._repair`);
5. moves that keep every rule and cost less, or cost the same and add fewer crossings of
   the study's lines; each PCN as drawn given the code that keeps most of its practices,
   and practices sent home with one other move making room (:func:`polish`, which any
   search's answer may be given too).

Steps 2-5 run again with new PCNs grown from the far side of their parent, and the cheaper
answer is kept; when neither meets the band, once more with no split at all
(:data:`STARTS`), and the start with fewest patients outside the band is kept.
:func:`construct` returns ``None`` when no start meets every rule: the exact search then
starts without an incumbent, and :func:`best_effort` gives the answer to show if it finds
nothing better.
"""

from __future__ import annotations

import math
import random

from geo_pcn.proposal._repair import (
    MAX_ROUNDS,
    _chains,
    _grow_from,
    _home_pairs,
    _long_chains,
    _relabel,
    _resplit,
)
from geo_pcn.proposal._state import _State

__all__ = ["construct", "best_effort", "polish", "valid", "value_of"]

#: most moves tried by the annealing that follows when the descent stops short
MAX_TRIES = 100_000


def construct(part) -> tuple[int, ...] | None:
    """A slot index per practice meeting every rule of ``part`` (see :func:`valid`), or
    ``None`` when the heuristic finds none."""
    answer, complete = best_effort(part)
    return answer if complete else None


def best_effort(part) -> tuple[tuple[int, ...] | None, bool]:
    """The heuristic's answer and whether it meets every rule. When the moves run out
    before the band is met everywhere, the answer is still every practice in a slot
    among its candidates and every slot in one piece, with as few patients outside the
    band as the moves found (``False``): a configuration to show when nothing better is
    found; ``None`` when not even that was found.

    Three starts (:data:`STARTS`): PCNs above the band split evenly; each new PCN grown
    from the far side of its parent just into the band, the rest left to the parent and
    its neighbours (:func:`_split_far`); or no split at all, PCNs above the band shedding
    practices to their neighbours. Both starts that split are tried, each that meets the
    band improved by the moves that keep it, and the cheapest kept (the far start moved
    921,982 patients on E54000029 where the even one, kept before as the first to meet the
    band, moved 1,064,440); the third start (slower, seldom in the band) is tried only when
    neither meets it. When none does, the start with fewest patients outside the band
    (then the cheapest) is kept."""
    best = None  # fewest patients outside the band, then cheapest
    done = None  # the cheapest start that meets the band, improved
    for start in STARTS:
        if done is not None and start not in SPLITS:
            break
        st = _attempt(part, start)
        if st is None:
            continue
        if st.penalty() == 0:
            _polish(st)
            if done is None or _rank(st) < _rank(done):
                done = st
        elif best is None or _rank(st) < _rank(best):
            best = st
    if done is None and best is None:
        return None, False
    if done is None:
        answer = tuple(best.a)
        return (answer if valid(part, answer, band=False) else None), False
    st = done
    _order_new(st)
    answer = tuple(st.a)
    return (answer, True) if valid(part, answer) else (None, False)


#: how PCNs above the band are first split: evenly, new PCNs grown from the far side of
#: their parent, or not at all (the parent sheds practices to its neighbours)
STARTS = ("even", "far", "shed")
#: the starts that split PCNs above the band (each is tried, the cheapest answer kept)
SPLITS = ("even", "far")


def polish(part, answer: tuple[int, ...]) -> tuple[int, ...]:
    """``answer`` (a configuration meeting every rule, found by any search) made cheaper by
    the heuristic's moves that keep every rule (:func:`_polish`); ``answer`` itself when
    it breaks a rule or no move lowers its cost. Deterministic."""
    if not valid(part, answer):
        return answer
    st = _State(part)
    for p, k in enumerate(answer):
        st.put(p, k)
    before = _rank(st)
    _polish(st)
    if _rank(st) >= before:
        return answer
    _order_new(st)
    out = tuple(st.a)
    return out if valid(part, out) else answer


def _polish(st: _State) -> None:
    """Lower the cost of a configuration inside the band, every rule kept: single moves
    and merges (:func:`_descend`), each PCN drawn given the slot that keeps most of its
    practices (:func:`~geo_pcn.proposal._repair._relabel`), and practices sent home
    with one other move making room (:func:`~geo_pcn.proposal._repair._home_pairs`), in
    turn until none lowers it (single moves only for ``objective="pcns"``: the others
    count patients or practices, not PCNs changed)."""
    _descend(st, repair=False)
    if st.part.objective == "pcns":
        return
    for _ in range(MAX_ROUNDS):
        changed = _relabel(st)
        changed = _home_pairs(st) or changed
        if not changed:
            return
        _descend(st, repair=False)


def _rank(st: _State) -> tuple[int, int]:
    return st.penalty(), sum(st.cost(p, k) for p, k in enumerate(st.a))


def _attempt(part, start: str) -> _State | None:
    st = _State(part)
    for p, k in enumerate(part.current):
        if k >= 0 and k in st.allowed[p]:  # (a group too light for the band is taken out)
            st.put(p, k)
    _keep_heaviest_piece(st)
    if start != "shed":
        _split_above(st)
    if start == "far":
        _split_far(st)
    if not _place_loose(st):
        return None
    _descend(st, repair=True)
    if st.penalty() > 0:
        _chains(st)
    if st.penalty() > 0:
        _long_chains(st)
    if st.penalty() > 0:
        _resplit(st)
        _descend(st, repair=True)
    if st.penalty() > 0:
        _anneal(st)
        _descend(st, repair=True)
        _chains(st)
        _long_chains(st)
        _resplit(st)
    return st


def _keep_heaviest_piece(st: _State) -> None:
    st.detached = [0] * len(st.slots)
    for k, slot in enumerate(st.slots):
        if not slot.contiguous or len(st.members[k]) < 2:
            continue
        comps = [c for c in st.components(k) if any(st.needs[p] for p in c)]
        if len(comps) < 2:
            continue
        keep = max(comps, key=lambda c: (sum(st.w[p] for p in c), -min(c)))
        st.detached[k] = len(comps) - 1  # each may need a new slot of its own
        for c in comps:
            if c is not keep:
                for p in c:
                    st.put(p, -1)


def _new_slots_of(st: _State, k: int) -> list[int]:
    code = st.slots[k].code
    return [j for j, s in enumerate(st.slots) if s.new and s.parent == code and not st.members[j]]


def _split_above(st: _State) -> None:
    for k, slot in enumerate(st.slots):
        if not slot.band or slot.new or st.size[k] <= st.high:
            continue
        spare = _new_slots_of(st, k)
        spare = spare[: max(len(spare) - st.detached[k], 0)]  # kept for detached pieces
        mem = sorted(p for p in st.members[k] if st.placed[p])
        mem = [p for p in mem if all(p in st.slots[j].candidates for j in spare)]
        if not spare or len(mem) < 2:
            continue
        total = sum(st.w[p] for p in mem)
        most = min(len(spare) + 1, len(mem), total // max(st.low, 1) if st.low > 0 else len(mem))
        best = None
        for m in range(max(2, -(-total // st.high)), most + 1):
            regions = _grow(st, mem, m)
            if regions is None:
                continue
            over = sum(st.penalty_of(k, sum(st.w[p] for p in r), True) for r in regions)
            if best is None or over < best[0]:
                best = (over, regions)
            if over == 0:
                break
        if best is None:
            continue
        regions = sorted(best[1], key=lambda r: (-sum(st.w[p] for p in r), min(r)))
        # the heaviest piece keeps the code; the others fill new slots, the larger first
        for r, j in zip(regions[1:], spare, strict=False):
            for p in r:
                st.put(p, j)


def _split_far(st: _State) -> None:
    """Redraw the even split of each PCN above the band that left a piece outside it:
    each new PCN grown from the far side of what is left of the parent (the practice
    farthest from its heaviest), its lightest neighbour first, until it holds the band's
    lower limit; the parent keeps the heaviest piece of the rest, and the other pieces
    are set aside (they join a neighbour, :func:`_place_loose`). Of the roots tried (the
    :data:`FAR_ROOTS` farthest), the split leaving the parent nearest the band wins."""
    for k, slot in enumerate(st.slots):
        if not slot.band or slot.new:
            continue
        spare = [j for j, s in enumerate(st.slots) if s.new and s.parent == slot.code]
        used = [j for j in spare if st.members[j]]
        group = st.members[k].union(*(st.members[j] for j in used))
        if not used or all(st.penalty_of(j, st.size[j], True) == 0 for j in [k, *used]):
            continue
        mem = sorted(p for p in group if st.placed[p])
        if len(mem) != len(group) or not all(j in st.allowed[p] for p in mem for j in spare):
            continue
        best = None
        for root in _far_roots(st, mem):
            drawn = _carve(st, mem, root, len(spare))
            if drawn is None:
                continue
            regions, kept, loose = drawn
            size = sum(st.w[p] for p in kept)
            key = (st.penalty_of(k, size, True), sum(st.w[p] for p in loose), root)
            if best is None or key < best[0]:
                best = (key, regions, kept, loose)
        before = sum(st.penalty_of(j, st.size[j], True) for j in [k, *used])
        if best is None or best[0][0] >= before:
            continue
        for p in group:
            st.put(p, -1)
        for p in best[2]:
            st.put(p, k)
        for region, j in zip(best[1], spare, strict=False):
            for p in region:
                st.put(p, j)


#: roots tried for a new PCN grown from the far side of its parent
FAR_ROOTS = 6


def _far_roots(st: _State, mem: list[int]) -> list[int]:
    heaviest = max(mem, key=lambda p: (st.w[p], -p))
    dist = st.hops(set(mem), [heaviest])
    return sorted(dist, key=lambda p: (-dist[p], p))[:FAR_ROOTS]


def _carve(st: _State, mem: list[int], root: int, most: int):
    """New regions grown from ``root`` (then from the far side of what is left) into the
    band, while the rest is above it: ``(regions, kept, loose)`` or None."""
    rest = set(mem)
    regions: list[set[int]] = []
    while sum(st.w[p] for p in rest) > st.high and len(regions) < most:
        region, weight = {root}, st.w[root]
        while weight < st.low:
            frontier = sorted({q for p in region for q in st.adj[p] if q in rest} - region)
            if not frontier:
                return None
            q = min(frontier, key=lambda q: (st.w[q], q))
            region.add(q)
            weight += st.w[q]
        if weight > st.high:
            return None
        regions.append(region)
        rest -= region
        if not rest:
            return None
        root = _far_roots(st, sorted(rest))[0]
    comps = st.pieces(rest)
    kept = max(comps, key=lambda c: (sum(st.w[p] for p in c), -min(c)))
    loose = rest - kept
    return regions, kept, loose


def _grow(st: _State, mem: list[int], m: int) -> list[set[int]] | None:
    """``m`` connected regions covering ``mem``, grown from far-apart roots, the lightest
    region growing first."""
    inside = set(mem)
    heaviest = max(mem, key=lambda p: (st.w[p], -p))
    d = st.hops(inside, [heaviest])
    if len(d) < len(inside):
        return None  # not one piece (should not happen after the first step)
    roots = [max(mem, key=lambda p: (d[p], -p))]
    while len(roots) < m:
        d = st.hops(inside, roots)
        roots.append(max((p for p in mem if p not in roots), key=lambda p: (d[p], -p)))
    return _grow_from(st, inside, roots)


def _place_loose(st: _State) -> bool:
    """Every practice in no slot joins the neighbouring slot that fits it best, or opens
    a new slot; False when one cannot be placed anywhere."""
    while True:
        loose = [p for p in range(st.n) if st.a[p] < 0]
        if not loose:
            return True
        progress = False
        for p in loose:
            options = []
            for k in sorted(st.allowed[p]):
                if not st.members[k] or not st.touches(p, k):
                    continue
                before = st.penalty_of(k, st.size[k], True)
                after = st.penalty_of(k, st.size[k] + st.w[p], True)
                lines = st.lines_after([(p, k)])
                options.append((after - before, st.cost(p, k), lines, k))
            if options:
                st.put(p, min(options)[-1])
                progress = True
        if progress:
            continue
        # nothing touches what is left: open a new slot (its own, or its parent's)
        for p in loose:
            fresh = [k for k in sorted(st.allowed[p]) if not st.members[k]]
            if fresh:
                own = [k for k in fresh if k == st.part.current[p]]
                st.put(p, (own or fresh)[0])
                break
        else:
            return False


def _moves(st: _State):
    """Every single move (practice -> neighbouring slot) and merge (slot -> neighbour)
    that keeps every slot in one piece: ``(slot, practices, to)``."""
    out = []
    for p in range(st.n):
        k = st.a[p]
        targets = {st.a[q] for q in st.adj[p]} if st.placed[p] else set(st.allowed[p])
        targets |= {j for j in st.allowed[p] if not st.members[j]}  # open a slot
        for j in sorted(targets & st.allowed[p]):
            if j == k or j < 0:
                continue
            out.append((k, (p,), j))
    for k in range(len(st.slots)):
        mem = st.members[k]
        if not mem:
            continue
        near = {st.a[q] for p in mem for q in st.adj[p]} - {k, -1}
        for j in sorted(near):
            if st.members[j] and all(j in st.allowed[p] for p in mem):
                out.append((k, tuple(sorted(mem)), j))
    return out


def _descend(st: _State, *, repair: bool) -> None:
    """Best-improvement local search: with ``repair``, moves that lower the patients
    outside the band (then cost least); otherwise moves that keep every slot in the band
    and lower the cost."""
    for _ in range(MAX_ROUNDS):
        best = None
        for k, group, j in _moves(st):
            moved = sum(st.w[p] for p in group)
            stays = st.members[k] - set(group)
            before = st.penalty_of(k, st.size[k], True) + st.penalty_of(
                j, st.size[j], bool(st.members[j])
            )
            after = st.penalty_of(k, st.size[k] - moved, bool(stays))
            after += st.penalty_of(j, st.size[j] + moved, True)
            delta = after - before
            change = sum(st.cost(p, j) - st.cost(p, k) for p in group)
            if repair and delta >= 0:
                continue
            if not repair and (delta > 0 or after > 0 or change > 0):
                continue
            head = (delta, change) if repair else (change,)
            if best is not None and head > best[0][: len(head)]:
                continue
            lines = 0
            if st.lines:  # crossings added: after the cost, before the rest
                joined = st.members[j] | set(group)
                lines = st.crossings(k, stays) + st.crossings(j, joined)
                lines -= st.crossings(k, st.members[k]) + st.crossings(j, st.members[j])
            if not repair and (change, lines) >= (0, 0):
                continue
            key = (*head, lines, k, group, j)
            if best is not None and key >= best[0]:
                continue
            if len(group) == 1 and not st.connected(k, stays):
                continue
            if len(group) == 1:
                if not st.touches(group[0], j):
                    continue
            elif not st.connected(j, st.members[j] | set(group)):
                continue
            best = (key, group, j)
        if best is None:
            return
        for p in best[1]:
            st.put(p, best[2])


def _anneal(st: _State) -> None:
    """Simulated annealing on the patients outside the band, for when the descent stops
    short: single moves of a practice to a neighbouring slot, a worse one accepted now and
    then, ever more rarely. Seeded, and bounded by a count of tries, not by the clock, so
    the same part gives the same answer on any machine. Keeps the best state found."""
    rng = random.Random(0)
    n_slots = len(st.slots)
    pen = [st.penalty_of(k, st.size[k], bool(st.members[k])) for k in range(n_slots)]
    total = sum(pen)
    best, best_a = total, list(st.a)
    movable = [p for p in range(st.n) if len(st.allowed[p]) > 1]
    if not movable:
        return
    t0, t1 = max(st.high * 0.05, 1.0), 1.0
    for i in range(MAX_TRIES):
        if total == 0:
            break
        temp = t0 * (t1 / t0) ** (i / MAX_TRIES)
        p = movable[rng.randrange(len(movable))]
        k = st.a[p]
        if st.placed[p]:
            near = [st.a[q] for q in st.adj[p] if st.a[q] != k and st.a[q] in st.allowed[p]]
            if not near or rng.random() < 0.02:
                near = [j for j in st.allowed[p] if j != k and not st.members[j]] or near
        else:
            near = [j for j in st.allowed[p] if j != k]
        if not near:
            continue
        j = near[rng.randrange(len(near))]
        wp = st.w[p]
        stays = len(st.members[k]) > 1
        pk = st.penalty_of(k, st.size[k] - wp, stays)
        pj = st.penalty_of(j, st.size[j] + wp, True)
        delta = pk + pj - pen[k] - pen[j]
        if delta > 0 and rng.random() >= math.exp(-delta / temp):
            continue
        if not st.touches(p, j) or not st.connected(k, st.members[k] - {p}):
            continue
        st.put(p, j)
        pen[k], pen[j] = pk, pj
        total += delta
        if total < best:
            best, best_a = total, list(st.a)
    if total > best:
        for p, k in enumerate(best_a):
            if st.a[p] != k:
                st.put(p, k)


def _order_new(st: _State) -> None:
    """New slots of one parent with the same candidates are alike: the used ones first,
    the larger first (the order the exact model asks of them)."""
    groups: dict[tuple, list[int]] = {}
    for k, s in enumerate(st.slots):
        if s.new:
            groups.setdefault((s.parent, s.candidates), []).append(k)
    for ks in groups.values():
        held = sorted(
            (tuple(sorted(st.members[k])) for k in ks if st.members[k]),
            key=lambda m: (-sum(st.w[p] for p in m), m),
        )
        for k in ks:
            for p in list(st.members[k]):
                st.put(p, -1)
        for k, group in zip(ks, held, strict=False):
            for p in group:
                st.put(p, k)


def valid(part, answer, *, band: bool = True) -> bool:
    """Whether ``answer`` (a slot index per practice) meets every rule of ``part``: each
    practice in a slot among its candidates, each banded slot used inside the band, each
    slot free of the band within its cap, each contiguous slot in one piece (``band=False``:
    every rule but the band; the caps are kept either way)."""
    st = _State(part)
    if len(answer) != st.n:
        return False
    for p, k in enumerate(answer):
        if k < 0 or k not in st.allowed[p]:
            return False
        st.put(p, k)
    if st.penalty() > 0 if band else st.over_caps() > 0:
        return False
    return all(st.connected(k, st.members[k]) for k in range(len(st.slots)) if st.members[k])


def value_of(part, answer) -> tuple[int, int, int]:
    """``(objective value, patients moved, practices moved)`` of ``answer``, counted as
    the exact model counts them (a practice whose PCN is in another part moves whatever
    it joins; placing a practice in no PCN is not a move)."""
    w = part.weights
    moved = [p for p, k in enumerate(answer) if part.current[p] != -1 and part.current[p] != k]
    patients, practices = sum(w[p] for p in moved), len(moved)
    if part.objective == "practices":
        return practices, patients, practices
    if part.objective == "patients":
        return patients, patients, practices
    changed = 0
    for k, slot in enumerate(part.slots):
        holds = {p for p, j in enumerate(answer) if j == k}
        if slot.new:
            changed += bool(holds)
            continue
        had = {p for p, j in enumerate(part.current) if j == k}
        changed += bool(slot.changed or holds != had)
    return changed, patients, practices
