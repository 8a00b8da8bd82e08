"""``proposal.md``, ``proposal.json``, ``changes.csv`` and ``proposal.toml``: what
:func:`geo_pcn.proposal.propose` proposes, and how sure the solver is."""

from __future__ import annotations

from pathlib import Path

from geo_pcn._escape import markdown
from geo_pcn._json import dump_json
from geo_pcn.compare import count
from geo_pcn.proposal import EXEMPT_RULE, LINES_RULE, MINIMISED, RESTRICTIONS
from geo_pcn.render.tables import write_csv

__all__ = ["proposal_markdown", "write_proposal_files"]

_STATUS = {
    "optimal": "proven optimal",
    "within gap": "within the gap asked for",
    "time limit": "best found by the time limit",
    "infeasible": "the band cannot be met everywhere (proven; see below)",
    "band not met": "the band is not met everywhere: the best found leaves PCNs outside it",
    "no solution": "no configuration found in time",
}


def proposal_markdown(proposal) -> str:
    """The proposal as Markdown: the headline, the changes with the patients each moves,
    PCNs left outside the band (each saying whether that is proven), and the solver's
    figures per part (every input string escaped)."""
    s, settings = proposal.summary, proposal.settings
    lines = [
        "# Proposed repair (geo-pcn propose)",
        "",
        f"**{_STATUS.get(s['status'], s['status'])}**: "
        f"{count(s['practices_moved'], 'practice')} moved between PCNs "
        f"({count(s['patients_moved'], 'registered patient')}); "
        f"{count(s['practices_placed'], 'practice')} in no PCN placed "
        f"({count(s['patients_placed'], 'patient')}); {count(s['new_pcns'], 'new PCN')}, "
        f"{count(s['closed_pcns'], 'PCN')} closed.",
        "",
        f"- Minimised: {MINIMISED[settings['objective']]}; ties: {settings['tie_breaks']}.",
        f"- Optimal under these choices: {RESTRICTIONS}.",
        f"- Exempt PCNs: {EXEMPT_RULE}.",
        f"- Lines: {LINES_RULE}.",
        f"- Objective {s['value']:,}; proven lower bound "
        + ("none" if s["bound"] is None else f"{s['bound']:,}")
        + ("" if s["gap"] is None else f"; gap {s['gap']:.2%}")
        + ".",
        f"- Band {settings['band'][0]:,}-{settings['band'][1]:,}; exempt: "
        + (", ".join(markdown(c) for c in settings["exempt"]) or "none")
        + f"; practices move only to PCNs within {settings['reach']} step(s) in the "
        "adjacency graph"
        + (f"; no PCN across {markdown(settings['within'])} lines" if settings["within"] else "")
        + ".",
        *(
            [
                f"- {s['parts_without_solution']:,} part(s) found no configuration in the time "
                "given: their practices are left as they are (give more --time-limit).",
            ]
            if s.get("parts_without_solution")
            else []
        ),
        "- New PCNs have provisional codes (NEW-...): give them real ones before use.",
        "- Apply it: `geo-pcn scenario STUDY.toml proposal.toml --out DIR`.",
        "",
    ]
    if proposal.outside_band:
        lines += ["## PCNs left outside the band", ""]
        lines += [f"- {markdown(o['message'])}" for o in proposal.outside_band]
        lines.append("")
    added = getattr(proposal, "crossings_added", [])
    lines += ["## Crossings added", ""]
    if added:
        lines += [f"- {markdown(c['message'])}" for c in added]
    else:
        lines.append(
            "None: no PCN of the proposal crosses a sub-ICB, ICB or place line it did not "
            "cross before."
        )
    lines.append("")
    lines += _joins_held(getattr(proposal, "joins_held", []))
    nothing = getattr(proposal, "nothing_to_place", [])
    if nothing:
        lines += ["## Nothing to place", ""]
        lines += [f"- {markdown(n['message'])}" for n in nothing]
        lines.append("")
    lines += ["## Changes", ""]
    if proposal.changes.empty:
        lines += [_no_changes(proposal), ""]
    else:
        lines += [
            "| practice | name | from PCN | to PCN | patients |",
            "|---|---|---|---|---:|",
        ]
        for r in proposal.changes.itertuples():
            frm = f"{markdown(r.from_pcn)} {markdown(r.from_name)}" if r.from_pcn else "no PCN"
            lines.append(
                f"| {markdown(r.practice_code)} | {markdown(r.practice_name)} | {frm} "
                f"| {markdown(r.to_pcn)} {markdown(r.to_name)} | {r.patients:,} |"
            )
        lines.append("")
    return "\n".join(lines + _solver_table(proposal)) + "\n"


