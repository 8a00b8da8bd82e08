"""The hashed isin: a long column is factorised first, with the same answer row by row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_pcn.io._isin import _FACTORIZE_FROM, isin


def test_a_long_column_of_few_codes():
    """20,000 rows cycling through P0..P9 (so row i holds P{i % 10}); asked for P1 and P3
    (and a code no row holds): exactly the rows with i % 10 in {1, 3}, 4,000 of them."""
    n = 20_000
    assert n > _FACTORIZE_FROM  # the factorised path
    codes = pd.Series([f"P{i % 10}" for i in range(n)], dtype="str")
    got = isin(codes, ["P1", "P3", "Q9"])
    expected = np.isin(np.arange(n) % 10, [1, 3])
    assert got.dtype == bool and got.shape == (n,)
    assert (got == expected).all() and got.sum() == 4_000
    assert (isin(pd.Index(codes), pd.Index(["P1", "P3"])) == expected).all()


def test_a_long_column_with_a_missing_code_keeps_isin_s_rules():
    """With a missing value the column is not factorised: pandas' own rules for it."""
    values = pd.Series(["A", None] * 6_000, dtype=object)
    got = isin(values, ["A"])
    assert got.sum() == 6_000 and got[0] and not got[1]


def test_a_long_column_of_many_codes():
    """30,000 rows, 15,000 distinct codes (A0..A14999 twice over: more distinct codes than
    the factorising threshold); asked for the even ones: every other row, 15,000."""
    n = 15_000
    assert n > _FACTORIZE_FROM
    codes = pd.Series([f"A{i}" for i in range(n)] * 2, dtype="str")
    got = isin(codes, [f"A{i}" for i in range(0, n, 2)])
    assert (got == np.tile(np.arange(n) % 2 == 0, 2)).all() and got.sum() == 15_000
