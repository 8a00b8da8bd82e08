"""What a proposal says about itself: the rules it is optimal under, why a PCN is left
outside the band (with the PCNs around it), and every crossing it adds with why."""

from __future__ import annotations

from typing import Any

import pandas as pd

from geo_pcn.checks.boundaries import layer_label
from geo_pcn.configuration import Configuration
from geo_pcn.geography import geography_of
from geo_pcn.proposal.model import Part, PartResult

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
    "above the band on its own stays in its PCN; a PCN the contiguity check accepts only "
    "through its own footprint is kept as it is when inside the band (a change could "
    "undo the join) unless its part then cannot meet the band, when it may change and "
    "the answer is kept only if the contiguity check finds no new error; it is held to "
    "the adjacency "
    "graph when it must change; every answer is judged by the contiguity check, and "
    "practices whose change undoes a PCN's join through its footprint are held in their "
    "PCNs (see Footprint joins kept)"
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
            why = _why_crossing(None if i is None or i >= len(results) else results[i], objective)
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
    part: Part,
    code: str,
    size: int,
    limit: int,
    settings: dict,
    status: str = "infeasible",
    slot: str | None = None,
    around: str = "",
    fewest: str | None = None,
) -> dict[str, Any]:
    """Why PCN ``code`` (slot ``slot`` of ``part``) is left outside the band, and what
    would change it: proven (its practices and all within reach are too few), proven for
    the part only (no configuration meets the band everywhere: this is the PCN the least
    patients outside the band leaves out), or not proven (``band not met``: the
    heuristic's answer). ``around`` names the PCNs around it (:func:`_around`);
    ``fewest`` (:attr:`PartResult.fewest`) whether the patients outside the band were
    proven the fewest (``found``: the fewest found in the time given, not proven)."""
    low, high = part.band
    side = "below the lower" if size < limit else "above the upper"
    out = {"pcn_code": code, "part": part.name, "size": int(size), "limit": int(limit)}
    head = (
        f"{code} is left outside the band {low:,}-{high:,}: {size:,} patients, "
        f"{abs(size - limit):,} {side} limit"
    )
    if status == "band not met":  # the heuristic's answer: nothing proven
        out["message"] = (
            f"{head}, in the best configuration found for part {part.name} (the "
            "heuristic's; the search found none inside the band in the time given, nor "
            f"proved that none exists).{around} To do better: give more --time-limit, or "
            "agree an exception to the band for it (exempt)."
        )
        return out
    from geo_pcn.proposal.model import free_unreachable

    # the candidates of its slot once the part's groups too light for the band are alone
    freed, _ = free_unreachable(part)
    slot = code if slot is None else slot
    total = sum(part.weights[p] for s in freed.slots if s.code == slot for p in s.candidates)
    relax = "; or ".join(_relaxations(settings))
    if total and total < low:
        out["message"] = (
            f"{code} cannot be brought inside the band {low:,}-{high:,}: {size:,} "
            f"patients, {abs(size - limit):,} {side} limit, and its practices and every "
            f"practice within reach hold {total:,} patients in all (it touches no other "
            f"PCN's practices enough to grow; proven).{around} To make it feasible: {relax}."
        )
        return out
    where = f"{settings['within']} area" if settings["within"] else "part"
    nearest = (
        "of those with the fewest patients outside the band found in the time given (not "
        "proven the fewest), the proposal is one"
        if fewest == "found"
        else "of those that come nearest, with fewest patients outside the band, the "
        "proposal is one"
    )
    out["message"] = (
        f"{head}. No configuration of {where} {part.name} puts every PCN in the band "
        "(proven under the model's choices: the practices there and those within reach "
        f"cannot make contiguous PCNs in it); {nearest}, and it leaves {code} out."
        f"{around} To make it feasible: {relax}."
    )
    return out


def _put_back_why(part: Part, code: str, size: int, limit: int, around: str, reason: str) -> str:
    """Why PCN ``code`` is left outside the band by the last resort of the judging (its
    practices put back without a solver to keep another PCN's footprint join)."""
    low, high = part.band
    side = "below the lower" if size < limit else "above the upper"
    return (
        f"{code} is left outside the band {low:,}-{high:,}: {size:,} patients, "
        f"{abs(size - limit):,} {side} limit, in part {part.name}: {reason} (see Footprint "
        f"joins kept).{around} To do better: give more --time-limit, or agree an exception "
        "to the band for it (exempt)."
    )


#: most PCNs named around a PCN left outside the band
AROUND = 5


def _around(part: Part, answer: tuple[str, ...], slot: str, final) -> str:
    """The PCNs around slot ``slot`` in ``answer`` (a slot code per practice), with their
    size in it: those its practices may join, and those it may take practices from (the
    model's candidates); ``final`` gives a slot's PCN code. "" without an answer."""
    if not answer:
        return ""
    sizes: dict[str, int] = {}
    for p, k in enumerate(answer):
        sizes[k] = sizes.get(k, 0) + part.weights[p]
    mine = {p for p, k in enumerate(answer) if k == slot}
    [me] = [s for s in part.slots if s.code == slot] or [None]
    joins = sorted(
        {s.code for s in part.slots if s.code != slot and mine & set(s.candidates)} & set(sizes)
    )
    takes = sorted(
        {answer[p] for p in (me.candidates if me else ()) if answer[p] != slot} & set(sizes)
    )

    def named(codes: list[str]) -> str:
        shown = [f"{final(c)} ({sizes[c]:,})" for c in sorted(codes, key=final)[:AROUND]]
        more = len(codes) - len(shown)
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")

    said = []
    said.append(
        f"its practices may join {named(joins)}" if joins else "its practices may join no other PCN"
    )
    said.append(
        f"it may take practices from {named(takes)}" if takes else "it may take no practice"
    )
    return " Around it (patients in the proposal): " + "; ".join(said) + "."
