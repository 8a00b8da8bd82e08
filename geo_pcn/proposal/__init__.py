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
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from geo_pcn._words import count, move_kind
from geo_pcn.checks.boundaries import layer_label
from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError, list_some
from geo_pcn.geography import geography_of
from geo_pcn.pipeline import validate
from geo_pcn.proposal.model import Part, PartResult, Slot, _gap, solve
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

#: what :func:`propose` can minimise, each with how its ties are broken
OBJECTIVES = {
    "patients": "fewest crossings added, then fewest practices moved, then fewest new PCNs",
    "practices": "fewest crossings added, then fewest registered patients moved, then "
    "fewest new PCNs",
    "pcns": "fewest crossings added, then fewest registered patients moved",
}

#: what each objective counts, in words
MINIMISED = {
    "patients": "registered patients moved",
    "practices": "practices moved",
    "pcns": "PCNs changed",
}

#: the modelling choices every proposal is optimal under (said with the results)
RESTRICTIONS = (
    "a practice moves only into a PCN within `reach` steps of it in the adjacency graph; "
    "a new PCN is made of one PCN's practices (or of practices in no PCN); each ICB (or "
    "area of `within`) is solved on its own, so no practice moves between them; a practice "
    "above the band on its own stays in its PCN"
)

#: what a PCN free of the band (exempt, or holding a practice above the band on its own)
#: may hold in a proposal (said with the results)
EXEMPT_RULE = (
    "a PCN exempt from the band (or holding a practice above the band on its own) may "
    "grow only up to the band's upper limit, or stay at its present size when it is "
    "larger: it does not absorb practices without limit"
)

#: how a proposal treats the lines of the study's boundary layers (said with the results)
LINES_RULE = (
    "crossings of sub-ICB, ICB and place lines added are minimised second, after the "
    "objective and before its tie-breaks: a proposal adds a crossing only when every "
    "repair that costs no more adds one, as far as the time given lets the search prove "
    "it (`--within` forbids them outright)"
)

#: a part in which no boundary layer places a practice
NO_AREA = "(no area)"


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
        through its own footprint (``joined_by_footprint``) is not held to the graph.

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
    kinds: dict[str, set[str]] = {}
    for f in report.findings:
        if f.check == "contiguity" and f.pcn_code:
            kinds.setdefault(f.pcn_code, set()).add(f.kind)
    joined = {
        c for c, k in kinds.items() if "joined_by_footprint" in k and "detached_group" not in k
    }
    parts, labels = _parts(study, config, {**settings, "_joined": joined})
    results = _solve_all(parts, workers=workers, scheduler=scheduler)
    return _assemble(study, config, parts, results, labels, settings)


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


# -- the parts ----------------------------------------------------------------------------


def _parts(study, config: Configuration, settings: dict) -> tuple[list[Part], dict[str, str]]:
    geo = geography_of(study)
    graph = geo.graph
    sizes = geo.list_sizes.reindex(list(config.practice_codes)).fillna(0).astype("int64")
    assign = config.assignments
    members = config.members
    low, high = study.rules.band
    exempt = set(settings["exempt"])
    no_contiguity = {e.pcn_code for e in study.rules.exceptions if "contiguity" in tuple(e.checks)}
    layer = settings["parts_by"]
    area = pd.Series(NO_AREA, index=assign.index)
    if layer is not None:
        table = geo.site_areas[layer].reindex(assign.index)
        codes = table["code"].fillna("").astype(str)
        area = codes.where(codes != "", NO_AREA)

    # each PCN lives in the area holding most of its patients (then practices, then code)
    frame = pd.DataFrame({"pcn": assign, "area": area, "n": sizes})
    held = frame[frame["pcn"] != ""].groupby(["pcn", "area"]).agg(n=("n", "sum"), k=("n", "size"))
    held = held.reset_index().sort_values(["pcn", "n", "k", "area"], ascending=[1, 0, 0, 1])
    held = held[(held["area"] != NO_AREA) | ~held["pcn"].duplicated(keep=False)]
    home = held.drop_duplicates("pcn").set_index("pcn")["area"]

    # each practice's part: its own area with `within`, else its PCN's
    part_of = area.copy() if settings["within"] else assign.map(home).fillna(area)
    lost = part_of[part_of == NO_AREA].index
    for p in lost:  # not placed by the layer: with its PCN, else with its neighbours
        if assign[p] and home.get(assign[p], NO_AREA) != NO_AREA:
            part_of[p] = home[assign[p]]
            continue
        near = [part_of[q] for q in graph.neighbors(p) if part_of[q] != NO_AREA]
        if near:
            part_of[p] = pd.Series(near).value_counts().sort_index().idxmax()

    # the lines a proposal keeps: each layer's area of every practice's site, as the
    # boundary check places it ("": none); the `within` layer is kept by the parts
    lines = {
        name: where["code"].reindex(assign.index).fillna("").astype(str)
        for name, where in sorted(geo.site_areas.items())
        if name != settings["within"]
    }
    parts = []
    names = config.names
    settings = {**settings, "_registrations": geo.territories.method == "registrations"}
    for name in sorted(part_of.unique()):
        codes = sorted(part_of.index[part_of == name])
        parts.append(
            _part(
                name, codes, graph, sizes, assign, members, home, names,
                band=(low, high), exempt=exempt, no_contiguity=no_contiguity,
                settings=settings, lines=lines,
            )
        )  # fmt: skip
    return parts, names


