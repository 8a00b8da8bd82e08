"""``report.xlsx``: the report as one Excel workbook a planner opens and filters.

Sheets *Summary*, *Residents* (with registrations), *PCNs*, *Practices*, *Findings*,
*Areas* (with registrations) and *Alignment* / *Alignment areas* (with community layers).
Numbers are numbers, every header row is frozen and carries an auto-filter, columns are as
wide as their contents (within limits), and the band status of a PCN is coloured by a
conditional format (so it stays right when a planner edits a figure). Every text cell is
formula-safe (:func:`geo_pcn._escape.excel_cell`).

The workbook is the same bytes on every run: its document properties carry a fixed date
and every entry of the zip archive a fixed timestamp.

Examples
--------
>>> import tempfile, pathlib
>>> import geo_pcn
>>> from geo_pcn.datasets import demo
>>> from openpyxl import load_workbook
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = write_xlsx(geo_pcn.validate(demo()), pathlib.Path(tmp) / "report.xlsx")
...     load_workbook(path).sheetnames
['Summary', 'Residents', 'PCNs', 'Practices', 'Findings', 'Areas', 'Alignment', 'Alignment areas']
"""

from __future__ import annotations

import datetime as dt
import io
import math
import numbers
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as _ILLEGAL
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment as CellAlignment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from geo_pcn._escape import excel_cell
from geo_pcn._json import dump_json
from geo_pcn._residents import residents_grid, residents_header, residents_notes
from geo_pcn._words import label
from geo_pcn.render._files import write_atomic
from geo_pcn.report import Report

__all__ = ["to_xlsx", "write_xlsx", "FIXED_TIME"]

#: The date written into the workbook's properties and zip entries (byte-identical runs).
FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)
#: Band status -> (fill, font) colours of the conditional format (as report.html).
_BAND = {
    "within": ("D3F0DC", "14532D"),
    "below": ("FDE2C8", "7C2D12"),
    "above": ("FBD0D0", "7F1D1D"),
    "exempt": ("DBE4F5", "1E3A8A"),
}
_SEVERITY = {"error": ("FBD0D0", "7F1D1D"), "warning": ("FDE2C8", "7C2D12")}
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def to_xlsx(report: Report) -> bytes:
    """The workbook of a report, as bytes (the same on every run).

    Parameters
    ----------
    report
        A :class:`~geo_pcn.report.Report`.

    Returns
    -------
    bytes
        An ``.xlsx`` file.
    """
    wb = Workbook()
    wb.remove(wb.active)
    _summary_sheet(wb.create_sheet("Summary"), report)
    if report.summary.get("residents"):
        _residents_sheet(wb.create_sheet("Residents"), report.summary["residents"])
    bulk: dict = {}  # sheet -> its cells by column, its row 2 (openpyxl's), its last row
    pcns = _frame_sheet(wb.create_sheet("PCNs"), report.pcns, bulk)
    _band_format(pcns, report.pcns, "band_status", _BAND)
    practices = report.practices
    _frame_sheet(wb.create_sheet("Practices"), practices, bulk)
    findings = report.findings_frame()
    sheet = _frame_sheet(wb.create_sheet("Findings"), findings, bulk)
    _band_format(sheet, findings, "severity", _SEVERITY)
    if report.areas is not None:
        _frame_sheet(wb.create_sheet("Areas"), report.areas, bulk)
    if report.alignment.layers:
        _frame_sheet(wb.create_sheet("Alignment"), report.alignment.pcn_table(), bulk)
        areas = report.alignment.area_table()
        if len(areas):
            _frame_sheet(wb.create_sheet("Alignment areas"), areas, bulk)
    props = wb.properties
    props.creator = "geo_pcn"
    props.title = excel_cell(f"PCN configuration check: {report.study.name}")
    props.created = props.modified = FIXED_TIME
    props.lastModifiedBy = None
    return _save(wb, bulk)


