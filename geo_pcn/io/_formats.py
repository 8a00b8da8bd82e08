"""Detect the practice-level NHS/ODS file formats and rename them to canonical columns.

Used by :mod:`geo_pcn.io.nhs` (practices, configurations, list sizes, sites) and
:mod:`geo_pcn.io.locations` (practice coordinates). Formats are recognised by their
columns and values, never by the file name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from geo_pcn import settings as s
from geo_pcn.errors import InputError, SchemaError, list_some
from geo_pcn.io.tables import (
    Source,
    _whole,
    apply_where,
    excel_engine,
    find_column,
    match_columns,
    normalise_name,
    read_table,
    sheet_names,
    split_where,
)

#: The practice status column read_practices hands back: one of :data:`STATUSES`, or ``""``
#: when the file says nothing (the NHS England map lists open practices only).
STATUS = "status"
#: Normalised practice statuses.
STATUSES = ("active", "dormant", "closed", "proposed", "inactive")
#: Status words and ODS letters -> normalised status.
_STATUS_WORDS = {
    "A": "active",
    "ACTIVE": "active",
    "OPEN": "active",
    "C": "closed",
    "CLOSED": "closed",
    "D": "dormant",
    "DORMANT": "dormant",
    "P": "proposed",
    "PROPOSED": "proposed",
    "I": "inactive",
    "INACTIVE": "inactive",
    "": "",
}

#: Aliases of the practice-level columns in plain tables (first match wins).
PRACTICE_ALIASES: dict[str, list[str]] = {
    s.PRACTICE_CODE: [
        "practice_code",
        "Practice Code",
        "PRACTICE_ID",
        "PRAC_CODE",
        "ORG_CODE",
        "Organisation Code",
        "ODS Code",
        "ODS_CODE",
        "GP code",
        "GP_PRACTICE_CODE",
        "Partner Organisation Code",
        "Code",
    ],
    s.PRACTICE_NAME: [
        "practice_name",
        "Practice Name",
        "ORG_NAME",
        "Organisation Name",
        "Partner Name",
        "GP name",
        "Name",
    ],
    s.POSTCODE: ["postcode", "PRACTICE_POSTCODE", "Post Code", "pcds", "pcd", "pcd2"],
    s.PCN_CODE: ["pcn_code", "PCN Code", "PCN_ODS_CODE", "PCN_ID"],
    s.PCN_NAME: ["pcn_name", "PCN Name", "PCN"],
    s.SUB_ICB_CODE: [
        "sub_icb_code",
        "SUB_ICB_LOCATION_CODE",
        "Sub ICB Location Code",
        "SUB_ICB_LOC_CODE",
        "Practice Parent Sub ICB Loc Code",
        "Practice Parent CCG Code",
        "SICBL_CODE",
        "CCG_ODS_CODE",
        "CCG_CODE",
        "CCG Code",
    ],
    s.ONS_SUB_ICB_CODE: [
        "ons_sub_icb_code",
        "ONS_SUB_ICB_LOCATION_CODE",
        "ONS_SUB_ICB_CODE",
        "CCG_ONS_CODE",
        "ONS_CCG_CODE",
    ],
    s.SUB_ICB_NAME: [
        "sub_icb_name",
        "SUB_ICB_LOCATION_NAME",
        "Sub ICB Location Name",
        "Practice Parent Sub ICB Loc Name",
        "Practice Parent CCG Name",
        "CCG_NAME",
    ],
    # the ICB columns of the July 2022 map (ICB22, ICB22ons) before its older STP ones
    s.ICB_CODE: ["icb_code", "ICB", "ICB22", "STP_ODS_CODE", "STP_CODE"],
    s.ONS_ICB_CODE: ["ons_icb_code", "ICB22ons", "STP_ONS_CODE", "ONS_STP_CODE"],
    s.ICB_NAME: ["icb_name", "STP_NAME"],
    s.LIST_SIZE: [
        "list_size",
        "List Size",
        "NUMBER_OF_PATIENTS",
        "PRACTICE_LIST_SIZE",
        "Patients",
        "Registered Patients",
        "GP list",
    ],
    STATUS: ["status", "practice_status", "Organisation Status", "ORG_STATUS"],
    "_setting": ["PrescribingSetting", "Prescribing Setting", "PRESCRIBING_SETTING"],
    s.EASTING: ["easting", "eastings", "oseast1m", "BNG_E", "X"],
    s.NORTHING: ["northing", "northings", "osnrth1m", "BNG_N", "Y"],
    s.LATITUDE: ["latitude", "Latitude_1m", "lat", "LAT"],
    s.LONGITUDE: ["longitude", "Longitude_1m", "long", "lon", "lng", "LONG"],
}

#: Columns a practices table can hand back (in this order).
PRACTICE_COLUMNS = [
    s.PRACTICE_CODE,
    s.PRACTICE_NAME,
    s.POSTCODE,
    s.PCN_CODE,
    s.PCN_NAME,
    s.SUB_ICB_CODE,
    s.ONS_SUB_ICB_CODE,
    s.SUB_ICB_NAME,
    s.ICB_CODE,
    s.ONS_ICB_CODE,
    s.ICB_NAME,
    s.LIST_SIZE,
    STATUS,
    s.EASTING,
    s.NORTHING,
    s.LATITUDE,
    s.LONGITUDE,
]

#: Columns of the ODS header-less organisation files (epraccur, edispensary...).
ODS_COLUMNS: dict[str, list[str]] = {
    s.PRACTICE_CODE: ["0"],
    s.PRACTICE_NAME: ["1"],
    "_region": ["2"],
    s.ICB_CODE: ["3"],
    s.POSTCODE: ["9"],
    STATUS: ["12"],
    s.SUB_ICB_CODE: ["14"],
    "_setting": ["25"],
}

#: Canonical columns of the ePCN workbook's "PCN Core Partner Details" sheet.
EPCN_COLUMNS: dict[str, list[str]] = {
    s.PRACTICE_CODE: ["Partner Organisation Code"],
    s.PRACTICE_NAME: ["Partner Name"],
    s.SUB_ICB_CODE: ["Practice Parent Sub ICB Loc Code", "Practice Parent CCG Code"],
    s.SUB_ICB_NAME: ["Practice Parent Sub ICB Loc Name", "Practice Parent CCG Name"],
    s.PCN_CODE: ["PCN Code"],
    s.PCN_NAME: ["PCN Name"],
    "_start": ["Practice to PCN Relationship Start Date"],
    "_end": ["Practice to PCN Relationship End Date"],
}

_ODS_CLASSIC_STATUS = {"A", "C", "D", "P"}
_ODS_WORD_STATUS = {"ACTIVE", "INACTIVE", "DORMANT", "PROPOSED", "CLOSED"}
_NHS_MAP_KEYS = {"PRACTICECODE", "PCNCODE", "SUBICBLOCATIONCODE"}


def ods_layout(raw: pd.DataFrame) -> str | None:
    """Name the ODS header-less layout of ``raw``, or ``None``.

    ``"epraccur"`` (2025+ words ``ACTIVE``/``INACTIVE`` and role ``RO76``),
    ``"epraccur_classic"`` (status ``A/C/D/P``, prescribing setting ``4``) or
    ``"ods_organisations"`` (same layout without a practice role, e.g. edispensary).
    """
    if not all(isinstance(c, int) for c in raw.columns) or raw.shape[1] < 26:
        return None
    status = set(raw[12].str.strip().str.upper().unique()) - {""}
    setting = raw[25].str.strip().str.upper()
    if status and status <= _ODS_WORD_STATUS:
        return "epraccur" if (setting == "RO76").any() else "ods_organisations"
    if status and status <= _ODS_CLASSIC_STATUS:
        return "epraccur_classic" if (setting == "4").any() else "ods_organisations"
    return None


def ods_active(frame: pd.DataFrame, column: str = STATUS) -> pd.Series:
    """Rows of an ODS organisation file whose status is active (``A`` or ``ACTIVE``)."""
    return frame[column].str.strip().str.upper().isin({"A", "ACTIVE"})


def normalise_status(frame: pd.DataFrame, *, source: str) -> pd.Series:
    """The ``status`` column as one of :data:`STATUSES` (or ``""``); raise naming the rows
    whose status is not recognised."""
    raw = frame[STATUS].fillna("").astype(str).str.strip().str.upper()
    status = raw.map(_STATUS_WORDS)
    unknown = status.isna()
    if unknown.any():
        first = frame.attrs.get("first_line", 2)
        rows = [f"line {int(i) + first} ({raw[i]!r})" for i in frame.index[unknown]]
        raise InputError(
            f"{source}: practice status not recognised at {list_some(rows)}; use active, "
            "dormant, closed, proposed or inactive (or the ODS letters A, D, C, P)"
        )
    return status.astype(str)


def pick_sheet(path, options: Mapping[str, object], wanted: Sequence[str]) -> str | int | None:
    """The Excel sheet to read: ``options["sheet"]``, else the first holding ``wanted``."""
    if "sheet" in options:
        return options["sheet"]  # type: ignore[return-value]
    names = sheet_names(path)
    if len(names) < 2:
        return None
    keys = {normalise_name(w) for w in wanted}
    with pd.ExcelFile(path, engine=excel_engine()) as book:
        for name in names:
            head = pd.read_excel(book, sheet_name=name, nrows=0)
            if keys & {normalise_name(c) for c in head.columns}:
                return name
    return None


def count(skipped: dict[str, int], reason: str, n: int) -> None:
    """Add ``n`` rows left out for ``reason`` (nothing when ``n`` is 0)."""
    if n:
        skipped[reason] = skipped.get(reason, 0) + int(n)


def filter_where(
    frame: pd.DataFrame, where: Mapping[str, object], skipped: dict[str, int], *, source: str
) -> pd.DataFrame:
    """Apply an equality filter, counting the rows it leaves out."""
    if not where:
        return frame
    out = apply_where(frame, where, source=source)
    count(skipped, "outside the where filter", len(frame) - len(out))
    return out


def canonical_where_error(source: Source, keys, raw: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Raise for ``where`` keys that are neither raw nor canonical columns."""
    missing = [k for k in keys if find_column(frame, (k,)) is None]
    if missing:
        raise SchemaError(
            f"{source.label}: 'where' names column(s) {', '.join(map(repr, missing))}, not in "
            f"the file (columns {list_some(raw.columns, 10)}) nor among the columns read "
            f"({', '.join(map(str, frame.columns))}); fix the where filter"
        )