def _part(
    name, codes, graph, sizes, assign, members, home, names, *, band, exempt, no_contiguity,
    settings, lines=None,
) -> Part:  # fmt: skip
    low, high = band
    index = {p: i for i, p in enumerate(codes)}
    inside = set(codes)
    sub = graph.subgraph(codes)
    # in the contiguity flow: practices with a territory, as the contiguity check counts
    # them; with registrations, one with no registered patients need not be connected (the
    # check reports it apart as a WARNING, closed or not yet reporting) but still connects
    placed = tuple(bool(graph.nodes[p]["has_home"]) for p in codes)
    empty = settings["_registrations"]
    needs = tuple(pl and not (empty and sizes[p] == 0) for pl, p in zip(placed, codes, strict=True))
    edges = tuple(sorted((min(index[a], index[b]), max(index[a], index[b])) for a, b in sub.edges))
    reach = settings["reach"]

    def near(group: Iterable[str]) -> tuple[int, ...]:
        seen = set(group)
        frontier = set(group)
        for _ in range(reach):
            frontier = {q for p in frontier for q in sub.neighbors(p)} - seen
            seen |= frontier
        return tuple(sorted(index[p] for p in seen))

    # a practice above the band on its own cannot be in a PCN inside it: it stays where it
    # is (or with the practices in no PCN around it), and its PCN is free of the band
    giant = {p for p in codes if sizes[p] > high}

    def keep(candidates: tuple[int, ...], pcn: str) -> tuple[int, ...]:
        return tuple(c for c in candidates if codes[c] not in giant or assign[codes[c]] == pcn)

    # a practice in no PCN without a territory is bound by no contiguity: any PCN here
    anywhere = tuple(index[p] for p in codes if not assign[p] and not placed[index[p]])

    def pieces_of(group: list[str]) -> int:
        comps = nx.connected_components(sub.subgraph([p for p in group if placed[index[p]]]))
        return sum(any(needs[index[p]] for p in c) for c in comps)

    slots: list[Slot] = []
    spare: list[Slot] = []
    for pcn in sorted({assign[p] for p in codes if assign[p]}):
        here = [p for p in members[pcn] if p in inside]
        total = int(sizes.reindex(list(members[pcn])).sum())
        piece = int(sizes.reindex(here).sum())
        pieces = pieces_of(here)
        candidates = tuple(sorted({*keep(near(here), pcn), *anywhere}))
        big = bool(giant.intersection(here))
        banded = pcn not in exempt and not big
        # a PCN the contiguity check accepts through its own footprint is not held to the
        # graph (its footprint joins groups whose territories do not touch)
        contiguous = pcn not in no_contiguity and pcn not in settings.get("_joined", ())
        # a new PCN is made of the parent's practices here only: a modelling choice (it
        # keeps the search small), stated with the results
        own = tuple(sorted(index[p] for p in here if p not in giant))
        # free of the band is not free of every limit: it may hold what it holds now or
        # the band's upper limit, whichever is more (EXEMPT_RULE)
        cap = None if banded else max(piece, int(high))
        if home.get(pcn) == name or not settings["within"]:
            leaves = len(here) < len(members[pcn])  # some of its practices are elsewhere
            slots.append(Slot(pcn, pcn, False, banded, contiguous, candidates, leaves, cap))
            # a new PCN per detached group, or as many as the band can hold: whichever is more
            most = total // low if banded and low > 0 else 1
            n_new = max(pieces, most, 1) - 1
        else:  # its practices over another area's line: they leave, or make PCNs here
            n_new = max(pieces, piece // low if low > 0 else 1, 1)
            if big:  # the first new PCN holds its practice above the band (no band)
                whole = tuple(sorted(index[p] for p in here))
                spare.append(
                    Slot(f"\0new {pcn} 0", pcn, True, False, True, whole, cap=max(piece, high))
                )
                n_new -= 1
        spare += [
            Slot(f"\0new {pcn} {i + len(spare)}", pcn, True, True, True, own) for i in range(n_new)
        ]
    loose = [p for p in codes if not assign[p]]
    for i, group in enumerate(sorted(nx.connected_components(graph.subgraph(loose)), key=min)):
        group = sorted(group)
        n_new = max(1, int(sizes.reindex(group).sum()) // low if low > 0 else 1)
        candidates = keep(near(group), "")
        banded = not giant.intersection(group)
        spare += [
            Slot(f"\0new {name} {i + 1} {j}", "", True, banded, True, candidates)
            for j in range(n_new)
        ]
    slots += spare
    slot_index = {s.code: k for k, s in enumerate(slots) if not s.new}
    current = tuple(slot_index.get(assign[p], -2) if assign[p] else -1 for p in codes)
    return Part(
        name=name,
        practices=tuple(codes),
        weights=tuple(int(sizes[p]) for p in codes),
        current=current,
        placed=placed,
        needs=needs,
        edges=edges,
        slots=tuple(slots),
        band=(int(low), int(high)),
        objective=settings["objective"],
        time_limit=settings["time_limit_s"],
        gap=settings["gap"],
        lines=tuple(
            (layer, _area_index(where.reindex(codes).fillna("")))
            for layer, where in (lines or {}).items()
        ),
    )


def _area_index(codes: pd.Series) -> tuple[int, ...]:
    """Area codes as indices (by code order; -1 for none)."""
    names = sorted(set(codes) - {""})
    at = {c: i for i, c in enumerate(names)}
    return tuple(at.get(c, -1) for c in codes)


# -- solving ------------------------------------------------------------------------------


def _solve_all(parts: list[Part], *, workers: int | None, scheduler: Any) -> list[PartResult]:
    if scheduler is not None:
        return _on_dask(parts, scheduler)
    n = min(len(parts), workers or os.cpu_count() or 1)
    if n <= 1:
        return [solve(p) for p in parts]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # the largest parts first, so that one big part does not finish last alone
    order = sorted(range(len(parts)), key=lambda i: -len(parts[i].practices))
    # fork where there is one: the workers need nothing of the parent but the parts, and a
    # planner's script without an `if __name__ == "__main__":` guard still works
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(n, mp_context=context) as pool:
        done = dict(zip(order, pool.map(solve, [parts[i] for i in order]), strict=True))
    return [done[i] for i in range(len(parts))]


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
        futures = client.map(solve, parts, pure=False)
        return client.gather(futures)
    finally:
        if client is not scheduler:
            client.close()


# -- the answer ---------------------------------------------------------------------------


def _assemble(study, config, parts, results, names, settings) -> Proposal:
    sizes = geography_of(study).list_sizes
    assign = config.assignments
    target: dict[str, str] = {}
    new_names: dict[str, str] = {}
    rows = []
    outside = []
    taken = set(config.pcn_codes) | set(config.empty_pcns)
    for part, result in zip(parts, results, strict=True):
        got = dict(zip(part.practices, result.assignment, strict=False))
        # provisional codes for the new PCNs used, numbered by their first practice
        renamed = _provisional(part, got, names, taken)
        for p, code in got.items():
            target[p] = renamed.get(code, (code, None))[0]
        for new_code, new_name in renamed.values():
            new_names[new_code] = new_name
        for code, (size, limit) in result.outside_band.items():
            final = renamed.get(code, (code, None))[0]
            outside.append(_why(part, final, size, limit, settings, result.status, code))
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
                "variables": result.n_variables,
                "constraints": result.n_constraints,
            }
        )
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
    changes = _changes(study, config, proposed, sizes, parts)
    outside += _too_big(proposed, sizes, settings)
    crossings = added_crossings(study, config, proposed, parts=parts, results=results)
    parts_table = pd.DataFrame(rows)
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
    summary = {
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
        "n_parts": len(parts),
        "n_outside_band": len(outside),
        "n_crossings_added": len(crossings),
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
    )


