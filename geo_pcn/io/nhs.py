"""NHS England and ODS files: practices, PCN membership, registrations, list sizes (and sites,
read by :mod:`geo_pcn.io.sites`, importable here too).

Formats are recognised by their columns and values, never by file name:

* NHS England ``gp-reg-pat-prac-map.csv`` (practice -> PCN -> sub-ICB -> ICB);
* ODS ``epraccur.csv`` (no header; the classic ``A/C/D/P`` + setting ``4`` layout and the
  2025+ ``ACTIVE`` + ``RO76`` layout) and other ODS organisation files (``edispensary.csv``);
* the ODS ePCN workbook (``ePCN.xlsx``, sheet "PCN Core Partner Details", Sub-ICB or
  CCG-era headers);
* NHS England ``gp-reg-pat-prac-lsoa-all.csv`` and ``gp-reg-pat-prac-all.csv``;
* QOF prevalence files (``PATIENT_LIST_TYPE``, ``PRACTICE_LIST_SIZE``);
* plain CSVs with recognisable column names, or columns named in the study file.

Every reader returns a new frame with ``attrs``: ``path``, ``format`` and ``skipped``
(reason -> number of rows deliberately left out).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo_pcn import settings as s
from geo_pcn._escape import excel_uncell
from geo_pcn.errors import InputError, SchemaError, list_some
from geo_pcn.io._cache import cached
from geo_pcn.io._formats import (
    PRACTICE_ALIASES,
    PRACTICE_COLUMNS,
    STATUS,
    STATUSES,
    canonical_table,
    count,
    lines_of,
    load_practice_table,
)
from geo_pcn.io._isin import isin
from geo_pcn.io.sites import read_sites  # noqa: F401 (importable here too)
from geo_pcn.io.tables import (
    MAX_PATIENTS,
    Source,
    find_column,
    normalise_name,
    read_table,
    to_number,
    warn,
)

__all__ = [
    "read_practices",
    "read_registrations",
    "read_list_sizes",
    "read_configuration",
    "read_sites",
    "AREA_KINDS",
]

#: Values of ``area_kind`` in :func:`read_registrations`.
AREA_KINDS = (
    "small_area",
    "unknown",
    "wales",
    "scotland",
    "northern_ireland",
    "crown_dependencies",
)

_CODE_COLUMNS = (
    s.PRACTICE_CODE,
    s.PCN_CODE,
    s.SUB_ICB_CODE,
    s.ONS_SUB_ICB_CODE,
    s.ICB_CODE,
    s.ONS_ICB_CODE,
)

_REGISTRATION_ALIASES = {
    s.PRACTICE_CODE: [
        "practice_code",
        "Practice Code",
        "ORG_CODE",
        "OrganisationCode",
        "Organisation Code",
        "GP code",
        "Code",
    ],
    s.AREA_CODE: [
        "LSOA_CODE",
        "area_code",
        "LSOA21CD",
        "lsoa21_code",
        "LSOA11CD",
        "lsoa11_code",
        "LSOA",
        "lsoa_code",
        "Area Code",
    ],
    s.N_PATIENTS: [
        "NUMBER_OF_PATIENTS",
        "n_patients",
        "patients",
        "Number of Patients",
        "registered_patients",
        "Patient",
        "count",
        "value",
    ],
    "_sex": ["SEX"],
}


def _finish(frame: pd.DataFrame, attrs: dict) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    out.attrs = {
        "path": attrs["path"],
        "format": attrs["format"],
        "skipped": dict(attrs["skipped"]),
    }
    for key in ("summed", "status_counts", "repeated"):
        if key in attrs:
            out.attrs[key] = dict(attrs[key])
    if "extract_date" in attrs:
        out.attrs["extract_date"] = attrs["extract_date"]
    return out


def _tidy_practices(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Normalise codes, unallocated PCNs and duplicates of a canonical practices frame."""
    attrs = dict(frame.attrs)
    attrs["skipped"] = dict(attrs["skipped"])
    frame = frame[[c for c in PRACTICE_COLUMNS if c in frame.columns]].copy()
    for col in _CODE_COLUMNS:
        if col in frame.columns:
            frame[col] = frame[col].str.strip().str.upper()
    if s.POSTCODE in frame.columns:
        frame[s.POSTCODE] = frame[s.POSTCODE].str.upper().str.split().str.join(" ").fillna("")
    if s.PCN_NAME in frame.columns and s.PCN_CODE not in frame.columns:
        # the name identifies the PCN
        frame.insert(frame.columns.get_loc(s.PCN_NAME), s.PCN_CODE, frame[s.PCN_NAME].str.strip())
    if s.PCN_CODE in frame.columns:
        unallocated = frame[s.PCN_CODE].str.upper().isin(s.UNALLOCATED_PCN_CODES)
        if s.PCN_NAME in frame.columns:
            unallocated |= frame[s.PCN_NAME].str.strip().str.upper().eq("UNALLOCATED")
            frame.loc[unallocated, s.PCN_NAME] = ""
        frame.loc[unallocated, s.PCN_CODE] = ""
    exact = frame.duplicated(keep="first")
    count(attrs["skipped"], "duplicate row", exact.sum())
    frame = frame[~exact]
    if s.PCN_CODE in frame.columns:
        pairs = frame[[s.PRACTICE_CODE, s.PCN_CODE]]
        n_pcns = pairs.groupby(s.PRACTICE_CODE)[s.PCN_CODE].transform("nunique")
        clash = n_pcns.gt(1)
        if clash.any():
            rows = frame[clash]
            parts = []
            first = attrs.get("first_line", 2)
            for code, group in rows.groupby(s.PRACTICE_CODE, sort=True):
                where = ", ".join(
                    f"{pcn or 'unallocated'} (line {int(i) + first})"
                    for i, pcn in group[s.PCN_CODE].items()
                )
                parts.append(f"{code} in {where}")
            raise InputError(
                f"{label}: {rows[s.PRACTICE_CODE].nunique()} practice(s) are listed in "
                f"different PCNs: {list_some(parts, 3)}; keep one row per practice"
            )
    again = frame[s.PRACTICE_CODE].duplicated(keep="first")
    count(attrs["skipped"], "practice listed again (same PCN, other details differ)", again.sum())
    frame = frame[~again]
    frame.attrs = attrs
    return frame


