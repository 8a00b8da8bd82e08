"""Markdown: ``report.md`` and ``compare.md``, the reports a planner reads.

report.md leads with the verdict and the errors; at most :data:`MAX_LISTED` findings of
each severity are listed (shared between the checks, the checks that matter most first,
most patients first within a check) and the rest are counted; every finding is in
``findings.csv`` and ``report.json``. Every string from the inputs goes through
:func:`geo_pcn._escape.markdown`.

Examples
--------
>>> import geo_pcn
>>> from geo_pcn.datasets import demo
>>> text = to_markdown(geo_pcn.validate(demo()))
>>> text.splitlines()[0]
'# PCN configuration check: Demo Vale ICB (synthetic demo region)'
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from geo_pcn._escape import markdown
from geo_pcn._residents import TITLE, residents_grid, residents_header, residents_notes
from geo_pcn._words import alignment_score, label
from geo_pcn.alignment import Alignment, AreaAlignment
from geo_pcn.checks.boundaries import layer_label
from geo_pcn.compare import Comparison, moved_words
from geo_pcn.findings import Finding, Severity
from geo_pcn.report import Report

__all__ = ["to_markdown", "report_markdown", "comparison_markdown", "MAX_LISTED"]

#: At most this many findings of each severity are listed in report.md (all of them are in
#: findings.csv and report.json).
MAX_LISTED = 50
#: Checks in the order their findings matter to a planner (others follow, by name).
_CHECK_ORDER = ("size", "contiguity", "coverage", "boundaries", "alignment")


def to_markdown(result: Report | Comparison, *, max_per_severity: int = MAX_LISTED) -> str:
    """The Markdown of a :class:`~geo_pcn.report.Report` (``report.md``) or of a
    :class:`~geo_pcn.compare.Comparison` (``compare.md``).

    Parameters
    ----------
    result
        A report or a comparison.
    max_per_severity
        For a report: at most this many findings of each severity are listed.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        ``result`` is neither.
    """
    if isinstance(result, Report):
        return report_markdown(result, max_per_severity=max_per_severity)
    if isinstance(result, Comparison):
        return comparison_markdown(result)
    raise TypeError(f"to_markdown takes a Report or a Comparison, not {type(result).__name__}")


def report_markdown(report: Report, *, max_per_severity: int = MAX_LISTED) -> str:
    """A report a planner reads: the verdict, the errors, the warnings that matter most
    and the notes (at most ``max_per_severity`` of each, grouped by check; the rest are
    counted and are all in ``findings.csv`` and ``report.json``), the PCN table and
    community alignment. Every string from the inputs is escaped
    (:func:`geo_pcn._escape.markdown`)."""
    md = markdown
    s = report.summary
    lines = _headline_markdown(report, s)
    if s["synthetic"]:
        lines += ["", "> This is the SYNTHETIC demo region: not real practices or patients."]
    for severity in Severity:
        items = [f for f in report.findings if f.severity is severity]
        if items:
            lines += _findings_markdown(severity, items, max_per_severity)
    if report.by_icb is not None:
        lines += _by_icb_markdown(report.by_icb)
    lines += _pcns_markdown(report)
    lines += _residents_markdown(s.get("residents"))
    lines += _alignment_markdown(report.alignment)
    if report.study.notes:
        lines += ["", "## Notes on the inputs", ""]
        lines += [f"- {md(n)}" for n in report.study.notes]
    return "\n".join(lines) + "\n"


def _headline_markdown(report: Report, s: dict) -> list[str]:
    """The title, the verdict and counts, and the study in a few bullets (where its
    patients live, residents registered outside)."""
    md = markdown
    sev = s["findings"]
    lines = [
        f"# PCN configuration check: {md(report.study.name)}",
        "",
        f"**{'PASS' if report.ok else 'FAIL'}**: {_count(sev['error'], 'error')}, "
        f"{_count(sev['warning'], 'warning')}, {_count(sev['info'], 'note')}.",
        "",
        f"- {_count(s['n_practices'], 'practice')} in {_count(s['n_pcns'], 'PCN')}; "
        f"{s['n_patients']:,} registered patients",
        f"- practices in no PCN: {_count(s['n_practices_in_no_pcn'], 'practice')} "
        f"({s['n_patients_in_no_pcn']:,} patients)",
        f"- size band {s['band'][0]:,}-{s['band'][1]:,} patients; exempt: "
        f"{md(', '.join(s['exempt'])) or 'none'}",
        f"- territories from {md(s['footprint_method'])}",
    ]
    if "study_area" in s:
        area, where = s["study_area"], s["patients_by_residence"]
        lines.append(
            f"- study area: {_count(area['n_small_areas'], 'small area')}, decided from "
            f"{md(area['decided_by'])}"
        )
        lines.append(
            "- where the patients live: "
            + "; ".join(f"{n:,} {md(label(k))}" for k, n in where.items() if n)
        )
        if area["n_residents_registered_outside"]:
            lines.append(
                f"- {area['n_residents_registered_outside']:,} residents of the study area "
                + (
                    "are registered at practices outside it"
                    if area["outside_competition_from"] == "registrations"
                    else "are not registered at its practices (population less its patients)"
                )
            )
    return lines


def _by_icb_markdown(by_icb: pd.DataFrame) -> list[str]:
    """The per-ICB table of a national study."""
    lines: list[str] = []
    lines += ["", f"## Per ICB ({len(by_icb)} ICBs)", ""]
    head = (
        "| ICB | PCNs | below band | within | above | across sub-ICB lines | across ICB "
        "lines | contiguity errors | practices in no PCN | patients in no PCN |"
    )
    lines += [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in by_icb.itertuples():
        lines.append(
            f"| {markdown(r.icb_code)} | {r.n_pcns:,} | {r.n_below_band:,} | "
            f"{r.n_within_band:,} | {r.n_above_band:,} | {r.n_across_sub_icb:,} | "
            f"{r.n_across_icb:,} | {r.n_contiguity_errors:,} | {r.n_practices_in_no_pcn:,} "
            f"| {r.n_patients_in_no_pcn:,} |"
        )
    return lines


def _pcns_markdown(report: Report) -> list[str]:
    """The PCN table (the columns the report has)."""
    md = markdown
    lines: list[str] = []
    lines += ["", "## PCNs", ""]
    layers = list(report.partition.geography.site_areas)
    columns = [
        ("pcn_code", "PCN"),
        ("pcn_name", "name"),
        ("list_size", "patients"),
        ("n_practices", "practices"),
        ("band_status", "band"),
        ("n_components", "parts"),
        *((f"n_{layer}", f"{layer_label(layer)} areas") for layer in layers),
    ]
    columns = [(c, label) for c, label in columns if c in report.pcns.columns]
    lines.append("| " + " | ".join(md(label) for _, label in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    for row in report.pcns[[c for c, _ in columns]].itertuples(index=False):
        cells = [f"{v:,}" if isinstance(v, int | np.integer) else md(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def comparison_markdown(comparison: Comparison) -> str:
    """What changed, for a planner: verdict before/after, moves, PCNs, findings (every string
    escaped). This is ``compare.md``."""
    s = comparison.summary
    fb, fa = s["findings"]["before"], s["findings"]["after"]

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    lines = [
        f"# Scenario comparison: {markdown(s['study'])}",
        "",
        f"**{verdict(s['ok']['before'])} -> {verdict(s['ok']['after'])}**: errors "
        f"{fb['error']} -> {fa['error']}, warnings {fb['warning']} -> {fa['warning']}, "
        f"notes {fb['info']} -> {fa['info']}.",
        "",
        f"- {moved_words(s)}",
        f"- PCNs: {s['n_pcns']['before']} -> {s['n_pcns']['after']}; outside the band: "
        f"{s['n_pcns_outside_band']['before']} -> {s['n_pcns_outside_band']['after']} PCNs",
        f"- findings resolved: {s['n_resolved']}; introduced: {s['n_introduced']}; "
        f"changed (still there, other figures): {s.get('n_changed', 0)}",
    ]
    for layer, v in s["crossings"].items():
        label = markdown(layer_label(layer))
        lines.append(f"- PCNs across {label} lines: {v['before']} -> {v['after']} PCNs")
    if comparison.changes:
        lines += ["", "## Changes", ""]
        lines += [f"{i}. {markdown(c)}" for i, c in enumerate(comparison.changes, 1)]
    lines += _moves_markdown(comparison)
    lines += _findings_changes_markdown(comparison)
    if comparison.alignment:
        lines += ["", "## Community alignment", ""]
        for layer, v in comparison.alignment.items():
            keys = [k for k in v["after"] if k in v["before"]]
            shown = []
            for k in keys:
                name, before = alignment_score(k, v["before"][k])
                after = alignment_score(k, v["after"][k])[1]
                if before != after:  # as written: no change that rounds away
                    shown.append(f"{name} {before} -> {after}")
            lines.append(f"- {markdown(layer)}: {markdown('; '.join(shown)) or 'unchanged'}")
    return "\n".join(lines) + "\n"


def _moves_markdown(comparison: Comparison) -> list[str]:
    """The practices moved and the PCNs changed, as tables (nothing when there are none)."""
    lines: list[str] = []
    if len(comparison.moves):
        lines += ["", "## Practices moved", ""]
        lines += [
            "| practice | name | patients registered | from | to | change |",
            "|---|---|---:|---|---|---|",
        ]
        for r in comparison.moves.itertuples(index=False):
            lines.append(
                f"| {markdown(r.practice_code)} | {markdown(str(r.practice_name))} | "
                f"{int(r.list_size):,} | {markdown(r.from_pcn_code) or '(none)'} | "
                f"{markdown(r.to_pcn_code) or '(none)'} | {r.change} |"
            )
    changed = comparison.changed_pcns
    if len(changed):
        lines += ["", "## PCNs changed", ""]
        lines += [
            "| PCN | name | patients before | patients after | band before | band after |",
            "|---|---|---|---|---|---|",
        ]
        for r in changed.itertuples(index=False):
            lines.append(
                f"| {markdown(r.pcn_code)} | "
                f"{markdown(r.pcn_name_after or r.pcn_name_before)} | "
                f"{int(r.list_size_before):,} | {int(r.list_size_after):,} | "
                f"{r.band_status_before or '(none)'} | {r.band_status_after or '(none)'} |"
            )
    return lines


def _findings_changes_markdown(comparison: Comparison) -> list[str]:
    """The findings resolved, introduced and changed ("none" under a heading with none)."""
    return findings_changes_markdown(comparison.resolved, comparison.introduced, comparison.changed)


def findings_changes_markdown(resolved: list, introduced: list, changed: list) -> list[str]:
    """The findings resolved, introduced and changed, one line each as
    ``- ERROR **check / kind** PCN: message`` ("- none" under a heading with none): the
    same lines in compare.md and diff.md."""

    def head(f) -> str:
        pcn = f" {markdown(f.pcn_code)}" if f.pcn_code else ""
        return f"- {f.severity.value.upper()} **{markdown(f.check)} / {markdown(f.kind)}**{pcn}"

    lines: list[str] = []
    for title, items in (("Findings resolved", resolved), ("Findings introduced", introduced)):
        lines += ["", f"## {title} ({len(items):,})", ""]
        lines += [f"{head(f)}: {markdown(f.message)}" for f in items] or ["- none"]
    lines += ["", f"## Findings changed ({len(changed):,})", ""]
    for c in changed:
        lines.append(f"{head(c)}: {markdown(c.describe())}")
        if c.before.message != c.after.message:
            lines += [
                f"  - before: {markdown(c.before.message)}",
                f"  - after: {markdown(c.after.message)}",
            ]
        else:
            lines.append(f"  - {markdown(c.after.message)}")
    if not changed:
        lines.append("- none")
    return lines


def _count(n: int, noun: str) -> str:
    """``3 errors``, ``1 error``: a count with its unit."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _guessed(summary: dict) -> str:
    """`` (from a guessed site: A81001)``: the practices whose distance to the nearest site
    is measured from their residents' centre, as their site is not known."""
    codes = summary.get("practices_site_guessed") or []
    if not codes:
        return ""
    shown = ", ".join(codes[:10]) + (f" and {len(codes) - 10:,} more" if len(codes) > 10 else "")
    return f" (from a guessed site, their residents' centre: {markdown(shown)})"