def added_crossings(
    study, before: Configuration, after: Configuration, *, parts=(), results=()
) -> list[dict[str, Any]]:
    """The sub-ICB, ICB or place crossings ``after`` has that ``before`` did not, as the
    boundary check counts them: a PCN whose practices' sites lie in two or more areas of a
    layer, unless one area could hold them all within the layer's generalisation (near
    the line). A PCN adds ``min(areas it now holds that it did not hold, areas - 1)``
    crossings of a layer (a new PCN held none). Each comes with why it was needed, from
    its part's search for a repair keeping every line (``parts`` and ``results`` of the
    solver; without them, no reason is given)."""
    geo = geography_of(study)
    old, new = before.members, after.members
    part_of = {p: i for i, part in enumerate(parts) for p in part.practices}
    objective = parts[0].objective if parts else "patients"
    out = []
    for layer, where in sorted(geo.site_areas.items()):
        code = dict(zip(where.index, where["code"].fillna("").astype(str), strict=True))
        near = where["near_code"] if "near_code" in where else pd.Series("", index=where.index)
        near = dict(zip(where.index, near.fillna("").astype(str), strict=True))
        names = dict(zip(where["code"], where.get("name", where["code"]), strict=False))
        for pcn in sorted(new):
            members = new[pcn]
            if old.get(pcn) == members:
                continue
            here = [p for p in members if code.get(p)]
            areas = {code[p] for p in here}
            if len(areas) < 2:
                continue
            if set.intersection(*({code[p], near[p]} - {""} for p in here)):
                continue  # near the line: placement uncertain, not a crossing
            held = {code[p] for p in old.get(pcn, ()) if code.get(p)}
            gained = sorted(areas - held)
            n = min(len(gained), len(areas) - 1)
            if n <= 0:
                continue
            joined = sorted(p for p in here if code[p] in gained)
            i = part_of.get(joined[0]) if joined else None
            why = _why_crossing(
                None if i is None or i >= len(results) else results[i], objective
            )
            out.append(
                {
                    "pcn_code": pcn,
                    "layer": layer,
                    "areas_added": gained,
                    "practices": joined,
                    "part": "" if i is None else parts[i].name,
                    "message": (
                        f"{pcn} now has practices in {len(areas)} {layer_label(layer)} areas "
                        f"({', '.join(sorted(areas))}): "
                        + ", ".join(f"{a} {names.get(a, '')}".strip() for a in gained)
                        + f" added by {', '.join(joined)}. Why: {why}."
                    ),
                }
            )
    return out


