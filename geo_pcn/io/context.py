"""Context planners cite for exceptions, by small area: rural-urban classification (ONS
RUC 2011 or 2021) and deprivation (English Indices of Deprivation, the IMD score)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo_pcn.errors import InputError, list_some
from geo_pcn.io.tables import Source, normalise_name, read_table, sniff

__all__ = ["read_rural", "read_deprivation"]

_SMALL_AREA = r"^[EW]0[012]\d{6}$"


def _code_column(raw: pd.DataFrame, label: str) -> str:
    for column in raw.columns:
        values = raw[column].astype(str).str.strip().str.upper()
        if len(values) and values.str.match(_SMALL_AREA).mean() > 0.9:
            return column
    raise InputError(
        f"{label}: no column of ONS small-area codes (e.g. lsoa11_code, LSOA11CD); the file "
        f"has {list_some(list(raw.columns), 10)}"
    )


def read_rural(source: Source | str) -> pd.Series:
    """``area_code -> True`` where the small area is rural.

    Accepts the ONS rural-urban classification of LSOAs: a ``ruc`` column of
    ``Rural``/``Urban`` words, or the codes (2011: ``A1``-``C2`` urban, ``D1``-``E2`` rural;
    2021: ``U...`` urban, ``R...`` rural).

    Examples
    --------
    >>> import io, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ruc.csv"
    >>> _ = path.write_text("lsoa11_code,ruc11_code\\nE01000001,A1\\nE01000002,E2\\n")
    >>> read_rural(path).to_dict()
    {'E01000001': False, 'E01000002': True}
    """
    src = Source.coerce(source)
    raw = read_table(src.path, role="rural-urban classification")
    code = _code_column(raw, src.label)
    names = {normalise_name(c): c for c in raw.columns}
    words = next((names[n] for n in ("RUC", "RURALURBAN", "RUCWORD") if n in names), None)
    if words is not None and raw[words].str.strip().str.upper().isin(["RURAL", "URBAN"]).all():
        rural = raw[words].str.strip().str.upper().eq("RURAL")
    else:
        column = next(
            (c for c in raw.columns if normalise_name(c).startswith("RUC") and c != code), None
        )
        if column is None:
            raise InputError(
                f"{src.label}: no rural-urban column (ruc, ruc11_code, ruc21_code); the file "
                f"has {list_some(list(raw.columns), 10)}"
            )
        value = raw[column].astype(str).str.strip().str.upper()
        rural = value.str.match(r"^[DE]\d") | value.str.match(r"^R[A-Z]")
    out = pd.Series(
        rural.to_numpy(dtype=bool),
        index=raw[code].astype(str).str.strip().str.upper().to_numpy(),
        name="rural",
    )
    return out[~out.index.duplicated()]


def _is_score(column: object) -> bool:
    name = normalise_name(column)
    return name in ("IMD", "IMDSCORE", "IMD2019", "IMDSCORE2019") or (
        "IMD" in name and "SCORE" in name
    )


def _deprivation_columns(path: Path) -> list[str] | None:
    """The columns of a Parquet IMD file :func:`read_deprivation` may use: every text
    column (only text can hold small-area codes; :func:`_code_column` takes the first that
    does) and every IMD score column, in file order; the other domains and counts are not
    parsed (the national file: 22 columns -> 2, 0.2 -> 0.03 CPU s). ``None`` (read it all,
    so that an error lists every column) for other formats, or when either kind is
    missing."""
    try:
        if sniff(path) != "parquet":
            return None
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
    except Exception:  # missing or unreadable: read_table says so in its own words
        return None

    def text(kind: pa.DataType) -> bool:
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        return pa.types.is_string(kind) or pa.types.is_large_string(kind)

    # a named index comes with any column read (pandas' metadata), so it is left out here
    stored = (schema.pandas_metadata or {}).get("index_columns", [])
    index = {c for c in stored if isinstance(c, str)}  # a range index is a dict: no column
    wanted = [f.name for f in schema if f.name not in index and (text(f.type) or _is_score(f.name))]
    has_text = any(text(f.type) for f in schema)
    if not has_text or not any(_is_score(c) for c in wanted):
        return None
    return wanted


def read_deprivation(source: Source | str) -> pd.DataFrame:
    """``area_code -> imd_score, imd_decile`` (decile 1 = the most deprived tenth of the
    file's areas: for the national file, of England's LSOAs).

    Accepts a table with a small-area code column and an IMD score column (``IMD``,
    ``IMD score``, ``Index of Multiple Deprivation (IMD) Score``...), CSV or Parquet.
    """
    src = Source.coerce(source)
    columns = _deprivation_columns(src.path)
    raw = read_table(src.path, role="deprivation", columns=columns)
    try:
        code = _code_column(raw, src.label)
    except InputError:
        if columns is None:
            raise
        # no codes in its text columns: the error lists every column of the file
        code = _code_column(read_table(src.path, role="deprivation"), src.label)
    score = next((c for c in raw.columns if _is_score(c)), None)
    if score is None:
        raise InputError(
            f"{src.label}: no IMD score column (IMD, IMD score); the file has "
            f"{list_some(list(raw.columns), 10)}"
        )
    values = pd.to_numeric(raw[score], errors="coerce")
    out = pd.DataFrame(
        {"imd_score": values.to_numpy()},
        index=raw[code].astype(str).str.strip().str.upper().to_numpy(),
    )
    out = out[~out.index.duplicated()]
    rank = out["imd_score"].rank(ascending=False, method="first")
    out["imd_decile"] = np.ceil(10 * rank / out["imd_score"].notna().sum()).astype("Int64")
    out.attrs["decile_bounds"] = sorted(
        out["imd_score"].quantile([i / 10 for i in range(1, 10)]).tolist(), reverse=True
    )
    return out
