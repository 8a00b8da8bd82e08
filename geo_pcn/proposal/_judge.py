"""Every answer judged by the contiguity check itself, before it is returned.

The model holds PCNs to the practice adjacency graph, but the check also accepts a PCN
whose practice groups lie in one piece of its own *footprint* (the small areas where its
practices have more registered residents than any other PCN's). A neighbour's change can
take areas out of that footprint and undo the join, although none of the PCN's practices
moved. So the answered configuration is checked as ``geo-pcn validate`` checks it (the
given configuration's partition flipped to it: only the PCNs that changed are measured
again); for each PCN with a contiguity error the given configuration did not have, the
practices that changed and have residents in the areas it lost are the cause: they are
held in their PCNs and their parts solved again. After :data:`ROUNDS` such rounds, every
practice with residents in the PCN's given footprint is held, in its part or where it
changed (its footprint can then not lose an area to a change). A part solved again
begins from its answer before with the practices held put back (``Part.start``), and all
its solves again share :data:`~geo_pcn.proposal._budget.AGAIN` of its time
(:class:`~geo_pcn.proposal._budget.Again`). When a part finds no configuration with
practices held, or has no time left, the last resort (:func:`_put_back`) puts the
practices back in their given PCNs without a solver, chasing any PCN that leaves
detached, so that no new contiguity error is left; a PCN it leaves outside the band is
said with why. What was held or put back, and why, is said in ``proposal.md``.

The softer freeze (:func:`softer`): a PCN joined by its footprint is kept as it is inside
the band, and held to the graph outside it; where that leaves its part outside the band,
the part is solved again with it free (not held to the graph), and that answer is taken
when it meets the band and the check passes after the rounds above.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from geo_pcn.checks.contiguity import check_contiguity
from geo_pcn.configuration import Configuration
from geo_pcn.findings import Finding, Severity
from geo_pcn.proposal._budget import Again
from geo_pcn.proposal._explain import MINIMISED
from geo_pcn.proposal._part import Part, PartResult

__all__ = ["ROUNDS", "judged", "hold", "bar", "softer"]

#: rounds holding the practices found to undo a join, before the last, which holds every
#: practice with residents in the PCN's given footprint
ROUNDS = 2


def hold(part: Part, practices) -> Part:
    """``part`` with ``practices`` kept in the PCN they are in: no other slot may take
    them (a practice in no PCN, or whose PCN lives in another part, must move: it cannot be
    held and is left as it was)."""
    index = {p: i for i, p in enumerate(part.practices)}
    fixed = {index[p] for p in practices if p in index and part.current[index[p]] >= 0}
    if not fixed:
        return part
    slots = tuple(
        replace(
            s, candidates=tuple(c for c in s.candidates if c not in fixed or part.current[c] == k)
        )
        for k, s in enumerate(part.slots)
    )
    return replace(part, slots=slots)


def bar(part: Part, pairs) -> Part:
    """``part`` with each ``(practice, slot code)`` of ``pairs`` kept out of that slot."""
    index = {p: i for i, p in enumerate(part.practices)}
    out = {(index[p], code) for p, code in pairs if p in index}
    if not out:
        return part
    slots = tuple(
        replace(s, candidates=tuple(c for c in s.candidates if (c, s.code) not in out))
        for s in part.slots
    )
    return replace(part, slots=slots)


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


def judged(
    report,
    parts: list[Part],
    results: list[PartResult],
    *,
    configure: Callable[[list[Part], list[PartResult]], Configuration],
    solve_all: Callable[[list[Part]], list[PartResult]],
    free: set[str] = frozenset(),
    again: Again | None = None,
) -> tuple[list[Part], list[PartResult], list[dict]]:
    """The parts (with the practices held), their results and what was held and why,
    once no PCN of the answer has a contiguity error the given configuration (``report``'s)
    did not have, or after the last round.

    ``configure`` makes the proposed configuration of the parts and their results;
    ``solve_all`` solves a list of parts; ``again`` gives the seconds each part may still
    be solved again for (:class:`~geo_pcn.proposal._budget.Again`; None: its
    ``time_limit`` each time). Each part solved again begins from its answer before with
    the practices held put back. A new contiguity error left after the last round is
    mended without a solver (:func:`_put_back`). Deterministic: the causes are found in
    code order from the answers."""
    base = report.partition
    config = base.configuration
    given = {
        (f.pcn_code, f.practice_codes)
        for f in report.findings
        if f.check == "contiguity" and f.kind == "detached_group"
    }
    part_of = {p: i for i, part in enumerate(parts) for p in part.practices}
    held: dict[int, set[str]] = {}
    barred: dict[int, set[tuple[str, str]]] = {}  # (practice, slot it may not join)
    detached = {p for _, group in given for p in group}  # detached in their given PCN
    stuck: set[int] = set()  # parts that found nothing with practices held
    said: list[dict] = []
    parts, results = list(parts), list(results)
    for round_ in range(1, ROUNDS + 2):
        proposed = configure(parts, results)
        after = base.with_configuration(proposed)
        errors = _new_errors(after, given, free)
        if not errors:
            break
        before, now = config.assignments, proposed.assignments.reindex(config.assignments.index)
        changed = set(before.index[(before != now).to_numpy()])
        again_: set[int] = set()
        for f in sorted(errors, key=lambda f: (f.pcn_code, f.practice_codes)):
            causes, lost = _causes(base, after, f, changed)
            last = round_ > ROUNDS or not causes
            chosen = causes
            if last:  # in its own part, or changed: holding others changes nothing
                own = part_of.get(f.practice_codes[0])
                around = _around(base, f.pcn_code)
                chosen = [p for p in around if part_of.get(p) == own or p in changed]
            # held where its part can be solved again (not one that found nothing so)
            chosen = [p for p in chosen if p in part_of and part_of[p] not in stuck]
            # one detached in its given PCN cannot be held there (its PCN could not be
            # contiguous), nor one in no PCN: it is kept out of the PCN it joined instead
            loose = detached | {p for p in chosen if not before[p]}
            out = [p for p in chosen if p in loose and p in changed]
            chosen = [p for p in chosen if p not in loose]
            again_ |= _mark(chosen, out, held, barred, parts, results, part_of)
            if chosen or out or not any(n["pcn_code"] == f.pcn_code for n in said):
                note = _note(f, round_, causes, lost, chosen, last, before, now, parts, part_of)
                said.append(_kept_out(note, out, now, chosen))
        if not again_:  # nothing more to hold: the errors stay, and are said
            break
        parts, results, failed = _resolve(parts, results, held, again_, solve_all, again, barred)
        for i, why in failed:  # no configuration with them held: the answer before is kept
            stuck.add(i)
            for note in said:
                if note["part"] == parts[i].name and note["round"] == round_:
                    note["message"] += f" {why}"
    else:  # the last round solved again: judged once more
        errors = _new_errors(base.with_configuration(configure(parts, results)), given, free)
    if errors:  # the last resort: the practices put back, without a solver
        results, errors, back = _put_back(base, parts, results, errors, configure, given, free)
        said += back
    left = {f.pcn_code for f in errors}
    for note in said:
        note["resolved"] = note["pcn_code"] not in left
    return parts, results, said


def _mark(chosen, out, held, barred, parts, results, part_of) -> set[int]:
    """The parts to solve again once ``chosen`` are held in their PCNs and each of ``out``
    kept out of the PCN it joined (added to ``held`` and ``barred``, by part)."""
    again: set[int] = set()
    for p in chosen:
        if p not in held.setdefault(part_of[p], set()):
            held[part_of[p]].add(p)
            again.add(part_of[p])
    for p in out:
        i = part_of[p]
        slot = results[i].assignment[parts[i].practices.index(p)]
        if (p, slot) not in barred.setdefault(i, set()):
            barred[i].add((p, slot))
            again.add(i)
    return again


def _kept_out(note: dict, out, now, chosen) -> dict:
    """``note`` (:func:`_note`'s) saying which practices ``out`` were kept out of the PCN
    they joined (detached in their given PCN, or in none)."""
    if out:
        note["practices"] += out
        note["message"] += (
            " Detached in its given PCN or in none, "
            + ", ".join(f"{p} was kept out of {now[p]}" for p in out)
            + (f", and part {note['part']} solved again." if not chosen else ".")
        )
    return note


def _resolve(parts, results, held, which, solve_all, again=None, barred=None):
    """The parts ``which`` solved with their practices ``held``, each beginning from its
    answer before with them put back (:func:`started`) and given what ``again`` has left
    of its time; a part that finds no configuration so, or has no time left, keeps its
    part and answer from before (returned in ``failed``)."""
    order, fresh, failed = [], [], []
    for i in sorted(which):
        seconds = parts[i].time_limit if again is None else again.left(parts[i].name)
        if seconds <= 0:
            failed.append((i, f"Part {parts[i].name} had no time left to be solved again."))
            continue
        part = bar(hold(parts[i], sorted(held.get(i, ()))), (barred or {}).get(i, ()))
        start = started(part, results[i], held.get(i, ()))
        part = replace(part, time_limit=seconds, start=start)
        order.append(i)
        fresh.append(part)
    answers = solve_all(fresh) if fresh else []
    parts, results = list(parts), list(results)
    for i, part, answer in zip(order, fresh, answers, strict=True):
        if again is not None:
            again.took(part.name, answer.seconds)
        results[i] = _timed(results[i], answer.seconds)
        if not answer.assignment:
            why = f"Solved again, part {part.name} found no configuration in the time given."
            failed.append((i, why))
            continue
        parts[i], results[i] = part, _after(results[i], answer)
    return parts, results, sorted(failed)


#: how far the last resort puts practices back, in turn, until no new contiguity error is
#: left: for each error, its causes (:func:`_causes`) and the practices that changed into
#: its detached group or out of its PCN, :data:`CHASE` times (putting one back can leave
#: another PCN detached: that one is chased next); then every changed practice of the part
CHASE = 6


def _put_back(base, parts, results, errors, configure, given, free):
    """The last resort, when solving again left new contiguity errors: the practices that
    cause each put back in their given PCNs in their part's answer, without a solver, and
    the configuration judged again, up to :data:`CHASE` times; then, while an error is
    left, every changed practice of its part. A PCN the answer had inside the band and
    is now outside it is said in :attr:`PartResult.put_back`; the notes say what was put
    back. A practice detached in its given PCN is not put back there; a part whose error
    cannot be mended so keeps its answer before, and that is said. Returns the results,
    the errors left and the notes."""
    config = base.configuration
    part_of = {p: i for i, part in enumerate(parts) for p in part.practices}
    results, notes = list(results), []
    first = list(results)
    # a practice detached in its given PCN is not put back there (that would bring back
    # an error the answer mended): the errors judged are those the answer had not, given
    # ones it mended included
    after = base.with_configuration(configure(parts, results))
    had = {(f.pcn_code, f.practice_codes) for f in _new_errors(after, set(), free)}
    detached = {p for _, group in given for p in group}
    given = given & had
    for step in range(CHASE + 1):
        if not errors:
            break
        proposed = configure(parts, results)
        after = base.with_configuration(proposed)
        before, now = config.assignments, proposed.assignments.reindex(config.assignments.index)
        changed = set(before.index[(before != now).to_numpy()])
        back: dict[int, set[str]] = {}
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
                notes.append(_back_note(f, fresh, before, now, whole, name))
        if not back:
            break
        for i, practices in sorted(back.items()):
            results[i] = _back(parts[i], results[i], practices, sorted(set(why[i])))
        errors = _new_errors(base.with_configuration(configure(parts, results)), given, free)
    # a part still left with an error keeps its answer before: nothing put back there
    # (it would cost moves and mend nothing), and what stood in the way is said
    failed = {part_of.get(f.practice_codes[0]) for f in errors}
    if failed:
        for i in failed - {None}:
            results[i] = first[i]
        notes = [n for n in notes if n["part"] not in {parts[i].name for i in failed - {None}}]
        errors = _new_errors(base.with_configuration(configure(parts, results)), given, free)
        results, errors, joined = _regroup(base, parts, results, errors, configure, given, free)
        notes += joined + [_stuck_note(f, detached, parts, part_of) for f in errors]
    return results, errors, notes


def _regroup(base, parts, results, errors, configure, given, free):
    """The end of the last resort, for an error no put-back mends: the detached group
    joins the PCN of a practice beside it in the graph, without a solver, when that leaves
    its part no new contiguity error (of those that do, the one leaving fewest PCNs
    outside the band, then fewest patients moved, then the first code). A PCN this
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
            got = _score(part, tuple(moved))
            reason = (
                f"{', '.join(f.practice_codes)} joined {code}, the PCN beside them, without a "
                f"solver, so that {f.pcn_code} is not left detached (no practice could be put "
                "back to join them to it without bringing back a contiguity error the given "
                "configuration had); this leaves this PCN outside the band"
            )
            trial = list(results)
            trial[i] = _valued(part, result, got, reason)
            after = base.with_configuration(configure(parts, trial))
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
        errors = _new_errors(base.with_configuration(configure(parts, results)), given, free)
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
    if not answer:
        return result
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


def _timed(result: PartResult, seconds: float) -> PartResult:
    """``result`` with ``seconds`` more spent solving its part again."""
    return replace(
        result,
        seconds=round(result.seconds + seconds, 3),
        seconds_again=round(result.seconds_again + seconds, 3),
    )


def _after(before: PartResult, answer: PartResult) -> PartResult:
    """``answer`` (of a part solved again) with the seconds of every solve of it so far,
    and the heuristic's value of the first (this one began from its answer before)."""
    return replace(
        answer,
        heuristic=before.heuristic,
        seconds=before.seconds,
        seconds_again=before.seconds_again,
    )


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


def _note(f, round_, causes, lost, chosen, last, before, now, parts, part_of) -> dict:
    """What was held for ``f``'s PCN, and why, in words."""
    pcn = f.pcn_code
    moves = ", ".join(f"{p} ({before[p] or 'no PCN'} to {now[p] or 'no PCN'})" for p in causes)
    part = parts[part_of[f.practice_codes[0]]].name if f.practice_codes[0] in part_of else ""
    group = ", ".join(f.practice_codes)
    why = f"an answer left {group} detached from the rest of {pcn}"
    if causes and lost:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        area = "small area" if len(lost) == 1 else "small areas"
        why += f": {moves} took the {area} {shown} out of the footprint that joined them"
    elif causes:
        why += f": {moves} moved"
    if last:
        what = (
            f"every practice with residents in {pcn}'s footprint ({len(chosen)} not held "
            "before) was held in its PCN, so that the footprint keeps every area"
        )
    else:
        what = "held " + ", ".join(f"{p} in {before[p]}" for p in chosen)
    if not chosen:
        what = "no practice was left to hold"
    return {
        "pcn_code": pcn,
        "part": part,
        "round": round_,
        "practices": list(chosen),
        "areas_lost": list(lost),
        "message": f"{pcn}: {why}; {what}"
        + ("." if not chosen else f", and part {part} solved again (round {round_})."),
    }


#: the statuses of a part whose answer has every PCN inside the band (but those left out
#: proven unable to reach it)
_BAND_MET = ("optimal", "within gap", "time limit")


def softer(report, parts, results, joins, joined, soft_parts, judge):
    """The softer freeze: a part left outside the band while it has PCNs joined by their
    footprint (kept as they are inside the band, held to the graph outside it) is solved
    again with them free to change and not held to the graph (their footprint joins
    them); its answer is taken when it meets the band and every join an answer undoes is
    mended (:func:`judged`), and said. ``soft_parts`` makes the parts with the joined PCNs
    free; ``judge`` holds :func:`judged`'s options."""
    stuck = [
        i
        for i, (part, result) in enumerate(zip(parts, results, strict=True))
        if result.status not in _BAND_MET and _joined_in_the_way(part, result, joined)
    ]
    if not stuck:
        return parts, results, joins
    soft = {p.name: p for p in soft_parts()[0]}
    again = judge.get("again")
    if again is not None:  # what each part has left of its time to be solved again
        stuck = [i for i in stuck if again.left(parts[i].name) > 0]
        if not stuck:
            return parts, results, joins
    tried = [
        replace(
            soft[parts[i].name],
            time_limit=parts[i].time_limit if again is None else again.left(parts[i].name),
            start=started(soft[parts[i].name], results[i]),
            need_band=True,  # its answer is taken only inside the band
        )
        for i in stuck
    ]
    answers = judge["solve_all"](tried)
    results = list(results)
    for i, part, answer in zip(stuck, tried, answers, strict=True):
        if again is not None:
            again.took(part.name, answer.seconds)
        results[i] = _timed(results[i], answer.seconds)
    better = [(i, a) for i, a in zip(stuck, answers, strict=True) if a.status in _BAND_MET]
    if not better:
        return parts, results, joins
    trial_parts, trial_results = list(parts), list(results)
    for i, answer in better:
        trial_parts[i] = tried[stuck.index(i)]
        trial_results[i] = _after(results[i], answer)
    new_parts, new_results, held = judged(report, trial_parts, trial_results, **judge)
    kept = [i for i, _ in better if _still_met(new_parts[i], new_results[i], held)]
    if len(kept) < len(better):  # the others as they were, and judged again
        if not kept:
            return parts, results, joins
        trial_parts, trial_results = list(parts), list(results)
        for i in kept:
            trial_parts[i], trial_results[i] = new_parts[i], new_results[i]
        new_parts, new_results, held = judged(report, trial_parts, trial_results, **judge)
        if not all(_still_met(new_parts[i], new_results[i], held) for i in kept):
            return parts, results, joins
    # a join left undone elsewhere (said before) is no reason to refuse these answers
    said = {n["pcn_code"]: n for n in held}
    before = [{**n, "resolved": said.get(n["pcn_code"], n)["resolved"]} for n in joins]
    seen = {n["pcn_code"] for n in joins}
    notes = [_soft_note(parts[i], results[i], new_parts[i], new_results[i], joined) for i in kept]
    return (
        new_parts,
        new_results,
        [*before, *(n for n in held if n["pcn_code"] not in seen), *notes],
    )


def _still_met(part, result, held) -> bool:
    """Whether a part's answer meets the band with every join it undid mended."""
    mended = all(n["resolved"] for n in held if n["part"] == part.name)
    return result.status in _BAND_MET and mended


def _joined_in_the_way(part, result, joined) -> bool:
    """Whether a PCN joined by its footprint (or a new PCN made of its practices) is left
    outside the band in ``result``, or touches (in the graph) a PCN left outside it: only
    then can freeing it help."""
    answer = result.assignment
    out = set(result.outside_band)
    if not answer or not out:
        return False
    mine = {s.code for s in part.slots if s.code in joined or s.parent in joined}
    if mine & out:
        return True
    return any(
        (answer[a] in mine and answer[b] in out) or (answer[b] in mine and answer[a] in out)
        for a, b in part.edges
    )


def _soft_note(frozen, before, part, after, joined) -> dict[str, Any]:
    """What the softer freeze did in one part, in words."""
    codes = sorted({s.code for s in part.slots if not s.contiguous and s.code in joined})
    cur = {k: s.code for k, s in enumerate(part.slots)}
    changed = sorted(
        c
        for c in codes
        if any(
            (cur.get(k) == c) != (a == c)
            for k, a in zip(part.current, after.assignment, strict=False)
        )
    )
    return {
        "pcn_code": ", ".join(changed),
        "part": part.name,
        "round": 0,
        "practices": [],
        "areas_lost": [],
        "resolved": True,
        "message": (
            f"Part {part.name}: with {', '.join(codes)} (contiguous only through "
            f"{'its' if len(codes) == 1 else 'their'} own footprint) kept as "
            f"{'it is' if len(codes) == 1 else 'they are'} inside the band and held to the "
            f"adjacency graph outside it, the search ended '{before.status}'; free to change "
            f"and judged by the contiguity check instead, it is '{after.status}' "
            f"({after.value:,} {MINIMISED[part.objective]})"
            + (f", {', '.join(changed)} changed." if changed else ", none of them changed.")
        ),
    }
