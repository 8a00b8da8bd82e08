"""Options and arguments shared by the ``geo-pcn`` commands, defined once (rasterio's
``rio/options.py``), and the progress line every command writes to stderr."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = [
    "study_argument",
    "quiet_option",
    "json_option",
    "tiles_option",
    "png_option",
    "dpi_option",
    "out_dir_option",
    "progress",
]

#: The study file every command reads.
study_argument = click.argument(
    "study_file", metavar="STUDY.toml", type=click.Path(dir_okay=False, path_type=Path)
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress messages on stderr.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
tiles_option = click.option(
    "--tiles",
    default=None,
    metavar="NAME|URL",
    help="Basemap for map.html (e.g. OpenStreetMap); off by default so the map works offline.",
)
png_option = click.option(
    "--png", is_flag=True, help="Also write map.png, a static picture for board papers."
)
dpi_option = click.option(
    "--dpi",
    type=click.IntRange(50, 600),
    default=200,
    show_default=True,
    help="Resolution of map.png (A4 landscape); 300 for print.",
)
#: ``--out`` of ``geo-pcn validate``: the folder the run owns.
out_dir_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write report.json, report.md, CSVs, footprints.gpkg and map.html into: "
    "new, empty, or written by an earlier run (whose files this run replaces).",
)


def progress(message: str, quiet: bool) -> None:
    """Write a progress line to stderr unless ``quiet``."""
    if not quiet:
        click.echo(message, err=True)
