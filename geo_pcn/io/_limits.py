"""Bounded reads: every input is a regular file (or a folder where one is allowed), a
TOML file has a size cap and a nesting limit, a compressed member is read in chunks up to
a cap.

A study file that is ``/dev/zero`` would be read until memory runs out, a FIFO would hang
forever, a 1 MB zip can inflate to many gigabytes, and 100,000 nested ``[`` overflow the
TOML parser's recursion. Each is refused here with one line naming the file.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import IO, Any

from geo_pcn.errors import InputError

__all__ = [
    "MAX_TOML_BYTES",
    "MAX_MEMBER_BYTES",
    "MAX_INFLATED_BYTES",
    "not_a_regular_file",
    "check_regular_file",
    "read_capped",
    "read_toml",
]

#: A study or scenario file larger than this is not one (the national study is ~2 kB; a
#: scenario moving every practice in England ~1 MB).
MAX_TOML_BYTES = 16 * 1024 * 1024
#: One member of a zip (a Code-Point Open area file: the largest, ``b.csv``, is 3.8 MB).
MAX_MEMBER_BYTES = 256 * 1024 * 1024
#: One decompressed input (a ``.csv.gz`` table, an Excel workbook's parts together).
MAX_INFLATED_BYTES = 4 * 1024 * 1024 * 1024
_CHUNK = 1 << 20


def not_a_regular_file(path: Path, *, folder_ok: bool = False) -> str | None:
    """Why ``path`` cannot be read as an input, or ``None`` (also when it does not exist:
    the readers say "not found" with their own fix).

    A FIFO would block forever, a device (``/dev/zero``) never ends, a socket cannot be
    read; a folder is accepted only where one is allowed (``folder_ok``).

    Examples
    --------
    >>> not_a_regular_file(Path("/dev/zero"))
    'is a device, not a regular file'
    >>> not_a_regular_file(Path("/"))
    'is a folder, not a file'
    >>> not_a_regular_file(Path("/"), folder_ok=True) is None
    True
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return None if folder_ok else "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is a device, not a regular file"


def check_regular_file(path: Path, role: str, *, folder_ok: bool = False) -> None:
    """Raise :class:`InputError` when ``path`` exists but is not a regular file (or a
    folder, when ``folder_ok``)."""
    why = not_a_regular_file(Path(path), folder_ok=folder_ok)
    if why is not None:
        raise InputError(f"{path}: the {role} {why}; give a file saved on disk")


def read_capped(handle: IO[bytes], cap: int, label: str, fix: str) -> bytes:
    """Read ``handle`` in chunks, stopping with one line when it holds more than ``cap``
    bytes (a compressed stream that inflates without bound never fills memory)."""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = handle.read(min(_CHUNK, cap + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > cap:
            raise InputError(
                f"{label}: inflates to more than {cap / 2**20:,.0f} MB, far more than a real "
                f"file of its kind; {fix}"
            )
        parts.append(chunk)
    return b"".join(parts)


def read_small_text(path: Path, error: type[InputError], role: str) -> str:
    """A short text file (a study or scenario file) read whole with a size cap.

    Raises ``error`` (one line naming ``path``) for a file that is missing, not a regular
    file, larger than :data:`MAX_TOML_BYTES` or not UTF-8.
    """
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: {role} not found; check the path")
    why = not_a_regular_file(path)
    if why is not None:
        fix = " (.toml) inside it" if "folder" in why else " saved on disk"
        raise error(f"{path}: the {role} {why}; give the {role}{fix}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TOML_BYTES + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read the {role} ({exc.strerror or exc})") from None
    if len(raw) > MAX_TOML_BYTES:
        raise error(
            f"{path}: the {role} is larger than {MAX_TOML_BYTES // 2**20} MB; a {role} is a "
            "short text file: check that this is the right file"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{path}: the {role} must be UTF-8 text") from None


def read_toml(path: Path, error: type[InputError], role: str) -> dict[str, Any]:
    """A TOML file (study or scenario) read with a size cap and a nesting limit.

    Raises ``error`` (one line naming ``path``) for a file that is missing, not a regular
    file, larger than :data:`MAX_TOML_BYTES`, not UTF-8, empty, not valid TOML or nested
    too deeply for the parser.
    """
    path = Path(path)
    text = read_small_text(path, error, role)
    if not text.strip():
        raise error(f"{path}: the {role} is empty; see the README for an example")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(
            f"{path}: not valid TOML ({exc}); check quotes, brackets and '=' on that line"
        ) from None
    except RecursionError:
        raise error(
            f"{path}: not valid TOML (arrays or tables nested too deeply for the parser); a "
            f"{role} needs a few levels at most: check the brackets"
        ) from None
