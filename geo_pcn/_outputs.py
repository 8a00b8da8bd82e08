"""A run owns its output folder.

Every run writes its files into a temporary folder inside ``--out`` first and moves them
into place only when all of them were written (nothing half-written). The folder keeps a
manifest, :data:`MANIFEST`, of the files the last run wrote: the next run removes those it
does not write again (a stale ``map.png`` or alignment CSV never sits beside a new report),
and a folder that holds files no run wrote is refused, untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from geo_pcn.errors import InputError, list_some

__all__ = ["MANIFEST", "check_out_dir", "write_outputs", "fix_gpkg_timestamps"]

#: The manifest of the files a run wrote, kept in the output folder.
MANIFEST = ".geo_pcn-manifest.json"
_TMP_PREFIX = ".geo-pcn-"
#: ``last_change`` written into every GeoPackage table (the real time would make every
#: run's file different).
GPKG_TIMESTAMP = "1970-01-01T00:00:00.000Z"


def _previous_files(out_dir: Path) -> list[str]:
    """The files the previous run wrote into ``out_dir`` (by its manifest)."""
    path = out_dir / MANIFEST
    if not path.is_file():
        return []
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(
            f"{path}: the manifest of an earlier run is unreadable, so geo-pcn cannot tell "
            "which files there are its own; delete the folder's outputs (or the folder) "
            "or choose another --out"
        ) from None
    return [name for name in files if isinstance(name, str) and "/" not in name]


def check_out_dir(out_dir: str | Path) -> list[str]:
    """Check that a run may write into ``out_dir``: it is absent, empty, or holds only the
    files of an earlier run (listed in its manifest).

    Returns
    -------
    list of str
        The files of the earlier run.

    Raises
    ------
    InputError
        The folder holds files no run wrote (named in the message), or is a file.
    """
    out_dir = Path(out_dir)
    if not out_dir.exists():
        return []
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: is a file, not a folder; give --out a folder")
    previous = _previous_files(out_dir)
    ours = {*previous, MANIFEST}
    foreign = sorted(
        p.name
        for p in out_dir.iterdir()
        if p.name not in ours and not (p.name.startswith(_TMP_PREFIX) and p.is_dir())
    )
    if foreign:
        raise InputError(
            f"{out_dir}: holds {len(foreign)} file(s) geo-pcn did not write "
            f"({list_some(foreign)}); a run owns its output folder, so give --out a new or "
            "empty folder, or one written by an earlier run, or move those files"
        )
    return previous


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(out_dir: Path, files: dict[str, str]) -> None:
    text = json.dumps({"written_by": "geo_pcn", "files": dict(sorted(files.items()))}, indent=2)
    tmp = out_dir / f"{MANIFEST}.tmp"
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / MANIFEST)


def write_outputs(out_dir: str | Path, write: Callable[[Path], None]) -> list[Path]:
    """Run ``write(folder)`` on a temporary folder inside ``out_dir`` and move what it
    wrote into place: the files of the earlier run that this run does not write are removed,
    and the manifest lists exactly this run's files.

    Parameters
    ----------
    out_dir
        The output folder (created).
    write
        Writes every output file (flat, no sub-folders) into the folder it is given.

    Returns
    -------
    list of pathlib.Path
        The files written, sorted by name.

    Raises
    ------
    InputError
        ``out_dir`` holds files no run wrote (see :func:`check_out_dir`); nothing is
        written then.
    """
    out_dir = Path(out_dir)
    previous = check_out_dir(out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(f"{_TMP_PREFIX}*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    try:
        return _write_and_move(out_dir, write, previous)
    except BaseException:
        if created:  # leave no trace: not even the empty folder
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _write_and_move(
    out_dir: Path, write: Callable[[Path], None], previous: list[str]
) -> list[Path]:
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=_TMP_PREFIX) as tmp:
        tmp_path = Path(tmp)
        write(tmp_path)
        new = {p.name: _sha256(p) for p in sorted(tmp_path.iterdir()) if p.is_file()}
        # the manifest names every file that may be there until the move is over
        _write_manifest(out_dir, {**dict.fromkeys(previous, ""), **new})
        for name in new:
            os.replace(tmp_path / name, out_dir / name)
        for name in set(previous) - set(new):
            target = out_dir / name
            if target.is_file() or target.is_symlink():
                target.unlink()
        _write_manifest(out_dir, new)
    return [out_dir / name for name in new]


def fix_gpkg_timestamps(path: str | Path, timestamp: str = GPKG_TIMESTAMP) -> None:
    """Set every ``last_change`` of a GeoPackage to ``timestamp`` (GDAL writes the time of
    writing, so two runs on the same inputs would give different files)."""
    with sqlite3.connect(path) as con:
        con.execute("UPDATE gpkg_contents SET last_change = ?", (timestamp,))
    con.close()
