"""The heuristic's repairs for a PCN left outside the band where no single move helps:
ejection chains (short ones tried every way, long ones by a depth-first search with a
count of steps) and two neighbouring PCNs drawn again. Each works on the heuristic's
state (:class:`geo_pcn.proposal._state._State`) and is deterministic: no clock, no
randomness."""

from __future__ import annotations

from geo_pcn.proposal._state import _State

#: most local-search rounds per phase (each round applies the best move found)
MAX_ROUNDS = 2000


def _grow_from(st: _State, inside: set[int], roots: list[int]) -> list[set[int]] | None:
    """Connected regions covering ``inside``, one per root, the lightest growing first
    (its lightest neighbour while below the band, its heaviest after)."""
    m = len(roots)
    owner = {r: i for i, r in enumerate(roots)}
    regions = [{r} for r in roots]
    weight = [st.w[r] for r in roots]
    left = inside - set(roots)
    while left:
        for i in sorted(range(m), key=lambda i: (weight[i], i)):
            frontier = sorted({q for p in regions[i] for q in st.adj[p] if q in left})
            if frontier:
                q = min(frontier, key=lambda q: (st.w[q] if weight[i] < st.low else -st.w[q], q))
                regions[i].add(q)
                owner[q] = i
                weight[i] += st.w[q]
                left.discard(q)
                break
        else:
            return None
    return regions


#: most moves in one ejection chain
CHAIN_DEPTH = 3


def _chains(st: _State) -> None:
    """Ejection chains, for a PCN outside the band whose neighbours are all nearly full
    (or nearly empty), where no single move helps: a practice of a PCN above the band
    goes to a neighbouring PCN, which passes one of its own practices on to the next,
    up to :data:`CHAIN_DEPTH` moves (*push*); or a PCN below the band takes a practice
    from a neighbour, which takes one from the next (*pull*). The chain that lowers the
    patients outside the band most (then costs least) and keeps every PCN in one piece
    is applied, until none helps."""
    for _ in range(MAX_ROUNDS):
        found = []
        for k in range(len(st.slots)):
            if not st.members[k]:
                continue
            lo, hi = st.limit(k)
            if st.size[k] > hi:
                _grow_chains(st, k, push=True, chain=[], delta={}, out=found)
            elif st.size[k] < lo:
                _grow_chains(st, k, push=False, chain=[], delta={}, out=found)
        # fewest patients outside the band, then cheapest, then fewest crossings added
        ranked = sorted(
            (change, cost, st.lines_after([(p, t) for p, _, t in chain]), chain)
            for change, cost, chain in found
        )
        for *_, chain in ranked:
            if _apply_chain(st, chain):
                break
        else:
            return


def _grow_chains(st: _State, k: int, *, push: bool, chain, delta, out) -> None:
    """Every chain of moves from (push) or into (pull) slot ``k``, extended while the
    slot at its end is outside the band; complete chains that lower the patients
    outside the band go to ``out`` as ``(penalty change, cost change, moves)``."""
    moved = {p for p, _, _ in chain}
    touched = {a for _, f, t in chain for a in (f, t)}
    if push:
        pairs = [
            (p, st.a[q])
            for p in sorted(st.members[k])
            if p not in moved and st.placed[p]
            for q in st.adj[p]
            if st.a[q] >= 0 and st.a[q] != k and st.a[q] in st.allowed[p]
        ]
        steps = sorted({(p, k, j) for p, j in pairs if j not in touched or j == chain[0][1]})
    else:
        pairs = [
            (q, st.a[q])
            for p in sorted(st.members[k])
            if st.placed[p]
            for q in st.adj[p]
            if q not in moved and st.a[q] >= 0 and st.a[q] != k and k in st.allowed[q]
        ]
        steps = sorted({(q, j, k) for q, j in pairs if j not in touched})
    for p, f, t in steps:
        if len(st.members[f]) <= 1 and not push:
            continue  # do not empty a PCN by pulling its last practice
        d = dict(delta)
        d[f] = d.get(f, 0) - st.w[p]
        d[t] = d.get(t, 0) + st.w[p]
        new = [*chain, (p, f, t)]
        change = 0
        for slot, dw in d.items():
            used = bool(st.members[slot])
            change += st.penalty_of(slot, st.size[slot] + dw, True) - st.penalty_of(
                slot, st.size[slot], used
            )
        cost = sum(st.cost(q, b) - st.cost(q, a) for q, a, b in new)
        if change < 0:
            out.append((change, cost, tuple(new)))
        end = t if push else f
        lo, hi = st.limit(end)
        size = st.size[end] + d[end]
        if len(new) < CHAIN_DEPTH and (size > hi if push else size < lo):
            _grow_chains(st, end, push=push, chain=new, delta=d, out=out)


