"""Tables: CSV files that are safe to open in Excel.

Every header and text cell that a spreadsheet would run as a formula is prefixed with
``'`` (:func:`geo_pcn._escape.excel_frame`); numbers are written as they are.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo_pcn._escape import excel_frame

__all__ = ["write_csv", "excel_safe"]


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV with every header and text cell formula-safe
    (:func:`geo_pcn._escape.excel_frame`); ``\\n`` line ends on every platform.

    Parameters
    ----------
    frame
        The table (its index is not written).
    path
        The file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    excel_frame(frame).to_csv(path, index=False, lineterminator="\n")
    return path


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and column name that Excel would run as a formula
    prefixed by ``'`` (:func:`geo_pcn._escape.excel_frame`).

    Examples
    --------
    >>> excel_safe(pd.DataFrame({"name": ["=HYPERLINK(1)", "ok", "-x"]}))["name"].tolist()
    ["'=HYPERLINK(1)", 'ok', "'-x"]
    """
    return excel_frame(frame)
