"""report.xlsx writes its big sheets' rows as XML itself (openpyxl takes ~15 us a cell):
the bytes must be exactly those openpyxl writes, whatever the values."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

import geo_pcn
from geo_pcn.datasets import demo
from geo_pcn.render import xlsx


def _workbook(frames: dict[str, pd.DataFrame], *, fast: bool) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    bulk: dict = {}
    for name, frame in frames.items():
        xlsx._frame_sheet(wb.create_sheet(name), frame, bulk if fast else None)
    wb.properties.created = wb.properties.modified = xlsx.FIXED_TIME
    return xlsx._save(wb, bulk)


AWKWARD = pd.DataFrame(
    {
        "code": ["A1", " padded ", "  ", "", "a & b < c > d", "'=1+2", "x" * 40_000, "é ✓"],
        "count": np.arange(8, dtype="int64") * 1_000_003,
        "share": [0.1, np.nan, 1e20, -0.0, 1 / 3, np.inf, 2.5, 12345678.123456789],
        "maybe": pd.array([1, None, 3, 4, None, 6, 7, 8], dtype="Int64"),
        "flag": [True, False, True, True, False, False, True, False],
        "nullable_flag": pd.array([True, None, False, True, True, False, None, True], "boolean"),
        "mixed": [None, 1, "two", 3.5, pd.NA, ("a", "b"), ["c"], False],
        "site_easting": np.arange(8, dtype="int64") + 400_000,
        "text": pd.array(["s", None, "t", "u", None, "v", "w", "z"], dtype="str"),
    }
)


@pytest.mark.parametrize(
    "frames",
    [
        {"Awkward": AWKWARD},
        {"One": AWKWARD.head(1), "Empty": AWKWARD.head(0), "Two": AWKWARD.head(2)},
        {"No columns": pd.DataFrame(index=range(3))},
        # whole columns converted at once, and a text escaped once however often it recurs
        {
            "Repeats": pd.DataFrame(
                {
                    "pcn": ["U1", "+44 1", "U1", "+44 1", "'t", "'t"],
                    "small": np.array([0, 1, 2, 255, 7, 9], dtype="uint8"),
                    "f32": np.array([0.5, np.nan, -np.inf, 1e-7, 3.25, 0], dtype="float32"),
                    "when": pd.to_datetime(["2022-07-01"] * 6),
                }
            )
        },
    ],
)
def test_rows_as_openpyxl_writes_them(frames):
    assert _workbook(frames, fast=True) == _workbook(frames, fast=False)


def test_a_formula_looking_or_illegal_text_is_left_to_openpyxl():
    formula = pd.DataFrame({"a": ["x", "=1+2", "y"], "b": [1, 2, 3]})
    assert _workbook({"F": formula}, fast=True) == _workbook({"F": formula}, fast=False)
    # a control character XML cannot hold is shown by its stand-in (issue 19), the same
    # whichever way the rows are written
    illegal = pd.DataFrame({"a": ["x", "bell\x07", "y"]})
    book = _workbook({"I": illegal}, fast=True)
    assert book == _workbook({"I": illegal}, fast=False)
    from openpyxl import load_workbook

    cells = [c.value for c in load_workbook(io.BytesIO(book))["I"]["A"]]
    assert cells == ["a", "x", "bell\u2407", "y"]


def test_the_demo_workbook_is_the_one_openpyxl_writes(monkeypatch):
    report = geo_pcn.validate(demo())
    fast = xlsx.to_xlsx(report)
    monkeypatch.setattr(xlsx, "_plain_columns", lambda frame: None)  # openpyxl writes all
    assert fast == xlsx.to_xlsx(report)
