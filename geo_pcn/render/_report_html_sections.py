"""The per-PCN, findings and community alignment sections of ``report.html`` (the page
itself: :mod:`geo_pcn.render.report_html`)."""

from __future__ import annotations

import math

import pandas as pd

from geo_pcn._escape import html_text as esc
from geo_pcn._words import finding_units
from geo_pcn.alignment import AreaAlignment, SiteAlignment
from geo_pcn.checks.boundaries import layer_label
from geo_pcn.findings import Finding, Severity
from geo_pcn.render._report_html_parts import (
    _BAR,
    _facts,
    _fmt,
    _is_number,
    _plural,
    _table,
)
from geo_pcn.report import Report

_CHECK_ORDER = ("size", "contiguity", "coverage", "boundaries", "alignment")


def _pcn_section(report: Report) -> str:
    layers = list(report.partition.geography.site_areas)
    columns = [
        ("pcn_code", "PCN"),
        ("pcn_name", "name"),
        ("list_size", "patients"),
        ("n_practices", "practices"),
        ("band_status", "band"),
        ("n_components", "parts"),
        ("area_km2", "area (km²)"),
        ("n_errors", "errors"),
        ("n_warnings", "warnings"),
        *((f"n_{layer}", f"{layer_label(layer)} areas") for layer in layers),
    ]
    table = _table(report.pcns, columns, cell_class={"band_status": "band-"}, table_id="pcn-table")
    return (
        '<section id="pcns"><h2>PCNs</h2>'
        f"<figure>{size_chart(report)}<figcaption class=muted>PCN list sizes (patients) "
        "against the band; bars coloured by band status.</figcaption></figure>"
        '<p class="hint">Click a column header to sort.</p>'
        f"{table}</section>"
    )


def size_chart(report: Report, *, width: int = 900) -> str:
    """An inline SVG bar chart: one horizontal bar per PCN (largest first) against the band
    (two dashed lines), bars coloured by band status."""
    pcns = report.pcns.sort_values(["list_size", "pcn_code"], ascending=[False, True])
    low, high = report.summary["band"]
    bar_h, gap, left, right, top = 16, 4, 300, 70, 28
    n = len(pcns)
    height = top + n * (bar_h + gap) + 28
    largest = max([high * 1.1, *(float(v) for v in pcns["list_size"])]) or 1.0
    plot_w = width - left - right

    def x(value: float) -> float:
        return round(left + plot_w * value / largest, 1)

    out = [
        f'<svg class="chart" id="size-chart" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="PCN list sizes against the size band" font-family="Arial, sans-serif" '
        'font-size="11">',
        f'<rect x="{x(low)}" y="{top - 6}" width="{round(x(high) - x(low), 1)}" '
        f'height="{n * (bar_h + gap) + 6}" fill="#eaf6ee"/>',
    ]
    for i, row in enumerate(pcns.itertuples(index=False)):
        y = top + i * (bar_h + gap)
        colour = _BAR.get(row.band_status, "#888888")
        label = f"{row.pcn_code} {row.pcn_name}"
        if len(label) > 46:
            label = label[:45] + "…"
        out.append(
            f'<text x="{left - 6}" y="{y + bar_h - 4}" text-anchor="end">{esc(label)}</text>'
            f'<rect class="bar" data-pcn="{esc(row.pcn_code)}" x="{left}" y="{y}" '
            f'width="{round(x(row.list_size) - left, 1)}" height="{bar_h}" fill="{colour}">'
            f"<title>{esc(row.pcn_code)}: {int(row.list_size):,} patients ({esc(row.band_status)})"
            f"</title></rect>"
            f'<text x="{x(row.list_size) + 4}" y="{y + bar_h - 4}">{int(row.list_size):,}</text>'
        )
    bottom = top + n * (bar_h + gap)
    for value, name in ((low, "low"), (high, "high")):
        out.append(
            f'<line class="band-line" data-band="{name}" x1="{x(value)}" y1="{top - 10}" '
            f'x2="{x(value)}" y2="{bottom}" stroke="#1b1f24" stroke-dasharray="4 3"/>'
            f'<text x="{x(value)}" y="{top - 14}" text-anchor="middle">{value:,}</text>'
        )
    out.append(
        f'<text x="{left}" y="{bottom + 20}" fill="#5b6472">patients registered; shaded: the '
        f"band {low:,}–{high:,}</text></svg>"
    )
    return "".join(out)


