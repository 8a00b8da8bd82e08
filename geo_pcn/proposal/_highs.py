"""The model built for HiGHS (``highspy``): the whole model of
:mod:`geo_pcn.proposal.model` (assignment, band, contiguity flow or the cuts found, crossings,
every objective, the elastic band) in one builder, and the rounds of cuts
(:func:`_cut_loop`) that solve it without the flow.

The columns and rows are collected by hand (:class:`_Builder`) and passed to HiGHS in one
call. highspy's modelling API (``addVariable``, ``addConstr`` with ``qsum`` expressions)
was measured in its place on E54000027 (358 practices, load about 4): 2.27 s to build the
flow model (11,825 columns) against 0.25 s, and 0.33 s against 0.035 s for each round of
cuts, so the hand-written builder stays.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from geo_pcn.proposal._objective import (
    _gap,
    _line_sets,
    _needs,
    _pad,
    _score,
    _tie_most,
    crossings_added,
)
from geo_pcn.proposal._part import Part

__all__: list[str] = []


class _Builder:
    """Columns and sparse rows of a MIP, for HiGHS."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.rows_lower: list[float] = []
        self.rows_upper: list[float] = []
        self.r: list[int] = []
        self.c: list[int] = []
        self.v: list[float] = []
        #: the columns counting crossings added (see :func:`_crossing_columns`)
        self.cross_cols: list[int] = []

    def var(self, upper: float = 1.0, *, integer: bool = True) -> int:
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.lower) - 1

    def row(self, terms, lower: float = -np.inf, upper: float = np.inf) -> None:
        i = len(self.rows_lower)
        for col, val in terms:
            if val:
                self.r.append(i)
                self.c.append(col)
                self.v.append(float(val))
        self.rows_lower.append(lower)
        self.rows_upper.append(upper)

    def solve(self, cost: np.ndarray, time_limit: float, gap: float, start=None):
        import highspy

        n, m = len(self.lower), len(self.rows_lower)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = cost.astype(float)
        lp.col_lower_ = np.array(self.lower)
        lp.col_upper_ = np.array(self.upper)
        lp.row_lower_ = np.array(self.rows_lower, dtype=float)
        lp.row_upper_ = np.array(self.rows_upper, dtype=float)
        cols = np.array(self.c, dtype=np.int64)
        order = np.argsort(cols, kind="stable")
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.searchsorted(cols[order], np.arange(n + 1)).astype(np.int32)
        lp.a_matrix_.index_ = np.array(self.r, dtype=np.int32)[order]
        lp.a_matrix_.value_ = np.array(self.v, dtype=float)[order]
        kinds = highspy.HighsVarType
        lp.integrality_ = [kinds.kInteger if i else kinds.kContinuous for i in self.integer]
        h = _highs()
        for key, value in (
            ("output_flag", False),
            ("threads", 1),  # one thread, one seed: the same answer every run
            ("random_seed", 0),
            ("time_limit", float(time_limit)),
            ("mip_rel_gap", float(gap)),
            ("mip_abs_gap", 0.999),  # the objective is a whole number
        ):
            h.setOptionValue(key, value)
        h.passModel(lp)
        if isinstance(start, dict):  # some columns only: HiGHS completes the rest
            cols = np.array(sorted(start), dtype=np.int32)
            h.setSolution(len(cols), cols, np.array([start[c] for c in cols], dtype=float))
        elif start is not None:
            given = highspy.HighsSolution()
            given.col_value = list(start)
            given.value_valid = True
            h.setSolution(given)
        h.run()
        status = h.modelStatusToString(h.getModelStatus())
        info = h.getInfo()
        values = np.asarray(h.getSolution().col_value) if info.primal_solution_status else None
        return status, values, info.objective_function_value, info.mip_dual_bound


_BANNER_SHOWN = False


def _highs():
    """A HiGHS instance; the first one of a process prints a banner on the C-level
    standard output (before any option can silence it), so that one is made with file
    descriptor 1 pointed at /dev/null: nothing of the solver reaches a CLI's output."""
    global _BANNER_SHOWN
    import highspy

    if _BANNER_SHOWN:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    _BANNER_SHOWN = True
    return h


