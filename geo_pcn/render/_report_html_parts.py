"""Building blocks of ``report.html`` shared by its sections: numbers and text in cells,
sortable tables, plurals, fact lists, the size chart's bar colours."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from geo_pcn._escape import html_text as esc
from geo_pcn._words import with_unit

#: Bar colours of the size chart.
_BAR = {"within": "#3a9d5d", "below": "#e08a2c", "above": "#c53030", "exempt": "#5b7bc4"}


# -- pieces ------------------------------------------------------------------------------------
def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    """A definition list; labels and values are already escaped."""
    return '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _num_cell(value: Any, *, digits: int = 0, unit: str | None = None) -> str:
    """A number right-aligned with its sort key; ``digits`` decimals (one format for the
    whole column); with ``unit``, written with it (:func:`geo_pcn._words.with_unit`)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return '<td class=num data-v=""></td>'
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if not _is_number(value):  # a code where a number is usual (a recorded sub-ICB)
        return f'<td class=num data-v="">{esc(value)}</td>'
    if unit is not None:
        return f'<td class=num data-v="{float(value)!r}">{esc(with_unit(value, unit))}</td>'
    if isinstance(value, numbers.Integral):
        return f'<td class=num data-v="{int(value)}">{int(value):,}</td>'
    number = float(value)
    return f'<td class=num data-v="{number!r}">{number:,.{digits}f}</td>'


def _column_digits(name: str, values: pd.Series) -> int:
    """Decimals of a numeric column, the same on every row: none when every value is
    whole or the column is in metres; one for percentages and scores; two for km² and
    rates per 10,000; otherwise two when every value is below 10, else one."""
    known = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    if not len(known) or (known == known.round()).all() or name.endswith("_m"):
        return 0
    if name.startswith("pct") or "imd" in name:
        return 1
    if "km2" in name or "per_10k" in name:
        return 2
    return 2 if (known.abs() < 10).all() else 1


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str]],
    *,
    sortable: bool = True,
    cell_class: dict[str, str] | None = None,
    table_id: str | None = None,
    units: dict[str, Sequence[str | None]] | None = None,
) -> str:
    """``frame``'s ``columns`` (name, header) as a table; numeric columns right-aligned with a
    ``data-v`` sort key and one number format per column (:func:`_column_digits`), or
    written with each row's unit (``units``: column -> a unit per row); text escaped,
    missing values blank."""
    columns = [(c, h) for c, h in columns if c in frame.columns]
    units = units or {}
    numeric = {
        c
        for c, _ in columns
        if c in units
        or (pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))
    }
    digits = {c: _column_digits(c, frame[c]) for c in numeric if c not in units}
    head = "".join(
        f"<th{' class=num' if c in numeric else ''} scope=col>{esc(h)}</th>" for c, h in columns
    )
    rows = []
    for i, record in enumerate(frame[[c for c, _ in columns]].itertuples(index=False)):
        cells = []
        for (c, _), v in zip(columns, record, strict=True):
            if c in units:
                missing = v is None or (not isinstance(v, str) and pd.isna(v))
                cells.append(_num_cell(None if missing else v, unit=units[c][i]))
            elif c in numeric:
                cells.append(_num_cell(None if pd.isna(v) else v, digits=digits[c]))
            elif cell_class and c in cell_class:
                text = "" if pd.isna(v) else str(v)
                cells.append(f'<td class="{cell_class[c]}{esc(text)}">{esc(text)}</td>')
            else:
                cells.append(f"<td>{'' if v is None or v is pd.NA else esc(_text(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    attrs = (' class="sortable"' if sortable else "") + (f' id="{table_id}"' if table_id else "")
    return (
        f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _text(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _fmt(value: Any) -> str:
    if _is_number(value):
        number = float(value)
        return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"
    return str(value)
