"""The last resort of the judging (:func:`geo_pcn.proposal._judge.judged`), without a
solver: when solving again left a new contiguity error, the practices that cause it are put
back in their given PCNs (:func:`_put_back`), and when no put-back mends it, the detached
group joins the PCN beside it (:func:`_regroup`). Neither takes a PCN free of the band over
its cap (:data:`~geo_pcn.proposal._explain.EXEMPT_RULE`): a put-back or a join that would is
not made, and the error it would mend is left and said."""

from __future__ import annotations

from dataclasses import replace

from geo_pcn.findings import Finding
from geo_pcn.proposal._objective import within_caps
from geo_pcn.proposal._part import Part, PartResult
from geo_pcn.proposal._undone import _BAND_MET, ROUNDS, _causes, _new_errors, started

__all__ = ["CHASE"]


#: how far the last resort puts practices back, in turn, until no new contiguity error is
#: left: for each error, its causes (:func:`_causes`) and the practices that changed into
#: its detached group or out of its PCN, :data:`CHASE` times (putting one back can leave
#: another PCN detached: that one is chased next); then every changed practice of the part
CHASE = 6


def _put_back(latest, parts, results, errors, configure, given, free):
    """The last resort, when solving again left new contiguity errors: the practices that
    cause each put back in their given PCNs in their part's answer, without a solver, and
    the configuration judged again, up to :data:`CHASE` times (not in a part where that
    would take a PCN free of the band over its cap); then, while an error is
    left, every changed practice of its part. A PCN the answer had inside the band and
    is now outside it is said in :attr:`PartResult.put_back`; the notes say what was put
    back. A practice detached in its given PCN is not put back there; a part whose error
    cannot be mended so keeps its answer before, and that is said. Returns the results,
    the errors left and the notes. ``latest`` makes each configuration's partition from
    the last one made (:class:`~geo_pcn.proposal._undone.Latest`, from the given
    configuration's)."""
    base = latest.base
    config = base.configuration
    part_of = {p: i for i, part in enumerate(parts) for p in part.practices}
    results, notes = list(results), []
    first = list(results)
    # a practice detached in its given PCN is not put back there (that would bring back
    # an error the answer mended): the errors judged are those the answer had not, given
    # ones it mended included
    after = latest(configure(parts, results))
    had = {(f.pcn_code, f.practice_codes) for f in _new_errors(after, set(), free)}
    detached = {p for _, group in given for p in group}
    given = given & had
    for step in range(CHASE + 1):
        if not errors:
            break
        proposed = configure(parts, results)
        after = latest(proposed)
        before, now = config.assignments, proposed.assignments.reindex(config.assignments.index)
        changed = set(before.index[(before != now).to_numpy()])
        back: dict[int, set[str]] = {}
        step_notes: list[tuple[int, dict]] = []
        why: dict[int, list[str]] = {}
        whole = step == CHASE
        for f in sorted(errors, key=lambda f: (f.pcn_code, f.practice_codes)):
            own = part_of.get(f.practice_codes[0])
            if whole:
                chosen = [p for p in sorted(changed) if part_of.get(p) == own]
            else:
                chosen = sorted(
                    set(_causes(base, after, f, changed)[0])
                    | (changed & set(f.practice_codes))
                    | {p for p in changed if before[p] == f.pcn_code}
                )
            chosen = [p for p in chosen if p in part_of and before[p] and p not in detached]
            fresh = [p for p in chosen if p not in back.get(part_of[p], ())]
            for p in chosen:
                back.setdefault(part_of[p], set()).add(p)
                why.setdefault(part_of[p], []).append(f.pcn_code)
            if fresh:
                name = "" if own is None else parts[own].name
                step_notes.append(
                    (part_of[fresh[0]], _back_note(f, fresh, before, now, whole, name))
                )
        if not back:
            break
        for i, practices in sorted(back.items()):
            result = _back(parts[i], results[i], practices, sorted(set(why[i])))
            if result is results[i]:  # it would take a PCN over its cap: not put back
                back[i] = set()
            results[i] = result
        notes += [note for i, note in step_notes if back[i]]
        errors = _new_errors(latest(configure(parts, results)), given, free)
    # a part still left with an error keeps its answer before: nothing put back there
    # (it would cost moves and mend nothing), and what stood in the way is said
    failed = {part_of.get(f.practice_codes[0]) for f in errors}
    if failed:
        for i in failed - {None}:
            results[i] = first[i]
        notes = [n for n in notes if n["part"] not in {parts[i].name for i in failed - {None}}]
        errors = _new_errors(latest(configure(parts, results)), given, free)
        results, errors, joined = _regroup(parts, results, errors, configure, given, free, latest)
        notes += joined + [_stuck_note(f, detached, parts, part_of) for f in errors]
    return results, errors, notes