def _run(
    part: Part,
    *,
    cuts: set,
    flow: bool,
    time_limit: float,
    gap: float,
    elastic: bool = False,
    start=None,
    hold: float | None = None,
    objective: str = "first",
    begin: tuple[int, ...] | None = None,
    keep: bool = False,
) -> dict:
    """Build the model (with or without the contiguity flow, with the cuts found) and
    solve it once."""
    b, x, y, short, over = _build(part, cuts, flow=flow, elastic=elastic, keep=keep)
    first, second, crossings, changed_cols = _objectives(b, part, x, y, short, over, elastic)
    n_cols = len(b.lower)
    slots = part.slots
    if hold is not None:
        b.row([(c, v) for c, v in enumerate(first) if v], upper=hold + 0.5)
    if start is not None:
        start = _pad(np.asarray(start, dtype=float), n_cols)[:n_cols]
    elif begin is not None:
        # a configuration to start from: its assignment and slots used (the solver works
        # out the rest of the columns, the flow among them)
        start = {col: float(begin[p] == k) for (p, k), col in x.items()}
        start |= {y[k]: float(k in set(begin)) for k in range(len(slots))}
        if changed_cols is not None:
            changed = _score(part, begin)["changed"]
            start |= {c: float(changed[k]) for k, c in enumerate(changed_cols)}
    cost = second if objective == "second" else first
    status, values, obj, dual = b.solve(cost, max(time_limit, 0.1), gap, start=start)
    status = {"Optimal": "optimal", "Time limit reached": "time limit"}.get(status, status)
    out = {
        "status": status.lower(),
        "values": values,
        "first": first,
        "second": second,
        "n_variables": len(b.lower),
        "n_constraints": len(b.rows_lower),
        "assignment": (),
        "value": None,
        "bound": None,
        "gap": None,
        "patients_moved": None,
        "practices_moved": None,
        "outside_band": {},
    }
    if values is None:
        return out
    return _read(
        part, out, values, x, first, second, elastic=elastic, objective=objective, dual=dual
    )


def _build(part: Part, cuts: set, *, flow: bool, elastic: bool, keep: bool):
    """The rows of the model: assignment, band (elastic or not), contiguity flow (or
    none), new slots in order, crossings (none allowed with ``keep``), the cuts found.
    Returns ``(builder, x, y, short, over)`` (``short``/``over``: the elastic slacks)."""
    n_p, slots = len(part.practices), part.slots
    w = np.asarray(part.weights, dtype=np.int64)
    low, high = part.band
    b = _Builder()
    x: dict[tuple[int, int], int] = {}
    for k, slot in enumerate(slots):
        for p in slot.candidates:
            x[p, k] = b.var()
    y = [b.var() for _ in slots]
    by_practice: dict[int, list[int]] = {p: [] for p in range(n_p)}
    for p, k in x:
        by_practice[p].append(k)
    for p, ks in by_practice.items():
        b.row([(x[p, k], 1) for k in ks], 1, 1)  # every practice in exactly one PCN
    for (_, k), col in x.items():
        b.row([(col, 1), (y[k], -1)], upper=0)
    short: dict[int, int] = {}
    over: dict[int, int] = {}
    for k, slot in enumerate(slots):
        members = [(x[p, k], int(w[p])) for p in slot.candidates]
        b.row([*((x[p, k], 1) for p in slot.candidates), (y[k], -1)], lower=0)  # used: has members
        # the limits no larger than the slot can hold: a band of [0, 10^15] gives no big
        # numbers to the solver (a row it cannot bind is left out)
        most = int(sum(int(w[p]) for p in slot.candidates))
        if slot.band:
            lo_terms, hi_terms = [*members, (y[k], -low)], [*members, (y[k], -min(high, most))]
            if elastic:
                short[k] = b.var(float(low), integer=False)
                over[k] = b.var(float(most), integer=False)
                lo_terms.append((short[k], 1))
                hi_terms.append((over[k], -1))
            if low > 0:
                b.row(lo_terms, lower=0)
            if high < most:
                b.row(hi_terms, upper=0)
        elif slot.cap is not None and slot.cap < most:  # free of the band, not of its cap
            b.row([*members, (y[k], -slot.cap)], upper=0)
        if slot.contiguous and flow:
            _flow(b, part, k, x, elastic=elastic)
    _order_new_slots(b, part, x, y, w)
    b.cross_cols = _crossing_columns(b, part, x, y)
    if keep:  # every line kept: no crossing added (a hard constraint)
        for c in b.cross_cols:
            b.upper[c] = 0.0
    for k, a, c, sep in sorted(cuts):
        b.row([(x[a, k], 1), (x[c, k], 1), *((x[s, k], -1) for s in sep)], upper=1)

    return b, x, y, short, over


