"""``geo-pcn info``: what a study file loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from geo_pcn._residents import TITLE, residents_grid, residents_header, residents_notes
from geo_pcn.cli.options import json_option, study_argument
from geo_pcn.partition import Partition
from geo_pcn.study import Study

__all__ = ["info", "format_summary"]


@click.command()
@study_argument
@json_option
def info(study_file: Path, as_json: bool) -> None:
    """Print what a study file loads: practices, PCNs, patients, areas, layers."""
    study = Study.from_toml(study_file)
    summary = study.summary()
    residents = _residents(study)
    if residents is not None:
        summary["residents"] = residents
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(format_summary(summary))


def _residents(study: Study) -> dict[str, Any] | None:
    """The residents table of the study's own configuration (registrations method only):
    the same as report.md's."""
    if study.footprint_method != "registrations":
        return None
    return Partition(study).residents


def _residents_text(table: dict[str, Any]) -> list[str]:
    """The residents table as aligned plain text, with its notes."""
    header = residents_header(table)
    grid = [
        [row[0], *("" if v is None else f"{v:,}" for v in row[1:])]
        for row in residents_grid(table)
    ]
    lines = [f"{TITLE} (residents of the areas given, registered anywhere):"]
    width = max(len(r[0]) for r in grid)
    numbers = [max(len(r[j]) for r in grid) for j in range(1, len(header))]
    lines.append("  columns: " + " | ".join(header[1:]))
    for row in grid:
        cells = "  ".join(v.rjust(w) for v, w in zip(row[1:], numbers, strict=True))
        lines.append(f"  {row[0].ljust(width)}  {cells}")
    lines += [f"  {n}" for n in residents_notes(table)]
    return lines


def format_summary(s: dict[str, Any]) -> str:
    """Render :meth:`Study.summary` as the text ``geo-pcn info`` prints."""
    lines = [f"Study: {s['name']}"]
    if s.get("source"):
        lines.append(f"  file: {s['source']}")
    located_by = ", ".join(f"{n:,} by {how}" for how, n in s["located_by"].items())
    lines.append(f"Practices: {s['n_practices']:,} ({s['n_located']:,} located; {located_by})")
    if s["not_located"]:
        lines.append(f"  not located: {', '.join(s['not_located'])}")
    lines.append(
        f"  sharing a site with another practice: {s['n_sharing_site']:,} "
        f"(at {s['n_shared_sites']:,} sites)"
    )
    if s["no_list_size"]:
        lines.append(f"  no list size: {', '.join(s['no_list_size'])}")
    lines.append(f"PCNs: {s['n_pcns']:,}")
    if s["unassigned"]:
        lines.append(f"  practices in no PCN: {', '.join(s['unassigned'])}")
    lines.append(f"Registered patients: {s['n_patients']:,}")
    reg = s.get("registrations")
    if reg:
        kinds = reg["by_area_kind"]
        pseudo = {k: v for k, v in kinds.items() if k != "small_area"}
        detail = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in pseudo.items())
        lines.append(
            f"  by small area: {kinds.get('small_area', 0):,}; not in a small area: "
            f"{sum(pseudo.values()):,} ({reg['pct_pseudo']:.2f}%: {detail or 'none'})"
        )
    if s["areas"] is None:
        lines.append("Small areas: none")
    else:
        lines.append(
            f"Small areas: {s['areas']:,} ({s.get('areas_with_population', 0):,} with population)"
        )
    layers = ", ".join(f"{k} ({v:,} areas)" for k, v in s["boundaries"].items())
    lines.append(f"Boundary layers: {layers or 'none'}")
    community = ", ".join(
        f"{k} ({v['kind']}: {v['n']:,}, {v['n_located']:,} located)"
        for k, v in s["community"].items()
    )
    lines.append(f"Community layers: {community or 'none'}")
    rules = s["rules"]
    lines.append(
        f"Rules: band {rules['band'][0]:,}-{rules['band'][1]:,}; exempt: "
        f"{', '.join(rules['exempt']) or 'none'}; footprints: {rules['footprints']}"
    )
    if s.get("residents"):
        lines += _residents_text(s["residents"])
    for note in s["notes"]:  # a note that is a warning already says so
        lines.append(note if note.startswith("Warning: ") else f"Note: {note}")
    return "\n".join(lines)