def read_practices(source: Source | str | Path) -> pd.DataFrame:
    """Read GP practices (and their PCN, sub-ICB and ICB where the file has them).

    Parameters
    ----------
    source
        NHS England ``gp-reg-pat-prac-map.csv``, ODS ``epraccur.csv`` (every GP practice,
        whatever its status; other organisations left out), the ODS ePCN workbook (open
        practice-PCN relationships kept), or a plain table (CSV, Excel, Parquet) with a
        practice code column (and optionally ``status``; rows whose ``PrescribingSetting``
        is not "GP Practice" are left out). A :class:`~geo_pcn.io.tables.Source` may name columns
        (``columns``) and filter rows (``where``, on raw or canonical columns).

    Returns
    -------
    pandas.DataFrame
        One row per practice with the canonical columns the file has, among
        ``practice_code, practice_name, postcode, pcn_code, pcn_name, sub_icb_code,
        ons_sub_icb_code, sub_icb_name, icb_code, ons_icb_code, icb_name, list_size,
        status, easting, northing, latitude, longitude`` (all text). ``status`` is always
        there: ``active``, ``dormant``, ``closed``, ``proposed`` or ``inactive`` (ODS
        ``A/D/C/P`` letters and the 2025+ words are normalised), or ``""`` when the file
        has no status (the NHS England map, the ePCN workbook). Codes are stripped and upper
        case; an unallocated practice (PCN ``U``, blank or "Unallocated") has ``pcn_code``
        and ``pcn_name`` ``""``; a file with PCN names but no codes uses the name as the
        code. ``attrs``: ``path``, ``format`` (``nhs_map``, ``epraccur``,
        ``epraccur_classic``, ``epcn`` or ``table``), ``skipped``, ``extract_date`` (the
        NHS England map's ``EXTRACT_DATE``, when it has one) and ``status_counts``
        (status -> number of practices, e.g. ``{"active": 6599, "inactive": 1534,
        "dormant": 50}``; empty when the file has no status).

    Raises
    ------
    InputError
        Missing/empty file, rows without a practice code, a practice listed in two
        different PCNs, or a status that is not recognised.
    SchemaError
        Format not recognised, or a named column is missing.
    """
    src = Source.coerce(source)
    frame = load_practice_table(src, what="practices")
    extract = frame.attrs.get("extract_date")
    frame = _tidy_practices(frame, src.label)
    if extract is not None:
        frame.attrs["extract_date"] = extract
    counts = frame[STATUS].value_counts()
    frame.attrs["status_counts"] = {k: int(counts[k]) for k in STATUSES if k in counts.index}
    return _finish(frame, frame.attrs)


