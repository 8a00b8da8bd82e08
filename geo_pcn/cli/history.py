"""``geo-pcn history``: several dated studies of one region, per PCN."""

from __future__ import annotations

from pathlib import Path

import click

from geo_pcn.cli.options import quiet_option, refuse_inputs_as_outputs
from geo_pcn.progress import reporting, stage

__all__ = ["history_command"]


@click.command("history")
@click.argument(
    "study_files",
    nargs=-1,
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write history.csv, history.json, history.md, report.html and "
    "history.png into: new, empty, or written by an earlier run.",
)
@click.option("--no-png", is_flag=True, help="Do not draw history.png.")
@quiet_option
def history_command(
    study_files: tuple[Path, ...], out_dir: Path, no_png: bool, quiet: bool
) -> None:
    """Per PCN over several dated studies (oldest first): practices, list size, band status
    and findings at each, and a chart of list sizes with the band (report.html, history.png).
    """
    from geo_pcn.history import history
    from geo_pcn.render.history_outputs import write_history

    for path in study_files:
        refuse_inputs_as_outputs(path, folder=out_dir, inputs=(path,))
    with reporting(not quiet):
        with stage(f"read and check {len(study_files)} studies"):
            h = history(list(study_files))
        written = write_history(h, out_dir, png=not no_png)
    click.echo(
        f"{h.table['pcn_code'].nunique():,} PCNs over {len(h.labels)} studies. Wrote "
        + ", ".join(p.name for p in written)
        + f" in {out_dir}"
    )
