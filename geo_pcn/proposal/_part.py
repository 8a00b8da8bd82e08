r"""The values the solvers exchange: a :class:`Part` (one independent problem, plain numbers
and strings only: it is pickled to worker processes and Dask workers), its :class:`Slot`\ s
and the :class:`PartResult`. The model itself is described in
:mod:`geo_pcn.proposal.model`."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Slot", "Part", "PartResult"]


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
    #: an answer to begin from (a slot index per practice), when it meets every rule: a
    #: part solved again begins from its answer before, with the practices held put back
    #: (:mod:`geo_pcn.proposal._judge`); empty: none, the heuristic's answer begins
    start: tuple[int, ...] = ()
    #: only an answer inside the band is of use (the softer freeze takes no other): when
    #: the band is proven out of reach, the part ends there, without the elastic solve
    need_band: bool = False


@dataclass(frozen=True)
class PartResult:
    """What the solver found for one part.

    ``status`` is ``optimal``, ``time limit`` (best found, with its gap), ``infeasible``
    (the band cannot be met: the elastic solution and the PCNs left outside it are given),
    ``band not met`` (nothing inside the band found in time, nor proven impossible: the
    heuristic's answer, contiguous, and the PCNs it leaves outside the band; or an answer
    whose practices were put back in their PCNs to keep a PCN's footprint join, see
    :attr:`put_back`) or ``no
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
    #: PCNs (slot codes) left outside the band because practices were put back in them
    #: without a solver, so that a PCN keeps its join through its own footprint (the last
    #: resort of :func:`geo_pcn.proposal._judge.judged`): slot code -> why, in words
    put_back: dict[str, str] = field(default_factory=dict)
    #: of :attr:`seconds`, those spent solving the part again (judged, softer freeze)
    seconds_again: float = 0.0
    #: for the answer of a part whose band is proven out of reach (``infeasible``, the
    #: band made elastic): ``proven`` when no configuration has fewer patients outside
    #: the band (CP-SAT's or HiGHS's search finished), ``found`` when it is the fewest
    #: found in the time given; None for any other answer
    fewest: str | None = None