def _ods_dates(values: pd.Series, column: str, frame: pd.DataFrame, source: str) -> pd.Series:
    """ODS dates (``20220401``, or ISO ``2022-04-01``) as datetimes; ``NaT`` for blanks;
    raise naming the rows that are not dates."""
    text = values.str.replace("-", "", regex=False).str.slice(0, 8)
    dates = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    bad = dates.isna() & values.ne("")
    if bad.any():
        first = frame.attrs.get("first_line", 2)
        rows = [f"line {int(i) + first} ({values[i]!r})" for i in values.index[bad]]
        raise InputError(
            f"{source}: {column} is not a date at {list_some(rows)}; write dates as "
            "YYYYMMDD or YYYY-MM-DD"
        )
    return dates


def _in_force(
    frame: pd.DataFrame, as_of: str, skipped: dict[str, int], *, source: str
) -> pd.DataFrame:
    """The ePCN relationships in force on ``as_of`` (ISO date): started on or before it and
    not ended before it (an end date is the relationship's last day: ODS ends one on 31
    March and starts the next on 1 April; one that ends on the day another of the same
    practice starts gives way to it). Every other row is counted in ``skipped``."""
    if "_start" not in frame.columns:
        raise SchemaError(
            f"{source}: as_of = {as_of} needs the column 'Practice to PCN Relationship Start "
            "Date' of the ePCN workbook, which this sheet lacks; give the whole workbook"
        )
    day = pd.Timestamp(as_of)
    start = _ods_dates(frame["_start"], "Practice to PCN Relationship Start Date", frame, source)
    end_text = frame["_end"] if "_end" in frame.columns else pd.Series("", frame.index)
    end = _ods_dates(end_text, "Practice to PCN Relationship End Date", frame, source)
    not_yet = start.notna() & (start > day)  # no start date: in force from the first
    ended = ~not_yet & end.notna() & (end < day)
    count(skipped, f"practice-PCN relationship not started by {as_of}", not_yet.sum())
    count(skipped, f"practice-PCN relationship ended before {as_of}", ended.sum())
    # a hand-over on the day itself (ODS ends one relationship on the date the next starts,
    # e.g. F82001 on 2022-07-01 in the January 2023 workbook): the one that starts wins
    live = ~(not_yet | ended)
    starts_today = live & start.eq(day)
    code = s.PRACTICE_CODE
    handed = live & end.eq(day) & frame[code].isin(frame.loc[starts_today, code])
    count(skipped, f"practice-PCN relationship handed over on {as_of}", handed.sum())
    return frame[live & ~handed]