def read_configuration(source: Source | str | Path) -> pd.DataFrame:
    """Read a proposed configuration: which PCN each practice is in.

    Parameters
    ----------
    source
        A plain CSV ``practice_code,pcn_code[,pcn_name]`` (or ``practice_code,pcn_name``),
        or any file :func:`read_practices` understands that carries PCNs. For the ePCN
        workbook, ``options["as_of"]`` (an ISO date, ``[configuration] as_of`` in a study
        file) keeps the relationships in force on that date (started on or before it, not
        ended before it) instead of the open ones.

    Returns
    -------
    pandas.DataFrame
        ``practice_code, pcn_code, pcn_name`` (one row per practice; ``""`` for an
        unallocated practice; ``pcn_name`` is ``""`` when the file has no names).

    Raises
    ------
    SchemaError
        The file has no PCN column.
    InputError
        As :func:`read_practices` (e.g. a practice in two PCNs).
    """
    src = Source.coerce(source)
    frame = load_practice_table(src, what="configuration")
    if s.PCN_CODE not in frame.columns and s.PCN_NAME not in frame.columns:
        raise SchemaError(
            f"{src.label}: configuration file has no PCN column (looked for pcn_code / "
            f"PCN_CODE / PCN Code / pcn_name; the file gives {', '.join(frame.columns)}); "
            'name it in the study file with columns = { pcn_code = "<column>" }'
        )
    frame = _tidy_practices(frame, src.label)
    if s.PCN_NAME not in frame.columns:
        frame[s.PCN_NAME] = ""
    out = frame[[s.PRACTICE_CODE, s.PCN_CODE, s.PCN_NAME]].copy()
    for column in (s.PCN_CODE, s.PCN_NAME):  # undo Configuration.to_csv's formula guard
        out[column] = out[column].map(excel_uncell)
    return _finish(out, frame.attrs)


def _area_kind(codes: pd.Series) -> pd.api.extensions.ExtensionArray:
    """Classify residence codes: other UK nations and crown dependencies by their ONS
    prefixes, ``unknown`` for pseudo codes without digits (``CLOSED``, ``EMPTY``, blank),
    and ``small_area`` for everything else (English LSOAs, or a study's own area codes).

    A text array (``str`` dtype), one class a code.

    >>> list(_area_kind(pd.Series(["E01000001", "W01000002", "CLOSED", "E01000001"])))
    ['small_area', 'wales', 'unknown', 'small_area']
    """
    # each distinct code classed once (33,000 codes, not 870,000 national rows); text
    # columns are factorised as they are (converting 870,000 codes first costs 0.2 s)
    if not isinstance(codes.dtype, pd.StringDtype):
        codes = pd.Series(codes.to_numpy(), dtype="str")
    where, distinct = pd.factorize(codes, use_na_sentinel=False)
    c = pd.Series(distinct, dtype="str").str.upper().str.strip()
    conditions = [
        c.str.match(r"^W\d{8}$").to_numpy(dtype=bool),
        c.str.match(r"^S\d{8}$").to_numpy(dtype=bool),
        c.str.match(r"^(?:N\d{8}|95)").to_numpy(dtype=bool),
        c.str.match(r"^(?:L99|M99)").to_numpy(dtype=bool),
        ~c.str.contains(r"\d").to_numpy(dtype=bool),
    ]
    kinds = ["wales", "scotland", "northern_ireland", "crown_dependencies", "unknown"]
    # the classes of the distinct codes made text once, then taken to the rows (building
    # text for 870,000 rows from Python strings costs 0.3 s)
    return pd.array(np.select(conditions, kinds, default="small_area"), dtype="str").take(where)


