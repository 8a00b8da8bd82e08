"""report.xlsx opened with openpyxl: sheet names, frozen headers, auto-filters, numbers as
numbers, formula-safe text (a practice named like a formula), the band status coloured by a
conditional format, and the same bytes on every run."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from geo_pcn import Study, validate
from geo_pcn.datasets import demo
from geo_pcn.render import to_xlsx, write_report

DEMO = Path(__file__).resolve().parents[1] / "boundaries" / "demo"
SHEETS = [
    "Summary",
    "Residents",
    "PCNs",
    "Practices",
    "Findings",
    "Areas",
    "Alignment",
    "Alignment areas",
]
EVIL_PRACTICE = '=HYPERLINK("http://evil.example","x")'
EVIL_PCN = "+SUM(A1:A9)"


@pytest.fixture(scope="module")
def report():
    return validate(demo())


@pytest.fixture(scope="module")
def workbook(report):
    return load_workbook(io.BytesIO(to_xlsx(report)))


def _header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def _column(ws, name: str) -> list:
    j = _header(ws).index(name)
    return [row[j].value for row in ws.iter_rows(min_row=2)]


def test_sheet_names(workbook):
    assert workbook.sheetnames == SHEETS


def test_every_sheet_frozen_and_filtered(workbook):
    for ws in workbook:
        assert ws.freeze_panes == "A2", ws.title
        last = ws.cell(row=1, column=ws.max_column).column_letter
        assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}", ws.title
        for letter, dim in ws.column_dimensions.items():
            assert 8 <= dim.width <= 100, (ws.title, letter)


def test_tables_are_whole(report, workbook):
    assert workbook["PCNs"].max_row == len(report.pcns) + 1
    assert _header(workbook["PCNs"]) == list(report.pcns.columns)
    assert workbook["Practices"].max_row == len(report.practices) + 1
    assert workbook["Findings"].max_row == len(report.findings) + 1
    assert workbook["Areas"].max_row == len(report.areas) + 1


def test_numbers_are_numbers(report, workbook):
    sizes = _column(workbook["PCNs"], "list_size")
    assert sizes == report.pcns["list_size"].tolist()
    assert all(type(v) is int for v in sizes)
    assert all(isinstance(v, float) for v in _column(workbook["PCNs"], "area_km2"))
    practices = workbook["Practices"]
    assert all(isinstance(v, int) for v in _column(practices, "list_size"))
    j = _header(practices).index("list_size")
    assert practices.cell(row=2, column=j + 1).data_type == "n"
    assert practices.cell(row=2, column=j + 1).number_format == "#,##0"
    values = [v for v in _column(workbook["Findings"], "value") if v is not None]
    assert values and all(isinstance(v, int | float) for v in values)
    summary = {r[0].value: r[1].value for r in workbook["Summary"].iter_rows(min_row=2)}
    assert summary["verdict"] == "FAIL"
    assert summary["registered patients"] == 508_614
    assert summary["band: lower limit (patients)"] == 30_000
    assert summary["patients: in the study area"] == 505_578
    assert summary["study area: decided from"].startswith("where the study's practices")


def test_band_status_has_a_conditional_format(workbook):
    ws = workbook["PCNs"]
    letter = ws.cell(row=1, column=_header(ws).index("band_status") + 1).column_letter
    rules = {
        str(cf.sqref): [(r.operator, r.formula[0]) for r in cf.rules]
        for cf in ws.conditional_formatting
    }
    ref = f"{letter}2:{letter}{ws.max_row}"
    assert ref in rules
    assert sorted(f for _, f in rules[ref]) == sorted(
        f'"{s}"' for s in ("within", "below", "above", "exempt")
    )
    assert {op for op, _ in rules[ref]} == {"equal"}
    severity = workbook["Findings"]
    assert len(list(severity.conditional_formatting)) == 1


def test_formula_safe_cells(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(DEMO, folder)
    practices = folder / "gp-reg-pat-prac-map.csv"
    text = practices.read_text().replace(
        "MARKET SQUARE SURGERY (SYNTHETIC)", '"' + EVIL_PRACTICE.replace('"', '""') + '"'
    )
    text = text.replace("BRACKENFORD CENTRAL PCN (SYNTHETIC)", EVIL_PCN)
    practices.write_text(text)
    report = validate(Study.from_toml(folder / "demo.toml"))
    wb = load_workbook(io.BytesIO(to_xlsx(report)))
    names = _column(wb["Practices"], "practice_name")
    assert "'" + EVIL_PRACTICE in names
    assert "'" + EVIL_PCN in _column(wb["PCNs"], "pcn_name")
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), (
                        ws.title,
                        cell.coordinate,
                        cell.value,
                    )
    messages = _column(wb["Findings"], "message")
    assert any(EVIL_PCN in m for m in messages)


def test_same_bytes_on_every_run(report):
    first = to_xlsx(report)
    time.sleep(1.1)
    assert to_xlsx(report) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and str(time.gmtime().tm_year) not in core


def test_validate_writes_report_xlsx(report, tmp_path):
    files = {p.name for p in write_report(report, tmp_path / "out", map_html=False)}
    assert {"report.xlsx", "report.html"} <= files
    wb = load_workbook(tmp_path / "out" / "report.xlsx")
    assert wb.sheetnames == SHEETS


@pytest.mark.real_data
@pytest.mark.slow
def test_qnc_workbook(qnc_study_file):
    report = validate(Study.from_toml(qnc_study_file))
    wb = load_workbook(io.BytesIO(to_xlsx(report)))
    assert wb.sheetnames[:6] == SHEETS[:6]
    assert wb["PCNs"].max_row == 26 and wb["Practices"].max_row == 142
    assert sum(_column(wb["PCNs"], "list_size")) == 1_210_283


def test_summary_holds_no_python_dict():
    """Issue 18: a study with the national registrations has a nested summary entry
    (``registrations_of_other_practices``) that reached the Summary sheet as a Python dict.
    Each entry is now a row of its own, in words."""
    report = validate(demo())
    summary = dict(report.summary)
    summary["study_area"] = {
        **summary["study_area"],
        "registrations_of_other_practices": {"n_practices": 6340, "n_patients": 60596001},
    }
    report.__dict__["summary"] = summary  # as geography builds it for the national file
    sheet = load_workbook(io.BytesIO(to_xlsx(report)))["Summary"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert not any(isinstance(v, str) and v.lstrip("'").startswith("{") for v in rows.values())
    assert rows["study area: registrations of practices outside the study: practices"] == 6340
    assert rows["study area: registrations of practices outside the study: patients"] == 60596001
    assert not any("_" in k for k in rows)  # keys in words