def _check_rank(check: str) -> tuple[int, str]:
    order = _CHECK_ORDER.index(check) if check in _CHECK_ORDER else len(_CHECK_ORDER)
    return (order, check)


def _people(f: Finding) -> tuple[int | None, int | None]:
    """(registered patients, residents) a finding concerns, from its details: a finding
    whose value counts residents (the population of areas) has them as residents, never
    as patients."""
    residents_kind = finding_units(f.check, f.kind)[0] == "residents"
    patients = _detail(f, "patients", "n_patients")
    residents = _detail(f, "population")
    if residents_kind:
        return None, residents if residents is not None else patients
    return patients, residents


def _detail(f: Finding, *keys: str) -> int | None:
    """The first of ``keys`` the finding's details hold as a number (whole), else ``None``."""
    details = f.details if isinstance(f.details, dict) else {}
    for key in keys:
        value = details.get(key)
        if _is_number(value) and not (isinstance(value, float) and math.isnan(value)):
            return int(round(float(value)))
    return None


def _findings_section(report: Report) -> str:
    parts = ['<section id="findings"><h2>Findings</h2>']
    if not report.findings:
        parts.append("<p>No findings.</p>")
    groups: dict[str, list[Finding]] = {}
    for f in sorted(report.findings, key=lambda f: (_check_rank(f.check), f.severity.rank)):
        groups.setdefault(f.check, []).append(f)
    for check, items in groups.items():
        counts = {sev: sum(f.severity is sev for f in items) for sev in Severity}
        said = ", ".join(
            _plural(n, {"error": "error", "warning": "warning", "info": "note"}[sev.value])
            for sev, n in counts.items()
            if n
        )
        parts.append(f'<h3 id="check-{esc(check)}">{esc(check)} ({said})</h3>')
        kinds = [finding_units(f.check, f.kind) for f in items]
        frame = pd.DataFrame(
            {
                "severity": [f.severity.value for f in items],
                "kind": [f.kind for f in items],
                "pcn_code": [f.pcn_code for f in items],
                "practice_codes": [", ".join(f.practice_codes) for f in items],
                "message": [f.message for f in items],
                "value": pd.Series([f.value for f in items], dtype=object),
                "threshold": pd.Series([f.threshold for f in items], dtype=object),
                # registered patients the finding concerns, and residents (population) of
                # the areas it names: two columns, each holding what it says
                "patients": pd.array([_people(f)[0] for f in items], dtype="Int64"),
                "residents": pd.array([_people(f)[1] for f in items], dtype="Int64"),
            }
        )
        columns = [
            ("severity", "severity"),
            ("kind", "kind"),
            ("pcn_code", "PCN"),
            ("practice_codes", "practices"),
            ("message", "finding"),
            ("value", "value"),
            ("threshold", "threshold"),
            ("patients", "registered patients"),
            ("residents", "residents"),
        ]
        columns = [
            (c, h)
            for c, h in columns
            if c not in ("patients", "residents") or frame[c].notna().any()
        ]
        parts.append(
            _table(
                frame,
                columns,
                cell_class={"severity": "sev-"},
                units={"value": [u[0] for u in kinds], "threshold": [u[1] for u in kinds]},
            )
        )
    parts.append("</section>")
    return "\n".join(parts)


def _alignment_section(report: Report) -> str:
    alignment = report.alignment
    if not alignment.layers:
        return ""
    parts = ['<section id="alignment"><h2>Community alignment</h2>']
    for name, result in alignment.layers.items():
        if isinstance(result, AreaAlignment):
            parts += _area_alignment(name, result)
        else:
            parts += _site_alignment(name, result)
    parts.append("</section>")
    return "\n".join(parts)


