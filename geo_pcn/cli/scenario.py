"""``geo-pcn scenario`` and ``geo-pcn rank``: try changes to a configuration, rank proposals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd

from geo_pcn._escape import markdown
from geo_pcn._words import move_kind
from geo_pcn.cli.options import (
    json_option,
    own_out_dir,
    quiet_option,
    study_argument,
    tiles_option,
)
from geo_pcn.compare import compare, count, moved_words
from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError, list_some
from geo_pcn.io import read_configuration
from geo_pcn.pipeline import revalidate, validate
from geo_pcn.progress import note, reporting, stage
from geo_pcn.scenario import Scenario
from geo_pcn.settings import PCN_CODE, PCN_NAME, PRACTICE_CODE
from geo_pcn.study import Study

__all__ = ["scenario", "rank", "rank_row", "rank_rows", "format_ranking", "RANK_ORDER"]


@click.command()
@study_argument
@click.argument(
    "scenario_file", metavar="SCENARIO", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the new report (report.md, report.json, CSVs, map.html), compare.md, "
    "compare.json and compare_map.html: new, empty, or written by an earlier run.",
)
@tiles_option
@quiet_option
def scenario(
    study_file: Path, scenario_file: Path, out_dir: Path, tiles: str | None, quiet: bool
) -> None:
    """Apply SCENARIO to the configuration of STUDY.toml and report what it fixes and breaks.

    SCENARIO is a TOML list of operations ([[move]], [[merge]], [[split]], [[add_pcn]],
    [[unassign]], [[rename]]) or a CSV of practice_code,to_pcn_code[,to_pcn_name].
    Exit code 0 when the new configuration passes, 1 when it has ERROR findings.
    """
    from geo_pcn.render import write_comparison
    own_out_dir(out_dir, study_file, scenario_file)  # fails before the slow part
    plan = Scenario.from_file(scenario_file)
    with reporting(not quiet):
        with stage(f"read {study_file.name}"):
            study = Study.from_toml(study_file)
        configuration = plan.apply(study.configuration)
        note("checking the configuration before the scenario")
        before = validate(study)
        with stage(f"after {count(len(plan), 'operation')} (re-checked)"):
            after = revalidate(before, configuration)
        with stage("comparison"):
            comparison = compare(before, after)
        note(f"writing to {out_dir}")
        written = write_comparison(comparison, out_dir, tiles=tiles)
    s = comparison.summary
    fb, fa = s["findings"]["before"], s["findings"]["after"]
    click.echo(
        f"{study.name}: {'PASS' if after.ok else 'FAIL'} after the scenario - errors "
        f"{fb['error']} -> {fa['error']}, warnings {fb['warning']} -> {fa['warning']}; "
        f"findings {s['n_resolved']} resolved, {s['n_introduced']} introduced, "
        f"{s['n_changed']} changed; {moved_words(s)}. Wrote "
        f"{', '.join(sorted(p.name for p in written))} to {out_dir}"
    )
    if not after.ok:
        click.get_current_context().exit(1)


@click.command()
@study_argument
@click.argument(
    "proposals",
    metavar="PROPOSAL...",
    nargs=-1,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@json_option
@quiet_option
def rank(study_file: Path, proposals: tuple[Path, ...], as_json: bool, quiet: bool) -> None:
    """Validate several proposed configurations against STUDY.toml and rank them.

    Each PROPOSAL is a CSV of practice_code,pcn_code[,pcn_name] (or an NHS practice map);
    practices it leaves out are in no PCN. The study's current configuration is always
    the baseline row. Ranked by errors, then warnings, then patients moved (registered
    at practices whose PCN changes); ties by PCNs outside the band, split PCNs, boundary
    crossings, community alignment (higher is better), the baseline first. Exit code 0
    once the table is printed.
    """
    with reporting(not quiet):
        with stage(f"read {study_file.name}"):
            study = Study.from_toml(study_file)
        with stage("the current configuration (the baseline)"):
            rows = [rank_row(study, None)]
        for path in proposals:
            with stage(f"{path}"), reporting(False):
                rows.append(rank_row(study, path))
    rows = rank_rows(rows)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(format_ranking(rows))


#: The order of the ranking, as the output explains it.
RANK_ORDER = (
    "Ranked by errors, then warnings, then patients moved (registered at practices moved "
    "from one PCN to another; a practice in no PCN given one is placed, not moved); "
    "ties by PCNs outside the band, split PCNs, boundary crossings, then community "
    "alignment (higher is better). The baseline "
    "is the current configuration, unchanged."
)
BASELINE = "(current configuration)"


def rank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` sorted in ranking order (:data:`RANK_ORDER`), each given its ``rank``."""
    rows = sorted(
        rows,
        key=lambda r: (
            r["errors"],
            r["warnings"],
            r["patients_moved"],
            r["pcns_outside_band"],
            r["split_pcns"],
            r["crossings"],
            -(r["alignment"] if r["alignment"] is not None else -1.0),
            not r["baseline"],
            r["proposal"],
        ),
    )
    for i, row in enumerate(rows, 1):
        row["rank"] = i
    return rows