def _joins_held(joins: list[dict]) -> list[str]:
    """What was held because an answer undid a PCN's join through its own footprint (the
    contiguity check judged every answer), and whether the join was kept."""
    if not joins:
        return []
    lines = [
        "## Footprint joins kept",
        "",
        "Every answer was checked as `geo-pcn validate` checks it. These PCNs are contiguous "
        "only through their own footprint, and an answer took areas out of it; the practices "
        "named were held in their PCNs and the part solved again (from its answer before, "
        "for part of its time); when that found nothing, they were put back in their PCNs "
        "without a solver, the last resort, which leaves no new contiguity error:",
        "",
    ]
    for j in joins:
        kept = "" if j.get("resolved", True) else " **Still detached after the last round.**"
        lines.append(f"- {markdown(j['message'])}{kept}")
    return [*lines, ""]


#: what each status of a part means, under the table of parts
_PART_STATUS = (
    ("optimal", "proven the least under the model's choices"),
    ("within gap", "within the gap asked for of the proven bound"),
    ("time limit", "the best found by the time limit; the gap to the proven bound is shown"),
    (
        "infeasible",
        "proven: no configuration the model allows puts every PCN of the part in the "
        "band. The best is then what the configuration with fewest patients outside the "
        "band (proven, or the fewest found in the time given, as each PCN left out says) "
        "moves (no bound: it is not the least for a band that cannot be met), or, "
        "when only PCNs that can never reach the band are left out, the rest solved with "
        "its bound",
    ),
    (
        "band not met",
        "not proven either way: the search found no configuration in the band in the time "
        "given, nor proved that none exists; the best is the heuristic's answer, or the "
        "answer with practices put back in their PCNs to keep a footprint join (see "
        "Footprint joins kept), with the PCNs it leaves outside the band named above (no "
        "bound)",
    ),
    ("no solution", "nothing found in the time given: the part is left as it is"),
)


def _solver_table(proposal) -> list[str]:
    """The solver's figures per part, and what the statuses met there mean."""
    lines = [
        "## Solver, per part",
        "",
        "The heuristic's answer comes first (a valid configuration found without the "
        "solver, when it finds one); the best is the proposal; the bound is proven: no "
        "configuration the model allows does better.",
        "",
        "| part | practices | PCNs | status | heuristic | best | bound | gap |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in proposal.parts.itertuples():
        num = lambda v: "-" if v is None or v != v else f"{int(v):,}"  # noqa: E731
        gap = "-" if r.gap is None or r.gap != r.gap else f"{r.gap:.2%}"
        lines.append(
            f"| {markdown(r.part)} | {r.practices:,} | {r.pcns:,} | {r.status} "
            f"| {num(r.heuristic)} | {num(r.objective)} | {num(r.bound)} | {gap} |"
        )
    seen = set(proposal.parts["status"]) if len(proposal.parts) else set()
    said = [f"- **{s}**: {what}." for s, what in _PART_STATUS if s in seen]
    return lines + ([""] + said if said else [])


def _no_changes(proposal) -> str:
    """Why nothing changes: only a finished search may say the configuration passes."""
    s = proposal.summary
    if s.get("parts_without_solution"):
        return (
            "None: no configuration was found in the time given, so nothing is proposed and "
            "the configuration's errors remain (see report.md; give more --time-limit)."
        )
    if s["status"] == "band not met":
        return (
            "None: the best found in the time given leaves the configuration as it is, and "
            "PCNs outside the band (see above: a change undone to keep a footprint join is "
            "said under Footprint joins kept)."
        )
    if proposal.outside_band or s["status"] == "infeasible":
        return (
            "None: no change brings the PCNs above closer to the band under the model's "
            "choices, and nothing else needs to change."
        )
    if s["status"] != "optimal":
        return "None found that is better than the configuration as it is."
    return "None: the configuration already meets the size, contiguity and coverage rules."


def write_proposal_files(proposal, folder: str | Path) -> list[Path]:
    """Write ``proposal.toml``, ``proposal.md``, ``proposal.json`` and ``changes.csv``
    into ``folder``. The solver's seconds are left out so that re-runs give the same bytes
    (``geo-pcn propose`` prints them)."""
    folder = Path(folder)
    toml, md = folder / "proposal.toml", folder / "proposal.md"
    js, csv = folder / "proposal.json", folder / "changes.csv"
    toml.write_text(proposal.toml, encoding="utf-8")
    md.write_text(proposal_markdown(proposal), encoding="utf-8")
    data = proposal.to_json()
    data["summary"].pop("seconds", None)
    for row in data["parts"]:
        row.pop("seconds", None)
        row.pop("seconds_again", None)
    dump_json(data, js)
    write_csv(proposal.changes, csv)
    return [toml, md, js, csv]
