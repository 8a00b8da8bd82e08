"""Options and arguments shared by the ``geo-pcn`` commands, defined once (rasterio's
``rio/options.py``), and the progress line every command writes to stderr."""

from __future__ import annotations

import os
from pathlib import Path

import click

from geo_pcn.errors import InputError

__all__ = [
    "study_argument",
    "quiet_option",
    "json_option",
    "tiles_option",
    "png_option",
    "dpi_option",
    "out_dir_option",
    "progress",
    "own_out_dir",
    "refuse_inputs_as_outputs",
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


def own_out_dir(out_dir: Path, study_file: Path | None = None, *inputs: Path) -> None:
    """Take the folder ``--out`` for this run: its lock (held until the command ends; a
    second run into it waits, then stops naming the holder), then the check that it holds
    only an earlier run's files, and that no input of the study (nor ``inputs``, e.g. the
    scenario file) lies inside it: a run replaces what is in its folder."""
    from geo_pcn.render._lock import out_lock
    from geo_pcn.render.outputs import check_out_dir

    check_out_dir(out_dir)  # a file, foreign files or links: refused before any lock
    click.get_current_context().with_resource(out_lock(out_dir))
    check_out_dir(out_dir)
    refuse_inputs_as_outputs(study_file, folder=out_dir, inputs=inputs)


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return path == folder or folder in path.parents


def refuse_inputs_as_outputs(
    study_file: Path | None,
    *,
    files: tuple[Path, ...] = (),
    folder: Path | None = None,
    inputs: tuple[Path, ...] = (),
) -> None:
    """Raise :class:`InputError` when an output (``files``, or anything in ``folder``)
    would be written over the study file, an input it names, or one of ``inputs``."""
    named: list[tuple[str, Path]] = [("the input", Path(p)) for p in inputs]
    if study_file is not None and Path(study_file).is_file():
        from geo_pcn.studyfile import parse_study_file

        try:
            named += [(key, path) for key, path, _ in parse_study_file(study_file).inputs()]
        except InputError:
            named.append(("the study file", Path(study_file)))  # its own error comes later
    for key, path in named:
        for target in files:
            if os.path.realpath(target) == os.path.realpath(path) or (
                target.exists() and path.exists() and os.path.samefile(target, path)
            ):
                raise InputError(
                    f"{target}: is {key} of the study ({path}); writing the output there "
                    "would overwrite an input: choose another --out"
                )
        if folder is not None and _inside(path, folder):
            raise InputError(
                f"{folder}: holds {key} of the study ({path}); a run replaces what is in its "
                "--out folder, so it never writes where its inputs are: choose another --out"
            )
