"""Progress lines on stderr for the stages of a run: ``geo-pcn: territories ... 3.1 s``.

Off by default, so the Python API, notebooks and tests stay quiet; the ``geo-pcn``
commands turn it on (unless ``-q``) with :func:`reporting`. A stage is timed with
:func:`stage` wherever it runs; its line is written to stderr when it ends, and never to
stdout or to any output file. A leaf module: it imports nothing from geo_pcn.

Examples
--------
>>> with stage("territories"):  # off: says nothing
...     pass
>>> import io
>>> err = io.StringIO()
>>> with reporting(True, stream=err):
...     with stage("territories"):
...         pass
>>> err.getvalue().startswith("geo-pcn: territories ... ")
True
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["stage", "reporting", "is_reporting", "note"]

#: The stream progress goes to while on (``None``: off).
_STREAM: list[TextIO | None] = [None]
#: Where stage times are added up while on (``scripts/bench.py``), else ``None``.
_TIMINGS: list[dict[str, float] | None] = [None]


def is_reporting() -> bool:
    """Whether progress lines are being written."""
    return _STREAM[0] is not None


@contextmanager
def reporting(
    on: bool = True, *, stream: TextIO | None = None, timings: dict[str, float] | None = None
) -> Iterator[None]:
    """Write progress lines (to ``stream``, default stderr) while inside; restores the
    previous state on the way out.

    Parameters
    ----------
    on
        ``False`` keeps (or turns) progress off inside, e.g. for ``-q``.
    stream
        Where the lines go; default ``sys.stderr`` as it is when a line is written.
    timings
        A dict each stage's seconds are added to, by name (a benchmark's record).
    """
    before = _STREAM[0], _TIMINGS[0]
    _STREAM[0] = (stream or _Stderr()) if on else None
    _TIMINGS[0] = timings if on else None
    try:
        yield
    finally:
        _STREAM[0], _TIMINGS[0] = before


class _Stderr:
    """``sys.stderr`` looked up at each write (click's test runner swaps it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def note(message: str) -> None:
    """Write one progress line (``geo-pcn: message``) when progress is on."""
    stream = _STREAM[0]
    if stream is not None:
        stream.write(f"geo-pcn: {message}\n")
        stream.flush()


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the stage run inside and, when progress is on, write
    ``geo-pcn: <name> ... <seconds> s`` when it ends (not when it fails)."""
    if _STREAM[0] is None:
        yield
        return
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    timings = _TIMINGS[0]
    if timings is not None:
        timings[name] = timings.get(name, 0.0) + seconds
    note(f"{name} ... {seconds:.1f} s")