def _why_crossing(result: PartResult | None, objective: str) -> str:
    unit = MINIMISED[objective]
    if result is None or result.lines_kept is None:
        return "no reason recorded (the search did not count it: a site near a line?)"
    status, value = result.lines_kept
    best = f"{result.value:,}" if result.value is not None else "-"
    if status == "infeasible":
        return (
            "no repair of the band and contiguity keeps every line in its part "
            "(proven under the model's choices)"
        )
    if status == "optimal":
        return (
            f"the least disruptive repair that keeps every line moves {value:,} {unit} "
            f"(proven), against {best} with the crossing"
        )
    if status == "found":
        return (
            f"the best repair found that keeps every line moves {value:,} {unit} (not "
            f"proven the least), against {best} with the crossing"
        )
    return "no repair keeping every line was found in the time given"


def _provisional(part: Part, got: dict, names: dict, taken: set) -> dict[str, tuple[str, str]]:
    """slot code -> (provisional code, name) for the new PCNs a part's answer uses."""
    used: dict[str, list[str]] = {}
    for p, code in got.items():
        used.setdefault(code, []).append(p)
    by_parent: dict[str, list[tuple[str, str]]] = {}
    for slot in part.slots:
        if slot.new and slot.code in used:
            by_parent.setdefault(slot.parent, []).append((min(used[slot.code]), slot.code))
    out = {}
    for parent, found in sorted(by_parent.items()):
        for i, (_, code) in enumerate(sorted(found), 1):
            where = part.name if part.name != NO_AREA else "UNPLACED"
            base = f"NEW-{parent}-{i}" if parent else f"NEW-{where}-{i}"
            # codes are matched whatever their case: write them as a code is written
            base = re.sub(r"[^A-Z0-9]+", "-", base.upper()).strip("-")
            new_code, n = base, 1
            while new_code in taken:
                n += 1
                new_code = f"{base}-{n}"
            taken.add(new_code)
            name = (
                f"{names.get(parent, parent)} (new PCN {i})"
                if parent
                else f"New PCN {i} in {part.name} (practices in no PCN)"
            )
            out[code] = (new_code, name)
    return out


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