def _check_rank(check: str) -> tuple[int, str]:
    order = _CHECK_ORDER.index(check) if check in _CHECK_ORDER else len(_CHECK_ORDER)
    return (order, check)


def _patients(f: Finding) -> float:
    """Patients a finding concerns, when it says (for ordering: more first)."""
    for key in ("patients", "n_patients", "population"):
        value = f.details.get(key) if isinstance(f.details, dict) else None
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        ):
            return float(value)
    return -1.0


def _shares(sizes: list[int], budget: int) -> list[int]:
    """Share ``budget`` rows among groups of ``sizes``: every group gets as many as it
    can, small groups in full, the rest split evenly (water-filling)."""
    shares = [0] * len(sizes)
    left = budget
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    for k, i in enumerate(order):
        fair = left // (len(order) - k)
        shares[i] = min(sizes[i], fair)
        left -= shares[i]
    # hand out what rounding left over, in check order
    for i in range(len(sizes)):
        extra = min(left, sizes[i] - shares[i])
        shares[i] += extra
        left -= extra
    return shares


def _findings_markdown(severity: Severity, items: list[Finding], limit: int) -> list[str]:
    """One severity's section of report.md: grouped by check (the checks that matter most
    first), most patients first within a check, at most ``limit`` listed in all."""
    noun = {"error": "error", "warning": "warning", "info": "note"}[severity.value]
    heading = {"error": "Errors", "warning": "Warnings", "info": "Notes"}[severity.value]
    groups: dict[str, list[Finding]] = {}
    for f in sorted(items, key=lambda f: _check_rank(f.check)):
        groups.setdefault(f.check, []).append(f)
    for check, group in groups.items():
        groups[check] = sorted(group, key=lambda f: -_patients(f))  # stable: file order kept
    shares = _shares([len(g) for g in groups.values()], max(limit, 0))
    lines = ["", f"## {heading} ({len(items):,})", ""]
    if len(items) > limit:
        lines += [
            f"The {_count(limit, noun)} that matter most, by check; all {len(items):,} are in "
            "findings.csv and report.json.",
            "",
        ]
    for (check, group), shown in zip(groups.items(), shares, strict=True):
        lines += [f"### {markdown(check)} ({len(group):,})", ""]
        lines += [f"- **{markdown(f.kind)}**: {markdown(f.message)}" for f in group[:shown]]
        if len(group) > shown:
            more = Counter(f.kind for f in group[shown:])
            kinds = ", ".join(f"{markdown(k)} {n:,}" for k, n in more.most_common())
            rest = len(group) - shown
            plural = "" if rest == 1 else "s"
            lines.append(f"- ... and {rest:,} more {noun}{plural} ({kinds}) in findings.csv")
        lines.append("")
    return lines[:-1]


