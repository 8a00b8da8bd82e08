"""The repair as an integer programme, one independent part (an ICB, a sub-ICB) at a time.

A :class:`Part` holds plain numbers and strings only (it is pickled to worker processes and
Dask workers); :func:`solve` answers it: the heuristic (:mod:`~geo_pcn.proposal.heuristic`),
SCIP for the first objective (:mod:`~geo_pcn.proposal._scip`), CP-SAT when SCIP stalls
(:mod:`~geo_pcn.proposal._cpsat`), HiGHS for the rest (:mod:`~geo_pcn.proposal._highs`,
which builds the whole model below). How an answer is valued is in
:mod:`~geo_pcn.proposal._objective`; the graph's pieces and cuts in
:mod:`~geo_pcn.proposal._graph`.

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

import time

import numpy as np

from geo_pcn.proposal import _cpsat, _scip
from geo_pcn.proposal._graph import _Graph, free_unreachable
from geo_pcn.proposal._highs import _cut_loop, _run
from geo_pcn.proposal._objective import _gap, _score, crossings_added, within_caps
from geo_pcn.proposal._part import Part, PartResult, Slot
from geo_pcn.proposal.heuristic import polish

__all__ = ["Slot", "Part", "PartResult", "solve", "crossings_added", "free_unreachable"]


def solve(part: Part) -> PartResult:
    """Solve one part: proven optimal, or the best found by its time limit and its gap.

    The constructive heuristic (:func:`geo_pcn.proposal.heuristic.construct`) gives a
    configuration first, when it finds one: it is the answer if nothing better is found,
    and the incumbent of every search. The first objective is then searched with
    contiguity enforced lazily (separator cuts: two practices of a PCN in different pieces
    cannot both be in it unless a practice around one piece is too): by SCIP in one
    branch-and-bound, CP-SAT taking over the search for a better answer when SCIP stalls
    (:func:`_exact`), or without them by rounds of HiGHS solves and, when those find no
    contiguous answer in time, the flow model (:func:`_highs_only`). Ties are then broken
    by the second objective, the first held at its value (:func:`_finish`); when the band
    cannot be met, the band is made elastic (:func:`_elastic`)."""
    from geo_pcn.proposal.heuristic import best_effort, valid

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
    # a part solved again begins from its answer before (the practices held put back)
    # when that meets every rule but the band, in place of the heuristic's (Part.start,
    # geo_pcn.proposal._judge): outside the band, as the answer CP-SAT brings into it
    begun = bool(part.start) and valid(part, part.start, band=False)
    found, complete = (part.start, valid(part, part.start)) if begun else best_effort(part)
    effort = None if found is None or complete else found
    found = found if complete else None
    first = None if found is None else _score(part, found)
    heuristic = None if first is None or begun else first["value"]
    exact = part.objective != "pcns" and _scip.available()
    proven_out = False  # proven: no configuration of the part is inside the band
    if first is None and effort is not None and not exact and _cpsat.available():
        # every rule kept but the band: CP-SAT brings it into the band, or proves it can't
        inside, proven_out = _cpsat.into_band(
            part, graph, effort, seconds=INTO_BAND * part.time_limit, score=_score
        )
        first = None if inside is None else _score(part, inside)
    if proven_out:
        bound, best, status = 0, None, "infeasible"
    elif first is not None and first["first_value"] == 0:
        bound, best, status = 0, first, "optimal"  # nothing can cost less than nothing
    elif exact:
        bound, best, status = _exact(part, graph, cuts, target, first, deadline, effort)
    else:
        bound, best, status = _highs_only(part, graph, cuts, target, first, left)
    if status == "infeasible" and best is None and part.need_band:
        out = _none("infeasible")  # proven out of reach, and nothing else is of use
    elif status == "infeasible" and best is None:
        out = _elastic(part, graph, cuts, effort, left)
    elif best is None and effort is not None:
        # nothing in the band found, nor proven impossible: the heuristic's answer, with
        # the PCNs it leaves outside the band named
        out = _score(part, effort)
        out["status"] = "band not met"
        out["bound"] = out["gap"] = None
    elif best is None:
        out = _none("no solution", bound)
    else:
        out = _finish(part, graph, cuts, target, best, bound, left)
    if trapped and out.get("slots"):
        _name_trapped(part, trapped, out)
    return PartResult(
        name=part.name,
        objective=part.objective,
        seconds=round(time.perf_counter() - start, 3),
        heuristic=heuristic,
        **{k: v for k, v in out.items() if k in _RESULT_KEYS},
    )


def _highs_only(part, graph, cuts, target, first, left):
    """The first objective without SCIP (or for ``objective="pcns"``): rounds of HiGHS
    solves adding cuts, then, when they found no answer proven within ``target``, the flow
    model with every cut from the best answer. Returns ``(bound, best or None, status)``."""
    bound, best, status = _cut_loop(part, graph, cuts, target, left, stop_at=0.3, incumbent=first)
    unproven = best is None or _gap(best["value"], bound) > target
    if status != "infeasible" and unproven and left() > 0.5:
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
    return bound, best, status


def _none(status: str, bound=None) -> dict:
    """A result with no configuration."""
    out = {"status": status, "assignment": (), "value": None, "bound": bound}
    out |= {"gap": None, "patients_moved": None, "practices_moved": None}
    return out | {"outside_band": {}, "n_variables": 0, "n_constraints": 0}


def _elastic(part, graph, cuts, effort, left) -> dict:
    """The band made elastic: fewest patients outside it, then fewest moves.

    With CP-SAT: from the heuristic's answer, the fewest patients outside the band it
    finds (:func:`~geo_pcn.proposal._cpsat.fewest_outside`: :data:`ELASTIC_CP` of the time
    left at most, ending early once no better answer came for :data:`STALL` of the part's
    time), then the fewest moves with no more outside
    (:func:`~geo_pcn.proposal._cpsat.fewest_moves`, :data:`ELASTIC_TIE` of the part's time
    at most); the part ends there. Without it (or when CP-SAT found nothing), HiGHS's flow
    model for the time left, then its tie-break.

    Measured on 16 infeasible parts of July 2022 (30 s, load about 4): HiGHS's flow model
    from CP-SAT's answer never lowered the patients outside the band CP-SAT found but on
    one part (E54000050: 13,740 after 0.5 of the time left, against 18,448 after 0.3 with
    CP-SAT alone), and CP-SAT's moves were fewer on every part tried (E54000026 288,000
    against 428,351, E54000048 397,176 against 448,350), in 11-23 s a part instead of 30."""
    if effort is not None and _cpsat.available():
        found, proven = _cpsat.fewest_outside(
            part, graph, effort, seconds=ELASTIC_CP * max(left(), 0.0),
            quiet=STALL * part.time_limit,
        )  # fmt: skip
        if found is not None:
            # never worse than the heuristic's answer (CP-SAT may not take it as its first:
            # E54000054, 47,272 patients outside found from the heuristic's 29,507)
            if within_caps(part, effort) and _outside(part, effort) < _outside(part, found):
                found, proven = effort, False
            outside = _outside(part, found)
            seconds = min(max(left(), 0.0), ELASTIC_TIE * part.time_limit)
            moved = _cpsat.fewest_moves(part, graph, found, outside, seconds=seconds)
            out = _score(part, found if moved is None else moved)
            out["status"] = "infeasible"
            out["bound"] = out["gap"] = None
            out["fewest"] = "proven" if proven else "found"
            return out
    out = _run(
        part, cuts=cuts, flow=True, elastic=True, time_limit=max(left(), 5), gap=0,
        begin=effort,
    )  # fmt: skip
    proven = out["values"] is not None and out["status"] == "optimal"
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
    out["fewest"] = "proven" if proven else "found"
    return out


def _finish(part, graph, cuts, target, best, bound, left) -> dict:
    """The best answer with ties broken by the second objective (the first held where it
    is; a fifth of the time at most: a tie-break is not worth the wait), its status, and
    when it adds crossings, the best repair that keeps every line (why they were
    needed)."""
    out = best
    if best["second_value"] > 0 and left() > 0.5:
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
        # a tenth of the time at least, a fifth at most
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
    return out


def _name_trapped(part, trapped, out: dict) -> None:
    """The slots no configuration brings up to the band: outside it, named in ``out``."""
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


def _exact(part, graph, cuts, target, first, deadline, effort=None):
    """The first objective by SCIP's branch-and-bound (cuts added lazily). When SCIP, after
    :data:`~geo_pcn.proposal._cpsat.PAUSE` of the time, has not beaten the incumbent and is
    more than :data:`~geo_pcn.proposal._cpsat.GO_ON` from its bound, CP-SAT
    (:mod:`geo_pcn.proposal._cpsat`) searches from the best answer for
    :data:`~geo_pcn.proposal._cpsat.SHARE` of the time left, and SCIP goes on from CP-SAT's
    answer for the rest (its bound still rising). When neither the heuristic nor SCIP by
    then has an answer inside the band, CP-SAT first brings ``effort`` (the heuristic's
    answer outside it) into the band, for :data:`INTO_BAND` of the time left at most
    (:func:`~geo_pcn.proposal._cpsat.into_band`), then searches from that answer as above;
    when it proves no answer is inside the band, the search ends there. With an incumbent, a
    fifth of the time is kept for the tie-breaks (crossings first) and the lines. Returns
    ``(bound, best or None, status)``."""
    ends = deadline - (0.2 * part.time_limit if first is not None else 0.0)
    side: dict = {}  # what CP-SAT found: its answer and bound, or that none is in the band

    def left() -> float:
        return 0.0 if side.get("out") else ends - time.perf_counter()

    def between(gap: float, best):
        banded = None  # CP-SAT's first answer inside the band, when it had to find one
        if best is None and effort is not None:
            inside, out = _cpsat.into_band(
                part, graph, effort, seconds=INTO_BAND * left(), score=_score
            )
            side["out"] = out
            if inside is None:
                return None
            best = banded = _score(part, polish(part, inside))
            side.update(best=banded)
        seconds = _cpsat.SHARE * left()
        if gap <= _cpsat.GO_ON or seconds < 0.5:
            return banded
        # from the first answer inside the band too: it minimised the patients outside
        # the band only, not the moves (E54000008: 1,159,132 patients moved as found,
        # 657,558 after CP-SAT's next 30 s from it)
        found, cp_bound, _ = _cpsat.improve(
            part, graph, best, seconds=seconds, target=target, score=_score
        )
        side["bound"] = cp_bound or 0
        if found is not None:
            side["best"] = found = _score(part, polish(part, found["slots"]))
        return found if found is not None else banded

    pause = None
    if (first is not None or effort is not None) and _cpsat.available():
        pause = (_cpsat.PAUSE * part.time_limit, between)
    bound, best, status = _scip.first_objective(
        part, graph, cuts, target, left, score=_score, incumbent=first, pause=pause,
    )  # fmt: skip
    if side.get("out"):
        return 0, None, "infeasible"  # CP-SAT proved no answer is inside the band
    if status != "infeasible":
        found = side.get("best")
        if found is not None and (best is None or found["value"] < best["value"]):
            best = found  # SCIP did not take CP-SAT's answer (or bettered it)
        bound = max(bound, side.get("bound", 0))
    if best is not None:
        smoothed = polish(part, best["slots"])  # the heuristic's moves on the search's answer
        if smoothed != best["slots"]:
            best = {**_score(part, smoothed), **{k: best[k] for k in _SIZE_KEYS if k in best}}
        bound = min(bound, best["value"])
    return bound, best, status


def _outside(part, answer) -> int:
    """The patients outside the band in ``answer`` (a slot index per practice), as the
    elastic band counts them (the slots the band applies to)."""
    return sum(abs(size - limit) for size, limit in _score(part, answer)["outside_band"].values())


#: the most of the time left CP-SAT searches for the fewest patients outside the band
#: when the band is proven out of reach (:func:`_elastic`)
ELASTIC_CP = 0.5
#: CP-SAT's search for the fewest outside the band ends once it has found no better answer
#: for this share of the part's time (E54000043: 8,143 found in 0.6 s, none better in 20)
STALL = 0.1
#: the most of a part's time CP-SAT's search for the fewest moves with them may take
ELASTIC_TIE = 0.2

#: the size of the model an answer came from (kept when the heuristic's moves improve it)
_SIZE_KEYS = ("n_variables", "n_constraints")

#: the share of the time left CP-SAT may spend bringing the heuristic's answer into the
#: band when neither the heuristic nor SCIP has an answer inside it
#: (:func:`geo_pcn.proposal._cpsat.into_band`; it stops at the first answer inside, and
#: SCIP has the rest). At 0.7 of what SCIP's pause left of 30 s, E54000028 got no answer
#: (load 3-4); at 0.9 it got one (the band met but for the one practice that can never
#: reach it).
INTO_BAND = 0.9

_RESULT_KEYS = (
    "status", "assignment", "value", "bound", "gap", "patients_moved", "practices_moved",
    "n_variables", "n_constraints", "outside_band", "crossings", "lines_kept", "fewest",
)  # fmt: skip