#: most moves in one long ejection chain, and most steps its search takes from one PCN
LONG_DEPTH = 10
LONG_STEPS = 4000
#: complete chains compared before the search from one PCN stops
LONG_FOUND = 12


def _long_chains(st: _State) -> None:
    """Long ejection chains, for a PCN outside the band whose neighbours are all nearly
    full (or nearly empty) several PCNs deep. *Push*: the PCN above the band gives a
    practice to a neighbour, which gives one of its own on, and so on until a PCN with
    room takes the last without leaving the band; every PCN on the way ends inside it.
    *Pull*: the PCN below the band takes a practice from a neighbour, which takes one
    from the next, until a PCN with patients to spare (or one left empty, closed) gives
    the last. A depth-first search over the PCNs, each visited once, at most
    :data:`LONG_DEPTH` moves and :data:`LONG_STEPS` steps per PCN (a count, not the clock:
    the same answer on any machine). The chain that lowers the patients outside the band
    most, then costs least, then adds fewest crossings, is applied, until none helps."""
    for _ in range(MAX_ROUNDS):
        bad = st.outside_band()
        best = None
        for k in bad:
            found = _chain_search(st, k)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        if best is None:
            return
        for p, _, t in best[1]:
            st.put(p, t)


def _chain_search(st: _State, k: int):
    """The best long chain from slot ``k`` (outside the band): ``(key, moves)`` or None."""
    lo, hi = st.limit(k)
    push = st.size[k] > hi
    start_pen = st.penalty_of(k, st.size[k], True)
    steps = [LONG_STEPS]
    found: list = []
    chain: list[tuple[int, int, int]] = []
    visited = {k}
    lines0 = {}

    def pen(j: int) -> int:
        return st.penalty_of(j, st.size[j], bool(st.members[j]))

    def record(delta: int) -> None:
        cost = sum(st.cost(p, t) - st.cost(p, f) for p, f, t in chain)
        lines = 0
        if st.lines:
            for j in visited:
                lines += st.crossings(j, st.members[j]) - lines0[j]
        found.append(((delta, cost, lines, tuple(chain)), tuple(chain)))

    def visit(s: int, depth: int) -> None:
        for p, f, t in _chain_steps(st, s, chain, visited, push=push):
            if steps[0] <= 0 or len(found) >= LONG_FOUND:
                return
            steps[0] -= 1
            other = t if push else f  # the slot the imbalance passes to
            w = st.w[p]
            # the slot it leaves (push) or joins (pull) ends inside the band, or (the first
            # PCN) at least nearer it
            here = f if push else t
            after = st.size[here] + (-w if push else w)
            h_lo, h_hi = st.limit(here)
            if here == k:
                if st.penalty_of(k, after, True) >= start_pen:
                    continue
            elif not h_lo <= after <= h_hi:
                continue
            if len(st.members[f]) == 1 and push:
                continue  # pushing out a slot's last practice: a merge, not a chain
            if not st.touches(p, t):
                continue
            if other not in lines0:
                lines0[other] = st.crossings(other, st.members[other]) if st.lines else 0
            before_other = pen(other)
            st.put(p, t)
            chain.append((p, f, t))
            ok = st.connected(f, st.members[f])
            if ok:
                visited.add(other)
                delta = pen(k) - start_pen + pen(other) - before_other
                if pen(other) == 0 and delta < 0:
                    record(delta)
                elif before_other == 0 and depth + 1 < LONG_DEPTH:
                    visit(other, depth + 1)
                visited.discard(other)
            chain.pop()
            st.put(p, f)

    if st.lines:
        lines0[k] = st.crossings(k, st.members[k])
    visit(k, 0)
    if not found:
        return None
    return min(found)


def _chain_steps(st: _State, s: int, chain, visited: set[int], *, push: bool):
    """``(practice, from, to)`` steps that pass the imbalance on from slot ``s``, to a
    slot not yet visited: the slot with most room (push) or most to spare (pull) first,
    then the heaviest practice."""
    moved = {p for p, _, _ in chain}
    out = set()
    if push:
        for p in st.members[s]:
            if p in moved or not st.placed[p]:
                continue
            for q in st.adj[p]:
                t = st.a[q]
                if t >= 0 and t not in visited and t in st.allowed[p]:
                    out.add((p, s, t))
    else:
        for p in st.members[s]:
            if not st.placed[p]:
                continue
            for q in st.adj[p]:
                t = st.a[q]
                if q not in moved and t >= 0 and t not in visited and s in st.allowed[q]:
                    out.add((q, t, s))
    return sorted(out, key=lambda m: (st.size[m[2]] if push else -st.size[m[1]], -st.w[m[0]], m))


