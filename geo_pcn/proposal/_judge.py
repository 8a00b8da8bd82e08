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
practices held, or has no time left, the last resort
(:mod:`~geo_pcn.proposal._last_resort`) puts the practices back in their given PCNs
without a solver, chasing any PCN that leaves detached, so that no new contiguity error
is left; a PCN it leaves outside the band is said with why. What was held or put back,
and why, is said in ``proposal.md``.

The softer freeze (:func:`softer`): a PCN joined by its footprint is kept as it is inside
the band, and held to the graph outside it; where that leaves its part outside the band,
the part is solved again with it free (not held to the graph), and that answer is taken
when it meets the band and the check passes after the rounds above.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from geo_pcn.configuration import Configuration
from geo_pcn.proposal._budget import Again
from geo_pcn.proposal._explain import MINIMISED
from geo_pcn.proposal._last_resort import _put_back
from geo_pcn.proposal._part import Part, PartResult
from geo_pcn.proposal._undone import (
    _BAND_MET,
    ROUNDS,
    Latest,
    _around,
    _causes,
    _new_errors,
    started,
)

__all__ = ["ROUNDS", "judged", "hold", "bar", "softer"]


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
    mended without a solver (:mod:`._last_resort`). Deterministic: code order."""
    latest = Latest(report.partition)  # each judged from the last one: the same answers
    base = latest.base
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
        after = latest(proposed)
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
        errors = _new_errors(latest(configure(parts, results)), given, free)
    if errors:  # the last resort: the practices put back, without a solver
        results, errors, back = _put_back(latest, parts, results, errors, configure, given, free)
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
            why = (
                f"Solved again, part {part.name} was proven to have no configuration inside "
                "the band with them held."
                if answer.status == "infeasible"
                else f"Solved again, part {part.name} found no configuration in the time given."
            )
            failed.append((i, why))
            continue
        parts[i], results[i] = part, _after(results[i], answer)
    return parts, results, sorted(failed)


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