def _residents_markdown(table: dict | None) -> list[str]:
    """The residents table (every resident of the areas given accounted for)."""
    if not table:
        return []
    header = residents_header(table)
    lines = ["", f"## {TITLE}", ""]
    lines.append("| " + " | ".join(markdown(h) for h in header) + " |")
    lines.append("|---|" + "---:|" * (len(header) - 1))
    for row in residents_grid(table):
        cells = [markdown(row[0])] + ["" if v is None else f"{v:,}" for v in row[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    notes = residents_notes(table, markdown)
    if notes:
        lines.append("")
        lines += [f"- {n}" for n in notes]
    return lines


def _docking_markdown(result: AreaAlignment, max_rows: int) -> list[str]:
    """The docking by service area: the PCNs each hosts, or why it hosts none."""
    areas = result.areas
    if not len(areas):
        return []
    lines = ["", "Docking: the PCNs each service area hosts (a PCN docks to its dominant area)"]
    lines.append("")
    for r in areas.head(max_rows).itertuples():
        name = f" {markdown(r.area_name)}" if r.area_name else ""
        hosts = (
            f"hosts {markdown(r.docked_pcn_codes.replace(';', ', '))}"
            if r.docked_pcn_codes
            else f"hosts no PCN: {markdown(r.why_no_pcn)}"
        )
        lines.append(f"- {markdown(r.area_code)}{name}: {hosts}")
    if len(areas) > max_rows:
        lines.append(f"- ... {len(areas) - max_rows:,} more areas in report.json")
    return lines


def _alignment_markdown(alignment: Alignment, *, max_rows: int = 20) -> list[str]:
    """The ``Community alignment`` section of the Markdown report (empty without layers)."""
    if not alignment.layers:
        return []
    lines = ["", "## Community alignment", ""]
    for name, result in alignment.layers.items():
        s = result.summary
        if isinstance(result, AreaAlignment):
            unit = "patients" if result.weight == "patients" else "km² of footprint"
            lines += [
                f"### {markdown(name)} (service areas, weighted by {unit})",
                "",
                f"- coterminosity {s['coterminosity']:.3f} (share of {unit} in their PCN's "
                f"dominant area); {s['pct_pcns_in_one_area']:.1f}% of PCNs have >= 95% in one "
                "area",
                f"- NMI {s['nmi']:.3f} (arithmetic normalisation), ARI {s['ari']:.3f}, "
                f"VI {s['vi']:.3f} nats",
                f"- cut by the area lines: {_count(s['n_pcns_split'], 'PCN')}; cutting PCNs: "
                f"{_count(s['n_areas_cutting_pcns'], 'area')}; outside every area: "
                f"{s['n_outside_layer']:,} {unit}",
            ]
            lines += _docking_markdown(result, max_rows)
            if len(result.actions):
                lines += ["", "Suggested docking: pairs that do not fit it", ""]
                lines += [f"- {markdown(a)}" for a in result.actions["action"].head(max_rows)]
                if len(result.actions) > max_rows:
                    lines.append(
                        f"- ... {len(result.actions) - max_rows:,} more pairs in report.json"
                    )
        else:
            lines += [
                f"### {markdown(name)} (sites)",
                "",
                f"- {s['n_sites']:,} sites, {s['n_located']:,} located, "
                f"{s['n_in_footprints']:,} inside a PCN footprint; "
                f"{s['sites_per_10k']} per 10,000 patients",
                f"- PCNs with no site: {markdown(', '.join(s['pcns_without_sites'])) or 'none'}",
                f"- practice to nearest site: median {s['median_practice_to_site_m']:,.0f} m, "
                f"max {s['max_practice_to_site_m']:,.0f} m" + _guessed(s),
            ]
            if s["has_declared_pcn"]:
                lines.append(
                    "- sites outside the PCN they declare: "
                    f"{_count(s['n_outside_declared'], 'site')}"
                )
            if s["n_not_located"]:
                missing = result.not_located
                shown = [
                    f"{c} ({p})" if p else c
                    for c, p in zip(missing["code"], missing["postcode"], strict=True)
                ]
                lines.append(f"- not located (kept, listed): {markdown(', '.join(shown))}")
        lines.append("")
    return lines