def _objectives(b, part: Part, x: dict, y: list, short: dict, over: dict, elastic: bool):
    """``(first, second, crossings, changed_cols)``: the cost vectors of the first and
    second objectives (crossings added outweighing today's tie-breaks in the second; the
    slack first when the band is elastic), the crossing columns, and for ``pcns`` the
    columns saying which PCNs changed."""
    slots = part.slots
    w = np.asarray(part.weights, dtype=np.int64)
    cross_cols = b.cross_cols
    n_cols = len(b.lower)
    moved = np.zeros(n_cols)  # practices moved: cost on every slot but its own
    patients = np.zeros(n_cols)
    for (p, k), col in x.items():
        k0 = part.current[p]
        # placing a practice in no PCN is not a move; one whose PCN lives in another part
        # moves whatever it joins (counted once, as a constant, below)
        if k0 >= 0 and k != k0:
            moved[col] = 1
            patients[col] = int(w[p])
    opened = np.zeros(n_cols)  # new PCNs used
    for k, slot in enumerate(slots):
        opened[y[k]] = 1 if slot.new else 0
    changed_cols = None
    if part.objective == "pcns":
        first, changed_cols = _changed_pcns(b, part, x, y)
        second = patients
    elif part.objective == "practices":
        first, second = moved, patients * (len(slots) + 1) + opened
    else:
        first, second = patients, moved * (len(slots) + 1) + opened
    n_cols = len(b.lower)
    first, second = _pad(first, n_cols), _pad(second, n_cols)
    crossings = np.zeros(n_cols)
    crossings[cross_cols] = 1
    if cross_cols:  # crossings added before today's tie-breaks: each outweighs them all
        second = second + crossings * (_tie_most(part) + 1)
    if elastic:  # patients outside the band first, then the objective asked for
        second = first
        first = np.zeros(n_cols)
        first[[*short.values(), *over.values()]] = 1
    return first, second, crossings, changed_cols


def _read(part: Part, out: dict, values, x: dict, first, second, *, elastic, objective, dual):
    """``out`` filled from the solver's ``values``: the assignment, moves, the values of
    both objectives, the bound (of the first) and the slots outside the band."""
    n_p, slots = len(part.practices), part.slots
    w = np.asarray(part.weights, dtype=np.int64)
    low, high = part.band
    forced = [p for p in range(n_p) if part.current[p] == -2]  # its PCN cannot keep it
    chosen = np.full(n_p, -1)
    for (p, k), col in x.items():
        if values[col] > 0.5:
            chosen[p] = k
    out["assignment"] = tuple(slots[k].code for k in chosen)
    out["slots"] = tuple(int(k) for k in chosen)
    out["second_value"] = float(second @ values)
    out["crossings"] = crossings_added(part, out["slots"])
    stays = np.array([chosen[p] == part.current[p] for p in range(n_p)], dtype=bool)
    was = np.array([c != -1 for c in part.current])
    out["practices_moved"] = int((was & ~stays).sum())
    out["patients_moved"] = int(w[was & ~stays].sum())
    extra = {"patients": int(w[forced].sum()), "practices": len(forced), "pcns": 0}
    out["first_value"] = float(first @ values)
    main = second if elastic else first  # elastic: the slack is first, the moves second
    out["value"] = int(round(float(main @ values))) + extra[part.objective]
    if objective == "first":
        # the solver's proven bound on the first objective (a whole number)
        got = dual if np.isfinite(dual) else 0.0  # no bound from the solver: none proven
        out["bound"] = min(int(np.ceil(got - 1e-6)) + extra[part.objective], out["value"])
        out["gap"] = _gap(out["value"], out["bound"])
    sizes = np.zeros(len(slots), dtype=np.int64)
    np.add.at(sizes, chosen, w)
    for k, slot in enumerate(slots):
        used = (chosen == k).any()
        if slot.band and used and not low <= sizes[k] <= high:
            out["outside_band"][slot.code] = (int(sizes[k]), low if sizes[k] < low else high)
    return out


