"""Two groups of output files written side by side: one in this process, one in a forked
child (Linux only; elsewhere one after the other).

A national run spends about 5 s writing its files, half of it on ``map.html`` and
``report.html``; on two cores the child writes those two while this process writes the
rest. Each file is still written by one process with the same code, so its bytes are those
of a run one after the other. The child shares this process's memory (copy on write) and
ends with :func:`os._exit`, so it never runs this process's clean-up (the temporary
output folder stays this process's to remove). A failure in the child is raised here, as
the same exception (its traceback as a note); an exception here (Ctrl-C too) kills the
child first. The child's stage times are added to this process's (``scripts/bench.py``),
and its progress lines are written here when it is done (to this process's progress
stream, which may be no file the child could write to: a captured stderr, a notebook).
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable

from geo_pcn import progress
from geo_pcn.errors import OutputError

__all__ = ["side_by_side", "can_fork"]


def can_fork() -> bool:
    """Whether :func:`side_by_side` forks: on Linux (fork is unsafe on macOS with some
    system libraries and absent on Windows), in a process running no other Python thread
    (a notebook's kernel, a web server: a lock another thread holds would be held for ever
    in the child), unless ``GEO_PCN_FORK=0``."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and threading.active_count() == 1
        and os.environ.get("GEO_PCN_FORK", "1") != "0"
    )


def side_by_side(here: Callable[[], None], child: Callable[[], None]) -> None:
    """Run ``here`` in this process and ``child`` in a forked child at the same time, and
    return when both are done; an exception of either is raised here (``here``'s first).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     a, b = pathlib.Path(tmp) / "a", pathlib.Path(tmp) / "b"
    ...     side_by_side(lambda: a.write_text("here"), lambda: b.write_text("child"))
    ...     a.read_text(), b.read_text()
    ('here', 'child')
    """
    if not can_fork():
        here()
        child()
        return
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        stream.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (its work is covered through the parent)
        os.close(read)
        _child(child, write)
    os.close(write)
    try:
        here()
        payload = _read_all(read)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    _take(payload)


def _child(work: Callable[[], None], write: int) -> None:  # pragma: no cover - in the child
    """Run ``work``, send its stage times or its exception up the pipe and end the
    process, whatever happens, without this process's clean-up."""
    status = 1
    try:
        said = io.StringIO()  # its progress lines, written by the parent
        if progress._STREAM[0] is not None:
            progress._STREAM[0] = said
        timings = progress._TIMINGS[0]
        before = dict(timings) if timings is not None else {}
        try:
            work()
            after = progress._TIMINGS[0] or {}
            added = {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k)}
            payload = pickle.dumps(("done", added, said.getvalue()))
            status = 0
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
            exc.add_note("in the output writer process:\n" + traceback.format_exc().rstrip())
            try:
                payload = pickle.dumps(("failed", exc, said.getvalue()))
            except Exception:  # noqa: BLE001 - an exception that cannot be pickled
                lost = OutputError(f"{type(exc).__name__}: {exc}")
                payload = pickle.dumps(("failed", lost, said.getvalue()))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(status)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _take(payload: bytes) -> None:
    """The child's result: its stage times added to this process's, or its exception
    raised."""
    if not payload:  # killed (out of memory, a signal) before it could say
        raise OutputError(
            "the process writing part of the outputs ended without a word (out of memory, or "
            "killed); nothing was written: run again, or with GEO_PCN_FORK=0 to write the "
            "files one after the other"
        )
    kind, value, said = pickle.loads(payload)
    stream = progress._STREAM[0]
    if said and stream is not None:
        stream.write(said)
        stream.flush()
    if kind == "failed":
        raise value
    timings = progress._TIMINGS[0]
    if timings is not None:
        for name, seconds in value.items():
            timings[name] = timings.get(name, 0.0) + seconds
