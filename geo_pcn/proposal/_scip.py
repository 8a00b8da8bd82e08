"""The first objective solved by SCIP (``pyscipopt``), contiguity enforced lazily inside
one branch-and-bound: a constraint handler checks each candidate solution and adds the
separator cuts of every PCN found in pieces (Validi, Buchanan and Lykhovyd 2022), from the
heuristic's answer as the incumbent.

Measured against the HiGHS rounds of cuts (re-solved from scratch each round) through
:func:`geo_pcn.proposal.model.solve`, 30 s a part, one thread (README, *Propose a repair*):
QNC (141 practices) 200,433 against a bound of 200,423 where HiGHS stayed at the
heuristic's 240,179 (gap 18.6%); a national ICB of 65 practices proven optimal in 0.9 s
(HiGHS 3.2 s); one of 152 within 0.07% (HiGHS 1.8%); ICBs of 106 and 358 practices no
closer with either. It solves the first objective (patients or practices moved) when
``pyscipopt`` is installed; the tie-breaks, the lines kept, the elastic band and the
``pcns`` objective stay with HiGHS, which solves everything when SCIP is not there. New
slots of one parent are left for SCIP's own symmetry handling (ordering them by hand, as
the HiGHS model does, left QNC at a gap of 18% in the one run measured).

Two kinds of rows make the bound stronger (measured on the national parts, 30 s, one
thread, load 3-5): the handler also separates fractional LP solutions (a slot's support in
groups apart in the graph: :func:`_support_cuts`), which raised E54000027's bound from
554,868-559,102 to 636,796-637,111; and each PCN above the band loses at least its excess
in whole practices, or the lower limit's worth in whole practices when it opens a new PCN
(:func:`_over_band_rows`). E54000022's bound moved little (376,547-387,949 either way).
"""

from __future__ import annotations

__all__ = ["available", "first_objective"]


def available() -> bool:
    try:
        import pyscipopt  # noqa: F401
    except ImportError:
        return False
    return True


def first_objective(
    part, graph, cuts: set, target: float, left, *, score, incumbent=None, pause=None
):
    """``(bound, best or None, status)`` as :func:`geo_pcn.proposal._highs._cut_loop`
    gives them, for the first objective; the cuts found are added to ``cuts`` (for the
    HiGHS searches that follow). ``score`` values an answer as the model values its own
    (:func:`geo_pcn.proposal._objective._score`, passed in). With ``pause`` (``(seconds,
    between)``), SCIP stops after ``seconds``; when it has not beaten ``incumbent`` by then,
    ``between(its gap, its best)`` may return a better answer found elsewhere, which SCIP
    takes as its incumbent before it goes on."""
    m, x, y, unit = _model(part, cuts, target)
    first_leg = left() if pause is None else min(left(), pause[0])
    m.setParam("limits/time", max(first_leg, 0.1))
    m.includeConshdlr(
        _handler(part, graph, cuts, x), "contiguity", "separator cuts for PCNs in pieces",
        chckpriority=-10, enfopriority=-10, needscons=False, sepafreq=1,
    )  # fmt: skip
    if incumbent is not None:
        sol = m.createSol()
        chosen = incumbent["slots"]
        for (p, k), v in x.items():
            m.setSolVal(sol, v, 1.0 if chosen[p] == k else 0.0)
        for k in range(len(part.slots)):
            m.setSolVal(sol, y[k], 1.0 if k in set(chosen) else 0.0)
        m.addSol(sol, free=True)
    m.optimize()
    if pause is not None and m.getStatus() == "timelimit" and left() > 0.5:
        # stalled (no better than the incumbent): ``between`` may search elsewhere for a
        # better answer (CP-SAT), which SCIP takes as its incumbent; then SCIP goes on
        primal, dual = m.getPrimalbound(), m.getDualbound()
        gap = (primal - dual) / max(abs(primal), 1) if m.getNSols() else 1.0
        if incumbent is None or primal >= incumbent["first_value"] - 0.5:
            better = pause[1](gap, _best(m, part, x, incumbent, score))
            if better is not None:
                _add(m, part, x, y, better["slots"])
        if left() > 0.5:
            m.setParam("limits/time", m.getSolvingTime() + max(left(), 0.1))
            m.optimize()
    return _answer(m, part, x, unit, incumbent, score)


