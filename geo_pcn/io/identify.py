"""Say what a downloaded file is, with the recognisers the readers use (for ``geo-pcn init``).

:func:`identify` names one file or folder as one of :data:`KINDS` (the NHS England, ODS,
ONS and OS layouts the readers know) and keeps what choosing between files needs: the
column names (for ``--where``), the practice codes, the small-area codes, the boundary
levels a lookup or polygon layer holds. Nothing here guesses from file names: the columns
and values decide, through the same aliases and layout tests as :mod:`geo_pcn.io.nhs`,
:mod:`geo_pcn.io.ons`, :mod:`geo_pcn.io.context` and :mod:`geo_pcn.io.postcodes`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo_pcn import settings as s
from geo_pcn.errors import GeoPCNError
from geo_pcn.io._formats import PRACTICE_ALIASES, ods_layout
from geo_pcn.io.nhs import _REGISTRATION_ALIASES
from geo_pcn.io.ons import _KIND, _ONS_COLUMN, _POPULATION_ALIASES, LEVEL_STEMS, _pick_columns
from geo_pcn.io.tables import find_column, normalise_name, read_table, sheet_names, sniff

__all__ = ["Found", "KINDS", "identify", "is_codepoint_folder", "is_codepoint_zip"]

#: What :func:`identify` can say a file is (``unknown``: none of the known layouts).
KINDS = {
    "practice_map": "NHS England practice -> PCN map (gp-reg-pat-prac-map)",
    "epraccur": "ODS GP practices file (epraccur, no header)",
    "epcn": "ODS ePCN workbook (practice -> PCN)",
    "practice_list": "practice list without PCNs",
    "locations": "practice coordinates",
    "registrations": "registered patients by practice and small area",
    "list_sizes": "practice list sizes",
    "ods_organisations": "ODS organisation file (edispensary layout, no header)",
    "codepoint": "OS Code-Point Open (postcode centroids)",
    "postcode_directory": "ONS postcode directory",
    "area_polygons": "small-area polygons",
    "boundary_polygons": "boundary polygons",
    "polygons": "polygons whose level their columns do not tell",
    "lookup": "small area -> sub-ICB / ICB / LAD lookup",
    "area_lookup": "small area -> small area lookup (census vintages)",
    "population": "population by small area",
    "rural": "rural-urban classification by small area",
    "deprivation": "index of multiple deprivation by small area",
    "unknown": "not a layout geo_pcn knows",
}

_SPATIAL = {".geojson", ".gpkg", ".shp", ".json", ".fgb"}
_TABLES = {".csv", ".gz", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet"}
_SMALL_AREA = re.compile(r"^(?:[EW]0[012]|S0[01])\d{6}$")
_NOT_AN_AREA = re.compile(r"^(?:CLOSED|EMPTY|NO20\d\d|UNKNOWN|N21|L99|M99)")
_CODEPOINT_MEMBER = re.compile(r"(?:^|/)Data/CSV/[A-Za-z]{1,2}\.csv$", re.IGNORECASE)
#: LSOA 2021 codes of England above this number are new in 2021 (2011 codes end at it).
_LAST_LSOA11 = 33768


@dataclass
class Found:
    """One file (or Code-Point folder) and what it is."""

    path: Path
    kind: str
    detail: str = ""
    columns: tuple[str, ...] = ()
    rows: int = 0
    #: practice codes held (practice files, registrations, list sizes, locations)
    practices: frozenset[str] = frozenset()
    #: small-area codes held (registrations, polygons, lookups, population...)
    areas: frozenset[str] = frozenset()
    #: boundary level -> candidate code columns (lookups and boundary polygons)
    levels: dict[str, list[str]] = field(default_factory=dict)
    #: "2011" / "2021" / "" (small-area census vintage)
    vintage: str = ""
    extract: str = ""
    size: int = 0

    @property
    def what(self) -> str:
        return KINDS[self.kind] + (f" ({self.detail})" if self.detail else "")


def is_codepoint_folder(path: Path) -> bool:
    """A folder laid out as OS ships Code-Point Open (``Data/CSV/xx.csv``)."""
    return (path / "Data" / "CSV").is_dir() and any((path / "Data" / "CSV").glob("*.csv"))


def is_codepoint_zip(names: list[str]) -> bool:
    """Member names of a Code-Point Open zip (``Data/CSV/xx.csv``)."""
    return sum(bool(_CODEPOINT_MEMBER.search(n)) for n in names) >= 1


def _codes(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().str.upper()


def _small_area_columns(raw: pd.DataFrame) -> list:
    out = []
    for col in raw.columns:
        values = _codes(raw[col])
        values = values[values != ""]
        if len(values) and values.str.match(_SMALL_AREA).mean() > 0.9:
            out.append(col)
    return out


def _vintage(column: object, codes: pd.Series) -> str:
    m = _ONS_COLUMN.match(str(column).strip().lower())
    if m and m["year"] in ("11", "21"):
        return "20" + m["year"]
    numbers = pd.to_numeric(codes[codes.str.startswith("E01")].str[3:], errors="coerce")
    if len(numbers) and numbers.max() > _LAST_LSOA11:
        return "2021"
    return ""


def _levels(columns: list, small: list) -> dict[str, list[str]]:
    """Boundary level -> ONS-named code columns fitting it (``sicbl22_code``, ``ccg21cd``)."""
    out: dict[str, list[str]] = {}
    for col in columns:
        if col in small:
            continue
        m = _ONS_COLUMN.match(str(col).strip().lower())
        if not m or _KIND[m["kind"]] != "code":
            continue
        for level in ("sub_icb", "icb", "place"):
            if m["stem"] in LEVEL_STEMS[level]:
                out.setdefault(level, []).append(str(col))
    return out


def _practice_codes(raw: pd.DataFrame, col: object) -> frozenset[str]:
    values = _codes(raw[col])
    return frozenset(values[values != ""])


def _table(path: Path, raw: pd.DataFrame, sheets: list[str]) -> Found:
    """What a table is, by its columns and values: an ODS file, the ePCN workbook,
    registrations, a practice table, the postcode directory, population, or a table of
    small areas; ``unknown`` otherwise."""
    cols = [str(c) for c in raw.columns]
    found = Found(path, "unknown", columns=tuple(cols), rows=len(raw))
    layout = ods_layout(raw)
    if layout is not None:
        return _ods_found(found, raw, layout)
    if "PCN Core Partner Details" in sheets:
        found.kind = "epcn"
        return found
    practice = find_column(raw, PRACTICE_ALIASES[s.PRACTICE_CODE])
    reg_practice = find_column(raw, _REGISTRATION_ALIASES[s.PRACTICE_CODE])
    small = _small_area_columns(raw)
    patients = find_column(raw, _REGISTRATION_ALIASES[s.N_PATIENTS])
    extract = find_column(raw, ["EXTRACT_DATE"])
    if extract is not None and len(raw):
        found.extract = str(raw[extract].iloc[0]).strip()
    named_area = find_column(raw, _REGISTRATION_ALIASES[s.AREA_CODE])
    if reg_practice is not None and (small or named_area is not None) and patients is not None:
        return _registrations_found(found, raw, reg_practice, named_area, small)
    if practice is not None:
        return _practice_found(found, raw, practice)
    names = {normalise_name(c) for c in cols}
    if {"PCDS", "PCD", "PCD2", "PCD7", "PCD8"} & names and (
        {"OSEAST1M", "LAT", "LATITUDE"} & names
    ):
        found.kind = "postcode_directory"
        return found
    pop_area = find_column(raw, _POPULATION_ALIASES[s.AREA_CODE])
    population = find_column(raw, _POPULATION_ALIASES[s.POPULATION])
    if not small and pop_area is not None and population is not None and len(cols) == 2:
        codes = _codes(raw[pop_area])
        found.kind, found.areas = "population", frozenset(codes[codes != ""])
        found.detail = f"{len(found.areas):,} areas"
        return found
    if small:
        return _small_area_found(found, raw, cols, small)
    return found


def _ods_found(found: Found, raw: pd.DataFrame, layout: str) -> Found:
    """A header-less ODS file: epraccur (either layout) or other organisations."""
    found.columns = ()
    found.practices = _practice_codes(raw, 0)
    if layout == "ods_organisations":
        found.kind = "ods_organisations"
        found.detail = f"{len(raw):,} organisations, ICB code in column 3"
    else:
        found.kind = "epraccur"
        found.detail = ("2025+ layout" if layout == "epraccur" else "classic layout") + (
            f", {len(raw):,} organisations"
        )
    return found


def _registrations_found(
    found: Found, raw: pd.DataFrame, reg_practice: str, named_area: str | None, small: list
) -> Found:
    """Registrations by practice and small area: their practices, areas and vintage."""
    found.kind = "registrations"
    area = named_area if named_area is not None else small[0]
    codes = _codes(raw[area])
    found.practices = _practice_codes(raw, reg_practice)
    # every area code but the residence-unknown values and the Northern Ireland,
    # Channel Islands and Isle of Man pseudo codes (no small-area polygons hold them)
    held = codes[(codes != "") & ~codes.str.match(_NOT_AN_AREA)]
    found.areas = frozenset(held if named_area is not None else codes[codes.str.match(_SMALL_AREA)])
    found.vintage = _vintage(area, codes)
    found.detail = (
        f"{len(found.practices):,} practices, {len(found.areas):,} small areas"
        + (f", LSOA {found.vintage}" if found.vintage else "")
        + (f", extract {found.extract}" if found.extract else "")
    )
    return found


def _practice_found(found: Found, raw: pd.DataFrame, practice: str) -> Found:
    """A practice table: locations, the practice -> PCN map, list sizes or a plain list."""
    found.practices = _practice_codes(raw, practice)
    pcn = find_column(raw, PRACTICE_ALIASES[s.PCN_CODE])
    lat = find_column(raw, PRACTICE_ALIASES[s.LATITUDE])
    east = find_column(raw, PRACTICE_ALIASES[s.EASTING])
    size = find_column(raw, PRACTICE_ALIASES[s.LIST_SIZE])
    n = f"{len(found.practices):,} practices"
    if lat is not None or east is not None:
        found.kind, found.detail = "locations", n + (", with PCNs" if pcn is not None else "")
    elif pcn is not None:
        found.kind = "practice_map"
        found.detail = n + (f", extract {found.extract}" if found.extract else "")
    elif size is not None:
        found.kind, found.detail = "list_sizes", n
    else:
        found.kind, found.detail = "practice_list", n
    return found


def _small_area_found(found: Found, raw: pd.DataFrame, cols: list[str], small: list) -> Found:
    """A table of small areas: a lookup between vintages, a lookup to higher levels, rural
    classes, deprivation or population (else it stays ``unknown``, with its areas)."""
    codes = _codes(raw[small[0]])
    found.areas = frozenset(codes[codes != ""])
    found.vintage = _vintage(small[0], codes)
    vintage = f"LSOA {found.vintage}, " if found.vintage else ""
    found.detail = f"{vintage}{len(found.areas):,} small areas"
    if len(small) >= 2:
        found.kind = "area_lookup"
        found.detail = " -> ".join(map(str, small[:2])) + f", {len(raw):,} rows"
        return found
    levels = _levels(cols, small)
    if levels:
        found.kind, found.levels = "lookup", levels
        found.detail = vintage + "columns " + ", ".join(c for v in levels.values() for c in v)
        return found
    if any(normalise_name(c).startswith("RUC") for c in cols):
        found.kind = "rural"
        return found
    if any("IMD" in normalise_name(c) for c in cols):
        found.kind = "deprivation"
        return found
    if find_column(raw, _POPULATION_ALIASES[s.POPULATION]) is not None:
        found.kind = "population"
        return found
    return found


def _spatial(path: Path) -> Found:
    import pyogrio

    info = pyogrio.read_info(path)
    fields = [str(f) for f in info["fields"]]
    found = Found(path, "unknown", columns=tuple(fields), rows=int(info.get("features") or 0))
    areas = _pick_columns(fields, "areas")
    m = _ONS_COLUMN.match(str(areas.get("code", "")).strip().lower())
    if m and m["stem"] in LEVEL_STEMS["areas"]:
        frame = pyogrio.read_dataframe(path, columns=[areas["code"]], read_geometry=False)
        codes = _codes(frame[areas["code"]])
        found.kind = "area_polygons"
        found.areas = frozenset(codes[codes != ""])
        found.vintage = _vintage(areas["code"], codes)
        found.detail = (f"LSOA {found.vintage}, " if found.vintage else "") + (
            f"{found.rows:,} areas"
        )
        return found
    levels = _levels(fields, [])
    if levels:
        found.kind, found.levels = "boundary_polygons", levels
        found.detail = f"{found.rows:,} areas, columns " + ", ".join(
            c for v in levels.values() for c in v
        )
        return found
    # plain ``code`` / ``nhs_code`` properties: the level is not in the names; the codes
    # themselves are kept, for init to match against the practices' sub-ICB / ICB codes
    coded = [f for f in fields if normalise_name(f) in ("CODE", "NHSCODE")]
    if coded:
        frame = pyogrio.read_dataframe(path, columns=coded, read_geometry=False)
        codes = pd.concat([_codes(frame[c]) for c in coded])
        found.kind, found.areas = "polygons", frozenset(codes[codes != ""])
        found.detail = f"{found.rows:,} areas, columns {', '.join(coded)}"
    return found


def identify(path: Path) -> Found:
    """What ``path`` (a file, or a Code-Point Open folder or zip) is.

    A file that cannot be read is ``unknown``, with the reason in ``detail``.
    """
    path = Path(path)
    size = path.stat().st_size if path.is_file() else 0
    try:
        if path.is_dir():
            if is_codepoint_folder(path):
                return Found(path, "codepoint", "folder Data/CSV")
            return Found(path, "unknown", "a folder")
        suffix = path.suffix.lower()
        kind = sniff(path)
        if suffix in _SPATIAL and kind != "parquet":
            found = _spatial(path)
        elif kind == "zip" and suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
            if is_codepoint_zip(names):
                return Found(path, "codepoint", "zip Data/CSV", size=size)
            return Found(path, "unknown", "a zip", size=size)
        elif suffix in _TABLES or kind in {"gzip", "parquet"}:
            sheets = sheet_names(path)
            raw = read_table(path, role="downloaded")
            found = _table(path, raw, sheets)
        else:
            return Found(path, "unknown", f"{suffix or 'no'} file type", size=size)
    except (GeoPCNError, OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        reason = " ".join(str(exc).split())[:160]
        return Found(path, "unknown", f"not readable: {reason}", size=size)
    except Exception as exc:  # pyogrio DataSourceError and friends: say so, never stop
        reason = " ".join(str(exc).split())[:160]
        return Found(path, "unknown", f"not readable: {reason}", size=size)
    found.size = size
    return found