def _resplit(st: _State) -> None:
    """Two neighbouring PCNs, one of them outside the band, drawn again: their practices
    (placed, at most 30) are split into two connected regions grown from every pair of
    roots, one in each, and the split that lowers the patients outside the band most
    (then costs least) is applied, until none helps."""
    for _ in range(MAX_ROUNDS):
        bad = st.outside_band()
        best = None
        for k in bad:
            near = sorted({st.a[q] for p in st.members[k] if st.placed[p] for q in st.adj[p]})
            for j in near:
                if j in (k, -1) or not st.members[j]:
                    continue
                found = _best_split(st, k, j)
                if found is not None and (best is None or found[0] < best[0]):
                    best = found
        if best is None:
            return
        for p, k in best[1]:
            st.put(p, k)


#: two PCNs with at most this many practices between them are split every possible way
EXACT_SPLIT = 12


def _every_split(st: _State, k: int, j: int, union: list[int], before: int):
    """Every split of ``union`` into two non-empty groups for ``k`` and ``j``: the one
    that lowers the patients outside the band most (then costs least), each group in
    one piece and allowed where it goes; ``None`` when none lowers it."""
    n = len(union)
    best = None
    for mask in range(1, (1 << n) - 1):
        a = [union[i] for i in range(n) if mask >> i & 1]
        b = [union[i] for i in range(n) if not mask >> i & 1]
        wa = sum(st.w[p] for p in a)
        after = st.penalty_of(k, wa, True) + st.penalty_of(j, st.size[k] + st.size[j] - wa, True)
        if after >= before:
            continue
        if not all(k in st.allowed[p] for p in a) or not all(j in st.allowed[p] for p in b):
            continue
        cost = sum(st.cost(p, k) for p in a) + sum(st.cost(p, j) for p in b)
        if best is not None and (after - before, cost) > best[0][:2]:
            continue
        lines = st.lines_after([(p, k) for p in a] + [(p, j) for p in b])
        key = (after - before, cost, lines, mask)
        if best is not None and key >= best[0]:
            continue
        if not (st.connected(k, a) and st.connected(j, b)):
            continue
        best = (key, tuple((p, k) for p in a) + tuple((p, j) for p in b))
    return best


def _best_split(st: _State, k: int, j: int):
    union = st.members[k] | st.members[j]
    if len(union) > 30 or not all(st.placed[p] for p in union):
        return None
    before = st.penalty_of(k, st.size[k], True) + st.penalty_of(j, st.size[j], True)
    if len(union) <= EXACT_SPLIT:
        return _every_split(st, k, j, sorted(union), before)
    best = None
    for r1 in sorted(st.members[k]):
        for r2 in sorted(st.members[j]):
            regions = _grow_from(st, set(union), [r1, r2])
            if regions is None:
                continue
            a, b = regions
            if not all(k in st.allowed[p] for p in a) or not all(j in st.allowed[p] for p in b):
                continue
            wa, wb = sum(st.w[p] for p in a), sum(st.w[p] for p in b)
            after = st.penalty_of(k, wa, True) + st.penalty_of(j, wb, True)
            if after >= before:
                continue
            cost = sum(st.cost(p, k) for p in a) + sum(st.cost(p, j) for p in b)
            lines = st.lines_after([(p, k) for p in a] + [(p, j) for p in b])
            key = (after - before, cost, lines, r1, r2)
            if best is None or key < best[0]:
                moves = tuple((p, k) for p in sorted(a)) + tuple((p, j) for p in sorted(b))
                best = (key, moves)
    if best is None:
        return None
    # one piece each, as the check counts pieces (a region grows along the graph, but a
    # member with no patients can be the only link)
    a = {p for p, s in best[1] if s == k}
    b = {p for p, s in best[1] if s == j}
    if not (st.connected(k, a) and st.connected(j, b)):
        return None
    return best


def _apply_chain(st: _State, chain) -> bool:
    """Apply the moves when every slot they touch stays in one piece (else undo)."""
    for p, _, t in chain:
        st.put(p, t)
    touched = {a for _, f, t in chain for a in (f, t)}
    if all(st.connected(k, st.members[k]) for k in touched):
        return True
    for p, f, _ in reversed(chain):
        st.put(p, f)
    return False


