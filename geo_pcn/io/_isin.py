"""Set membership of codes, hashed: :func:`isin` for long lists of codes.

pandas 3 reads text as its ``str`` dtype, whose ``Series.isin(values)`` walks ``values``
in Python (a check per value): 0.2-0.3 s for the 33,000 LSOA codes of England, on every
call. The readers ask that question dozens of times a run (a lookup's columns against the
small-area polygons, the registrations against the areas layer), so they ask it here: a
hash table of the values, probed once (``Index.get_indexer``), the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["isin"]

#: from this many values a column is factorised first (its distinct codes asked once)
_FACTORIZE_FROM = 10_000


def isin(values: Iterable, other: Iterable) -> np.ndarray:
    """Which of ``values`` are in ``other``: a boolean array, as ``Series.isin`` answers.

    Missing values (``None``, ``NaN``, ``pd.NA``) on either side are left to
    ``Series.isin`` (its rules for them differ from a hash lookup's).

    Examples
    --------
    >>> isin(pd.Series(["E01000001", "E01000002", "X"]), pd.Index(["E01000002", "X", "X"]))
    array([False,  True,  True])
    >>> isin(pd.Series(["A", None]), ["A", None])
    array([ True,  True])
    """
    if (
        isinstance(values, (pd.Series, pd.Index))
        and len(values) > _FACTORIZE_FROM
        and not values.hasnans
    ):
        # a long column of few distinct codes (870,000 national rows, 6,500 practices):
        # each distinct code asked once, the answers taken back to the rows
        where, distinct = pd.factorize(values)
        return _hashed(pd.Index(distinct, dtype=object), other)[where]
    return _hashed(values, other)


def _hashed(values: Iterable, other: Iterable) -> np.ndarray:
    """:func:`isin` without factorising."""
    left = values if isinstance(values, pd.Index) else pd.Index(np.asarray(values, dtype=object))
    right = other if isinstance(other, pd.Index) else pd.Index(list(other), dtype=object)
    if left.hasnans or right.hasnans:
        return pd.Series(left).isin(right).to_numpy(dtype=bool)
    if not right.is_unique:
        right = right.unique()
    return right.get_indexer(left) >= 0