def _save(wb: Workbook, bulk: dict) -> bytes:
    """The workbook's bytes, with the rows kept in ``bulk`` (see :func:`_frame_sheet`)."""
    # ExcelWriter, not Workbook.save: save stamps "modified" with the time of the run
    # (stored, not deflated: _fixed_zip deflates every entry once, on its way out)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        ExcelWriter(wb, archive).save()
    # the sheets' paths and the cell styles' ids are known once openpyxl wrote them
    rows = {
        ws.path.lstrip("/"): (
            _rows_xml(values, [f' s="{c.style_id}"' if c.has_style else "" for c in row2]),
            last_row,
        )
        for ws, (values, row2, last_row) in bulk.items()
    }
    return _fixed_zip(buffer.getvalue(), rows)


def write_xlsx(report: Report, path: str | Path) -> Path:
    """Write :func:`to_xlsx` to ``path`` (whole or not at all) and return ``path``."""
    return write_atomic(path, to_xlsx(report))


# -- sheets ------------------------------------------------------------------------------------
def _cell(value: Any) -> Any:
    """A value as openpyxl should store it: numbers as numbers, missing as empty, text
    formula-safe."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, dict):  # JSON, never a Python repr
        value = dump_json(value, indent=None)
    return excel_cell(str(value))


def _frame_sheet(ws: Worksheet, frame: pd.DataFrame, bulk: dict | None = None) -> Worksheet:
    """``frame`` as a table: header row bold, frozen and filtered; widths from contents.

    With ``bulk`` (a dict), openpyxl holds only the header and the first row (so that it
    registers the cell styles in the order it always did), and the cells of every row are
    kept in ``bulk``, to be written as sheet XML cell for cell as openpyxl writes them
    (:func:`_rows_xml`) and put in place by :func:`_fixed_zip`: openpyxl takes about 15 us
    a cell.
    """
    columns = [str(c) for c in frame.columns]
    ws.append([excel_cell(c) for c in columns])
    plain = bulk is not None and len(frame) > 1 and len(columns) > 0
    values = _plain_columns(frame) if plain else None
    if values is None:
        for record in frame.itertuples(index=False, name=None):
            ws.append([_cell(v) for v in record])
    else:
        ws.append([column[0] for column in values])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = CellAlignment(vertical="top", wrap_text=False)
    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(frame), 1) + 1}"
    _widths(ws, frame, columns)
    for j, column in enumerate(columns, start=1):
        kind = frame[frame.columns[j - 1]].dtype
        if pd.api.types.is_float_dtype(kind):
            for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                row[0].number_format = "#,##0.0##"
        elif pd.api.types.is_integer_dtype(kind) and not column.endswith(("easting", "northing")):
            for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                row[0].number_format = "#,##0"
    if values is not None and bulk is not None:
        bulk[ws] = (values, ws[2], len(frame) + 1)
    return ws


def _plain_columns(frame: pd.DataFrame) -> list[list] | None:
    """Each column's cells as :func:`_cell` gives them, or ``None`` when a text would be
    refused by openpyxl or taken for a formula (openpyxl then writes the sheet itself).

    Whole-number, decimal and true/false numpy columns are converted at once (iterating a
    Series gives the same Python scalars); a text is escaped once however often it recurs.
    """
    columns = [_column_cells(frame.iloc[:, j]) for j in range(frame.shape[1])]
    for column in columns:
        # (the distinct cells first: every cell is a text, a number or None, all hashable)
        for value in {v for v in set(column) if isinstance(v, str)}:
            if (len(value) > 1 and value.startswith("=")) or _ILLEGAL.search(value):
                return None
    return columns


def _column_cells(values: pd.Series) -> list:
    """One column's cells as :func:`_cell` gives them, cell for cell."""
    kind = values.dtype
    if isinstance(kind, np.dtype) and kind.kind in "iub":
        return values.to_numpy().tolist()
    if isinstance(kind, np.dtype) and kind.kind == "f":
        array = values.to_numpy()
        cells = array.tolist()
        for i in np.flatnonzero(~np.isfinite(array)).tolist():
            cells[i] = None
        return cells
    if isinstance(kind, pd.StringDtype):  # text: each distinct one escaped once
        code, texts = pd.factorize(values)
        escaped = [excel_cell(t) for t in np.asarray(texts, dtype=object).tolist()]
        return np.asarray([*escaped, None], dtype=object)[code].tolist()  # -1: missing
    done: dict[str, Any] = {}
    cells = []
    # (text as an object array: the same values as iterating the Series, without a Python
    # call per value through Arrow)
    items = values.to_numpy(dtype=object) if isinstance(kind, pd.StringDtype) else values
    for value in items:
        if type(value) is str:
            cell = done.get(value)
            if cell is None:
                cell = done[value] = excel_cell(value)
            cells.append(cell)
        else:
            cells.append(_cell(value))
    return cells