def _handler(part, graph, cuts: set, x: dict):
    """The constraint handler: a candidate solution with a PCN in pieces is rejected and
    cut off by the separator cuts of its pieces (:meth:`_Graph.cuts`); fractional LP
    solutions are separated by :func:`_support_cuts`. Every cut is added to ``cuts``."""
    from pyscipopt import SCIP_RESULT, Conshdlr, quicksum

    class Contiguity(Conshdlr):
        def assignment(self, sol):
            codes = [""] * len(part.practices)
            for (p, k), v in x.items():
                if self.model.getSolVal(sol, v) > 0.5:
                    codes[p] = part.slots[k].code
            return codes

        def pieces(self, sol):
            codes = self.assignment(sol)
            return {} if "" in codes else graph.pieces(codes)

        def conscheck(self, constraints, solution, *args, **kwargs):
            bad = self.pieces(solution)
            return {"result": SCIP_RESULT.INFEASIBLE if bad else SCIP_RESULT.FEASIBLE}

        def enforce(self):
            pieces = self.pieces(None)
            if not pieces:
                return {"result": SCIP_RESULT.FEASIBLE}
            new = graph.cuts(pieces) - cuts
            if not new:
                return {"result": SCIP_RESULT.INFEASIBLE}
            for k, a, c, sep in sorted(new):
                self.model.addCons(x[a, k] + x[c, k] - quicksum(x[s, k] for s in sep) <= 1)
            cuts.update(new)
            return {"result": SCIP_RESULT.CONSADDED}

        def conssepalp(self, constraints, nusefulconss):
            values = {key: self.model.getSolVal(None, v) for key, v in x.items()}
            new = _support_cuts(part, graph, values) - cuts
            if not new:
                return {"result": SCIP_RESULT.DIDNOTFIND}
            for k, a, c, sep in sorted(new):
                self.model.addCons(
                    x[a, k] + x[c, k] - quicksum(x[s, k] for s in sep) <= 1, removable=True
                )
            cuts.update(new)
            return {"result": SCIP_RESULT.CONSADDED}

        def consenfolp(self, constraints, nusefulconss, solinfeasible):
            return self.enforce()

        def consenfops(self, constraints, nusefulconss, solinfeasible, objinfeasible):
            return self.enforce()

        def conslock(self, constraint, locktype, nlockspos, nlocksneg):
            for v in x.values():
                self.model.addVarLocks(v, nlockspos + nlocksneg, nlockspos + nlocksneg)

    return Contiguity()


def _model(part, cuts: set, target: float):
    """The SCIP model of the first objective without contiguity (the constraint handler
    adds it): ``(model, x, y, unit)``, ``unit`` the cost of moving each practice."""
    from pyscipopt import Model, quicksum

    w = part.weights
    low, high = part.band
    m = Model()
    m.hideOutput()
    m.setParam("limits/gap", float(target))
    m.setParam("limits/absgap", 0.999)  # the objective is a whole number
    m.setParam("parallel/maxnthreads", 1)
    m.setParam("randomization/randomseedshift", 0)
    x = {}
    for k, s in enumerate(part.slots):
        for p in s.candidates:
            x[p, k] = m.addVar(vtype="B", name=f"x{p}_{k}")
    y = [m.addVar(vtype="B", name=f"y{k}") for k in range(len(part.slots))]
    by_p: dict[int, list] = {}
    for (p, k), v in x.items():
        by_p.setdefault(p, []).append(v)
        m.addCons(v <= y[k])
    for vs in by_p.values():
        m.addCons(quicksum(vs) == 1)
    for k, s in enumerate(part.slots):
        members = [(x[p, k], w[p]) for p in s.candidates]
        m.addCons(quicksum(v for v, _ in members) >= y[k])
        most = sum(c for _, c in members)
        total = quicksum(c * v for v, c in members)
        if s.band:
            if low > 0:
                m.addCons(total >= low * y[k])
            if high < most:
                m.addCons(total <= min(high, most) * y[k])
        elif s.cap is not None and s.cap < most:
            m.addCons(total <= s.cap * y[k])
    # new slots of one parent are alike: SCIP finds that symmetry itself (orbitopes);
    # ordering them by hand, as the HiGHS model does, measured slower here
    for k, a, c, sep in sorted(cuts):
        m.addCons(x[a, k] + x[c, k] - quicksum(x[s, k] for s in sep) <= 1)
    for k, terms, rhs in _over_band_rows(part):
        leaving = quicksum(c * (1 - x[p, k]) if (p, k) in x else c for p, c in terms[0])
        m.addCons(leaving - quicksum(c * y[j] for j, c in terms[1]) >= rhs)
    unit = (lambda p: 1) if part.objective == "practices" else (lambda p: w[p])
    moved = [
        (unit(p), v) for (p, k), v in x.items() if part.current[p] >= 0 and part.current[p] != k
    ]
    m.setObjective(quicksum(c * v for c, v in moved), "minimize")

    return m, x, y, unit


