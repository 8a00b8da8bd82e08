"""What undoes a join, shared by the judging (:mod:`geo_pcn.proposal._judge`) and its
last resort (:mod:`geo_pcn.proposal._last_resort`): the contiguity errors an answer brings
that the given configuration did not have, the practices whose change caused each, and a
part's answer as slot indices with practices put back."""

from __future__ import annotations

from geo_pcn.checks.contiguity import check_contiguity
from geo_pcn.findings import Finding, Severity
from geo_pcn.proposal._part import Part, PartResult

__all__ = ["ROUNDS", "Latest", "started"]


#: rounds holding the practices found to undo a join, before the last, which holds every
#: practice with residents in the PCN's given footprint
ROUNDS = 2


class Latest:
    """The partition of each configuration judged, made from the last one made (the
    partition flips only what changed since: the PCNs of one part, not every PCN the
    proposal changed, are measured again; England: 1.1 CPU s a judging from the given
    configuration's partition, 0.04 s from the last one). The answers are the same: a
    partition's metrics do not depend on the one it was made from."""

    def __init__(self, base) -> None:
        self.base = self.now = base

    def __call__(self, configuration):
        self.now = self.now.with_configuration(configuration)
        return self.now


def _new_errors(after, given: set, free: set) -> list[Finding]:
    """The contiguity errors of ``after`` that are not among ``given`` (``(pcn_code,
    practice_codes)`` of the given configuration's) and not on a PCN with an agreed
    exception to contiguity (``free``)."""
    return [
        f
        for f in check_contiguity(after)
        if f.kind == "detached_group"
        and f.severity is Severity.ERROR
        and f.pcn_code not in free
        and (f.pcn_code, f.practice_codes) not in given
    ]


def _areas_of(partition, pcn: str) -> set[str]:
    area_pcn = partition.footprints.area_pcn
    return set() if area_pcn is None else set(area_pcn.index[area_pcn.to_numpy() == pcn])


def _causes(base, after, finding: Finding, changed: set[str]) -> tuple[list[str], list[str]]:
    """The practices whose change took areas out of the footprint that joined
    ``finding``'s PCN, and those areas: for each area it lost, the changed practices with
    residents there that now sit in the PCN winning it (they made its count larger) or
    that left the PCN (they made its own smaller); when the areas went to no PCN, every
    changed practice with residents there. For a new PCN (no given footprint), its
    practices that moved into it."""
    pcn = finding.pcn_code
    lost = sorted(_areas_of(base, pcn) - _areas_of(after, pcn))
    residents = base.territories.residents
    if lost and residents is not None:
        there = residents[residents["area_code"].isin(lost) & (residents["n_patients"] > 0)]
        there = there[there["practice_code"].isin(sorted(changed))]
        winner = after.footprints.area_pcn.reindex(lost)
        now = after.configuration.assignments
        was = base.configuration.assignments
        codes = there["practice_code"]
        into = codes.map(now).to_numpy() == there["area_code"].map(winner).to_numpy()
        out_of = codes.map(was).to_numpy() == pcn
        found = sorted(set(codes[into | out_of]))
        return (found or sorted(set(codes))), lost
    members = after.configuration.members.get(pcn, ())
    return sorted(set(members) & changed), lost


def _around(base, pcn: str) -> list[str]:
    """Every practice with residents in ``pcn``'s given footprint, and its practices (the
    last resort holds those of them in its part, or changed)."""
    areas = _areas_of(base, pcn)
    residents = base.territories.residents
    out = set(base.configuration.members.get(pcn, ()))
    if areas and residents is not None:
        there = residents[residents["area_code"].isin(sorted(areas))]
        out |= set(there["practice_code"])
    return sorted(out)


def started(part: Part, result: PartResult, back=()) -> tuple[int, ...]:
    """``result``'s answer as slot indices of ``part``, with the practices ``back`` put
    back in their PCNs (those in a PCN of the part); ``()`` when it has no answer or
    uses a slot ``part`` does not have."""
    if not result.assignment:
        return ()
    at = {s.code: k for k, s in enumerate(part.slots)}
    if any(code not in at for code in result.assignment):
        return ()
    answer = [at[code] for code in result.assignment]
    back = set(back)
    for i, p in enumerate(part.practices):
        if p in back and part.current[i] >= 0:
            answer[i] = part.current[i]
    return tuple(answer)


#: the statuses of a part whose answer has every PCN inside the band (but those left out
#: proven unable to reach it)
_BAND_MET = ("optimal", "within gap", "time limit")
