"""Excel read through python-calamine, openpyxl only as the fallback: the same text either way.

The hand-made workbook holds one cell of every kind a planner's export has::

    row 1:  code    | size | share | extract             | ccg   | note
    row 2:  A81001  | 1234 | 12.5  | 2022-07-01 (a date)  | "007" | (blank)

and the text each must become was worked out by hand from how the readers have always
shown Excel cells (a date cell as ``YYYY-MM-DD 00:00:00``, a whole number without ``.0``,
text with its leading zeros, a blank as ``""``).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from geo_pcn.io import Source, read_configuration, read_practices, tables
from geo_pcn.io.tables import excel_engine

EXPECTED = {
    "code": "A81001",
    "size": "1234",
    "share": "12.5",
    "extract": "2022-07-01 00:00:00",
    "ccg": "007",
    "note": "",
}


@pytest.fixture
def workbook(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "practices"
    sheet.append(list(EXPECTED))
    sheet.append(["A81001", 1234, 12.5, dt.datetime(2022, 7, 1), "007", None])
    path = tmp_path / "map.xlsx"
    book.save(path)
    return path


def _row(path):
    frame = tables._read_table(path, role="practices", header=True, sheet=None)
    return frame.iloc[0].to_dict()


def test_calamine_is_the_engine():
    pytest.importorskip("python_calamine")
    assert excel_engine() == "calamine"


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_every_cell_kind_reads_the_same(workbook, monkeypatch, engine):
    if engine == "calamine":
        pytest.importorskip("python_calamine")
    monkeypatch.setattr(tables, "excel_engine", lambda: engine)
    assert _row(workbook) == EXPECTED


def test_openpyxl_reads_what_calamine_cannot(workbook, monkeypatch):
    """A workbook the Rust parser refuses is read by openpyxl (the fallback), not refused."""
    real = pd.read_excel
    engines = []

    def picky(*args, engine=None, **kwargs):
        engines.append(engine)
        if engine == "calamine":
            raise RuntimeError("calamine: unsupported record")
        return real(*args, engine=engine, **kwargs)

    monkeypatch.setattr(tables, "excel_engine", lambda: "calamine")
    monkeypatch.setattr(tables.pd, "read_excel", picky)
    assert _row(workbook) == EXPECTED
    assert engines == ["calamine", "openpyxl"]


@pytest.mark.real_data
def test_july_2022_practice_map_xlsx(shared_data, monkeypatch):
    """The national practice map workbook of July 2022, filtered to QNC: 151 rows with
    ICB22 = QNC (counted with plain pandas over openpyxl, below); the same practices and
    PCNs whichever engine reads it."""
    path = shared_data / "national_2022" / "gp-reg-pat-prac-map-jul22.xlsx"
    raw = pd.read_excel(path, dtype=str, engine="openpyxl")
    qnc = raw[raw["ICB22"] == "QNC"]
    assert len(qnc) == 151
    frames = {}
    for engine in ("calamine", "openpyxl"):
        monkeypatch.setattr(tables, "excel_engine", lambda e=engine: e)
        frames[engine] = read_practices(Source(path, where={"ICB22": "QNC"}))
    for frame in frames.values():
        assert sorted(frame["practice_code"]) == sorted(qnc["PRACTICE_CODE"])
        assert frame["pcn_code"].nunique() == qnc["PCN_CODE"].nunique()
    pd.testing.assert_frame_equal(frames["calamine"], frames["openpyxl"])


@pytest.mark.real_data
def test_epcn_workbook_every_cell(shared_data):
    """Both sheets of the real ePCN workbook: every cell the same text as openpyxl gives."""
    pytest.importorskip("python_calamine")
    path = shared_data / "ods_2023_blackwellrd" / "ePCN.xlsx"
    for sheet in ("PCNDetails", "PCN Core Partner Details"):
        ours = tables._read_excel(path, sheet).fillna("")
        plain = pd.read_excel(path, sheet_name=sheet, header=None, dtype=str, engine="openpyxl")
        pd.testing.assert_frame_equal(ours, plain.fillna(""))
    frame = read_configuration(path)
    partners = pd.read_excel(
        path, sheet_name="PCN Core Partner Details", dtype=str, engine="openpyxl"
    )
    current = partners[partners.iloc[:, 9].isna()]  # no relationship end date
    assert set(frame["practice_code"]) <= set(current.iloc[:, 0])
