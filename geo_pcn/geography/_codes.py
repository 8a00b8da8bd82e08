"""Codes to positions, row by row, over the distinct codes: a national table repeats the
same few thousand area and practice codes 866,000 times, and looking each row's text up
again costs about ten times more than looking up each distinct code once."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["positions"]


def positions(index: pd.Index, values) -> np.ndarray:
    """``index.get_indexer(values)`` (``-1``: not there, or missing), each distinct value
    looked up once (``values`` factorised as they are: Arrow text in Arrow).

    Examples
    --------
    >>> positions(pd.Index(["A", "B", "C"]), pd.Series(["C", "A", None, "C", "Z"])).tolist()
    [2, 0, -1, 2, -1]
    """
    code, uniques = pd.factorize(values)
    lut = np.append(pd.Index(index).get_indexer(uniques), -1)  # code -1 (missing) -> -1
    return lut[code]
