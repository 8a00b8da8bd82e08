"""The repair as an integer programme, one independent part (an ICB, a sub-ICB) at a time.

A :class:`Part` holds plain numbers and strings only (it is pickled to worker processes and
Dask workers); :func:`solve` builds the model and solves it with HiGHS (``highspy``).

The model
---------
Practices ``p`` (list size ``w[p]``) are assigned to *slots* ``k``: the PCNs of the part,
plus spare new PCNs (pieces a PCN above the band or in detached groups may be split into,
and groups of practices in no PCN). A practice may only join a slot among its candidates
(its own PCN, and PCNs whose practices its territory touches, ``reach`` steps away).

* ``x[p,k]`` (binary): ``p`` is in ``k``; each practice is in exactly one slot.
* ``y[k]`` (binary): slot ``k`` is used; ``x[p,k] <= y[k]``.
* band: ``low * y[k] <= sum_p w[p] x[p,k] <= high * y[k]`` for every slot not exempt.
* contiguity, exactly, by a single-commodity flow per slot: a root ``r[p,k] <= x[p,k]``
  (at most one per slot) may send up to ``M`` units along the practice graph's edges
  between members (``f[p->q,k] <= M x[p,k]``, ``<= M x[q,k]``); every other member
  consumes one unit. A slot's members can all be fed only when they form one connected
  group in the graph, so a solution is contiguous by construction, not repaired after.
  Practices without a territory are outside the flow (the contiguity check skips them
  too).
* objective (lexicographic): ``patients`` moved (list sizes of practices whose PCN
  changes) first; then, with the first held at its best, crossings added, then practices
  moved, then new PCNs opened (one integer weighted sum); ``practices`` swaps patients and
  practices; ``pcns`` puts PCNs changed first.
* crossings added, per boundary layer of :attr:`Part.lines` (sub-ICB, ICB, place: where
  each practice's site lies, as the boundary check places it): ``z[k,a] >= x[p,k]`` for a
  practice ``p`` in area ``a`` that slot ``k`` did not hold, and ``c[k] >= sum z[k,a] -
  y[k]`` for a new slot (its areas beyond the first), ``c[k] >= sum z[k,a]`` for an
  existing one (the areas it gains): a slot that stays in the areas it held adds
  nothing, a crossing it already had is not counted again.

New slots of one parent are interchangeable, so they are ordered (used first, larger
first) to keep the search from exploring mirror images.

When the band cannot be met, :func:`solve` solves again with the band made elastic
(patients short of the lower limit or over the upper limit, minimised first): the slots
left outside the band are the PCNs that cannot reach it under the constraints given.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np

from geo_pcn.proposal import _cpsat, _scip

__all__ = ["Slot", "Part", "PartResult", "solve", "crossings_added"]


@dataclass(frozen=True)
class Slot:
    """A PCN a practice may end up in.

    Attributes
    ----------
    code
        The PCN code (an existing one, or a provisional code for a new PCN).
    parent
        For a new PCN, the PCN it is made from (``""`` for one made of practices in no PCN);
        for an existing PCN its own code.
    new
        True for a new PCN (used only when that helps).
    band
        Whether the list-size band applies (False for an agreed exception).
    contiguous
        Whether it must be contiguous (False for an agreed exception to contiguity).
    candidates
        Indices (into :attr:`Part.practices`) of the practices that may be in it.
    """

    code: str
    parent: str
    new: bool
    band: bool
    contiguous: bool
    candidates: tuple[int, ...]
    #: it changes whatever happens (some of its practices must leave it for another part)
    changed: bool = False
    #: for a slot free of the band (an agreed exception, or one holding a practice above
    #: the band on its own), the most patients it may hold: what it holds now or the
    #: band's upper limit, whichever is more (None: no limit)
    cap: int | None = None


@dataclass(frozen=True)
class Part:
    """One independent problem: practices, their graph, the slots and the rules."""

    name: str
    practices: tuple[str, ...]
    weights: tuple[int, ...]
    #: index of each practice's current slot in :attr:`slots`; -1 in no PCN, -2 when its
    #: PCN lives in another part (it must leave it: a move whatever happens)
    current: tuple[int, ...]
    #: whether each practice has a territory (takes part in the contiguity flow)
    placed: tuple[bool, ...]
    #: edges of the practice graph, as index pairs (i < j)
    edges: tuple[tuple[int, int], ...]
    slots: tuple[Slot, ...]
    band: tuple[int, int]
    objective: str = "patients"
    time_limit: float = 60.0
    gap: float = 0.0
    #: whether each practice must be connected to the rest of its PCN (False for a
    #: practice with no registered patients when territories come from registrations:
    #: the contiguity check reports it apart as a WARNING; it still connects others);
    #: empty: every practice with a territory
    needs: tuple[bool, ...] = ()
    #: boundary layers whose lines a proposal should keep: ``(layer, area per practice)``,
    #: the area an index (-1: the layer places the practice nowhere)
    lines: tuple[tuple[str, tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class PartResult:
    """What the solver found for one part.

    ``status`` is ``optimal``, ``time limit`` (best found, with its gap), ``infeasible``
    (the band cannot be met: the elastic solution and the PCNs left outside it are given),
    ``band not met`` (nothing inside the band found in time, nor proven impossible: the
    heuristic's answer, contiguous, and the PCNs it leaves outside the band) or ``no
    solution`` (nothing found in time). ``bound`` is the proven lower bound on the
    first objective (patients, practices or PCNs changed, per ``objective``)."""

    name: str
    status: str
    assignment: tuple[str, ...]  # slot code per practice ("" when no solution)
    objective: str
    value: int | None
    bound: int | None
    gap: float | None
    patients_moved: int | None
    practices_moved: int | None
    seconds: float
    n_variables: int
    n_constraints: int
    outside_band: dict[str, tuple[int, int]] = field(default_factory=dict)  # slot -> (size, limit)
    #: the constructive heuristic's objective value (None: it found no configuration)
    heuristic: int | None = None
    #: crossings the answer adds, as the model counts them (see :func:`crossings_added`)
    crossings: int | None = None
    #: when it adds some, the best repair that keeps every line: ``(status, value)``,
    #: status ``optimal`` (proven), ``found`` (not proven), ``infeasible`` (none exists
    #: under the model's choices) or ``unknown`` (none found in the time given)
    lines_kept: tuple[str, int | None] | None = None


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


def solve(part: Part) -> PartResult:
    """Solve one part: proven optimal, or the best found by its time limit and its gap.

    The constructive heuristic (:func:`geo_pcn.proposal.heuristic.construct`) gives a
    configuration first, when it finds one: it is the answer if nothing better is found,
    and the incumbent of every search. Contiguity is then enforced lazily: the model
    without contiguity is solved, and each PCN found in pieces gets separator cuts (two of
    its practices in different pieces cannot both be in it unless a practice around one
    piece is too); the bound of every such solve is a proven lower bound for the whole
    model, and the best contiguous answer within the gap is the proposal. When the rounds
    of cuts run out of time with no contiguous answer, the exact flow model (with every
    cut found) searches the time left. Ties are then broken by the second objective, the
    first held at its value."""
    from geo_pcn.proposal.heuristic import best_effort

    start = time.perf_counter()
    deadline = start + part.time_limit
    part, trapped = free_unreachable(part)  # slots that cannot reach the band: said below
    graph = _Graph(part)
    cuts: set = set()
    target = max(part.gap, 0.0)

    def left() -> float:
        return deadline - time.perf_counter()

    # deterministic: no clock, the same answer under any load; when it leaves PCNs
    # outside the band, it is still the answer to show if the search finds nothing better
    found, complete = best_effort(part)
    effort = None if found is None or complete else found
    found = found if complete else None
    first = None if found is None else _score(part, found)
    exact = part.objective != "pcns" and _scip.available()
    if first is not None and first["first_value"] == 0:
        bound, best, status = 0, first, "optimal"  # nothing can cost less than nothing
    elif exact:
        bound, best, status = _exact(part, graph, cuts, target, first, deadline)
    else:
        bound, best, status = _cut_loop(
            part, graph, cuts, target, left, stop_at=0.3, incumbent=first
        )
    unproven = best is None or _gap(best["value"], bound) > target
    if status != "infeasible" and unproven and left() > 0.5 and not exact:
        # not proven from the cuts in time: the flow model, with every cut, from the best
        whole = _run(
            part, cuts=cuts, flow=True, time_limit=left(), gap=target,
            begin=None if best is None else best["slots"],
        )  # fmt: skip
        if best is None:
            status = whole["status"]
        if whole["values"] is not None:
            bound = max(bound, whole["bound"])
            if best is None or whole["value"] <= best["value"]:
                best = whole
    if status == "infeasible" and best is None:
        # the band made elastic: fewest patients outside it, then fewest moves (from the
        # heuristic's answer, when it has one outside the band)
        out = _run(
            part, cuts=cuts, flow=True, elastic=True, time_limit=max(left(), 5), gap=0,
            begin=effort,
        )  # fmt: skip
        if out["values"] is not None and left() > 0.5:
            tied = _run(
                part, cuts=cuts, flow=True, elastic=True, time_limit=left(), gap=0,
                start=out["values"], hold=out["first_value"], objective="second",
            )  # fmt: skip
            if tied["values"] is not None:
                out = tied
        if out["values"] is None and effort is not None:
            out = _score(part, effort)  # proven infeasible: the heuristic's answer shown
        out["status"] = "infeasible" if out["assignment"] else "no solution"
        out["bound"] = out["gap"] = None
    elif best is None and effort is not None:
        # nothing in the band found, nor proven impossible: the heuristic's answer, with
        # the PCNs it leaves outside the band named
        out = _score(part, effort)
        out["status"] = "band not met"
        out["bound"] = out["gap"] = None
    elif best is None:
        out = {"status": "no solution", "assignment": (), "value": None, "bound": bound}
        out |= {"gap": None, "patients_moved": None, "practices_moved": None}
        out |= {"outside_band": {}, "n_variables": 0, "n_constraints": 0}
    else:
        out = best
        if best["second_value"] > 0 and left() > 0.5:
            # ties broken by the second objective, the first held where it is (a fifth of
            # the time at most: a tie-break is not worth the wait)
            ends = time.perf_counter() + min(left(), 0.2 * part.time_limit)
            _, tied, _ = _cut_loop(
                part, graph, cuts, 0.0, lambda: ends - time.perf_counter(), stop_at=0.0,
                hold=best["first_value"], incumbent=best,
            )  # fmt: skip
            if (
                tied is not None
                and tied["value"] <= best["value"]
                and tied["second_value"] <= best["second_value"]
            ):
                out = tied
        out["bound"] = min(bound, out["value"])
        out["gap"] = _gap(out["value"], out["bound"])
        out["status"] = (
            "optimal" if out["gap"] == 0 else "within gap" if out["gap"] <= target else "time limit"
        )
        if out.get("crossings"):
            # why the crossings were needed: the best repair that keeps every line (a
            # tenth of the time at least, a fifth at most)
            budget = min(max(left(), 0.1 * part.time_limit), 0.2 * part.time_limit)
            ends = time.perf_counter() + budget
            k_bound, kept, k_status = _cut_loop(
                part, graph, set(cuts), 0.0, lambda: ends - time.perf_counter(), stop_at=0.0,
                keep=True,
            )  # fmt: skip
            if kept is not None:
                proven = _gap(kept["value"], k_bound) == 0
                out["lines_kept"] = ("optimal" if proven else "found", kept["value"])
            else:
                out["lines_kept"] = ("infeasible" if k_status == "infeasible" else "unknown", None)
    if trapped and out.get("slots"):
        # the slots no configuration brings up to the band: outside it, named
        sizes = np.zeros(len(part.slots), dtype=np.int64)
        np.add.at(sizes, np.asarray(out["slots"]), np.asarray(part.weights, dtype=np.int64))
        used = set(out["slots"])
        low = part.band[0]
        short = {part.slots[k].code: (int(sizes[k]), low) for k in trapped if k in used}
        short = {c: v for c, v in short.items() if v[0] < low}
        if short:
            out["outside_band"] = {**out.get("outside_band", {}), **short}
            if out["status"] in ("optimal", "within gap", "time limit"):
                out["status"] = "infeasible"
    return PartResult(
        name=part.name,
        objective=part.objective,
        seconds=round(time.perf_counter() - start, 3),
        heuristic=None if first is None else first["value"],
        **{k: v for k, v in out.items() if k in _RESULT_KEYS},
    )


def _exact(part, graph, cuts, target, first, deadline):
    """The first objective: SCIP's branch-and-bound (cuts added lazily) for the bound and,
    when SCIP is still far from it after :data:`~geo_pcn.proposal._cpsat.PAUSE` of the
    time, CP-SAT's search (:mod:`geo_pcn.proposal._cpsat`) from the best answer for the
    time left. With an incumbent, a fifth of the time is kept for the tie-breaks
    (crossings first) and the lines. Returns ``(bound, best or None, status)``."""
    ends = deadline - (0.2 * part.time_limit if first is not None else 0.0)
    handed: list[float] = []  # SCIP's gap when it handed over to CP-SAT
    pause = None
    if first is not None and _cpsat.available():

        def go_on(gap: float) -> bool:
            if gap <= _cpsat.GO_ON:
                return True
            handed.append(gap)
            return False

        pause = (_cpsat.PAUSE * part.time_limit, go_on)
    bound, best, status = _scip.first_objective(
        part, graph, cuts, target, lambda: ends - time.perf_counter(), score=_score,
        incumbent=first, pause=pause,
    )  # fmt: skip
    if handed and status != "infeasible" and ends - time.perf_counter() > 0.5:
        found, cp_bound, _ = _cpsat.improve(
            part, graph, best, seconds=ends - time.perf_counter(), target=target, score=_score
        )
        best = found or best
        bound = max(bound, cp_bound or 0)
    if best is not None:
        bound = min(bound, best["value"])
    return bound, best, status


_RESULT_KEYS = (
    "status", "assignment", "value", "bound", "gap", "patients_moved", "practices_moved",
    "n_variables", "n_constraints", "outside_band", "crossings", "lines_kept",
)  # fmt: skip


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


def _needs(part: Part) -> tuple[bool, ...]:
    """Whether each practice must be connected to the rest of its PCN."""
    return part.needs if part.needs else part.placed


def _gap(value: int, bound: int) -> float:
    return 0.0 if value <= bound else round((value - bound) / max(value, 1), 6)


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
        """Separator cuts: ``x[a,k] + x[b,k] - sum(x[s,k] for s around C) <= 1`` for ``a``
        in a piece ``C`` and ``b`` in another piece of a slot: a path from ``a`` to ``b``
        leaves ``C`` through a practice around it. The same holds in every slot that may
        hold both ``a`` and ``b`` (its candidates around ``C`` are the separator), so each
        cut is added to all of them: a sibling slot would otherwise find the same pieces
        again in the next round."""
        out = set()
        placed = self.part.placed
        for comps in pieces.values():
            for c in comps:
                around = {q for p in c for q in self.graph.neighbors(p) if placed[q]} - c
                for d in comps:
                    if d is c:
                        continue
                    for a in (p for p in c if self.needs[p]):
                        for k in self.holding[a]:
                            cand = self.candidates[k]
                            sep = tuple(sorted(around & cand))
                            out |= {(k, a, b, sep) for b in d if b in cand and self.needs[b]}
        return out


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
    cross_cols = _crossing_columns(b, part, x, y)
    if keep:  # every line kept: no crossing added (a hard constraint)
        for c in cross_cols:
            b.upper[c] = 0.0
    for k, a, c, sep in sorted(cuts):
        b.row([(x[a, k], 1), (x[c, k], 1), *((x[s, k], -1) for s in sep)], upper=1)

    # -- objectives ----------------------------------------------------------------------
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
    forced = [p for p in range(n_p) if part.current[p] == -2]  # its PCN cannot keep it
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


def _score(part: Part, answer: tuple[int, ...]) -> dict:
    """A configuration (a slot index per practice, from the heuristic) valued as
    :func:`_run` values the solver's: the same keys, the same objectives."""
    n_s = len(part.slots)
    w = part.weights
    current = part.current
    was = [p for p, k in enumerate(answer) if current[p] >= 0 and current[p] != k]
    forced = [p for p in range(len(answer)) if current[p] == -2]
    patients = sum(w[p] for p in was)
    opened = sum(1 for k in set(answer) if part.slots[k].new)
    changed = [False] * n_s
    for k, slot in enumerate(part.slots):
        changed[k] = slot.changed
    for p, k in enumerate(answer):
        if current[p] != k:
            changed[k] = True
            if current[p] >= 0:
                changed[current[p]] = True
    for k, slot in enumerate(part.slots):
        if slot.new:
            changed[k] = k in set(answer)
    if part.objective == "pcns":
        first, second = sum(changed), patients
        extra = 0
    elif part.objective == "practices":
        first, second = len(was), patients * (n_s + 1) + opened
        extra = len(forced)
    else:
        first, second = patients, len(was) * (n_s + 1) + opened
        extra = sum(w[p] for p in forced)
    moved = was + forced
    crossings = crossings_added(part, answer)
    if part.lines:
        second += crossings * (_tie_most(part) + 1)
    sizes = [0] * n_s
    for p, k in enumerate(answer):
        sizes[k] += w[p]
    low, high = part.band
    outside = {
        part.slots[k].code: (int(sizes[k]), low if sizes[k] < low else high)
        for k in sorted(set(answer))
        if part.slots[k].band and not low <= sizes[k] <= high
    }
    return {
        "status": "heuristic",
        "values": None,
        "assignment": tuple(part.slots[k].code for k in answer),
        "slots": tuple(answer),
        "value": int(first + extra),
        "first_value": float(first),
        "second_value": float(second),
        "changed": changed,
        "crossings": crossings,
        "bound": None,
        "gap": None,
        "patients_moved": int(sum(w[p] for p in moved)),
        "practices_moved": len(moved),
        "outside_band": outside,
        "n_variables": 0,
        "n_constraints": 0,
    }


def _tie_most(part: Part) -> int:
    """The most today's tie-breaks (the second objective without crossings) can add up
    to: one crossing added outweighs them all."""
    n_s = len(part.slots)
    if part.objective == "pcns":
        return int(sum(part.weights))
    if part.objective == "practices":
        return int(sum(part.weights)) * (n_s + 1) + n_s
    return len(part.practices) * (n_s + 1) + n_s


def _line_sets(part: Part):
    """Per layer of :attr:`Part.lines`: ``(area per practice, areas each slot holds now)``
    (a new slot holds none)."""
    out = []
    for _, area in part.lines:
        held: list[set[int]] = [set() for _ in part.slots]
        for p, k in enumerate(part.current):
            if k >= 0 and area[p] >= 0 and not part.slots[k].new:
                held[k].add(area[p])
        out.append((area, held))
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


def crossings_added(part: Part, answer) -> int:
    """Crossings ``answer`` (a slot index per practice) adds, as the model counts them:
    per layer and slot, the areas it holds that it did not hold (less one for a new
    slot, whose first area is no crossing). A slot that left every area it held for
    another counts that area too (an over-count the model accepts)."""
    total = 0
    for area, held in _line_sets(part):
        now: list[set[int]] = [set() for _ in part.slots]
        for p, k in enumerate(answer):
            if k >= 0 and area[p] >= 0:
                now[k].add(area[p])
        for k, areas in enumerate(now):
            if areas:
                total += max(len(areas - held[k]) - (0 if held[k] else 1), 0)
    return total


def _pad(vec: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([vec, np.zeros(n - len(vec))]) if len(vec) < n else vec


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
