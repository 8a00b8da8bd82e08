"""``geo-pcn propose``: the least disruptive repair of a configuration, proven optimal."""

from __future__ import annotations

from pathlib import Path

import click

from geo_pcn.cli.options import (
    own_out_dir,
    progress,
    quiet_option,
    study_argument,
    tiles_option,
)
from geo_pcn.compare import compare, count
from geo_pcn.pipeline import revalidate, validate
from geo_pcn.proposal import OBJECTIVES, propose, settings_for
from geo_pcn.study import Study

__all__ = ["propose_command"]


@click.command("propose")
@study_argument
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for proposal.toml, proposal.md, proposal.json, changes.csv, the report of "
    "the proposed configuration, compare.md/json and compare_map.html.",
)
@click.option(
    "--objective",
    type=click.Choice(list(OBJECTIVES)),
    default="patients",
    show_default=True,
    help="What to minimise: registered patients moved, practices moved or PCNs changed.",
)
@click.option(
    "--within",
    metavar="LAYER",
    default=None,
    help="A boundary layer of the study (sub_icb, icb, place): no PCN may cross its lines, "
    "and each of its areas is solved on its own.",
)
@click.option(
    "--exempt", multiple=True, metavar="PCN", help="A PCN the band does not apply to (repeat)."
)
@click.option(
    "--reach",
    type=click.IntRange(1, 5),
    default=1,
    show_default=True,
    help="Practices move only into PCNs this many steps away in the adjacency graph.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(1, 3600),
    default=60,
    show_default=True,
    help="Seconds per part (ICB); the best found by then is kept, with its gap. Parts start "
    "smallest first, and the seconds a part leaves unused go to the parts after it (the "
    "larger, the more; 1.5 x this a part at most). A part solved again (an answer undid a "
    "footprint join) begins from its answer before and gets 3/4 of its seconds in all: a run "
    "takes at most 1.75 x this x parts of solver time.",
)
@click.option(
    "--gap",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Relative gap at which a part counts as solved (0: proven optimal).",
)
@click.option(
    "--workers", type=click.IntRange(1, 256), default=None, help="Local processes (one per core)."
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Solve the parts on this Dask scheduler (tcp://host:8786) instead of locally.",
)
@tiles_option
@quiet_option
def propose_command(
    study_file: Path,
    out_dir: Path,
    objective: str,
    within: str | None,
    exempt: tuple[str, ...],
    reach: int,
    time_limit: float,
    gap: float,
    workers: int | None,
    scheduler: str | None,
    tiles: str | None,
    quiet: bool,
) -> None:
    """Propose the least disruptive repair of the configuration of STUDY.toml.

    Finds the configuration with every practice in a PCN, every PCN inside the band (but
    those exempt) and contiguous, moving the fewest registered patients (or practices, or
    PCNs), solved exactly per ICB. Writes proposal.toml (a scenario `geo-pcn scenario`
    reproduces exactly), the changes, and the report and change map of the result. Exit
    code 0 when the proposed configuration passes, 1 when it still has ERROR findings.
    """
    from geo_pcn.render import write_change_map
    from geo_pcn.render.outputs import (
        write_comparison_files,
        write_outputs,
        write_report_files,
    )
    from geo_pcn.render.proposal import write_proposal_files

    own_out_dir(out_dir, study_file)
    progress(f"Loading {study_file}...", quiet)
    study = Study.from_toml(study_file)
    options = dict(
        objective=objective, within=within, exempt=exempt, reach=reach,
        time_limit=time_limit, gap=gap, workers=workers, scheduler=scheduler,
    )  # fmt: skip
    settings_for(study, **options)  # a wrong option fails here, before the slow part
    progress("Checking the current configuration...", quiet)
    before = validate(study)
    progress("Solving...", quiet)
    proposal = propose(study, report=before, **options)
    after = revalidate(before, proposal.configuration)
    comparison = compare(before, after)

    def write_all(folder: Path) -> None:
        write_proposal_files(proposal, folder)
        write_report_files(after, folder, tiles=tiles)
        write_comparison_files(comparison, folder)
        write_change_map(comparison, folder / "compare_map.html", tiles=tiles)

    progress(f"Writing outputs to {out_dir}...", quiet)
    written = write_outputs(out_dir, write_all)
    s = proposal.summary
    fb, fa = comparison.summary["findings"]["before"], comparison.summary["findings"]["after"]
    bound = "" if s["bound"] is None else f", bound {s['bound']:,}, gap {s['gap']:.2%}"
    click.echo(
        f"{study.name}: {s['status']} ({s['objective']} {s['value']:,}{bound}; "
        f"{s['seconds']:.1f} s over {count(s['n_parts'], 'part')}): "
        f"{count(s['practices_moved'], 'practice')} ({count(s['patients_moved'], 'patient')}) "
        f"moved, {count(s['practices_placed'], 'practice')} placed, "
        f"{count(s['new_pcns'], 'new PCN')}; errors {fb['error']} -> {fa['error']}. "
        f"{'PASS' if after.ok else 'FAIL'} after the proposal. Wrote "
        f"{len(written)} files to {out_dir}"
    )
    for o in proposal.outside_band:
        click.echo(f"  {o['message']}", err=True)
    if not after.ok:
        click.get_current_context().exit(1)
