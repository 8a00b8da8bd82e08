"""``geo-pcn validate`` and ``geo-pcn demo``: check a configuration and write the report."""

from __future__ import annotations

from pathlib import Path

import click

from geo_pcn._words import count
from geo_pcn.cli.options import (
    dpi_option,
    out_dir_option,
    own_out_dir,
    png_option,
    quiet_option,
    study_argument,
    tiles_option,
)
from geo_pcn.datasets import demo as load_demo
from geo_pcn.pipeline import validate as run_checks
from geo_pcn.progress import note, reporting, stage
from geo_pcn.study import Study

__all__ = ["validate", "demo"]


@click.command()
@study_argument
@out_dir_option
@tiles_option
@png_option
@dpi_option
@click.option(
    "--by",
    "by",
    type=click.Choice(["icb"]),
    default=None,
    help="Also write one folder per ICB (its own report, map and workbook, every other "
    "practice still competing for its areas) and an index.html linking them.",
)
@quiet_option
def validate(
    study_file: Path,
    out_dir: Path,
    tiles: str | None,
    png: bool,
    dpi: int,
    by: str | None,
    quiet: bool,
) -> None:
    """Check the configuration of STUDY.toml and write the report to --out.

    Exit code 0 when the configuration passes, 1 when it has ERROR findings.
    """
    own_out_dir(out_dir, study_file)  # someone else's files or run fail before the slow part
    with reporting(not quiet):
        with stage(f"read {study_file.name}"):
            study = Study.from_toml(study_file)
        if by == "icb":
            _run_by_icb(study, out_dir, tiles=tiles, png=png, dpi=dpi)
            return
        _run_and_write(study, out_dir, tiles=tiles, png=png, dpi=dpi)


def _run_by_icb(study: Study, out_dir: Path, *, tiles, png, dpi) -> None:
    """The whole study, then each ICB as its own study (the other practices' registrations
    kept as outside competition), written together with an index."""
    from geo_pcn.render.outputs import write_split

    note(f"checking {len(study.practices):,} practices in {study.configuration.n_pcns:,} PCNs")
    report = run_checks(study)
    groups = report.icb_practices()
    if not groups:
        raise click.UsageError("--by icb: the study holds one ICB only (or no ICB layer/codes)")
    failing: list[str] = []

    def part(i: int, code: str, members: list[str]):
        def make():
            made = run_checks(study.subset(members, name=f"{study.name}: ICB {code}"))
            if not made.ok:
                failing.append(code)
            return made

        return make

    parts = {code: part(i, code, members) for i, (code, members) in enumerate(groups.items(), 1)}
    note(f"writing to {out_dir}: the whole study, then one ICB at a time")
    written = write_split(report, parts, out_dir, tiles=tiles, png=png, dpi=dpi)
    sev = report.summary["findings"]
    click.echo(
        f"{study.name}: {'PASS' if report.ok else 'FAIL'} - {count(sev['error'], 'error')}, "
        f"{count(sev['warning'], 'warning')}; {count(len(parts), 'ICB')} ({len(failing)} failing). "
        f"Wrote {len(written)} entries to {out_dir} (index.html)"
    )
    if not report.ok:
        click.get_current_context().exit(1)


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-results"),
    show_default=True,
    help="Folder to write the results into.",
)
@tiles_option
@png_option
@dpi_option
@quiet_option
def demo(out_dir: Path, tiles: str | None, png: bool, dpi: int, quiet: bool) -> None:
    """Validate the embedded SYNTHETIC demo region and write the results to --out.

    The demo has one of every problem planted, so the report fails on purpose; the command
    exits 0 when it ran.
    """
    own_out_dir(out_dir)
    with reporting(not quiet):
        with stage("read the synthetic demo region"):
            study = load_demo()
        _run_and_write(study, out_dir, tiles=tiles, png=png, dpi=dpi, exit_on_errors=False)


def _run_and_write(
    study: Study,
    out_dir: Path,
    *,
    tiles: str | None = None,
    png: bool = False,
    dpi: int = 200,
    exit_on_errors: bool = True,
) -> None:
    note(
        f"checking {len(study.practices):,} practices in {study.configuration.n_pcns:,} PCNs "
        f"(territories from {study.footprint_method})"
    )
    from geo_pcn.render import write_report

    report = run_checks(study)
    note(f"writing to {out_dir}")
    written = write_report(report, out_dir, tiles=tiles, png=png, dpi=dpi)
    sev = report.summary["findings"]
    click.echo(
        f"{study.name}: {'PASS' if report.ok else 'FAIL'} - {count(sev['error'], 'error')}, "
        f"{count(sev['warning'], 'warning')}, {count(sev['info'], 'note')}. "
        f"Wrote {', '.join(p.name for p in written)} to {out_dir}"
    )
    if exit_on_errors and not report.ok:
        click.get_current_context().exit(1)