def _home_pairs(st: _State) -> bool:
    """Practices sent back to the PCN they came from, where the band stops a single move:
    a practice ``p`` away from its own PCN ``h`` goes home (saving what moving it cost)
    while one other practice ``q`` moves to make room in ``h`` (out of it, to a
    neighbouring PCN) or to refill the PCN ``p`` leaves (into it, from a neighbour). The
    pair that lowers the cost most (then adds fewest crossings) and keeps every PCN in the
    band and in one piece is made, until none lowers the cost (best improvement, as
    :func:`geo_pcn.proposal.heuristic._descend`). Every PCN must be inside the band
    before. Whether any pair was made."""
    made = False
    for _ in range(MAX_ROUNDS):
        best = None
        for p in range(st.n):
            h, j = st.part.current[p], st.a[p]
            if h < 0 or h == j or h not in st.allowed[p] or not st.members[h]:
                continue
            gain = st.cost(p, h) - st.cost(p, j)
            if gain >= 0:
                continue
            for q, f, t in _seconds(st, p, h, j):
                change = gain + st.cost(q, t) - st.cost(q, f)
                if change >= 0 or (best is not None and change > best[0][0]):
                    continue
                moves = ((p, h), (q, t))
                key = (change, st.lines_after(moves), p, q, t)
                if (best is None or key < best[0]) and _keeps_rules(st, moves):
                    best = (key, moves)
        if best is None:
            return made
        for p, t in best[1]:
            st.put(p, t)
        made = True
    return made


def _seconds(st: _State, p: int, h: int, j: int):
    """The second moves ``(q, from, to)`` that may let ``p`` go from ``j`` home to ``h``:
    out of ``h`` to a PCN one of ``q``'s neighbours is in (``j`` too), or into ``j`` from
    a neighbouring PCN (``h`` too)."""
    out = set()
    for q in st.members[h]:
        if q == p:
            continue
        for r in st.adj[q]:
            t = st.a[r]
            if t >= 0 and t != h and t in st.allowed[q]:
                out.add((q, h, t))
    for r in st.members[j]:
        for q in st.adj[r]:
            f = st.a[q]
            if q != p and f >= 0 and f != j and j in st.allowed[q]:
                out.add((q, f, j))
    return sorted(out)


def _keeps_rules(st: _State, moves) -> bool:
    """Whether making ``moves`` (``(practice, to)`` pairs, each practice once) leaves
    every slot they touch inside its limits and in one piece."""
    after: dict[int, set[int]] = {}
    for p, t in moves:
        for k in (st.a[p], t):
            after.setdefault(k, set(st.members[k]))
    for p, t in moves:
        after[st.a[p]].discard(p)
        after[t].add(p)
    for k, members in after.items():
        if members:
            size = sum(st.w[p] for p in members)
            lo, hi = st.limit(k)
            if not lo <= size <= hi or not st.connected(k, members):
                return False
    return True


def _relabel(st: _State) -> bool:
    """The PCNs as drawn, each given the slot that keeps most of its practices where they
    were (an assignment problem, solved exactly): a group drawn from a PCN's practices
    may carry another slot's code, moving every practice of it for nothing. A group may
    take a slot whose candidates hold all its practices and whose rules (band, cap,
    contiguity) it meets; the drawing as it is stays a solution, so the cost never rises.
    Whether any group changed slot."""
    from scipy.optimize import linear_sum_assignment

    if st.part.objective == "pcns":
        return False  # what a PCN's change costs is not a sum over its practices
    groups = [k for k in range(len(st.slots)) if st.members[k]]
    slots = range(len(st.slots))
    never = -(1 << 40)
    score = [[never] * len(st.slots) for _ in groups]
    for i, g in enumerate(groups):
        members = st.members[g]
        size = st.size[g]
        for k in slots:
            lo, hi = st.limit(k)
            if not lo <= size <= hi or not all(k in st.allowed[p] for p in members):
                continue
            if k != g and not st.connected(k, members):
                continue
            # what stays, less a tie-break keeping each group's slot where nothing is gained
            score[i][k] = 2 * sum(-st.cost(p, k) for p in members) + (k == g)
    rows, cols = linear_sum_assignment(score, maximize=True)
    new = {groups[i]: int(k) for i, k in zip(rows, cols, strict=True)}
    if all(g == k for g, k in new.items()):
        return False
    drawn = {g: sorted(st.members[g]) for g in groups}
    for g in groups:
        for p in drawn[g]:
            st.put(p, -1)
    for g in groups:
        for p in drawn[g]:
            st.put(p, new[g])
    return True
