"""JSON for every output: numpy and pandas scalars made plain, every string through
:func:`geo_pcn._escape.printable` (a leaf: imports only that leaf).

Examples
--------
>>> import numpy as np
>>> dump_json({"n": np.int64(3), "x": np.float32(0.5), "ok": np.bool_(True)}, indent=None)
'{"n": 3, "x": 0.5, "ok": true}'
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_pcn._escape import printable

__all__ = ["JSONEncoder", "dump_json", "json_default"]


class JSONEncoder(json.JSONEncoder):
    """A :class:`json.JSONEncoder` for the values geo_pcn's tables hold: numpy integers,
    floats and booleans made plain, ``pd.NA`` as ``null``, anything else as its ``str``
    (:func:`json_default`)."""

    def default(self, value: Any) -> Any:
        return json_default(value)


def json_default(value: Any) -> Any:
    """The plain value of one that :mod:`json` cannot write: numpy integers and booleans
    as Python ones, numpy floats as ``float`` (``NaN`` as ``None``), ``pd.NA`` as ``None``,
    anything else as its ``str``. (``np.float64`` is a ``float`` and never comes here.)"""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA:
        return None
    return printable(value)


#: What json.dumps writes for a character :func:`printable` replaces (and, harmlessly, for
#: an astral character or a literal backslash before "u00..."): then the strings are
#: cleaned and the text written again.
_SUSPECT = re.compile(r"\\u(?:00[01][0-9a-f]|007f|d[89a-f][0-9a-f]{2}|fff[ef])")


def _printable_strings(data: Any) -> Any:
    if isinstance(data, str):
        return printable(data)
    if isinstance(data, dict):
        return {
            (printable(k) if isinstance(k, str) else k): _printable_strings(v)
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [_printable_strings(v) for v in data]
    return data


def dump_json(data: Any, path: str | Path | None = None, *, indent: int | None = 2) -> str:
    """JSON text of ``data`` (numpy and pandas scalars made plain); written to ``path``
    when given (UTF-8)."""
    text = json.dumps(data, indent=indent, default=json_default)
    if _SUSPECT.search(text):  # a control character, DEL or lone surrogate in a string
        text = json.dumps(_printable_strings(data), indent=indent, default=json_default)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