def read_registrations(source: Source | str | Path) -> pd.DataFrame:
    """Read registered patients by practice by small area (LSOA).

    Parameters
    ----------
    source
        NHS England ``gp-reg-pat-prac-lsoa-all.csv`` layout: ``LSOA_CODE, PRACTICE_CODE,
        NUMBER_OF_PATIENTS`` (any other and blank-header columns ignored), the NHS
        male/female file (``SEX`` ``MALE``/``FEMALE``: summed per practice and area), or a
        CSV with recognisable or named columns.

    Returns
    -------
    pandas.DataFrame
        ``practice_code, area_code, n_patients`` (int64), ``area_kind``: ``small_area``
        (E/W... LSOA codes in England), ``wales`` (W01...), ``scotland`` (S01...),
        ``northern_ireland`` (N21.../95...), ``crown_dependencies`` (L99.../M99...) or
        ``unknown`` (``CLOSED``, ``EMPTY`` and anything else). Pseudo areas are kept. The same
        practice and area twice are summed (so are its rows by sex). ``attrs``: ``path``,
        ``format``, ``skipped`` and, for a file by sex, ``summed`` (what was summed ->
        rows).

    Raises
    ------
    InputError
        Blank practice or area codes, counts that are not whole numbers from 0 to
        1,000,000, or ``SEX`` rows mixing ``ALL`` with ``MALE``/``FEMALE`` for one practice
        and area (the message names the lines).
    SchemaError
        Format not recognised or a required column missing.
    """
    src = Source.coerce(source)
    return cached("registrations", [src.path], {"source": src}, lambda: _read_registrations(src))


def _read_registrations(src: Source) -> pd.DataFrame:
    """:func:`read_registrations` without the cache."""
    # a Parquet count column stays a number (never written out as text and parsed back)
    raw = read_table(src.path, role="registrations", header=src.options.get("header"), numbers=True)
    nhs = {"LSOACODE", "PRACTICECODE", "NUMBEROFPATIENTS"} <= {
        normalise_name(c) for c in raw.columns
    }
    frame = canonical_table(
        raw,
        src,
        _REGISTRATION_ALIASES,
        fmt="nhs_lsoa" if nhs else "table",
        required=[s.PRACTICE_CODE, s.AREA_CODE, s.N_PATIENTS],
        what="registrations",
        expected="LSOA_CODE, PRACTICE_CODE, NUMBER_OF_PATIENTS columns as in NHS England "
        "gp-reg-pat-prac-lsoa-all.csv",
        numbers=[s.N_PATIENTS],
    )
    return _registrations(frame, src.label)


