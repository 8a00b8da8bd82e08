"""``geo-pcn diff``: what changed between two extracts (two study files, or two
configuration / map files, or the ePCN workbook at two dates)."""

from __future__ import annotations

from pathlib import Path

import click

from geo_pcn.cli.options import quiet_option, refuse_inputs_as_outputs, tiles_option
from geo_pcn.errors import InputError
from geo_pcn.progress import reporting, stage

__all__ = ["diff_command"]


def _file(text: str, what: str) -> Path:
    from geo_pcn.history import split_at_date

    path = Path(split_at_date(text)[0])
    if not path.is_file():
        raise InputError(
            f"{path}: {what} not found; give a study file (.toml) or a "
            "configuration / map file (FILE@YYYY-MM-DD for the ePCN workbook)"
        )
    return path


@click.command("diff")
@click.argument("before")
@click.argument("after")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write diff.md, diff.json, diff.csv, diff.xlsx and diff_map.html into: "
    "new, empty, or written by an earlier run (whose files this run replaces).",
)
@click.option(
    "--practices",
    "practices_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="ODS epraccur.csv (or any practices file with a status): why a practice went "
    "(closed, dormant).",
)
@click.option("--before-as-of", default=None, help="Date (YYYY-MM-DD) of an ePCN BEFORE.")
@click.option("--after-as-of", default=None, help="Date (YYYY-MM-DD) of an ePCN AFTER.")
@click.option("--no-map", is_flag=True, help="Do not draw diff_map.html.")
@tiles_option
@quiet_option
def diff_command(
    before: str,
    after: str,
    out_dir: Path,
    practices_file: Path | None,
    before_as_of: str | None,
    after_as_of: str | None,
    no_map: bool,
    tiles: str | None,
    quiet: bool,
) -> None:
    """What changed between BEFORE and AFTER: two study files (.toml: membership, list
    sizes, band status, findings, and a change map), or two configuration / map files
    (membership only). The ePCN workbook on a date: ePCN.xlsx@2022-07-01 (or
    --before-as-of / --after-as-of).

    Exit code 0 when the files were written, whatever changed.
    """
    from geo_pcn.history import diff
    from geo_pcn.render.diff_outputs import write_diff

    inputs = (_file(before, "BEFORE"), _file(after, "AFTER"))
    inputs += (practices_file,) if practices_file else ()
    for path in inputs:
        refuse_inputs_as_outputs(
            path if path.suffix.lower() == ".toml" else None,
            folder=out_dir,
            inputs=(path,),
        )
    with reporting(not quiet):
        with stage(f"read and compare {inputs[0].name} and {inputs[1].name}"):
            d = diff(
                before,
                after,
                practices=practices_file,
                before_as_of=before_as_of,
                after_as_of=after_as_of,
            )
        written = write_diff(d, out_dir, map_html=not no_map, tiles=tiles)
    s = d.summary
    practices = ", ".join(f"{n:,} {c}" for c, n in s["practices"].items() if n) or "none"
    pcns = ", ".join(f"{n:,} {c}" for c, n in s["pcns"].items() if n) or "none"
    click.echo(
        f"{s['before']} -> {s['after']}: practices {practices}; PCNs {pcns}. Wrote "
        + ", ".join(p.name for p in written)
        + f" in {out_dir}"
    )