def _rows_xml(columns: list[list], styles: list[str]) -> str:
    """Rows 2, 3... of a sheet as openpyxl's ``etree_write_cell`` writes them: inline
    strings (``&``, ``<``, ``>`` escaped; ``xml:space`` when padded), numbers as ``%.16g``,
    booleans as 1/0, a missing value only when its cell is styled."""
    out = []
    for j, (column, style) in enumerate(zip(columns, styles, strict=True)):
        letter = get_column_letter(j + 1)
        kinds = set(map(type, column))
        if kinds <= {int, float}:  # numbers only (not true/false): one format
            out.append(
                [
                    f'<c r="{letter}{i}"{style} t="n"><v>{v:.16g}</v></c>'
                    for i, v in enumerate(column, start=2)
                ]
            )
            continue
        if kinds <= {str, type(None)}:  # texts: each distinct one written once
            out.append(_text_cells(letter, column, style))
            continue
        cells = []
        for i, value in enumerate(column, start=2):
            if value is None or isinstance(value, str):
                tail = _text_tail(value, style)
            elif isinstance(value, bool):
                tail = f'{style} t="b"><v>{int(value)}</v></c>'
            else:
                tail = f'{style} t="n"><v>{value:.16g}</v></c>'
            cells.append(f'<c r="{letter}{i}"{tail}' if tail else "")
        out.append(cells)
    return "".join(
        f'<row r="{i}">{"".join(cells)}</row>'
        for i, cells in enumerate(zip(*out, strict=True), start=2)
    )


def _widths(ws: Worksheet, frame: pd.DataFrame, columns: list[str]) -> None:
    for j, column in enumerate(columns, start=1):
        values = frame[frame.columns[j - 1]].head(500)
        longest = max([len(column), *(len(_shown(v)) for v in values)], default=len(column))
        width = min(max(longest + 2, _MIN_WIDTH), _MAX_WIDTH)
        ws.column_dimensions[get_column_letter(j)].width = width


def _shown(value: Any) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return "" if math.isnan(float(value)) else f"{float(value):,.3f}"
    return str(value)


def _band_format(ws: Worksheet, frame: pd.DataFrame, column: str, colours) -> None:
    """Colour the cells of ``column`` by their value (a conditional format per value)."""
    if column not in frame.columns or not len(frame):
        return
    letter = get_column_letter(list(frame.columns).index(column) + 1)
    ref = f"{letter}2:{letter}{len(frame) + 1}"
    for value, (fill, font) in colours.items():
        ws.conditional_formatting.add(
            ref,
            CellIsRule(
                operator="equal",
                formula=[f'"{value}"'],
                fill=PatternFill("solid", start_color=fill, end_color=fill),
                font=Font(color=font),
            ),
        )


def _summary_sheet(ws: Worksheet, report: Report) -> None:
    """Two columns, *item* and *value*: the verdict, the counts, the band, the study area,
    where the patients live, and the notes on the inputs."""
    s = report.summary
    rows: list[tuple[str, Any]] = [
        ("study", s["study"]),
        ("verdict", "PASS" if report.ok else "FAIL"),
        ("synthetic demo data", "yes" if s.get("synthetic") else "no"),
        ("errors", s["findings"]["error"]),
        ("warnings", s["findings"]["warning"]),
        ("notes", s["findings"]["info"]),
        ("practices", s["n_practices"]),
        ("PCNs", s["n_pcns"]),
        ("registered patients", s["n_patients"]),
        ("practices in no PCN", s["n_practices_in_no_pcn"]),
        ("patients at practices in no PCN", s["n_patients_in_no_pcn"]),
        ("band: lower limit (patients)", s["band"][0]),
        ("band: upper limit (patients)", s["band"][1]),
        ("exempt PCNs", ", ".join(s["exempt"]) or "none"),
        ("territories from", s["footprint_method"]),
    ]
    for status in _BAND:
        n = int((report.pcns["band_status"] == status).sum()) if len(report.pcns) else 0
        rows.append((f"PCNs {status} the band" if status != "exempt" else "PCNs exempt", n))
    if "study_area" in s:
        rows += _labelled("study area", s["study_area"])
        rows += _labelled("patients", s["patients_by_residence"])
    for i, note in enumerate(report.study.notes, start=1):
        rows.append((f"note on the inputs {i}", note))
    ws.append(["item", "value"])
    for key, value in rows:
        ws.append([excel_cell(key), _cell(value)])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:B{len(rows) + 1}"
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 100
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        cell = row[0]
        if isinstance(cell.value, int) and not isinstance(cell.value, bool):
            cell.number_format = "#,##0"
        cell.alignment = CellAlignment(wrap_text=True, vertical="top", horizontal="left")
    ws["B2"].font = Font(bold=True, color="1A7F37" if report.ok else "B42318")