def _regroup(parts, results, errors, configure, given, free, latest):
    """The end of the last resort, for an error no put-back mends: the detached group
    joins the PCN of a practice beside it in the graph, without a solver, when that leaves
    its part no new contiguity error and keeps every cap (of those that do, the one
    leaving fewest PCNs outside the band, then fewest patients moved, then the first
    code). A PCN this
    leaves outside the band is said (:attr:`PartResult.put_back`). Returns the results,
    the errors left and the notes."""
    from geo_pcn.proposal._objective import _score

    part_of = {p: i for i, part in enumerate(parts) for p in part.practices}
    results, notes = list(results), []
    for f in sorted(errors, key=lambda f: (f.pcn_code, f.practice_codes)):
        i = part_of.get(f.practice_codes[0])
        if i is None or not results[i].assignment:
            continue
        part, result = parts[i], results[i]
        index = {p: k for k, p in enumerate(part.practices)}
        group = {index[p] for p in f.practice_codes if p in index}
        at = {s.code: k for k, s in enumerate(part.slots)}
        answer = result.assignment
        beside = {answer[b] for a, b in part.edges if a in group and b not in group}
        beside |= {answer[a] for a, b in part.edges if b in group and a not in group}
        tried = []
        for code in sorted(beside - {f.pcn_code}):
            if code not in at or any(c not in at for c in answer):
                continue
            moved = [at[c] for c in answer]
            for k in group:
                moved[k] = at[code]
            if not within_caps(part, moved):
                continue  # a PCN free of the band does not grow over its cap
            got = _score(part, tuple(moved))
            reason = (
                f"{', '.join(f.practice_codes)} joined {code}, the PCN beside them, without a "
                f"solver, so that {f.pcn_code} is not left detached (no practice could be put "
                "back to join them to it without bringing back a contiguity error the given "
                "configuration had); this leaves this PCN outside the band"
            )
            trial = list(results)
            trial[i] = _valued(part, result, got, reason)
            after = latest(configure(parts, trial))
            if any(part_of.get(e.practice_codes[0]) == i for e in _new_errors(after, given, free)):
                continue
            tried.append(((len(got["outside_band"]), got["value"], code), trial[i]))
        if not tried:
            continue
        (_, _, code), results[i] = min(tried, key=lambda t: t[0])
        notes.append({
            "pcn_code": f.pcn_code,
            "part": part.name,
            "round": ROUNDS + 2,
            "practices": list(f.practice_codes),
            "areas_lost": [],
            "message": (
                f"{f.pcn_code}: {', '.join(f.practice_codes)} left detached from the rest of "
                f"{f.pcn_code}, and no practice could be put back to join them again without "
                "bringing back a contiguity error the given configuration had; so they joined "
                f"{code}, the PCN beside them, without a solver (the end of the last resort). "
                "Any PCN this leaves outside the band is said under PCNs left outside the band."
            ),
        })  # fmt: skip
    if notes:
        errors = _new_errors(latest(configure(parts, results)), given, free)
    return results, errors, notes