def _crossing_columns(b: _Builder, part: Part, x: dict, y: list) -> list[int]:
    """Columns counting the crossings each slot adds, per layer (see the module's
    docstring); none for a slot that cannot add one."""
    cols = []
    for area, held in _line_sets(part):
        for k, slot in enumerate(part.slots):
            by_area: dict[int, list[int]] = {}
            for p in slot.candidates:
                if area[p] >= 0:
                    by_area.setdefault(area[p], []).append(p)
            gained = sorted(a for a in by_area if a not in held[k])
            if not gained or (not held[k] and len(by_area) < 2):
                continue  # it can only stay in the areas it holds, or hold one area
            z = {}
            for a in gained:
                z[a] = b.var(integer=False)
                for p in by_area[a]:
                    b.row([(x[p, k], 1), (z[a], -1)], upper=0)
            c = b.var(float(len(gained)), integer=False)
            terms = [(c, 1), *((z[a], -1) for a in gained)]
            if not held[k]:
                terms.append((y[k], 1))  # a new slot's first area is no crossing
            b.row(terms, lower=0)
            cols.append(c)
    return cols


def _flow(b: _Builder, part: Part, k: int, x: dict, *, elastic: bool = False) -> None:
    """Single-commodity flow from one root: the slot's members are connected. The root
    sends at most ``big`` units (one per other member): ``big`` is the most members the
    slot can have, less one (fewer when the band caps how many practices fit, unless the
    band is elastic)."""
    members = [p for p in part.slots[k].candidates if part.placed[p]]
    needs = _needs(part)
    if sum(needs[p] for p in members) < 2:
        return
    inside = set(members)
    arcs = [(i, j) for i, j in part.edges if i in inside and j in inside]
    big = len(members) - 1
    if part.slots[k].band and not elastic:  # no more members than the band holds
        light = np.sort(np.asarray([part.weights[p] for p in part.slots[k].candidates]))
        big = min(big, max(int(np.searchsorted(np.cumsum(light), part.band[1], "right")) - 1, 1))
    roots = {p: b.var() for p in members}
    b.row([(roots[p], 1) for p in members], upper=1)
    inflow: dict[int, list] = {p: [] for p in members}
    for i, j in arcs:
        for a, c in ((i, j), (j, i)):
            f = b.var(float(big), integer=False)
            b.row([(f, 1), (x[a, k], -big)], upper=0)
            b.row([(f, 1), (x[c, k], -big)], upper=0)
            inflow[c].append((f, 1))
            inflow[a].append((f, -1))
    neighbours: dict[int, list[int]] = {p: [] for p in members}
    for i, j in arcs:
        neighbours[i].append(j)
        neighbours[j].append(i)
    for p in members:
        b.row([(roots[p], -1), (x[p, k], 1)], lower=0)  # a root is a member
        if needs[p]:  # a member other than the root has a neighbour in the slot (a cut)
            b.row([*((x[q, k], 1) for q in neighbours[p]), (roots[p], 1), (x[p, k], -1)], lower=0)
        # inflow - outflow >= x - (big + 1) * root: every member but the root that must
        # be connected consumes one unit; the root (a member too) sends up to big; a
        # practice with no patients consumes nothing (it may only relay)
        demand = 1 if needs[p] else 0
        b.row([*inflow[p], (x[p, k], -demand), (roots[p], big + 1)], lower=0)