def _answer(m, part, x, unit, incumbent, score):
    """``(bound, best or None, status)`` read from the model once SCIP stopped."""
    status = m.getStatus()
    if status == "infeasible":
        return 0, None, "infeasible"
    extra = sum(unit(p) for p in range(len(part.practices)) if part.current[p] == -2)
    dual = m.getDualbound()
    bound = int(-(-(dual - 1e-6) // 1)) + extra if dual > -1e20 else 0
    best = _best(m, part, x, incumbent, score)
    if best is not None:
        best = dict(best)
        best["n_variables"], best["n_constraints"] = m.getNVars(), m.getNConss()
        bound = min(bound, best["value"])
    return bound, best, "optimal" if status == "optimal" else "time limit"


def _best(m, part, x, incumbent, score):
    """SCIP's best answer, scored, or ``incumbent`` when that is no worse."""
    best = incumbent
    if m.getNSols() > 0:
        sol = m.getBestSol()
        chosen = [-1] * len(part.practices)
        for (p, k), v in x.items():
            if m.getSolVal(sol, v) > 0.5:
                chosen[p] = k
        if min(chosen) >= 0:
            found = score(part, tuple(chosen))
            if best is None or found["value"] <= best["value"]:
                best = found
    return best


def _add(m, part, x, y, chosen) -> bool:
    """Give SCIP, between two legs of its search, an answer found elsewhere (a slot per
    practice), in the original problem's space (presolve and symmetry handling may have
    fixed columns it sets otherwise: SCIP then checks it there); whether SCIP took it."""
    sol = m.createOrigSol()
    for (p, k), v in x.items():
        m.setSolVal(sol, v, 1.0 if chosen[p] == k else 0.0)
    for k in range(len(part.slots)):
        m.setSolVal(sol, y[k], 1.0 if k in set(chosen) else 0.0)
    return bool(m.trySol(sol, printreason=False, free=True))


def _support_cuts(part, graph, values: dict) -> set:
    """Separator cuts a fractional solution breaks: per slot, the practices it holds in
    part (its support) fall in groups apart in the graph; two of them in different
    groups whose shares add up to more than one break ``x[a] + x[b] - sum(x[s] for s in
    S) <= 1``, ``S`` the minimal separator of ``a``'s group and ``b`` among the slot's
    candidates (:meth:`~geo_pcn.proposal._graph._Graph.sides`), every one of share 0."""
    import networkx as nx

    out = set()
    by_slot: dict[int, dict[int, float]] = {}
    for (p, k), v in values.items():
        if v > 1e-6 and part.placed[p] and part.slots[k].contiguous:
            by_slot.setdefault(k, {})[p] = v
    for k, share in by_slot.items():
        if len(share) < 2:
            continue
        groups = []
        for comp in nx.connected_components(graph.graph.subgraph(share)):
            best = max(
                (p for p in comp if graph.needs[p]), key=lambda p: (share[p], -p), default=None
            )
            if best is not None:
                groups.append((share[best], best, comp))
        if len(groups) < 2:
            continue
        groups.sort(key=lambda g: (-g[0], g[1]))
        for i, (va, a, comp) in enumerate(groups[:4]):
            separator = graph.sides(k, comp)  # the minimal separator of comp and b
            for vb, b, _ in groups[i + 1 : 5]:
                if va + vb > 1 + 1e-6:
                    out.add((k, a, b, separator(b)))
    return out


def _over_band_rows(part):
    """Per PCN above the band: the patients leaving it (``sum w[p] (1 - x[p,k])`` over its
    practices) are at least ``m``, the least sum of its list sizes that reaches its excess
    (whole practices move), and at least ``m2`` when it opens one of its new PCNs (which
    holds at least the band's lower limit, of its own practices only):
    ``leaving >= m + (m2 - m) * sum(y[j] for its new PCNs)`` with ``m2`` the least sum of
    its list sizes reaching the lower limit (valid for any number of new PCNs: each holds
    ``m2`` at least). Yields ``(k, (own terms, new-slot terms), m)``."""
    low, high = part.band
    w = part.weights
    for k, slot in enumerate(part.slots):
        if slot.new or not slot.band:
            continue
        own = [p for p, c in enumerate(part.current) if c == k]
        sizes = [int(w[p]) for p in own]
        total = sum(sizes)
        if total <= high:
            continue
        least = _least_sum(sizes, total - high)
        children = [
            j for j, s in enumerate(part.slots)
            if s.new and s.band and s.parent == slot.code and set(s.candidates) <= set(own)
        ]  # fmt: skip
        split = _least_sum(sizes, low) if children else None
        extra = 0 if split is None else max(split - least, 0)
        yield k, ([(p, int(w[p])) for p in own], [(j, extra) for j in children if extra]), least


def _least_sum(sizes: list[int], target: int) -> int | None:
    """The least sum of a subset of ``sizes`` that is ``target`` or more (None: none)."""
    import numpy as np

    if target <= 0:
        return 0
    total = sum(sizes)
    if total < target:
        return None
    reach = np.zeros(total + 1, dtype=bool)
    reach[0] = True
    for v in sizes:
        if v > 0:
            reach[v:] |= reach[:-v].copy()
    return int(target + np.flatnonzero(reach[target:])[0])