def load_practice_table(source: Source, *, what: str) -> pd.DataFrame:
    """Read any practice-level table and rename its columns to canonical names.

    Returns the canonical columns the file has (all text, stripped), the index being the
    row's position in the file, and ``attrs``: ``path``, ``format``, ``skipped``,
    ``first_line``. Filters are applied (``where``, GP practices of epraccur, open ePCN
    relationships) and every row left out is counted in ``attrs["skipped"]``. ``status``
    is normalised (:func:`normalise_status`), ``""`` when the file has none; practices
    that are not active are kept.
    """
    path = source.path
    sheet = pick_sheet(path, source.options, ["Partner Organisation Code"])
    raw = read_table(path, role=what, header=source.options.get("header"), sheet=sheet)
    first_line = raw.attrs["first_line"]
    skipped: dict[str, int] = {}
    raw_where, canon_where = split_where(raw, source.where)
    fmt, schema = _practice_format(raw, source, what)
    frame = filter_where(raw, raw_where, skipped, source=source.label)
    frame = match_columns(
        frame,
        schema,
        required=[s.PRACTICE_CODE],
        explicit=source.columns,
        source=source.label,
        what=f"{what} file",
    )
    frame = frame.apply(lambda c: c.fillna("").astype(str).str.strip())
    canonical_where_error(source, canon_where, raw, frame)
    frame = filter_where(frame, canon_where, skipped, source=source.label)
    frame = _practice_rows(frame, fmt, source, skipped)
    if source.options.get("as_of") and fmt != "epcn":
        raise SchemaError(
            f"{source.label}: as_of = {source.options['as_of']} needs the ODS ePCN workbook "
            "(sheet 'PCN Core Partner Details', with relationship start and end dates); this "
            f"file is read as {fmt}; give the ePCN workbook or remove as_of"
        )
    if STATUS in frame.columns:
        frame = frame.assign(**{STATUS: normalise_status(frame, source=source.label)})
    else:
        frame = frame.assign(**{STATUS: ""})
    frame = frame[[c for c in frame.columns if not str(c).startswith("_")]].copy()
    blank = frame[s.PRACTICE_CODE].eq("")
    if blank.any():
        lines = [int(i) + first_line for i in frame.index[blank]]
        raise InputError(
            f"{source.label}: {blank.sum()} row(s) have no practice code (line(s) "
            f"{list_some(lines)}); fill in or delete those rows"
        )
    frame.attrs = {
        "path": str(path),
        "format": fmt,
        "skipped": skipped,
        "first_line": first_line,
        "columns": dict(frame.attrs.get("columns", {})),
    }
    extract = _extract_date(raw)
    if extract is not None:
        frame.attrs["extract_date"] = extract
    return frame


