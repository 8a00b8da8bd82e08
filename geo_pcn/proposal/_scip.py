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
"""

from __future__ import annotations

__all__ = ["available", "first_objective"]


def available() -> bool:
    try:
        import pyscipopt  # noqa: F401
    except ImportError:
        return False
    return True


def first_objective(part, graph, cuts: set, target: float, left, *, score, incumbent=None):
    """``(bound, best or None, status)`` as :func:`geo_pcn.proposal.model._cut_loop`
    gives them, for the first objective; the cuts found are added to ``cuts`` (for the
    HiGHS searches that follow). ``score`` values an answer as the model values its own
    (:func:`geo_pcn.proposal.model._score`, passed in: this module sits below the model)."""
    from pyscipopt import SCIP_RESULT, Conshdlr, Model, quicksum

    w = part.weights
    low, high = part.band
    m = Model()
    m.hideOutput()
    m.setParam("limits/time", max(left(), 0.1))
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
    unit = (lambda p: 1) if part.objective == "practices" else (lambda p: w[p])
    moved = [
        (unit(p), v) for (p, k), v in x.items() if part.current[p] >= 0 and part.current[p] != k
    ]
    m.setObjective(quicksum(c * v for c, v in moved), "minimize")

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

        def consenfolp(self, constraints, nusefulconss, solinfeasible):
            return self.enforce()

        def consenfops(self, constraints, nusefulconss, solinfeasible, objinfeasible):
            return self.enforce()

        def conslock(self, constraint, locktype, nlockspos, nlocksneg):
            for v in x.values():
                self.model.addVarLocks(v, nlockspos + nlocksneg, nlockspos + nlocksneg)

    m.includeConshdlr(
        Contiguity(), "contiguity", "separator cuts for PCNs in pieces",
        chckpriority=-10, enfopriority=-10, needscons=False,
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
    status = m.getStatus()
    if status == "infeasible":
        return 0, None, "infeasible"
    extra = sum(unit(p) for p in range(len(part.practices)) if part.current[p] == -2)
    dual = m.getDualbound()
    bound = int(-(-(dual - 1e-6) // 1)) + extra if dual > -1e20 else 0
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
    if best is not None:
        best = dict(best)
        best["n_variables"], best["n_constraints"] = m.getNVars(), m.getNConss()
        bound = min(bound, best["value"])
    return bound, best, "optimal" if status == "optimal" else "time limit"
