"""Numbers in a table read as text: parsed with one-line errors naming the bad rows.

:func:`to_number` and its limits (:data:`MAX_PATIENTS`, :data:`MAX_POPULATION`), all
importable from :mod:`geo_pcn.io.tables`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_pcn.errors import InputError, list_some

__all__ = ["to_number", "MAX_PATIENTS", "MAX_POPULATION"]


def _whole(column: pd.Series) -> bool:
    """A column of whole numbers with no missing value possible (numpy int or uint)."""
    return isinstance(column.dtype, np.dtype) and column.dtype.kind in "iu"


#: The most patients one row of a registrations or list-size file can hold (the largest
#: practices in England have about 100,000).
MAX_PATIENTS = 1_000_000
#: The most residents one area of a population file can hold (more than the UK).
MAX_POPULATION = 100_000_000
#: Above this a whole number cannot be held exactly (float64) or summed safely (int64).
_MAX_WHOLE = 10**15


def to_number(
    values: pd.Series,
    *,
    source: str,
    column: str,
    allow_negative: bool = False,
    integer: bool = False,
    maximum: float | None = None,
    first_line: int = 2,
) -> pd.Series:
    """Parse numbers (thousands separators allowed); raise naming the bad rows.

    Every number must be finite (``inf``, ``nan`` and ``1e400`` are refused); with
    ``integer=True`` a whole number no larger than ``maximum`` (default 10^15, so that it
    fits int64 and sums safely: ``1e19`` patients would overflow to a negative count).

    Row numbers in messages are file line numbers: index label ``i`` is line
    ``i + first_line`` (``first_line=2`` for a file with a header row, ``1`` without).

    A column already of whole numbers (a Parquet integer column read with
    ``read_table(..., numbers=True)``) is checked as it is, never written out as text: the
    same numbers, the same errors.

    Examples
    --------
    >>> to_number(pd.Series(["1,200", " 7"]), source="f.csv", column="n").tolist()
    [1200, 7]
    >>> to_number(pd.Series([1200, 7]), source="f.parquet", column="n", integer=True).tolist()
    [1200, 7]
    """
    if _whole(values):
        return _check_whole(
            values,
            source=source,
            column=column,
            allow_negative=allow_negative,
            maximum=_MAX_WHOLE if integer and maximum is None else maximum,
            integer=integer,
            first_line=first_line,
        )
    text = values.fillna("").astype(str).str.strip().str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = (numbers.isna() & (text != "")) | (numbers.notna() & ~np.isfinite(numbers))
    if not allow_negative:
        bad |= numbers < 0
    if integer:
        bad |= numbers.notna() & (numbers % 1 != 0)
        if maximum is None:
            maximum = _MAX_WHOLE
    too_big = numbers > maximum if maximum is not None else pd.Series(False, index=numbers.index)
    bad |= too_big
    if bad.any():
        rows = [f"line {i + first_line} ({values.loc[i]!r})" for i in values.index[bad]]
        raise _bad_values(source, column, rows, integer, allow_negative, maximum)
    return numbers


def _check_whole(
    values: pd.Series,
    *,
    source: str,
    column: str,
    allow_negative: bool,
    maximum: float | None,
    integer: bool,
    first_line: int,
) -> pd.Series:
    """:func:`to_number` for a column of whole numbers: only the sign and the maximum can be
    wrong (the message is :func:`to_number`'s, the values written as text)."""
    numbers = values.to_numpy()
    bad = np.zeros(len(values), dtype=bool)
    if not allow_negative:
        bad |= numbers < 0
    if maximum is not None:
        bad |= numbers > maximum
    if bad.any():
        rows = [f"line {i + first_line} ({str(values.loc[i])!r})" for i in values.index[bad]]
        raise _bad_values(source, column, rows, integer, allow_negative, maximum)
    return values


def _bad_values(source, column, rows, integer, allow_negative, maximum) -> InputError:
    """The one error for a number column with bad values at ``rows`` (``line N ('v')``)."""
    kind = "whole numbers of 0 or more" if integer and not allow_negative else "numbers"
    if maximum is not None:
        kind = f"{kind} up to {maximum:,.0f}"
    return InputError(
        f"{source}: column {column} must hold {kind}; bad value(s) at "
        f"{list_some(rows)}; correct those rows"
    )
