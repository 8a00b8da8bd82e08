"""``geo-pcn map``: validate a study and draw its map."""

from __future__ import annotations

from pathlib import Path

import click

from geo_pcn._words import count
from geo_pcn.cli.options import (
    dpi_option,
    png_option,
    quiet_option,
    refuse_inputs_as_outputs,
    study_argument,
    tiles_option,
)
from geo_pcn.pipeline import validate
from geo_pcn.progress import note, reporting, stage
from geo_pcn.study import Study

__all__ = ["map_command"]


@click.command("map")
@study_argument
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("map.html"),
    show_default=True,
    help="The HTML file to write (self-contained; opens offline).",
)
@tiles_option
@png_option
@dpi_option
@quiet_option
def map_command(
    study_file: Path, out_file: Path, tiles: str | None, png: bool, dpi: int, quiet: bool
) -> None:
    """Validate STUDY.toml and draw its map: one self-contained HTML file (--out).

    With --png, also write a static picture next to it (same name, .png). Exit code 0
    when the map was written, whatever the findings (use `geo-pcn validate` to gate a
    pipeline).
    """
    from geo_pcn.render import write_map, write_png

    targets = (out_file, out_file.with_suffix(".png")) if png else (out_file,)
    refuse_inputs_as_outputs(study_file, files=targets)
    with reporting(not quiet):
        with stage(f"read {study_file.name}"):
            study = Study.from_toml(study_file)
        note(f"checking {len(study.practices):,} practices")
        report = validate(study)
        with stage(out_file.name):
            written = [write_map(report, out_file, tiles=tiles)]
        if png:
            with stage(out_file.with_suffix(".png").name):
                written.append(write_png(report, out_file.with_suffix(".png"), dpi=dpi))
    sev = report.summary["findings"]
    click.echo(
        f"{study.name}: {'PASS' if report.ok else 'FAIL'} - {count(sev['error'], 'error')}, "
        f"{count(sev['warning'], 'warning')}, {count(sev['info'], 'note')}. Wrote "
        + ", ".join(str(p) for p in written)
    )
