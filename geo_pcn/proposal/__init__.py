"""Propose the least disruptive repair of a configuration, proven optimal.

:func:`propose` finds a configuration in which every practice is in a PCN, every PCN not
exempt is inside the band, every PCN is connected in the practice adjacency graph (the
graph the contiguity check uses) and, with ``within``, no PCN crosses the lines of that
boundary layer, moving as few registered patients as possible (or practices, or PCNs). It
is an integer programme (:mod:`geo_pcn.proposal.model`) solved exactly (SCIP with the
contiguity cuts added lazily, :mod:`geo_pcn.proposal._scip`; HiGHS for the tie-breaks, and
for everything without ``pyscipopt``), one independent part at a time: each ICB (or each
area of ``within``) is its own problem, solved in local processes or on a Dask cluster.

"Optimal" is optimal under the model's choices (:data:`RESTRICTIONS`): practices move only
into PCNs within ``reach`` steps of them, a new PCN is made of one PCN's practices (or of
practices in no PCN), no practice moves between parts, and a practice above the band on
its own stays in its PCN. The bound is a bound for that model.

The answer is a :class:`Proposal`: the new configuration, the scenario that makes it
(``proposal.toml``, which ``geo-pcn scenario`` reproduces exactly), the table of changes
with the patients each moves, and per part the solver's status, objective, proven bound
and gap.

Examples
--------
>>> from geo_pcn.datasets import demo
>>> proposal = propose(demo())
>>> proposal.summary["status"], proposal.summary["gap"]
('optimal', 0.0)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd

from geo_pcn._words import count, move_kind
from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError, list_some
from geo_pcn.geography import geography_of
from geo_pcn.pipeline import validate
from geo_pcn.proposal._budget import Again, in_turn, local, share
from geo_pcn.proposal._explain import (
    EXEMPT_RULE,
    LINES_RULE,
    MINIMISED,
    NO_AREA,  # noqa: F401 (tests read it here)
    OBJECTIVES,
    RESTRICTIONS,
    _around,
    _put_back_why,
    _too_big,
    _why,
    added_crossings,
)
from geo_pcn.proposal._judge import judged, softer
from geo_pcn.proposal._names import _provisional
from geo_pcn.proposal._parts import _parts
from geo_pcn.proposal.model import Part, PartResult, _gap, solve
from geo_pcn.scenario import Scenario

__all__ = [
    "propose",
    "Proposal",
    "OBJECTIVES",
    "MINIMISED",
    "RESTRICTIONS",
    "EXEMPT_RULE",
    "LINES_RULE",
    "settings_for",
    "added_crossings",
]


@dataclass(frozen=True, eq=False)
class Proposal:
    """A repair proposed by :func:`propose`.

    Attributes
    ----------
    configuration
        The proposed configuration (derived from the original by :attr:`scenario`).
    scenario
        The operations that make it: new PCNs (``add_pcn``) first, then moves.
    toml
        :attr:`scenario` as a scenario file (``proposal.toml``).
    changes
        One row per practice that changes PCN: ``practice_code, practice_name, from_pcn,
        from_name, to_pcn, to_name, patients, part``.
    parts
        One row per independent part: practices, PCNs, slots, solver ``status``,
        ``objective`` value, proven ``bound``, ``gap``, patients and practices moved,
        seconds, model size.
    outside_band
        PCNs the band cannot be met for under the constraints given, with why and what
        would make it feasible (empty when every part was feasible).
    summary
        The headline figures (plain numbers, for JSON).
    """

    configuration: Configuration
    scenario: Scenario
    toml: str
    changes: pd.DataFrame
    parts: pd.DataFrame
    outside_band: list[dict[str, Any]]
    summary: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    #: every sub-ICB, ICB or place crossing the proposal adds, as the boundary check
    #: counts crossings, each with why it was needed (see :func:`added_crossings`)
    crossings_added: list[dict[str, Any]] = field(default_factory=list)
    #: the practices held in their PCNs because an answer undid a PCN's join through its
    #: own footprint, each with the PCN, the round and why (see :mod:`._judge`)
    joins_held: list[dict[str, Any]] = field(default_factory=list)
    #: practices in no PCN with no registered patients, left there: nothing to place
    nothing_to_place: list[dict[str, Any]] = field(default_factory=list)

    def __repr__(self) -> str:
        s = self.summary
        placed = (
            f", {count(s['practices_placed'], 'practice')} in no PCN placed "
            f"({count(s['patients_placed'], 'patient')})"
            if s.get("practices_placed")
            else ""
        )
        return (
            f"<Proposal: {s['status']}, {count(s['practices_moved'], 'practice')} moved "
            f"between PCNs ({count(s['patients_moved'], 'patient')}){placed}, "
            f"{count(s['new_pcns'], 'new PCN')}, {count(s['closed_pcns'], 'PCN')} closed; "
            f"{count(s['n_parts'], 'part')}>"
        )

    def to_json(self) -> dict[str, Any]:
        """Summary, settings, parts, changes and PCNs outside the band, as plain data."""
        return {
            "summary": dict(self.summary),
            "settings": dict(self.settings),
            "parts": json.loads(self.parts.to_json(orient="records")),
            "changes": json.loads(self.changes.to_json(orient="records")),
            "outside_band": self.outside_band,
            "crossings_added": self.crossings_added,
            "joins_held": self.joins_held,
            "nothing_to_place": self.nothing_to_place,
        }


def propose(
    study,
    configuration: Configuration | None = None,
    *,
    objective: str = "patients",
    within: str | None = None,
    exempt: Iterable[str] = (),
    reach: int = 1,
    time_limit: float = 60.0,
    gap: float = 0.0,
    workers: int | None = None,
    scheduler: Any = None,
    report=None,
) -> Proposal:
    """The least disruptive configuration that passes the size, contiguity and coverage
    rules.

    Parameters
    ----------
    study
        A :class:`~geo_pcn.study.Study`.
    configuration
        The configuration to repair (default: the study's).
    objective
        What to minimise: ``"patients"`` moved (default), ``"practices"`` moved or
        ``"pcns"`` changed; ties are broken as :data:`OBJECTIVES` says.
    within
        A boundary layer of the study (``"sub_icb"``, ``"icb"``, ``"place"``): no PCN may
        cross its lines, and each of its areas is solved on its own. Without it, each ICB
        (the ``icb`` layer, when the study has one) is solved on its own and PCNs keep
        the ICB holding most of their patients.
    exempt
        PCN codes the band does not apply to, besides the study's agreed exceptions.
    reach
        How far a practice may move: into PCNs whose practices are at most this many
        steps away in the adjacency graph (1: PCNs its territory touches).
    time_limit
        Seconds per part; the best configuration found by then is returned with its gap.
        Parts start smallest first, and the seconds a part leaves unused go to the parts
        started after it, by their practices, up to 1.5 times this a part
        (:data:`~geo_pcn.proposal._budget.MOST`; the run's solver time is at most this
        times the parts).
    gap
        Relative gap at which a part counts as solved (0: proven optimal).
    workers
        Local processes (default: one per core, at most one per part; 1 solves in this
        process).
    scheduler
        A Dask scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``:
        the parts are solved on that cluster instead of local processes.
    report
        The :class:`~geo_pcn.report.Report` of ``configuration`` if you have it (from
        :func:`geo_pcn.validate`); made here otherwise. A PCN it finds contiguous only
        through its own footprint (``joined_by_footprint``) is not held to the graph: it
        is kept as it is when inside the band (free to change when its part cannot meet
        the band otherwise), and every answer is judged by the contiguity check from this
        report's partition (:attr:`Proposal.joins_held` says what was held, and why).

    Returns
    -------
    Proposal

    Raises
    ------
    geo_pcn.errors.InputError
        An unknown objective, layer or exempt PCN code, or ``reach`` below 1.
    """
    config = study.configuration if configuration is None else configuration
    settings = settings_for(
        study, config, objective=objective, within=within, exempt=exempt, reach=reach,
        time_limit=time_limit, gap=gap, workers=workers, scheduler=scheduler,
    )  # fmt: skip
    report = validate(study, config) if report is None else report
    return _answered(study, config, report, settings, workers=workers, scheduler=scheduler)


def _answered(study, config, report, settings, *, workers, scheduler) -> Proposal:
    """Every part solved, each answer judged by the contiguity check (practices held and
    parts solved again, :func:`judged`; the softer freeze where parts are left outside the
    band, :func:`softer`), and the proposal assembled."""
    kinds: dict[str, set[str]] = {}
    for f in report.findings:
        if f.check == "contiguity" and f.pcn_code:
            kinds.setdefault(f.pcn_code, set()).add(f.kind)
    joined = {
        c for c, k in kinds.items() if "joined_by_footprint" in k and "detached_group" not in k
    }
    parts, labels = _parts(study, config, {**settings, "_joined": joined})
    results = _solve_all(parts, workers=workers, scheduler=scheduler)
    # judged by the contiguity check itself: a neighbour's change can undo a PCN's join
    # through its own footprint (practices held and their parts solved again)
    judge = {
        "configure": lambda ps, rs: _configured(config, ps, rs, labels),
        "solve_all": lambda ps: _solve_all(ps, workers=workers, scheduler=scheduler),
        "free": _free_of_contiguity(study),
        "again": Again(settings["time_limit_s"]),  # AGAIN of its time, each part
    }
    parts, results, joins = judged(report, parts, results, **judge)
    soft = partial(_parts, study, config, {**settings, "_joined": joined, "_soft": True})
    parts, results, joins = softer(report, parts, results, joins, joined, soft, judge)
    return _assemble(study, config, parts, results, labels, settings, joins)


def _free_of_contiguity(study) -> set[str]:
    """PCNs with an agreed exception to the contiguity check."""
    return {e.pcn_code for e in study.rules.exceptions if "contiguity" in tuple(e.checks)}


def settings_for(
    study,
    configuration: Configuration | None = None,
    *,
    objective: str = "patients",
    within: str | None = None,
    exempt: Iterable[str] | str = (),
    reach: int = 1,
    time_limit: float = 60.0,
    gap: float = 0.0,
    workers: int | None = None,
    scheduler: Any = None,
) -> dict[str, Any]:
    """The options of :func:`propose` checked against ``study`` (one line naming the value
    and the fix when one is wrong) and written out as the proposal's settings; the CLI
    calls it before the slow part."""
    config = study.configuration if configuration is None else configuration
    if objective not in OBJECTIVES:
        raise InputError(
            f"objective {objective!r} is not known; use one of {', '.join(OBJECTIVES)}"
        )
    if isinstance(reach, bool) or not isinstance(reach, int | float) or reach != int(reach):
        raise InputError(f"reach must be a whole number of steps (1 or more), not {reach!r}")
    if reach < 1:
        raise InputError(f"reach must be 1 or more (steps in the adjacency graph), not {reach}")
    checks = (
        ("time_limit", time_limit, "above 0 (seconds)", lambda v: 0 < v < math.inf),
        ("gap", gap, "from 0 to 1 (0.01 is 1%)", lambda v: 0 <= v <= 1),
    )
    for name, value, what, good in checks:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not good(value):
            raise InputError(f"{name} must be a number {what}, not {value!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be 1 or more local processes, not {workers!r}")
    if within is not None and within not in study.boundaries:
        raise InputError(
            f"within={within!r}: the study has no boundary layer of that name; its layers "
            f"are {', '.join(study.boundaries) or 'none'} (see [boundaries] in the study file)"
        )
    if isinstance(scheduler, str):
        _check_address(scheduler)
    codes = {c.upper(): c for c in config.pcn_codes}
    exempt = [exempt] if isinstance(exempt, str) else list(exempt)
    unknown = sorted(str(c) for c in exempt if str(c).strip().upper() not in codes)
    if unknown:
        raise InputError(
            f"exempt PCN code(s) not in the configuration: {list_some(unknown)}; give codes "
            "of the study's PCNs"
        )
    exempt = [codes[str(c).strip().upper()] for c in exempt]
    return {
        "objective": objective,
        "tie_breaks": OBJECTIVES[objective],
        "within": within,
        "parts_by": within or ("icb" if "icb" in study.boundaries else None),
        "reach": int(reach),
        "band": list(study.rules.band),
        "exempt": sorted({*study.rules.exempt, *exempt}),
        "time_limit_s": float(time_limit),
        "gap": float(gap),
    }


def _check_address(address: str) -> None:
    try:
        from distributed.comm.addressing import parse_address

        parse_address(address, strict=True)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"--scheduler {address!r} is not a Dask scheduler address ({exc}); give one "
            "like tcp://host:8786 (start one with `dask scheduler`), or leave it out to solve "
            "in local processes"
        ) from None


# -- solving ------------------------------------------------------------------------------


def _solve_all(parts: list[Part], *, workers: int | None, scheduler: Any) -> list[PartResult]:
    if scheduler is not None:
        return _on_dask(parts, scheduler)
    n = min(len(parts), workers or os.cpu_count() or 1)
    if n <= 1:
        return in_turn(parts, solve)  # the time parts leave unused shared on (_budget)
    return local(parts, n, solve)  # smallest first, the time shared on (_budget)


def _on_dask(parts: list[Part], scheduler: Any) -> list[PartResult]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is a dependency
        raise InputError(
            "--scheduler needs dask.distributed: pip install 'dask[distributed]'"
        ) from None
    if isinstance(scheduler, Client):
        client = scheduler
    else:
        try:
            client = Client(str(scheduler), timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"--scheduler {scheduler}: no Dask scheduler answered ({exc.__class__.__name__}"
                f"{': ' + str(exc) if str(exc) else ''}); start one (`dask scheduler`, then "
                "`dask worker ADDRESS`), or leave --scheduler out to solve in local processes"
            ) from None
    try:
        from distributed import wait

        workers = client.scheduler_info().get("workers", {}).values()
        n = max(sum(w.get("nthreads", 1) for w in workers), 1)
        return share(
            parts, n, lambda p: client.submit(solve, p, pure=False),
            lambda fs: wait(fs, return_when="FIRST_COMPLETED").done,
        )  # fmt: skip
    finally:
        if client is not scheduler:
            client.close()


# -- the answer ---------------------------------------------------------------------------


def _assemble(study, config, parts, results, names, settings, joins=()) -> Proposal:
    """The proposal from each part's result: provisional codes for new PCNs, the scenario
    that makes it (checked to reproduce it), the changes, the PCNs outside the band with
    why, the crossings added, and the figures per part and in all."""
    sizes = geography_of(study).list_sizes
    rows, outside, toml, scenario, empty, proposed = _applied(
        config, parts, results, names, settings
    )
    changes = _changes(study, config, proposed, sizes, parts)
    outside += _too_big(proposed, sizes, settings)
    crossings = added_crossings(study, config, proposed, parts=parts, results=results)
    parts_table = pd.DataFrame(rows)
    summary = _summary(config, proposed, parts_table, changes, settings)
    summary |= {
        "n_parts": len(parts),
        "n_outside_band": len(outside),
        "n_crossings_added": len(crossings),
        "practices_nothing_to_place": len(empty),
        "seconds": round(float(parts_table["seconds"].sum()), 3),
    }
    return Proposal(
        configuration=proposed,
        scenario=scenario,
        toml=toml,
        changes=changes,
        parts=parts_table,
        outside_band=outside,
        summary=summary,
        settings=settings,
        crossings_added=crossings,
        joins_held=list(joins),
        nothing_to_place=empty,
    )


def _applied(config, parts, results, names, settings):
    """The parts table's rows, the PCNs outside the band, the scenario (as a file and
    parsed) and the proposed configuration it makes (checked to be the answers')."""
    assign = config.assignments
    target, new_names, rows, outside, empty = _collect(parts, results, names, settings, config)
    for p in assign.index:  # a part with no solution leaves its practices as they were
        if not target.get(p):
            target[p] = assign[p]
    toml = _scenario_toml(config, target, new_names, settings)
    if any(target[p] != assign[p] for p in assign.index):
        scenario = Scenario.from_toml_text(toml)
    else:  # nothing to change (a scenario file needs one operation at least)
        lost = any(r.status == "no solution" for r in results)
        toml += (
            "# Nothing proposed: no configuration was found in the time given.\n"
            if lost
            else "# Nothing to change: no change brings it closer to the rules.\n"
        )
        scenario = Scenario(operations=(), name="Proposal (geo-pcn propose)")
    proposed = scenario.apply(config)
    check = proposed.assignments.reindex(assign.index)
    wanted = pd.Series(target).reindex(assign.index)
    if not check.equals(wanted):  # pragma: no cover - the scenario is built to reproduce it
        raise AssertionError("propose: the scenario does not reproduce the proposal")
    return rows, outside, toml, scenario, empty, proposed


def _collect(parts, results, names, settings, config):
    """Per part: each practice's PCN code (new PCNs given provisional codes), the new
    PCNs' names, the row of the parts table, the PCNs left outside the band with why and
    the PCNs around them, and the practices with nothing to place (:func:`_nothing`)."""
    target: dict[str, str] = {}
    new_names: dict[str, str] = {}
    rows, outside, nothing = [], [], []
    taken = set(config.pcn_codes) | set(config.empty_pcns)
    for part, result in zip(parts, results, strict=True):
        empty, kept, got, renamed = _answered_part(part, result, names, taken)
        nothing += [
            {"practice_code": p, "part": part.name, "message": NOTHING_TO_PLACE.format(p)}
            for p, k in zip(part.practices, result.assignment, strict=False)
            if k in empty
        ]
        result = kept

        def final(code: str, renamed=renamed) -> str:
            return renamed.get(code, (code, None))[0]

        for p, code in got.items():
            target[p] = final(code)
        for new_code, new_name in renamed.values():
            new_names[new_code] = new_name
        for code, (size, limit) in result.outside_band.items():
            around = _around(part, result.assignment, code, final)
            why = _why(
                part, final(code), size, limit, settings, result.status, code, around,
                result.fewest,
            )  # fmt: skip
            if code in result.put_back:  # left out by the last resort of the judging
                why["message"] = _put_back_why(part, final(code), size, limit, around,
                                               result.put_back[code])  # fmt: skip
            outside.append(why)
        rows.append(
            {
                "part": part.name,
                "practices": len(part.practices),
                "pcns": sum(not s.new for s in part.slots),
                "slots": len(part.slots),
                "status": result.status,
                "heuristic": result.heuristic,
                "objective": result.value,
                "bound": result.bound,
                "gap": result.gap,
                "patients_moved": result.patients_moved,
                "practices_moved": result.practices_moved,
                "seconds": result.seconds,
                "seconds_again": result.seconds_again,
                "variables": result.n_variables,
                "constraints": result.n_constraints,
            }
        )
    return target, new_names, rows, outside, nothing


def _answered_part(part: Part, result: PartResult, names: dict, taken: set):
    """``(empty, result, got, renamed)``: the new PCNs with nothing to place
    (:func:`_nothing`), the result without them (:func:`_without`), each practice's slot
    code and the provisional codes and names of the new PCNs used (numbered by their
    first practice; ``taken`` is updated)."""
    empty = _nothing(part, result)
    result = _without(part, result, empty)
    got = dict(zip(part.practices, result.assignment, strict=False))
    return empty, result, got, _provisional(part, got, names, taken)


def _configured(config, parts, results, names) -> Configuration:
    """The configuration :func:`_applied` proposes, made in one step without the scenario
    or the explanations (the judging makes it every round: through the scenario, 2.4 s a
    time for all of England, 60 s a run)."""
    assign = config.assignments
    target: dict[str, str] = {}
    new_names: dict[str, str] = {}
    taken = set(config.pcn_codes) | set(config.empty_pcns)
    for part, result in zip(parts, results, strict=True):
        _, _, got, renamed = _answered_part(part, result, names, taken)
        for p, code in got.items():
            target[p] = renamed.get(code, (code, None))[0]
        new_names.update(dict(renamed.values()))
    wanted = {p: target.get(p) or assign[p] for p in assign.index}
    return Configuration(wanted, {**config.names, **new_names}, parent=config)


#: what a proposal says of a practice in no PCN with no registered patients
NOTHING_TO_PLACE = (
    "{} has no registered patients: nothing to place. It is left in no PCN, as it was "
    "(not made a new PCN of 0 patients, below the band)."
)


def _nothing(part: Part, result: PartResult) -> set[str]:
    """The new PCNs (slot codes) of ``result`` made only of practices that were in no PCN
    and have no registered patients: nothing to place."""
    held: dict[str, list[int]] = {}
    for p, k in enumerate(result.assignment):
        held.setdefault(k, []).append(p)
    new = {s.code for s in part.slots if s.new}
    return {
        k
        for k, ps in held.items()
        if k in new and all(part.current[p] == -1 and part.weights[p] == 0 for p in ps)
    }


def _without(part: Part, result: PartResult, empty: set[str]) -> PartResult:
    """``result`` with the practices of ``empty`` left in no PCN (``""``) and those PCNs
    not outside the band; a part left outside it by them alone gets the status of its
    gap."""
    if not empty:
        return result
    from dataclasses import replace

    out = {c: v for c, v in result.outside_band.items() if c not in empty}
    status = result.status
    if not out and status == "infeasible" and result.bound is not None:
        gap = _gap(result.value, result.bound)
        status = "optimal" if gap == 0 else "within gap" if gap <= part.gap else "time limit"
    assignment = tuple("" if k in empty else k for k in result.assignment)
    return replace(result, assignment=assignment, outside_band=out, status=status)


def _summary(config, proposed, parts_table, changes, settings) -> dict[str, Any]:
    """The headline figures: the worst status of any part, the objective (and its bound
    when every part with a configuration has one), moved and placed counted one way."""
    statuses = set(parts_table["status"])
    worst = ("no solution", "band not met", "infeasible", "time limit", "within gap", "optimal")
    status = next(s for s in worst if s in statuses)
    # one definition of moved and placed, as compare.md and `geo-pcn rank` count them
    kinds = pd.Series(
        [move_kind(f, t) for f, t in zip(changes["from_pcn"], changes["to_pcn"], strict=True)],
        index=changes.index,
        dtype=object,
    )
    moved, placed = changes[kinds == "moved"], changes[kinds == "placed"]
    # the objective over the parts with a configuration; a bound and gap when every one of
    # them has a bound (an infeasible part has none)
    valued = parts_table["objective"].notna()
    value = int(parts_table.loc[valued, "objective"].sum())
    proven = valued.any() and parts_table.loc[valued, "bound"].notna().all()
    bound = int(parts_table.loc[valued, "bound"].sum()) if proven else None
    return {
        "status": status,
        "objective": settings["objective"],
        "value": value,
        "bound": bound,
        "gap": None if bound is None else _gap(value, bound),
        "parts_without_solution": int((parts_table["status"] == "no solution").sum()),
        "patients_moved": int(moved["patients"].sum()),
        "practices_moved": len(moved),
        "practices_placed": len(placed),
        "patients_placed": int(placed["patients"].sum()),
        "new_pcns": len(set(proposed.pcn_codes) - set(config.pcn_codes)),
        "closed_pcns": len(set(config.pcn_codes) - set(proposed.pcn_codes)),
    }


def _toml_str(value: str) -> str:
    # a JSON string with every non-ASCII character escaped is a TOML basic string (TOML
    # forbids raw control characters such as DEL, which JSON would leave as they are)
    return json.dumps(value, ensure_ascii=True)


def _scenario_toml(config, target: dict, new_names: dict, settings: dict) -> str:
    assign = config.assignments
    lines = [
        f"# Proposed by geo-pcn propose: fewest {MINIMISED[settings['objective']]} "
        f"(ties: {settings['tie_breaks']}).",
        "# New PCNs have provisional codes (NEW-...): give them real ones before use.",
        "# Apply with: geo-pcn scenario STUDY.toml proposal.toml --out DIR",
        'name = "Proposal (geo-pcn propose)"',
        "",
    ]
    joins: dict[str, list[str]] = {}
    for p in assign.index:
        if target[p] != assign[p] and target[p]:
            joins.setdefault(target[p], []).append(p)
    for code in sorted(c for c in joins if c in new_names):
        lines += [
            "[[add_pcn]]",
            f"code = {_toml_str(code)}",
            f"name = {_toml_str(new_names[code])}",
            f"practices = [{', '.join(_toml_str(p) for p in joins[code])}]",
            "",
        ]
    for code in sorted(c for c in joins if c not in new_names):
        lines += [
            "[[move]]",
            f"practices = [{', '.join(_toml_str(p) for p in joins[code])}]",
            f"to = {_toml_str(code)}",
            "",
        ]
    return "\n".join(lines)


def _changes(study, config, proposed, sizes, parts) -> pd.DataFrame:
    before, after = config.assignments, proposed.assignments.reindex(config.assignments.index)
    moved = before.index[before != after]
    part_of = {p: part.name for part in parts for p in part.practices}
    old, new = config.names, proposed.names
    names = study.practices.get("practice_name", pd.Series("", index=study.practices.index))
    frame = pd.DataFrame(
        {
            "practice_code": moved,
            "practice_name": names.reindex(moved).fillna("").astype(str).to_numpy(),
            "from_pcn": before[moved].to_numpy(),
            "from_name": [old.get(c, "") for c in before[moved]],
            "to_pcn": after[moved].to_numpy(),
            "to_name": [new.get(c, "") for c in after[moved]],
            "patients": sizes.reindex(moved).fillna(0).astype("int64").to_numpy(),
            "part": [part_of.get(p, "") for p in moved],
        }
    )
    return frame.sort_values(["to_pcn", "practice_code"], ignore_index=True)