def _order_new_slots(b: _Builder, part: Part, x: dict, y: list, w: np.ndarray) -> None:
    """New slots of one parent are alike: use them in order, the larger first."""
    by_parent: dict[str, list[int]] = {}
    for k, slot in enumerate(part.slots):
        if slot.new:
            by_parent.setdefault(slot.parent, []).append(k)
    for ks in by_parent.values():
        for a, c in zip(ks, ks[1:], strict=False):
            if part.slots[a].candidates != part.slots[c].candidates:
                continue
            b.row([(y[a], 1), (y[c], -1)], lower=0)
            terms = [(x[p, a], int(w[p])) for p in part.slots[a].candidates]
            terms += [(x[p, c], -int(w[p])) for p in part.slots[c].candidates]
            b.row(terms, lower=0)


def _changed_pcns(b: _Builder, part: Part, x: dict, y: list) -> np.ndarray:
    """Indicators of PCNs whose practices change (for ``objective="pcns"``)."""
    changed = []
    for k, slot in enumerate(part.slots):
        if slot.new:
            changed.append(y[k])
            continue
        c = b.var()
        changed.append(c)
        if slot.changed:
            b.lower[c] = 1.0  # some of its practices leave it for another part
        for p in slot.candidates:
            if part.current[p] == k:
                b.row([(c, 1), (x[p, k], 1)], lower=1)  # c >= 1 - x: a member left
            else:
                b.row([(c, 1), (x[p, k], -1)], lower=0)  # c >= x: a practice joined
    vec = np.zeros(len(b.lower))
    vec[changed] = 1
    return vec, changed


def _cut_loop(
    part, graph, cuts, target, left, *, stop_at: float, hold: float | None = None,
    incumbent: dict | None = None, keep: bool = False,
):  # fmt: skip
    """Solve without the flow, adding separator cuts for every PCN found in pieces,
    until the answer is contiguous: then it is a feasible configuration, and optimal for
    the whole model within ``target``, since each relaxation's bound is a bound for the
    whole model too. The first rounds only look for cuts, so they stop at a 5% gap; once
    contiguous, the rounds go on at ``target`` until the answer is proven within it.
    ``incumbent`` (a contiguous answer, from the heuristic) is the best until a better
    one is found, and the solver's starting point. Returns ``(bound, best or None,
    status)``; gives up when less than ``stop_at`` of the time is left."""
    bound, status, best = 0, "time limit", incumbent
    loose = max(target, 0.05) if hold is None else target  # ties: broken exactly
    first = True
    while first or left() > max(stop_at * part.time_limit, 0.5):
        first = False
        relax = _run(
            part, cuts=cuts, flow=False, time_limit=left(), gap=loose, hold=hold,
            objective="first" if hold is None else "second",
            begin=None if best is None else best["slots"], keep=keep,
        )  # fmt: skip
        if relax["values"] is None:
            status = relax["status"] if relax["status"] == "infeasible" else status
            break
        if hold is None:
            bound = max(bound, relax["bound"])
        pieces = graph.pieces(relax["assignment"])
        if not pieces:
            if hold is not None:
                if best is None or relax["second_value"] < best["second_value"]:
                    best = relax
                return bound, best, "optimal"
            if best is None or relax["value"] < best["value"]:
                best = relax
            if _gap(best["value"], bound) <= target:
                return bound, best, "optimal"
            loose = target  # contiguous but not proven: solve the rest exactly
            continue
        if best is not None and hold is None and _gap(best["value"], bound) <= target:
            return bound, best, "optimal"  # the incumbent is proven within the gap
        new = graph.cuts(pieces) - cuts
        if not new:  # pragma: no cover - a PCN in pieces always gives a new cut
            break
        cuts |= new
    return bound, best, status if best is None else "time limit"
