"""One side of a :class:`~geo_pcn.history.Diff`: who is in which PCN on a date, read from
a study file (validated), a configuration or map file (the ePCN workbook at a date), a
study, a report, a configuration or a table; and the ODS status that says why a practice
went.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError, SchemaError
from geo_pcn.io.nhs import read_practices
from geo_pcn.io.tables import Source
from geo_pcn.pipeline import validate
from geo_pcn.report import Report
from geo_pcn.settings import PCN_CODE, PCN_NAME, PRACTICE_CODE, PRACTICE_NAME
from geo_pcn.study import Study

__all__ = ["Extract", "read_extract", "split_at_date"]


_DATE_TAIL = re.compile(r"^(?P<path>.+)@(?P<date>\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Extract:
    """One side of a :class:`Diff`: who is in which PCN on a date, and what else is known.

    Attributes
    ----------
    label
        How the side is named in the outputs (the file, and its ``as_of`` date).
    membership
        Indexed by ``practice_code``: ``practice_name, pcn_code, pcn_name, status``
        (``""`` when not known; ``pcn_code`` ``""`` is no PCN).
    list_sizes
        Registered patients per practice, or ``None`` (a map without list sizes).
    report
        The validated report of a study, or ``None`` for a configuration file.
    """

    label: str
    membership: pd.DataFrame = field(repr=False)
    list_sizes: pd.Series | None = field(default=None, repr=False)
    report: Report | None = field(default=None, repr=False)


def split_at_date(text: str) -> tuple[str, str | None]:
    """``"ePCN.xlsx@2022-07-01"`` -> ``("ePCN.xlsx", "2022-07-01")``; a name without a
    date tail is returned whole with ``None``.

    Examples
    --------
    >>> split_at_date("ePCN.xlsx@2022-07-01"), split_at_date("map.csv")
    (('ePCN.xlsx', '2022-07-01'), ('map.csv', None))
    """
    match = _DATE_TAIL.match(str(text))
    if match is None:
        return str(text), None
    try:
        dt.date.fromisoformat(match["date"])
    except ValueError as exc:
        raise InputError(f"{text}: {match['date']} is not a date; write FILE@YYYY-MM-DD") from exc
    return match["path"], match["date"]


def _membership(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    if PCN_CODE not in frame.columns:
        raise SchemaError(
            f"{label}: no PCN column (looked for pcn_code / PCN_CODE / PCN Code); give a "
            "configuration or map file (practice_code,pcn_code[,pcn_name]) or a study file"
        )
    out = pd.DataFrame(index=pd.Index(frame[PRACTICE_CODE].astype(str), name=PRACTICE_CODE))
    for column in (PRACTICE_NAME, PCN_CODE, PCN_NAME, "status"):
        values = frame[column] if column in frame.columns else pd.Series("", frame.index)
        out[column] = values.fillna("").astype(str).to_numpy(dtype=object)
    return out.sort_index()


def _from_report(report: Report, label: str) -> Extract:
    config = report.configuration
    practices = report.study.practices
    codes = pd.Index(config.practice_codes, name=PRACTICE_CODE)
    pcn = config.assignments.reindex(codes).fillna("")
    frame = pd.DataFrame(
        {
            PRACTICE_CODE: codes,
            PRACTICE_NAME: practices["practice_name"].reindex(codes).fillna("").to_numpy(),
            PCN_CODE: pcn.to_numpy(),
            PCN_NAME: [config.name_of(c) if c else "" for c in pcn],
            "status": (
                practices["status"].reindex(codes).fillna("").to_numpy()
                if "status" in practices.columns
                else ""
            ),
        }
    )
    sizes = report.partition.list_sizes.reindex(codes).fillna(0).astype("int64")
    return Extract(label, _membership(frame, label), sizes, report)


def read_extract(source: Any, *, as_of: str | None = None, label: str | None = None) -> Extract:
    """One side of a diff, from whatever names it.

    Parameters
    ----------
    source
        A study file (``.toml``: read and validated), a configuration or map file (any
        file :func:`geo_pcn.io.nhs.read_configuration` reads; ``FILE@YYYY-MM-DD`` or
        ``as_of`` for the ePCN workbook on a date), a :class:`~geo_pcn.study.Study`, a
        :class:`~geo_pcn.report.Report`, a :class:`~geo_pcn.configuration.Configuration`
        or a frame ``practice_code, pcn_code[, pcn_name, practice_name]``.
    as_of
        The date (ISO) for an ePCN workbook.
    label
        How the side is named (default: the file name and date).

    Returns
    -------
    Extract
    """
    if isinstance(source, Extract):
        return source
    if isinstance(source, Report):
        return _from_report(source, label or source.study.name)
    if isinstance(source, Study):
        return _from_report(validate(source), label or source.name)
    if isinstance(source, Configuration):
        frame = source.to_frame()
        return Extract(label or "configuration", _membership(frame, "configuration"))
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        if PCN_CODE in frame.columns:
            frame[PCN_CODE] = frame[PCN_CODE].fillna("").astype(str)
        return Extract(label or "table", _membership(frame, label or "table"))
    text, tail = split_at_date(str(source))
    as_of = as_of or tail
    path = Path(text)
    name = label or (f"{path.name} at {as_of}" if as_of else path.name)
    if path.suffix.lower() == ".toml":
        if as_of:
            raise InputError(
                f"{path}: a date applies to an ePCN workbook, not a study file; put "
                "as_of = YYYY-MM-DD in the study file's [configuration] section"
            )
        study = Study.from_toml(path)
        return _from_report(validate(study), label or study.name)
    options = {"as_of": as_of} if as_of else {}
    frame = read_practices(Source(path, options=options))
    extract = frame.attrs.get("extract_date")
    if extract and not label and not as_of:
        name = f"{path.name} ({extract})"
    return Extract(name, _membership(frame, str(path)))


def _statuses(source: Any) -> pd.Series | None:
    """ODS status per practice (``closed``, ``dormant``...) from a practices file."""
    if source is None:
        return None
    frame = source if isinstance(source, pd.DataFrame) else read_practices(source)
    if "status" not in frame.columns:
        raise SchemaError(
            f"{frame.attrs.get('path', source)}: has no practice status; give ODS epraccur "
            "(or any practices file with a status column) for the reasons practices went"
        )
    return frame.set_index(PRACTICE_CODE)["status"].astype(str)