def _stuck_note(f: Finding, detached: set[str], parts, part_of) -> dict:
    """Why the last resort left ``f`` as it is."""
    own = part_of.get(f.practice_codes[0])
    part = "" if own is None else parts[own].name
    return {
        "pcn_code": f.pcn_code,
        "part": part,
        "round": ROUNDS + 2,
        "practices": [],
        "areas_lost": [],
        "message": (
            f"{f.pcn_code}: {', '.join(f.practice_codes)} left detached from the rest of "
            f"{f.pcn_code}. The last resort found no practices to put back that mend it "
            "without bringing back a contiguity error the given configuration had (a "
            "practice detached in its given PCN is not put back there), so part "
            f"{part}'s answer is kept as the solver left it."
        ),
    }


def _back(part: Part, result: PartResult, practices, pcns: list[str]) -> PartResult:
    """``result`` with ``practices`` put back in their PCNs (of ``part``), valued again;
    the PCNs this leaves outside the band (that were not) said with why."""
    from geo_pcn.proposal._objective import _score

    answer = started(part, result, practices)
    if not answer or not within_caps(part, answer):
        return result  # nothing to put back, or it would take a PCN over its cap
    got = _score(part, answer)
    names = ", ".join(f"{p} in {part.slots[part.current[i]].code}"
                      for i, p in enumerate(part.practices)
                      if p in practices and part.current[i] >= 0)  # fmt: skip
    one = len(pcns) == 1
    reason = (
        f"{names} put back in {'its PCN' if len(practices) == 1 else 'their PCNs'}, without a "
        f"solver, so that {', '.join(pcns)} {'is' if one else 'are'} not left detached (a "
        "join through a footprint kept; solved again with practices held, the part found "
        "no configuration in the time given, or had no time left); put back, the answer "
        "leaves this PCN outside the band"
    )
    return _valued(part, result, got, reason)


def _valued(part: Part, result: PartResult, got: dict, reason: str) -> PartResult:
    """``result`` with the answer ``got`` (:func:`_score`'s) of the last resort; each PCN
    it leaves outside the band (that was not) said with ``reason``."""
    from geo_pcn.proposal._objective import _gap

    out = got["outside_band"]
    newly = sorted(c for c in out if c not in result.outside_band)
    status, bound, gap = result.status, result.bound, result.gap
    if out and status in _BAND_MET:
        status, bound, gap = "band not met", None, None
    elif bound is not None:
        gap = _gap(got["value"], bound)
        status = "optimal" if gap == 0 else "within gap" if gap <= part.gap else "time limit"
    return replace(
        result,
        status=status,
        assignment=got["assignment"],
        value=got["value"],
        bound=bound,
        gap=gap,
        patients_moved=got["patients_moved"],
        practices_moved=got["practices_moved"],
        outside_band=out,
        crossings=got["crossings"],
        put_back={**result.put_back, **dict.fromkeys(newly, reason)},
    )


def _back_note(f: Finding, chosen, before, now, whole: bool, part: str) -> dict:
    """What the last resort put back for ``f``'s PCN, in words."""
    which = (
        f"every practice of part {part} that changed was"
        if whole
        else "the practices that took areas out of its footprint, or moved into its detached "
        "group or out of it, were"
    )
    moves = ", ".join(f"{p} ({now[p] or 'no PCN'} back to {before[p]})" for p in chosen)
    return {
        "pcn_code": f.pcn_code,
        "part": part,
        "round": ROUNDS + 2,
        "practices": list(chosen),
        "areas_lost": [],
        "message": (
            f"{f.pcn_code}: {', '.join(f.practice_codes)} left detached from the rest of "
            f"{f.pcn_code}, so {which} put back in their given PCNs without a solver (the "
            f"last resort): {moves}. Any PCN this leaves outside the band is said under PCNs "
            "left outside the band."
        ),
    }
