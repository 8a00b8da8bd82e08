"""Codes to positions, row by row, over the distinct codes: a national table repeats the
same few thousand area and practice codes 866,000 times, and looking each row's text up
again costs about ten times more than looking up each distinct code once."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["positions", "rows_by"]


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


def rows_by(values) -> dict[str, np.ndarray]:
    """``{code: row positions}`` of each distinct code (missing values left out), the
    codes in order of first appearance and each one's positions ascending: what
    ``groupby(values, sort=False).indices`` gives, from one factorise and one stable sort
    (grouping Arrow text in pandas costs ~0.25 s a national column).

    Examples
    --------
    >>> {k: v.tolist() for k, v in rows_by(pd.Series(["B", "A", None, "B"])).items()}
    {'B': [0, 3], 'A': [1]}
    """
    code, uniques = pd.factorize(values)
    order = np.argsort(code, kind="stable")
    order = order[code[order] >= 0]
    counts = np.bincount(code[code >= 0], minlength=len(uniques))
    split = np.split(order, np.cumsum(counts)[:-1]) if len(uniques) else []
    return dict(zip(map(str, np.asarray(uniques, dtype=object)), split, strict=True))