def rank_row(study: Study, path: Path | None) -> dict[str, Any]:
    """Validate one proposal file against ``study`` (``None``: the study's own
    configuration, the baseline); its figures for the ranking."""
    if path is None:
        configuration = study.configuration
    else:
        proposed = read_configuration(path)
        unknown = sorted(set(proposed[PRACTICE_CODE]) - set(study.practices.index))
        if unknown:
            raise InputError(
                f"{path}: {len(unknown)} practice(s) not in the study: {list_some(unknown)}; "
                "remove them or add them to the study's practices file"
            )
        merged = study.practices[[]].reset_index().merge(proposed, on=PRACTICE_CODE, how="left")
        merged[[PCN_CODE, PCN_NAME]] = merged[[PCN_CODE, PCN_NAME]].fillna("")
        configuration = Configuration.from_frame(merged)
    report = validate(study, configuration)
    diff = study.configuration.diff(report.configuration)
    kinds_of_move = pd.Series(
        [move_kind(f, t) for f, t in zip(diff["from_pcn_code"], diff["to_pcn_code"], strict=True)],
        index=diff[PRACTICE_CODE].to_numpy(),
        dtype=object,
    )
    moved = kinds_of_move.index[kinds_of_move == "moved"]  # one definition: geo_pcn._words
    placed = kinds_of_move.index[kinds_of_move == "placed"]
    sizes = report.partition.list_sizes
    kinds = [(f.check, f.kind) for f in report.findings]
    scores = [
        result.summary.get("coterminosity")
        for result in getattr(getattr(report, "alignment", None), "layers", {}).values()
        if isinstance(getattr(result, "summary", None), dict)
        and result.summary.get("coterminosity") is not None
    ]
    sev = report.by_severity()
    return {
        "proposal": BASELINE if path is None else str(path),
        "baseline": path is None,
        "ok": report.ok,
        "errors": sev["error"],
        "warnings": sev["warning"],
        "practices_moved": len(moved),
        "patients_moved": int(sizes.reindex(moved).fillna(0).sum()),
        "practices_placed": len(placed),
        "patients_placed": int(sizes.reindex(placed).fillna(0).sum()),
        "n_pcns": report.configuration.n_pcns,
        "pcns_outside_band": sum(
            k in (("size", "above_band"), ("size", "below_band")) for k in kinds
        ),
        "split_pcns": len(
            {
                f.pcn_code
                for f in report.findings
                if (f.check, f.kind) == ("contiguity", "detached_group")
            }
        ),
        "crossings": kinds.count(("boundaries", "crosses_boundary")),
        "practices_in_no_pcn": len(report.configuration.unassigned),
        "alignment": round(sum(scores) / len(scores), 3) if scores else None,
    }


#: The figures of a ranking row that describe the configuration (not its name or rank).
RANK_FIGURES = (
    "ok",
    "errors",
    "warnings",
    "practices_moved",
    "patients_moved",
    "practices_placed",
    "patients_placed",
    "n_pcns",
    "pcns_outside_band",
    "split_pcns",
    "crossings",
    "practices_in_no_pcn",
    "alignment",
)


def format_ranking(rows: list[dict[str, Any]]) -> str:
    """The ranking as a Markdown table (file names escaped), then how it is ordered."""
    head = (
        "| rank | proposal | verdict | errors | warnings | practices moved | patients moved "
        "| practices placed | PCNs outside band | split PCNs | PCNs across boundaries "
        "| practices in no PCN "
        "| alignment |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        align = "n/a" if r["alignment"] is None else f"{r['alignment']:.3f}"
        name = f"**{BASELINE}** (baseline)" if r["baseline"] else markdown(r["proposal"])
        lines.append(
            f"| {r['rank']} | {name} | {'PASS' if r['ok'] else 'FAIL'} "
            f"| {r['errors']:,} | {r['warnings']:,} | {r['practices_moved']:,} "
            f"| {r['patients_moved']:,} | {r['practices_placed']:,} "
            f"| {r['pcns_outside_band']:,} | {r['split_pcns']:,} "
            f"| {r['crossings']:,} | {r['practices_in_no_pcn']:,} | {align} |"
        )
    return "\n".join([*lines, "", RANK_ORDER])
