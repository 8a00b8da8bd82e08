"""An Excel sheet is read as the text its cells show, as the same rows saved as CSV are:
"NA", "N/A", "NULL" and "nan" are texts a planner typed (a practice called "NA", a
PCN name "N/A"), not blanks. pandas' read_excel turns them into missing values by
default; the CSV reader always kept them."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from geo_pcn.io import _cache, tables
from geo_pcn.io.tables import read_table

ROWS = [
    ["practice_code", "practice_name", "pcn_name", "n"],
    ["A81001", "NA", "N/A", "5"],
    ["A81002", "NULL", "nan", "7"],
    ["A81003", "Riverside", None, "9"],
]
#: by hand: every typed text kept, the empty cell blank
EXPECTED = [
    ["A81001", "NA", "N/A", "5"],
    ["A81002", "NULL", "nan", "7"],
    ["A81003", "Riverside", "", "9"],
]


@pytest.fixture
def files(tmp_path):
    wb = Workbook()
    for row in ROWS:
        wb.active.append(row)
    book = tmp_path / "map.xlsx"
    wb.save(book)
    text = tmp_path / "map.csv"
    text.write_text("\n".join(",".join(c or "" for c in row) for row in ROWS) + "\n")
    return book, text


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_excel_cells_are_the_text_they_show(files, engine, monkeypatch):
    if engine == "calamine" and tables.excel_engine() != "calamine":
        pytest.skip("python-calamine (or pandas 3) is not installed")
    monkeypatch.setattr(tables, "excel_engine", lambda: engine)
    book, text = files
    with _cache.caching(False):
        from_excel = read_table(book, role="practices", header=True)
        from_csv = read_table(text, role="practices", header=True)
    assert list(from_excel.columns) == ROWS[0]
    assert from_excel.to_numpy().tolist() == EXPECTED
    assert from_csv.to_numpy().tolist() == EXPECTED