def _labelled(prefix: str, values: dict, *, sep: str = ": ") -> list[tuple[str, Any]]:
    """Summary rows of a (possibly nested) dict: each key in words
    (:func:`geo_pcn._words.label`), a nested dict as one row per entry and a list as its
    items joined, so that no cell holds a Python dict."""
    rows: list[tuple[str, Any]] = []
    for key, value in values.items():
        name = f"{prefix}{sep}{label(str(key))}"
        if isinstance(value, dict):
            rows += _labelled(name, value, sep=": ")
        elif isinstance(value, list | tuple):
            rows.append((name, ", ".join(str(v) for v in value)))
        else:
            rows.append((name, value))
    return rows


def _residents_sheet(ws: Worksheet, table: dict) -> None:
    """The residents table (every resident of the areas given accounted for): the grid,
    numbers as numbers, then its notes as rows of the first column."""
    header = residents_header(table)
    grid = residents_grid(table)
    notes = [[note] + [None] * (len(header) - 1) for note in residents_notes(table)]
    frame = pd.DataFrame(grid + notes, columns=header).astype(object)
    _frame_sheet(ws, frame)
    for row in ws.iter_rows(min_row=2, max_row=len(grid) + 1, min_col=2, max_col=len(header)):
        for cell in row:
            cell.number_format = "#,##0"
    ws.column_dimensions["A"].width = 60


def _text_cells(letter: str, column: list, style: str) -> list[str]:
    """The cells of a column of texts (and missing values) as :func:`_rows_xml` writes
    them, each distinct text's markup made once."""
    tails: dict = {}
    cells = []
    for i, value in enumerate(column, start=2):
        tail = tails.get(value)
        if tail is None:
            tail = tails[value] = _text_tail(value, style)
        cells.append(f'<c r="{letter}{i}"{tail}' if tail else "")
    return cells


def _text_tail(value: str | None, style: str) -> str:
    """What follows ``<c r="A2"`` in the cell of ``value`` (``""``: no cell)."""
    if value is None:
        return f'{style} t="n" />' if style else ""
    value = value[:32767]
    if value == "":
        return f'{style} t="inlineStr" />'
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""
    return f'{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _fixed_zip(payload: bytes, bulk: dict[str, tuple[str, int]] | None = None) -> bytes:
    """The archive rewritten with every entry dated :data:`FIXED_TIME` (openpyxl stamps
    the current time), in the same order, deflated; the sheets of ``bulk`` get their rows
    (:func:`_frame_sheet`)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(payload)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            data = source.read(info.filename)
            if bulk and info.filename in bulk:
                data = _with_rows(data, *bulk[info.filename])
            target.writestr(fixed, data)
    return out.getvalue()


def _with_rows(sheet: bytes, rows: str, last_row: int) -> bytes:
    """A sheet openpyxl wrote with its header and first row, given all its rows: the rows
    from 2 on replaced, and the dimension's last row set."""
    text = sheet.decode("utf-8")
    start = text.index('<row r="2">')
    end = text.index("</sheetData>", start)
    text = text[:start] + rows + text[end:]
    text = re.sub(r'(<dimension ref="A1:[A-Z]+)2"', rf'\g<1>{last_row}"', text, count=1)
    return text.encode("utf-8")
