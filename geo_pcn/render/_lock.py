"""One run owns its output folder, also against another run: a lock on ``--out``.

A run holds an exclusive lock on the file :data:`LOCK` inside its output folder from the
moment ``--out`` is parsed until it ends (and :func:`geo_pcn.render.write_outputs` holds it
while it writes, for callers of the Python API). A second run into the same folder waits
up to :data:`WAIT_SECONDS` (``GEO_PCN_LOCK_WAIT`` in the environment changes it), then stops
with one line naming the holder's process id and host. The lock is the operating system's
(``flock`` / ``msvcrt.locking``), so a run that was killed holds nothing: its stale lock
file is taken over by the next run. A folder the lock alone created is removed again.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from geo_pcn.errors import InputError, OutputError

__all__ = ["LOCK", "WAIT_SECONDS", "out_lock"]

#: The lock file inside an output folder (present only while a run holds it).
LOCK = ".geo_pcn-lock"
#: How long a second run waits for the folder before it stops.
WAIT_SECONDS = 10.0

# folders this process holds (a run's CLI lock and its write_outputs share one lock):
# a process-wide fact about open file descriptors, so it lives with them
_HELD: dict[str, tuple[int, int]] = {}


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").split()
    except OSError:
        text = []
    if len(text) >= 2:
        return f"process {text[0]} on {text[1]}"
    return "another process"


def _wait_seconds(wait: float | None) -> float:
    if wait is not None:
        return wait
    try:
        return max(0.0, float(os.environ.get("GEO_PCN_LOCK_WAIT", WAIT_SECONDS)))
    except ValueError:
        return WAIT_SECONDS


def _first_missing(folder: Path) -> Path | None:
    """The outermost ancestor of ``folder`` (or itself) that does not exist yet."""
    missing = None
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing = candidate
    return missing


@contextlib.contextmanager
def out_lock(out_dir: str | Path, *, wait: float | None = None) -> Iterator[Path]:
    """Hold the lock on ``out_dir`` (created when absent) for the ``with`` block.

    Re-entrant within one process. A folder that holds only the lock when it is released,
    and that the lock created, is removed (a refused run leaves nothing behind).

    Raises
    ------
    InputError
        Another run held the folder for longer than ``wait`` seconds (default
        :data:`WAIT_SECONDS`); the message names its process id and host.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        yield out_dir  # not a folder: check_out_dir says so; there is nothing to lock
        return
    key = os.path.realpath(out_dir)
    if key in _HELD:
        fd, depth = _HELD[key]
        _HELD[key] = (fd, depth + 1)
        try:
            yield out_dir
        finally:
            fd, depth = _HELD[key]
            _HELD[key] = (fd, depth - 1)
        return
    created = _first_missing(out_dir)
    path = out_dir / LOCK
    deadline = time.monotonic() + _wait_seconds(wait)
    while True:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                f"{out_dir}: cannot write into this folder ({exc.strerror or exc}); the "
                "previous outputs are as they were: fix its permissions or choose another --out"
            ) from None
        if _try_lock(fd):
            # the file may have been removed (and the folder too) by the holder that just
            # finished: lock the file that is there now, not an orphan
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except OSError:
                same = False
            if same:
                break
        os.close(fd)
        if time.monotonic() >= deadline:
            raise InputError(
                f"{out_dir}: another geo-pcn run ({_holder(path)}) is writing into this "
                "folder; wait for it to finish, or choose another --out"
            )
        time.sleep(0.2)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
    _HELD[key] = (fd, 1)
    try:
        yield out_dir
    finally:
        del _HELD[key]
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)  # releases the lock
        if created is not None:
            _remove_empty(out_dir, created)


def _remove_empty(folder: Path, top: Path) -> None:
    """Remove ``folder`` and its parents up to ``top`` while they are empty."""
    current = folder
    while True:
        try:
            current.rmdir()
        except OSError:
            return
        if current == top or current.parent == current:
            return
        current = current.parent
