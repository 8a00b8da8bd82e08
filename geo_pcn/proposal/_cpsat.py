"""The first objective searched by OR-Tools CP-SAT (``ortools``), contiguity by a
single-commodity flow per PCN, from the best answer known (every column hinted, the flow
too): its large-neighbourhood search finds better configurations where SCIP, whose lazy
cuts reject most of the solutions its heuristics try, stays at the incumbent.

Measured on the national parts (30 s a part, README *Propose a repair*): on E54000022 (106
practices) CP-SAT found 401,694-442,260 patients moved where SCIP kept the heuristic's
464,958; on E54000027 (358) 1,068,985 against 1,224,874. Its bound is weaker than SCIP's
(340,024 against 385,499 on E54000022), so SCIP keeps the bound: :func:`improve` only
brings a better incumbent, and its own bound (valid for the same model) when higher.

It is called between two legs of SCIP's search: when SCIP, after :data:`PAUSE` of a part's
time, has not beaten the incumbent and is more than :data:`GO_ON` from its bound, CP-SAT
gets :data:`SHARE` of the search time left, and SCIP goes on from CP-SAT's answer with the
rest (so the middle-sized parts SCIP proves within 1% late in their time, as E54000052
under load, are still proven). Its two workers search in parallel (CP-SAT's interleaved,
deterministic mode found 442,260 on E54000022 against 401,694-413,805): like SCIP's time
limit, a time-limited answer may differ from run to run; a proven one does not.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from geo_pcn.proposal._objective import _needs

__all__ = ["available", "fewest_moves", "fewest_outside", "improve", "into_band", "one_at_a_time"]

#: CP-SAT's workers (threads)
WORKERS = 2
#: the share of a part's time SCIP searches alone before CP-SAT may be called
PAUSE = 0.35
#: SCIP goes on alone when its gap is this or less by then
GO_ON = 0.10
#: the share of the search time left that CP-SAT gets (SCIP goes on with the rest)
SHARE = 0.6


#: the share of its seconds a CP-SAT search from an incumbent waits for its turn
WAIT = 0.25

#: the lock the worker processes of one run share (given to each by its pool, see
#: :func:`one_at_a_time`); empty: this process searches alone
_SHARED: list = []


def one_at_a_time(lock) -> None:
    """Make this worker process take ``lock`` for each CP-SAT search (a pool's
    initializer). Parts are solved in as many processes as there are cores, SCIP on one
    thread each; CP-SAT searches on :data:`WORKERS` threads (on one, it found no answer
    in the band in 30 s on any of E54000008, 058, 060, where two find one in 4-10 s), so
    one CP-SAT search at a time keeps a run at cores + 1 threads, not twice the cores."""
    _SHARED[:] = [lock]


@contextmanager
def _turn(wait: float):
    """Whether this process may search now: at once when it is alone, else when the
    shared lock is free within ``wait`` seconds (held until the search ends)."""
    if not _SHARED:
        yield True
        return
    got = _SHARED[0].acquire(timeout=max(wait, 0.0)) if wait > 0 else _SHARED[0].acquire(False)
    try:
        yield got
    finally:
        if got:
            _SHARED[0].release()


def available() -> bool:
    try:
        from ortools.sat.python import cp_model  # noqa: F401
    except ImportError:
        return False
    return True


def improve(part, graph, incumbent: dict | None, *, seconds: float, target: float, score):
    """``(best or None, bound, proven)``: the best answer CP-SAT finds for the first
    objective from ``incumbent`` (as :func:`geo_pcn.proposal.model._score` values it,
    ``score`` passed in), its proven lower bound, and whether it proved the answer within
    ``target`` in ``seconds`` at most.
    An answer is returned only when it beats ``incumbent`` and ``graph`` finds every PCN of
    it in one piece (the check the SCIP search uses)."""
    ends = time.perf_counter() + seconds
    with _turn(WAIT * seconds) as mine:
        if not mine:  # another process's CP-SAT is searching: SCIP goes on alone
            return None, None, False
        seconds = ends - time.perf_counter()
        return _improve(part, graph, incumbent, seconds=seconds, target=target, score=score)


def _improve(part, graph, incumbent, *, seconds, target, score):
    from ortools.sat.python import cp_model

    model, x = _model(part, incumbent)
    solver = _solver(whole=True)
    solver.parameters.max_time_in_seconds = max(float(seconds), 0.1)
    solver.parameters.relative_gap_limit = float(target)
    status = solver.Solve(model)
    extra = _forced(part)
    if status == cp_model.INFEASIBLE:
        return None, None, False
    bound = int(-(-(solver.BestObjectiveBound() - 1e-6) // 1)) + extra
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, bound, False
    chosen = _chosen(part, graph, solver, x)
    if chosen is None:
        return None, bound, False  # pragma: no cover - the flow keeps every PCN whole
    found = score(part, chosen)
    if incumbent is not None and found["value"] >= incumbent["value"]:
        found = None
    proven = status == cp_model.OPTIMAL
    return found, bound, proven


def into_band(part, graph, effort: tuple[int, ...], *, seconds: float, score):
    """``(answer or None, proven)``: a configuration inside the band found by CP-SAT from
    ``effort`` (the heuristic's answer, every rule kept but the band), or ``None``; and
    whether CP-SAT proved that none exists (no configuration of the part is inside the
    band under the model's choices).

    The band is made elastic and the patients outside it are all that is minimised, so
    that ``effort`` is a solution from the start and CP-SAT's large-neighbourhood search
    works from it; it stops at the first answer with nobody outside the band (the moves
    are the searches' work after). Measured on the four national parts where the
    heuristic left PCNs just outside the band (E54000008, 028, 058, 060, 2 workers, load
    about 5): neither CP-SAT's plain model (nothing to start from) nor SCIP found an answer
    in 30 s; from the elastic start, 058 and 060 were in the band in 3-5 s, 008 in 10 s;
    028 stayed 3,303 patients outside for 40 s when the moves were minimised too (one
    patient outside weighing more than every move), and was in the band in 16 s when they
    were not."""
    from ortools.sat.python import cp_model

    model, x = _model(part, score(part, effort), elastic=True)
    solver = _solver(whole=False)
    params = solver.parameters
    ends = time.perf_counter() + seconds
    with _turn(seconds) as mine:  # waits its turn: without it nothing is found
        params.max_time_in_seconds = max(ends - time.perf_counter(), 0.1)
        if not mine:
            return None, False
        status = solver.Solve(model)
    if status == cp_model.INFEASIBLE:  # pragma: no cover - effort is a solution
        return None, False
    if solver.BestObjectiveBound() > 0.5:
        return None, True  # the fewest patients outside the band is more than none
    if status != cp_model.OPTIMAL:
        return None, False
    return _chosen(part, graph, solver, x), False


def fewest_outside(part, graph, effort: tuple[int, ...], *, seconds: float, quiet: float):
    """The configuration with the fewest patients outside the band CP-SAT finds from
    ``effort`` (the heuristic's answer, every rule kept but the band) in ``seconds`` at
    most, ending once no better answer came for ``quiet`` seconds, and whether it proved
    no configuration has fewer (CP-SAT's status ``OPTIMAL``); ``(None, False)`` when it had
    no turn or found nothing. Used once the band is proven out of reach
    (:func:`geo_pcn.proposal.model._elastic`)."""
    from ortools.sat.python import cp_model

    from geo_pcn.proposal._objective import _score

    model, x = _model(part, _score(part, effort), elastic=True)
    solver = _solver(whole=True)
    params = solver.parameters
    ends = time.perf_counter() + seconds
    with _turn(WAIT * seconds) as mine:
        params.max_time_in_seconds = max(ends - time.perf_counter(), 0.1)
        if not mine:  # another process's CP-SAT is searching: HiGHS alone
            return None, False
        status = _until_quiet(solver, model, quiet)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    found = _chosen(part, graph, solver, x)
    return found, found is not None and status == cp_model.OPTIMAL


class _Quiet:
    """Stops a CP-SAT search once no better answer came for ``quiet`` seconds."""

    def __init__(self, solver, quiet: float) -> None:
        import threading

        self.solver, self.quiet = solver, quiet
        self.last = time.perf_counter()
        self.done = threading.Event()
        self.watch = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.done.wait(0.1):
            if time.perf_counter() - self.last > self.quiet:
                self.solver.StopSearch()
                return


def _until_quiet(solver, model, quiet: float):
    """``solver.Solve(model)``, stopped once no better answer came for ``quiet`` seconds
    (the first answer is the hint, found at once)."""
    from ortools.sat.python import cp_model

    watch = _Quiet(solver, quiet)

    class Found(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            watch.last = time.perf_counter()

    watch.watch.start()
    try:
        return solver.Solve(model, Found())
    finally:
        watch.done.set()
        watch.watch.join()


def _chosen(part, graph, solver, x) -> tuple[int, ...] | None:
    """The assignment of CP-SAT's answer (a slot index per practice), when every PCN of
    it is in one piece (the flow keeps them whole)."""
    chosen = [-1] * len(part.practices)
    for (p, k), v in x.items():
        if solver.BooleanValue(v):
            chosen[p] = k
    if min(chosen) < 0 or graph.pieces([part.slots[k].code for k in chosen]):
        return None  # pragma: no cover - the flow keeps every PCN whole
    return tuple(chosen)


def fewest_moves(part, graph, answer: tuple[int, ...], outside: int, *, seconds: float):
    """The configuration with the fewest moves (the first objective) CP-SAT finds from
    ``answer`` with at most ``outside`` patients outside the band, in ``seconds``, when it
    moves fewer than ``answer``; else ``None``."""
    from ortools.sat.python import cp_model

    from geo_pcn.proposal._objective import _score

    begun = _score(part, answer)
    model, x = _model(part, begun, elastic=True, hold=outside)
    solver = _solver(whole=True)
    params = solver.parameters
    params.relative_gap_limit = float(part.gap)
    ends = time.perf_counter() + seconds
    with _turn(WAIT * seconds) as mine:
        params.max_time_in_seconds = max(ends - time.perf_counter(), 0.1)
        if not mine:
            return None
        status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    chosen = _chosen(part, graph, solver, x)
    if chosen is None:
        return None  # pragma: no cover - the flow keeps every PCN whole
    return chosen if _score(part, chosen)["first_value"] < begun["first_value"] else None


def _solver(*, whole: bool):
    """A CP-SAT solver with :data:`WORKERS` workers, deterministic seeding, and (``whole``)
    stopping once within 1 of its bound: the objective is a whole number."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = WORKERS
    solver.parameters.random_seed = 0
    if whole:
        solver.parameters.absolute_gap_limit = 0.999
    return solver


def _forced(part) -> int:
    """The first objective's constant: practices whose PCN lives in another part move
    whatever they join."""
    if part.objective == "practices":
        return sum(1 for c in part.current if c == -2)
    return sum(part.weights[p] for p, c in enumerate(part.current) if c == -2)


def _model(part, incumbent, *, elastic: bool = False, hold: int | None = None):
    """The CP-SAT model of the first objective, hinted with ``incumbent`` (every column:
    assignment, slots used, the roots and flows of a spanning tree of each PCN) and its
    assignment columns; ``elastic``: the band's limits may be broken, and the patients
    outside them are what is minimised (with ``hold``: at most that many, and the first
    objective minimised)."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    w = part.weights
    low, high = part.band
    needs = _needs(part)
    x = {(p, k): m.NewBoolVar(f"x{p}_{k}") for k, s in enumerate(part.slots) for p in s.candidates}
    y = [m.NewBoolVar(f"y{k}") for k in range(len(part.slots))]
    by_practice: dict[int, list] = {}
    for (p, k), v in x.items():
        by_practice.setdefault(p, []).append(v)
        m.AddImplication(v, y[k])
    for vs in by_practice.values():
        m.AddExactlyOne(vs)
    chosen = None if incumbent is None else incumbent["slots"]
    outside = []
    for k, slot in enumerate(part.slots):
        members = [(x[p, k], int(w[p])) for p in slot.candidates]
        m.AddBoolOr([v for v, _ in members]).OnlyEnforceIf(y[k])
        total = sum(c * v for v, c in members)
        most = sum(c for _, c in members)
        if slot.band and elastic:
            short = m.NewIntVar(0, low, f"short{k}") if low > 0 else 0
            over = m.NewIntVar(0, max(most - high, 0), f"over{k}") if high < most else 0
            if low > 0:
                m.Add(total + short >= low).OnlyEnforceIf(y[k])
                m.Add(short == 0).OnlyEnforceIf(y[k].Not())
            if high < most:
                m.Add(total - over <= high)
            outside += [v for v in (short, over) if not isinstance(v, int)]
            if chosen is not None:
                size = sum(int(w[p]) for p, j in enumerate(chosen) if j == k)
                if low > 0:
                    m.AddHint(short, max(low - size, 0) if size else 0)
                if high < most:
                    m.AddHint(over, max(size - high, 0))
        elif slot.band:
            if low > 0:
                m.Add(total >= low).OnlyEnforceIf(y[k])
            if high < most:
                m.Add(total <= high)
        elif slot.cap is not None and slot.cap < most:
            m.Add(total <= slot.cap)
        if slot.contiguous:
            _flow(m, part, k, x, needs, chosen)
    unit = (lambda p: 1) if part.objective == "practices" else (lambda p: int(w[p]))
    moved = [
        (unit(p), v) for (p, k), v in x.items() if part.current[p] >= 0 and part.current[p] != k
    ]
    if elastic and hold is not None:
        m.Add(sum(outside) <= hold)
    if elastic and hold is None:
        m.Minimize(sum(outside))
    else:
        m.Minimize(sum(c * v for c, v in moved))
    if chosen is not None:
        for (p, k), v in x.items():
            m.AddHint(v, chosen[p] == k)
        for k, v in enumerate(y):
            m.AddHint(v, k in set(chosen))
    return m, x


def _flow(m, part, k, x, needs, chosen) -> None:
    """One root sends a unit to every other member that must be connected, along the
    graph's edges between members (as the HiGHS model's flow); hinted with a spanning
    tree of the slot's members in ``chosen``."""
    import networkx as nx

    members = [p for p in part.slots[k].candidates if part.placed[p]]
    if sum(needs[p] for p in members) < 2:
        return
    inside = set(members)
    arcs = [(i, j) for i, j in part.edges if i in inside and j in inside]
    big = len(members) - 1
    roots = {p: m.NewBoolVar(f"r{p}_{k}") for p in members}
    m.AddAtMostOne(roots.values())
    flows = {}
    balance: dict[int, list] = {p: [] for p in members}
    for i, j in arcs:
        for a, c in ((i, j), (j, i)):
            f = m.NewIntVar(0, big, f"f{a}_{c}_{k}")
            m.Add(f == 0).OnlyEnforceIf(x[a, k].Not())
            m.Add(f == 0).OnlyEnforceIf(x[c, k].Not())
            flows[a, c] = f
            balance[c].append(f)
            balance[a].append(-f)
    for p in members:
        m.AddImplication(roots[p], x[p, k])
        demand = 1 if needs[p] else 0
        m.Add(sum(balance[p]) - demand * x[p, k] + (big + 1) * roots[p] >= 0)
    if chosen is None:
        return
    held = [p for p in members if chosen[p] == k]
    sent = dict.fromkeys(flows, 0)
    root = min((p for p in held if needs[p]), default=None)
    if root is not None:
        g = nx.Graph()
        g.add_nodes_from(held)
        g.add_edges_from((i, j) for i, j in arcs if chosen[i] == k and chosen[j] == k)
        tree = nx.bfs_tree(g, root)
        for v in reversed(list(nx.topological_sort(tree))):  # leaves first
            below = (1 if needs[v] else 0) + sum(sent[v, c] for c in tree.successors(v))
            for u in tree.predecessors(v):
                sent[u, v] = below
    for key, f in flows.items():
        m.AddHint(f, sent[key])
    for p, v in roots.items():
        m.AddHint(v, p == root)