def _too_big(config: Configuration, sizes: pd.Series, settings: dict) -> list[dict[str, Any]]:
    """PCNs holding a practice above the band on its own: no configuration puts them in
    it (they are left out of the band, and said)."""
    low, high = settings["band"]
    out = []
    for pcn, members in config.members.items():
        big = [p for p in members if sizes.get(p, 0) > high]
        if not big or pcn in settings["exempt"]:
            continue
        size = int(sizes.reindex(list(members)).fillna(0).sum())
        alone = ", ".join(f"{p} alone has {int(sizes[p]):,}" for p in big)
        out.append(
            {
                "pcn_code": pcn,
                "part": "",
                "size": size,
                "limit": int(high),
                "message": (
                    f"{pcn} cannot be brought inside the band {low:,}-{high:,}: {alone} "
                    f"registered patients, above the upper limit, so any PCN holding "
                    f"{'it' if len(big) == 1 else 'them'} is above it ({size:,} patients "
                    "now). To make it feasible: agree an exception to the band for it "
                    "(exempt)."
                ),
            }
        )
    return out


def _relaxations(settings: dict) -> list[str]:
    relax = ["agree an exception to the band for it (exempt)"]
    relax.append(
        "let practices move further, if practices further away could help "
        f"(reach {settings['reach'] + 1})"
    )
    if settings["within"]:
        relax.append(f"allow PCNs across {settings['within']} lines (no within)")
    return relax


def _why(
    part: Part, code: str, size: int, limit: int, settings: dict, status: str = "infeasible",
    slot: str | None = None,
) -> dict[str, Any]:
    low, high = part.band
    side = "below the lower" if size < limit else "above the upper"
    if status == "band not met":  # the heuristic's answer: nothing proven
        return {
            "pcn_code": code,
            "part": part.name,
            "size": int(size),
            "limit": int(limit),
            "message": (
                f"{code} is left outside the band {low:,}-{high:,}: {size:,} patients, "
                f"{abs(size - limit):,} {side} limit, in the best configuration found for "
                f"part {part.name} (the heuristic's; the search found none inside the band "
                "in the time given, nor proved that none exists). To do better: give more "
                "--time-limit, or agree an exception to the band for it (exempt)."
            ),
        }
    from geo_pcn.proposal.model import free_unreachable

    # the candidates of its slot once the part's groups too light for the band are alone
    freed, _ = free_unreachable(part)
    slot = code if slot is None else slot
    total = sum(part.weights[p] for s in freed.slots if s.code == slot for p in s.candidates)
    if total and total < low:
        return {
            "pcn_code": code,
            "part": part.name,
            "size": int(size),
            "limit": int(limit),
            "message": (
                f"{code} cannot be brought inside the band {low:,}-{high:,}: {size:,} "
                f"patients, {abs(size - limit):,} {side} limit, and its practices and every "
                f"practice within reach hold {total:,} patients in all (it touches no other "
                "PCN's practices enough to grow). To make it feasible: "
                + "; or ".join(_relaxations(settings))
                + "."
            ),
        }
    relax = _relaxations(settings)
    where = f"{settings['within']} area" if settings["within"] else "part"
    return {
        "pcn_code": code,
        "part": part.name,
        "size": int(size),
        "limit": int(limit),
        "message": (
            f"{code} cannot be brought inside the band {low:,}-{high:,}: at best "
            f"{size:,} patients, {abs(size - limit):,} {side} limit. Its practices and those "
            f"within reach in {where} {part.name} cannot make contiguous PCNs in the band. "
            f"To make it feasible: {'; or '.join(relax)}."
        ),
    }