def _registrations(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    attrs = dict(frame.attrs)
    skipped = dict(attrs["skipped"])
    column = attrs.get("columns", {}).get(s.N_PATIENTS, s.N_PATIENTS)
    first = attrs["first_line"]
    practice = frame[s.PRACTICE_CODE].str.upper()
    area = frame[s.AREA_CODE].str.upper()
    blank = practice.eq("") | area.eq("")
    if blank.any():
        raise InputError(
            f"{label}: practice or area code missing at line(s) "
            f"{list_some(lines_of(frame, blank.to_numpy()))}; fill in or delete those rows"
        )
    text = frame[s.N_PATIENTS]
    if text.eq("").any():
        raise InputError(
            f"{label}: column {column} is blank at line(s) "
            f"{list_some(lines_of(frame, text.eq('').to_numpy()))}; put 0 or the count"
        )
    n = to_number(
        text,
        source=label,
        column=column,
        integer=True,
        maximum=MAX_PATIENTS,
        first_line=first,
    )
    if "_sex" in frame.columns:
        n_parts = _check_sex(frame["_sex"], practice, area, frame, label)
        if n_parts:
            attrs["summed"] = {
                "rows by SEX (MALE, FEMALE...) summed per practice and area": n_parts
            }
    tidy = pd.DataFrame(
        {s.PRACTICE_CODE: practice, s.AREA_CODE: area, s.N_PATIENTS: n.astype("int64")}
    )
    out = tidy.groupby([s.PRACTICE_CODE, s.AREA_CODE], sort=False, as_index=False)[
        s.N_PATIENTS
    ].sum()
    # one group a row: no row repeats a practice and area (the search for the repeats, on
    # 870,000 national rows, is then skipped)
    repeated = (
        None
        if "_sex" not in frame.columns and len(out) == len(tidy)
        else _repeated_rows(tidy, frame.get("_sex"), first)
    )
    if repeated is not None:
        attrs["repeated"] = repeated
        warn(
            f"{label}: {repeated['rows']:,} row(s) repeat a practice and area"
            f"{' (and sex)' if '_sex' in frame.columns else ''} already listed "
            f"({repeated['practices']:,} practice(s), {repeated['patients']:,} patients in the "
            f"repeated rows, e.g. {repeated['example']}); they are summed with the first: if "
            "they are copies, remove them"
        )
    out[s.N_PATIENTS] = out[s.N_PATIENTS].astype("int64")
    out["area_kind"] = _area_kind(out[s.AREA_CODE])
    attrs["skipped"] = skipped
    return _finish(out, attrs)


_SEX_ALL = {"ALL", "PERSONS", "P", ""}


def _repeated_rows(tidy: pd.DataFrame, sex: pd.Series | None, first_line: int) -> dict | None:
    """Rows repeating a practice, area (and sex) of an earlier row, counted: ``rows``
    (the repeats), ``practices``, ``patients`` (in the repeats: what summing adds) and an
    ``example`` (``A81001 in E01012345, lines 3 and 9``); ``None`` when there are none."""
    keys = [tidy[s.PRACTICE_CODE], tidy[s.AREA_CODE]]
    if sex is not None:
        keys.append(sex.str.strip().str.upper())
    key = pd.DataFrame({i: k.to_numpy() for i, k in enumerate(keys)})
    again = key.duplicated(keep="first").to_numpy()
    if not again.any():
        return None
    first = int(np.flatnonzero(again)[0])
    twin = int(np.flatnonzero((key == key.iloc[first]).all(axis=1).to_numpy())[0])
    lines = [int(tidy.index[i]) + first_line for i in (twin, first)]
    return {
        "rows": int(again.sum()),
        "practices": int(tidy.loc[again, s.PRACTICE_CODE].nunique()),
        "patients": int(tidy.loc[again, s.N_PATIENTS].sum()),
        "example": f"{tidy[s.PRACTICE_CODE].iat[first]} in {tidy[s.AREA_CODE].iat[first]}, "
        f"lines {lines[0]} and {lines[1]}",
    }


def _check_sex(
    sex: pd.Series, practice: pd.Series, area: pd.Series, frame: pd.DataFrame, label: str
) -> int:
    """Rows by sex are summed when a practice and area have no ``ALL`` row; a file mixing
    ``ALL`` with ``MALE``/``FEMALE`` rows for the same practice and area is refused (the
    patients would be counted twice). Returns the number of rows by sex."""
    sex = sex.str.strip().str.upper()
    is_all = sex.isin(_SEX_ALL)
    if is_all.all():
        return 0
    key = practice + "\x1f" + area
    mixed = isin(key, key[is_all]) & isin(key, key[~is_all])
    if mixed.any():
        first = frame.attrs.get("first_line", 2)
        rows = pd.DataFrame({"key": key[mixed], "sex": sex[mixed]})
        parts = []
        for k, group in rows.groupby("key", sort=False):
            lines = ", ".join(str(int(i) + first) for i in group.index[:4])
            where = k.replace("\x1f", " in area ")
            parts.append(f"{where} (lines {lines}: {'/'.join(dict.fromkeys(group['sex']))})")
        others = "/".join(sorted(set(sex[~is_all])))
        raise InputError(
            f"{label}: column SEX mixes ALL rows with {others} rows for the same practice "
            f"and area, so those patients would be counted twice: "
            f"{list_some(parts, 3)} ({mixed.sum():,} rows); give either the ALL file "
            "(gp-reg-pat-prac-lsoa-all.csv) or the male/female file, not both"
        )
    return int((~is_all).sum())


def read_list_sizes(source: Source | str | Path) -> pd.DataFrame:
    """Read the number of patients registered at each practice.

    Parameters
    ----------
    source
        NHS England ``gp-reg-pat-prac-all.csv`` (rows ``TYPE = GP``, ``SEX = ALL``,
        ``AGE = ALL``), a QOF prevalence file (``PATIENT_LIST_TYPE = TOTAL``,
        ``PRACTICE_LIST_SIZE``), a registrations-by-area file (summed per practice), or any
        practices table with a list-size column (``list_size``, ``NUMBER_OF_PATIENTS``,
        ``Patients``...).

    Returns
    -------
    pandas.DataFrame
        ``practice_code, list_size`` (int64), one row per practice.

    Raises
    ------
    InputError
        Non-numeric, fractional, negative or blank list sizes, or one practice with two
        different list sizes.
    SchemaError
        No list-size column.
    """
    src = Source.coerce(source)
    raw = read_table(
        src.path,
        role="list sizes",
        header=src.options.get("header"),
        sheet=src.options.get("sheet"),
    )  # type: ignore[arg-type]
    keys = {normalise_name(c) for c in raw.columns}
    if {"CODE", "TYPE", "SEX", "AGE", "NUMBEROFPATIENTS"} <= keys:
        frame = _nhs_list_sizes(raw, src)
    elif {"PATIENTLISTTYPE", "PRACTICELISTSIZE"} <= keys:
        frame = _qof_list_sizes(raw, src)
    elif find_column(raw, _REGISTRATION_ALIASES[s.AREA_CODE]) is not None and (
        find_column(raw, _REGISTRATION_ALIASES[s.N_PATIENTS]) is not None
    ):
        regs = read_registrations(src)
        out = regs.groupby(s.PRACTICE_CODE, sort=False, as_index=False)[s.N_PATIENTS].sum()
        out = out.rename(columns={s.N_PATIENTS: s.LIST_SIZE})
        out[s.LIST_SIZE] = out[s.LIST_SIZE].astype("int64")
        return _finish(out, {**regs.attrs, "format": "registrations"})
    else:
        frame = load_practice_table(src, what="list sizes")
        if s.LIST_SIZE not in frame.columns:
            raise SchemaError(
                f"{src.label}: not a recognised list sizes file (expected "
                "gp-reg-pat-prac-all.csv, QOF PRACTICE_LIST_SIZE, or a practice code column "
                "with list_size / NUMBER_OF_PATIENTS / Patients; the file has "
                f"{', '.join(map(str, frame.columns))}); name the columns in the study file "
                'with columns = { list_size = "<column>" }'
            )
    return _list_sizes(frame, src.label)


def _nhs_list_sizes(raw: pd.DataFrame, src: Source) -> pd.DataFrame:
    """NHS England ``gp-reg-pat-prac-all.csv``: the rows ``TYPE = GP``, ``SEX = ALL``,
    ``AGE = ALL`` (the others counted in ``skipped``)."""
    schema = {
        s.PRACTICE_CODE: ["CODE"],
        s.LIST_SIZE: ["NUMBER_OF_PATIENTS"],
        "_type": ["TYPE"],
        "_sex": ["SEX"],
        "_age": ["AGE"],
    }
    frame = canonical_table(
        raw,
        src,
        schema,
        required=[s.PRACTICE_CODE, s.LIST_SIZE],
        what="list sizes",
        expected="",
        fmt="nhs_list_sizes",
    )
    skipped = frame.attrs["skipped"]
    checks = {
        "_type": ("GP", "TYPE is not GP"),
        "_sex": ("ALL", "SEX is not ALL"),
        "_age": ("ALL", "AGE is not ALL"),
    }
    for col, (value, reason) in checks.items():
        keep = frame[col].str.upper().eq(value)
        count(skipped, reason, (~keep).sum())
        frame = frame[keep]
    frame.attrs["skipped"] = skipped
    return frame


def _qof_list_sizes(raw: pd.DataFrame, src: Source) -> pd.DataFrame:
    """A QOF prevalence file: the rows ``PATIENT_LIST_TYPE = TOTAL``."""
    schema = {
        s.PRACTICE_CODE: PRACTICE_ALIASES[s.PRACTICE_CODE],
        s.LIST_SIZE: ["PRACTICE_LIST_SIZE"],
        "_type": ["PATIENT_LIST_TYPE"],
    }
    frame = canonical_table(
        raw,
        src,
        schema,
        required=[s.PRACTICE_CODE, s.LIST_SIZE],
        what="list sizes",
        expected="",
        fmt="qof_prevalence",
    )
    keep = frame["_type"].str.upper().eq("TOTAL")
    count(frame.attrs["skipped"], "PATIENT_LIST_TYPE is not TOTAL", (~keep).sum())
    frame = frame[keep]
    return frame


def _list_sizes(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    attrs = dict(frame.attrs)
    skipped = dict(attrs["skipped"])
    first = attrs["first_line"]
    text = frame[s.LIST_SIZE]
    if text.eq("").any():
        raise InputError(
            f"{label}: list size is blank at line(s) "
            f"{list_some(lines_of(frame, text.eq('').to_numpy()))}; put the number of "
            "patients or delete those rows"
        )
    sizes = to_number(
        text,
        source=label,
        column=frame.attrs.get("columns", {}).get(s.LIST_SIZE, s.LIST_SIZE),
        integer=True,
        maximum=MAX_PATIENTS,
        first_line=first,
    )
    tidy = pd.DataFrame(
        {s.PRACTICE_CODE: frame[s.PRACTICE_CODE].str.upper(), s.LIST_SIZE: sizes.astype("int64")}
    )
    exact = tidy.duplicated(keep="first")
    reason = (
        "list size repeated (one row per register)"
        if attrs["format"] == "qof_prevalence"
        else "duplicate row"
    )
    count(skipped, reason, exact.sum())
    tidy = tidy[~exact]
    clash = tidy[s.PRACTICE_CODE].duplicated(keep=False)
    if clash.any():
        rows = tidy[clash]
        parts = []
        for code, group in rows.groupby(s.PRACTICE_CODE, sort=True):
            seen = ", ".join(f"{v} at line {int(i) + first}" for i, v in group[s.LIST_SIZE].items())
            parts.append(f"{code} ({seen})")
        raise InputError(
            f"{label}: {rows[s.PRACTICE_CODE].nunique()} practice(s) have different list sizes: "
            f"{list_some(parts, 3)}; keep one row per practice"
        )
    attrs["skipped"] = skipped
    return _finish(tidy, attrs)
