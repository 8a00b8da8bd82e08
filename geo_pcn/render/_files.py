"""Files written whole or not at all, and write errors that name the file."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from geo_pcn.errors import OutputError

__all__ = ["write_atomic", "writing"]


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn a failure to write ``path`` (disk full, no permission, file too large: an
    ``OSError``, or GDAL's and SQLite's own errors for a GeoPackage) into one
    :class:`~geo_pcn.errors.OutputError` naming the file. An ``OSError`` raised by
    ``write()`` carries no file name (``Error: : File too large``); this one does."""
    try:
        yield
    except OutputError:
        raise
    except (OSError, sqlite3.Error) as exc:
        raise OutputError(_cannot(path, exc)) from None
    except Exception as exc:
        if type(exc).__module__.split(".")[0] != "pyogrio":
            raise
        raise OutputError(_cannot(path, exc)) from None


def _cannot(path: str | Path, exc: BaseException) -> str:
    reason = getattr(exc, "strerror", None) or " ".join(str(exc).split()) or type(exc).__name__
    return (
        f"{path}: cannot write the file ({reason}); the previous outputs are as they were: "
        "free some disk space or fix the folder's permissions, then run again"
    )


def write_atomic(path: str | Path, payload: bytes) -> Path:
    """Write ``path`` whole or not at all (a temporary file beside it, then a rename)."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(payload)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return path