def _practice_format(raw: pd.DataFrame, source: Source, what: str) -> tuple[str, dict]:
    """The practice table's format (epraccur, ePCN, the NHS England map or a plain table)
    and the schema its columns are matched with; an ODS file of other organisations and a
    table with no practice code column raise."""
    layout = ods_layout(raw)
    keys = {normalise_name(c) for c in raw.columns}
    if layout in {"epraccur", "epraccur_classic"}:
        return layout, ODS_COLUMNS
    elif layout == "ods_organisations":
        raise SchemaError(
            f"{source.label}: an ODS organisation file with no GP practices (column 26 holds "
            "no RO76 / prescribing setting 4 rows), e.g. edispensary; read it as sites, or "
            "give the epraccur file for practices"
        )
    elif {"PARTNERORGANISATIONCODE", "PCNCODE"} <= keys:
        return "epcn", EPCN_COLUMNS
    elif keys >= _NHS_MAP_KEYS:
        return "nhs_map", PRACTICE_ALIASES
    if (
        find_column(raw, PRACTICE_ALIASES[s.PRACTICE_CODE]) is None
        and s.PRACTICE_CODE not in source.columns
    ):
        raise SchemaError(
            f"{source.label}: not a recognised {what} file (expected NHS England "
            "gp-reg-pat-prac-map, ODS epraccur or ePCN columns, or a practice code column "
            "such as practice_code / PRACTICE_CODE / ORG_CODE; the file has "
            f"{list_some(raw.columns, 10)}); name the columns in the study file with "
            'columns = { practice_code = "<column>", ... }'
        )
    return "table", PRACTICE_ALIASES