def _area_alignment(name: str, result: AreaAlignment) -> list[str]:
    """A service-areas layer: its scores, its PCN and area tables, the docking actions."""
    s = result.summary
    parts: list[str] = []
    unit = "patients" if result.weight == "patients" else "km² of footprint"
    parts.append(f"<h3>{esc(name)} (service areas, weighted by {unit})</h3>")
    parts.append(
        _facts(
            [
                (
                    "Coterminosity",
                    f"{s['coterminosity']:.3f} (share of {unit} in their PCN's "
                    f"dominant area); {s['pct_pcns_in_one_area']:.1f}% of PCNs have "
                    "&ge; 95% in one area",
                ),
                (
                    "Agreement",
                    f"NMI {s['nmi']:.3f}, ARI {s['ari']:.3f}, VI {s['vi']:.3f} nats",
                ),
                (
                    "Cut",
                    f"{_plural(int(s['n_pcns_split']), 'PCN')} cut by the area lines; "
                    f"{_plural(int(s['n_areas_cutting_pcns']), 'area')} cutting PCNs; "
                    f"outside every area: {_fmt(s['n_outside_layer'])} {unit}",
                ),
            ]
        )
    )
    parts.append(
        _table(
            result.pcns,
            [
                ("pcn_code", "PCN"),
                ("pcn_name", "name"),
                ("n", unit),
                ("dominant_area_code", "dominant area"),
                ("pct_dominant", "% in it"),
                ("second_area_code", "second area"),
                ("pct_second", "% in second"),
                ("n_areas_5pct", "areas ≥ 5%"),
                ("split", "cut"),
            ],
        )
    )
    parts.append(
        _table(
            result.areas,
            [
                ("area_code", "area"),
                ("area_name", "name"),
                ("n", unit),
                ("n_pcns_5pct", "PCNs ≥ 5%"),
                ("dominant_pcn_code", "dominant PCN"),
                ("pct_dominant_pcn", "% of area"),
                ("docked_pcn_codes", "docked PCNs"),
                ("cut_pcn_codes", "PCNs it cuts"),
                ("why_no_pcn", "why it hosts no PCN"),
            ],
        )
    )
    if len(result.actions):
        parts.append("<p>Suggested docking: pairs that do not fit it</p>")
        parts.append(
            "<ul>" + "".join(f"<li>{esc(a)}</li>" for a in result.actions["action"]) + "</ul>"
        )
    return parts


def _site_alignment(name: str, result: SiteAlignment) -> list[str]:
    """A sites layer: its facts and its PCN table."""
    s = result.summary
    parts: list[str] = []
    parts.append(f"<h3>{esc(name)} (sites)</h3>")
    rows = [
        (
            "Sites",
            f"{_plural(int(s['n_sites']), 'site')}, {int(s['n_located']):,} located, "
            f"{int(s['n_in_footprints']):,} inside a PCN footprint; "
            f"{esc(s['sites_per_10k'])} per 10,000 patients",
        ),
        ("PCNs with no site", esc(", ".join(s["pcns_without_sites"])) or "none"),
        (
            "Practice to nearest site",
            f"median {_fmt(s['median_practice_to_site_m'])} m, "
            f"max {_fmt(s['max_practice_to_site_m'])} m"
            + (
                " (from a guessed site, their residents' centre: "
                f"{esc(', '.join(s['practices_site_guessed']))})"
                if s.get("practices_site_guessed")
                else ""
            ),
        ),
    ]
    if s.get("has_declared_pcn"):
        rows.append(("Outside their declared PCN", _plural(int(s["n_outside_declared"]), "site")))
    parts.append(_facts(rows))
    parts.append(
        _table(
            result.pcns,
            [
                ("pcn_code", "PCN"),
                ("pcn_name", "name"),
                ("list_size", "patients"),
                ("n_sites", "sites"),
                ("sites_per_10k", "per 10,000 patients"),
                ("n_declared_sites", "declared sites"),
                ("n_declared_outside", "declared, outside"),
                ("median_practice_to_site_m", "median practice to site (m)"),
                ("max_practice_to_site_m", "max practice to site (m)"),
            ],
        )
    )
    return parts