def _practice_rows(
    frame: pd.DataFrame, fmt: str, source: Source, skipped: dict[str, int]
) -> pd.DataFrame:
    """The rows that are GP practices (epraccur, ODS tables with a setting) or practice-PCN
    relationships in force (ePCN, on ``as_of`` when given); the rest counted in ``skipped``."""
    if fmt in {"epraccur", "epraccur_classic"}:
        # every GP practice is kept whatever its status (the study decides what to use)
        setting = frame["_setting"].str.upper()
        gp = setting.eq("RO76" if fmt == "epraccur" else "4")
        count(skipped, "not a GP practice", (~gp).sum())
        frame = frame[gp]
    elif "_setting" in frame.columns:  # e.g. ODS practices as a table (gp-practices.parquet)
        gp = frame["_setting"].str.upper().isin({"4", "GP PRACTICE", "RO76"})
        count(skipped, "not a GP practice", (~gp).sum())
        frame = frame[gp]
    elif fmt == "epcn" and source.options.get("as_of"):
        frame = _in_force(frame, str(source.options["as_of"]), skipped, source=source.label)
    elif fmt == "epcn":
        ended = frame["_end"].ne("") if "_end" in frame else pd.Series(False, frame.index)
        count(skipped, "practice-PCN relationship ended", ended.sum())
        frame = frame[~ended]
    return frame


def _extract_date(raw: pd.DataFrame):
    """The NHS England map's ``EXTRACT_DATE`` (``01Oct2025``), the most common one, as a
    :class:`datetime.date`; ``None`` when the file has no such column."""
    column = next((c for c in raw.columns if normalise_name(c) == "EXTRACTDATE"), None)
    if column is None:
        return None
    text = raw[column].astype(str).str.strip()
    dates = pd.to_datetime(text, format="%d%b%Y", errors="coerce").dropna()
    return None if dates.empty else dates.mode().min().date()


def lines_of(frame: pd.DataFrame, mask, first_line: int | None = None) -> list[int]:
    """File line numbers of the rows of ``frame`` selected by ``mask``."""
    first = frame.attrs.get("first_line", 2) if first_line is None else first_line
    return [int(i) + first for i in frame.index[mask]]


def canonical_table(
    raw: pd.DataFrame,
    source: Source,
    schema: Mapping[str, Sequence[str]],
    *,
    required: Sequence[str],
    what: str,
    expected: str,
    fmt: str = "table",
    numbers: Sequence[str] = (),
) -> pd.DataFrame:
    """Apply ``where`` (raw then canonical) to a table already read and rename its columns
    to canonical names.

    Every column becomes stripped text, except the canonical columns named in ``numbers``
    that hold whole numbers (a Parquet integer column read with ``read_table(...,
    numbers=True)``): those are kept as numbers for :func:`~geo_pcn.io.tables.to_number`.

    Raises a "not a recognised file" :class:`SchemaError` when none of the ``required``
    columns is found, and the usual missing-column error when only some are.
    """
    found = [c for c in required if c in source.columns or find_column(raw, schema[c]) is not None]
    if required and not found:
        hint = ", ".join(f'{c} = "<column>"' for c in required)
        raise SchemaError(
            f"{source.label}: not a recognised {what} file (expected {expected}; the file has "
            f"{list_some(raw.columns, 10)}); name the columns in the study file with "
            f"columns = {{ {hint} }}"
        )
    skipped: dict[str, int] = {}
    raw_where, canon_where = split_where(raw, source.where)
    frame = filter_where(raw, raw_where, skipped, source=source.label)
    frame = match_columns(
        frame,
        schema,
        required=required,
        explicit=source.columns,
        source=source.label,
        what=f"{what} file",
    )
    frame = frame.apply(
        lambda c: c if c.name in numbers and _whole(c) else c.fillna("").astype(str).str.strip()
    )
    canonical_where_error(source, canon_where, raw, frame)
    frame = filter_where(frame, canon_where, skipped, source=source.label)
    frame.attrs = {
        "path": str(source.path),
        "format": fmt,
        "skipped": skipped,
        "first_line": raw.attrs.get("first_line", 2),
        "columns": dict(frame.attrs.get("columns", {})),
    }
    return frame
