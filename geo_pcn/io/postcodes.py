"""Postcode lookups (OS Code-Point Open, ONS Postcode Directory) and geocoding.

Every lookup is keyed by the postcode with spaces removed and in upper case
(``"ST10 1AA"`` and ``"st101aa"`` are the same key), so the single-space, the 7-character
and the no-space formats all join.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from geo_pcn import settings as s
from geo_pcn.errors import InputError, SchemaError, list_some
from geo_pcn.io._cache import cached
from geo_pcn.io._limits import MAX_MEMBER_BYTES, check_regular_file, read_capped
from geo_pcn.io.tables import (
    _decode,
    _repeated,
    _wide_codec,
    find_column,
    normalise_postcode,
    sniff,
)

__all__ = ["read_postcode_lookup", "geocode"]

_POSTCODE_COLUMNS = ["postcode", "pcds", "pcd", "pcd2", "pcd7", "pcd8", "Post Code"]
_EASTING_COLUMNS = ["easting", "eastings", "oseast1m", "x"]
_NORTHING_COLUMNS = ["northing", "northings", "osnrth1m", "y"]
_LATITUDE_COLUMNS = ["latitude", "lat"]
_LONGITUDE_COLUMNS = ["longitude", "long", "lon", "lng"]
#: the local authority district code of a postcode (Code-Point Open column 9, ONSPD oslaua)
DISTRICT = "admin_district_code"
_DISTRICT_COLUMNS = ["admin_district_code", "oslaua", "lad_code"]
_POSTCODE_LIKE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$")
_AREA = re.compile(r"^([A-Z]{1,2})\d")


def _postcode_areas(keys: Iterable[str]) -> set[str]:
    """Postcode areas (``ST``, ``B``...) of normalised postcode keys."""
    areas = pd.Series(list(keys), dtype=object).astype(str).str.extract(_AREA, expand=False)
    return {a for a in areas.dropna().unique()}


def _head(path: Path, n: int = 2) -> list[list[str]]:
    """The first ``n`` rows of a (possibly gzipped) CSV, decoded like :func:`read_table`."""
    text = _decode(_first_bytes(path), path)
    lines = text.splitlines()[:n]
    return list(csv.reader(io.StringIO("\n".join(lines))))


def _first_bytes(path: Path, size: int = 65536) -> bytes:
    """The first ``size`` bytes of ``path`` (decompressed when gzipped)."""
    if sniff(path) == "gzip":
        import gzip

        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(size)
        except (EOFError, OSError) as exc:
            raise _corrupt(path, exc) from None
    if path.suffix.lower() == ".gz":
        raise InputError(
            f"{path}: the file is named .gz but is not gzip-compressed; rename it without .gz, "
            "or download it again"
        )
    with path.open("rb") as fh:
        return fh.read(size)


def _corrupt(path: Path, exc: BaseException) -> InputError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return InputError(f"{path}: the file is truncated or corrupt ({reason}); download it again")


def _read_csv(path: Path, **kwargs) -> pd.DataFrame:
    """``pandas.read_csv`` with a damaged file (truncated gzip, bad bytes) as one line."""
    import zlib

    compression = "gzip" if sniff(path) == "gzip" else None
    try:
        return pd.read_csv(path, encoding=_csv_encoding(path), compression=compression, **kwargs)
    except (EOFError, OSError, zlib.error, UnicodeDecodeError) as exc:
        raise _corrupt(path, exc) from None
    except pd.errors.ParserError as exc:
        reason = " ".join(str(exc).split())
        raise InputError(f"{path}: not a readable CSV ({reason}); save it as CSV") from None


def _csv_encoding(path: Path) -> str:
    """The encoding to give ``pandas.read_csv`` for ``path``."""
    raw = _first_bytes(path, 1 << 20)
    wide = _wide_codec(raw)
    if wide is not None:
        return wide
    if sniff(path) == "gzip":
        return "utf-8-sig"
    try:
        raw.decode("utf-8-sig")
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "cp1252"


def _read_codepoint_csv(path: Path) -> pd.DataFrame:
    """One header-less Code-Point Open area file: postcode key, easting, northing."""
    return cached(
        "codepoint", [path], {"path": str(path.resolve())}, lambda: _parse_codepoint_file(path)
    )


def _read_codepoint_files(files: list[Path]) -> pd.DataFrame:
    """The Code-Point Open area files a study needs, as one frame in file order, cached as
    **one entry per file set** (keyed on the resolved paths and every file's bytes): all of
    England's ~100 area files are one Parquet read, not ~100 (England's practices warm:
    1.0-1.2 -> 0.5 CPU s); the same folder reached by another path (a symbolic link,
    ``..``) hits the same entry. A file that cannot be parsed is named as it was given."""
    resolved = [f.resolve() for f in files]
    return cached(
        "codepoint set",
        resolved,
        {"paths": [str(f) for f in resolved]},
        lambda: pd.concat([_parse_codepoint_file(f) for f in files], ignore_index=True),
    )


def _parse_codepoint_file(path: Path) -> pd.DataFrame:
    """One area file parsed (no cache)."""
    return _codepoint_columns(
        lambda **kw: _read_csv(path, header=None, keep_default_na=False, na_values=[""], **kw)
    )


def _codepoint_columns(read) -> pd.DataFrame:
    """Postcode, easting, northing and (when the file has it) the district code of a
    Code-Point Open area file, by position; ``read`` reads it given ``usecols``/``names``."""
    try:
        return read(
            usecols=[0, 2, 3, 8],
            names=["postcode", "easting", "northing", DISTRICT],
            dtype={"postcode": str, DISTRICT: str},
        )
    except ValueError as exc:  # a file without the district column (cut-down copies)
        if "out of bounds" not in str(exc) and "out-of-bounds" not in str(exc):
            raise
    names = ["postcode", "easting", "northing"]
    return read(usecols=[0, 2, 3], names=names, dtype={"postcode": str})


#: A Code-Point Open area file inside the OS download (``Data/CSV/st.csv``), under any top folder.
_ZIP_MEMBER = re.compile(r"(?:^|/)Data/CSV/([A-Za-z]{1,2})\.csv$", re.IGNORECASE)
_ZIP_FIX = (
    "download codepo_gb.zip again from the OS Data Hub "
    "(https://osdatahub.os.uk/downloads/open/CodePointOpen), or give the unzipped folder"
)


def _read_codepoint_zip(path: Path, wanted: set[str] | None) -> pd.DataFrame:
    """The Code-Point Open area files of the OS download ``codepo_gb.zip``, read straight
    from the archive (only the areas of ``wanted``; nothing is extracted to disk)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"{path}: the zip file is truncated or corrupt ({reason}); {_ZIP_FIX}"
        ) from None
    with archive:
        names = [i.filename for i in archive.infolist() if not i.is_dir()]
        members: dict[str, str] = {}
        for name in names:
            match = _ZIP_MEMBER.search(name)
            if match:
                members.setdefault(match.group(1).lower(), name)
        if not members:
            raise SchemaError(
                f"{path}: not an OS Code-Point Open zip (no Data/CSV/<area>.csv files in it; it "
                f"holds {list_some(names, 4) or 'nothing'}); give codepo_gb.zip as downloaded "
                "from the OS Data Hub, or unzip your file and give the postcode CSV inside"
            )
        areas = sorted(members)
        if wanted is not None:
            needed = {a.lower() for a in _postcode_areas(wanted)}
            areas = [a for a in areas if a in needed]
        frames = []
        for area in areas:
            member = members[area]
            try:
                raw = _read_member(archive, member, path)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise InputError(
                    f"{path}: {member} inside the zip is damaged ({reason}); {_ZIP_FIX}"
                ) from None
            frames.append(_parse_codepoint(io.BytesIO(raw), f"{path}: {member}"))
    if not frames:
        return pd.DataFrame({"postcode": [], s.EASTING: [], s.NORTHING: []}, dtype=object)
    return pd.concat(frames, ignore_index=True)


def _read_member(archive: zipfile.ZipFile, member: str, path: Path) -> bytes:
    """One member of a zip, read in chunks up to :data:`MAX_MEMBER_BYTES` (a member that
    says, or turns out, to inflate beyond it is refused before memory fills)."""
    label = f"{path}: {member} inside the zip"
    if archive.getinfo(member).file_size > MAX_MEMBER_BYTES:
        raise InputError(
            f"{label} inflates to {archive.getinfo(member).file_size / 2**20:,.0f} MB, far "
            f"more than a Code-Point Open area file; {_ZIP_FIX}"
        )
    with archive.open(member) as handle:
        return read_capped(handle, MAX_MEMBER_BYTES, label, _ZIP_FIX)


def _parse_codepoint(handle, label: str) -> pd.DataFrame:
    """Parse one header-less Code-Point Open area file (postcode, easting, northing)."""
    try:
        raw = handle.read()
        return _codepoint_columns(
            lambda **kw: pd.read_csv(
                io.BytesIO(raw),
                header=None,
                keep_default_na=False,
                na_values=[""],
                encoding="cp1252",
                **kw,
            )
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise InputError(
            f"{label}: not a Code-Point Open area file ({reason}); {_ZIP_FIX}"
        ) from None


def _codepoint_folder(path: Path) -> Path:
    """The folder holding the per-area Code-Point CSVs (``Data/CSV`` or ``path`` itself)."""
    for candidate in (path / "Data" / "CSV", path / "CSV", path):
        if candidate.is_dir() and any(candidate.glob("*.csv")):
            return candidate
    raise InputError(
        f"{path}: no postcode CSV files in this folder (looked in Data/CSV); give the "
        "Code-Point Open folder (the one holding Data/CSV), the downloaded codepo_gb.zip "
        "or one postcode CSV file"
    )


def _finish(frame: pd.DataFrame, wanted: set[str] | None, path: Path) -> pd.DataFrame:
    if wanted is not None:
        # keep the rows wanted before the costly work: a postcode written plainly (capitals
        # and digits once its spaces go, as Code-Point writes every one) is its own key;
        # any other row is kept for the full normalisation below (same result, ~1 s less
        # nationally)
        cheap = frame["postcode"].fillna("").astype(str).str.replace(" ", "", regex=False)
        plain = cheap.str.fullmatch(r"[A-Z0-9]*").fillna(False).to_numpy(dtype=bool)
        frame = frame[cheap.isin(wanted).to_numpy(dtype=bool) | ~plain]
    keys = normalise_postcode(frame["postcode"])
    out = pd.DataFrame(
        {
            s.EASTING: pd.to_numeric(frame[s.EASTING], errors="coerce").astype(float).to_numpy(),
            s.NORTHING: pd.to_numeric(frame[s.NORTHING], errors="coerce").astype(float).to_numpy(),
        },
        index=pd.Index(keys.to_numpy(), name="postcode"),
    )
    if DISTRICT in frame:  # Code-Point's own district code of the postcode (ONSPD oslaua)
        out[DISTRICT] = frame[DISTRICT].fillna("").astype(str).str.strip().to_numpy()
    out = out[(out.index != "") & out[s.EASTING].notna() & out[s.NORTHING].notna()]
    if wanted is not None:
        out = out[out.index.isin(wanted)]
    out = out[~out.index.duplicated(keep="first")]
    out.attrs = {"path": str(path)}
    return out


def read_postcode_lookup(
    path: Path | str, *, postcodes: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read a postcode -> British National Grid lookup.

    Long because: most of it is its docstring (every lookup format it reads); the code is 43
    lines.

    Parameters
    ----------
    path
        One of: an OS Code-Point Open folder (the top folder holding ``Data/CSV``, or
        ``Data/CSV`` itself) of header-less per-area CSVs (``st.csv``...); the OS download
        ``codepo_gb.zip`` itself (read without unzipping: only the area files needed);
        one such CSV; an
        ONS Postcode Directory CSV (``pcds``/``pcd``/``pcd2`` with ``oseast1m``/``osnrth1m``,
        or only ``lat``/``long``); or a plain ``postcode,easting,northing`` or
        ``postcode,latitude,longitude`` CSV (optionally ``.gz``).
    postcodes
        The postcodes needed. When given, only the Code-Point area files they need are read
        (``ST16 2HE`` -> ``st.csv``) and only their rows are returned.

    Returns
    -------
    pandas.DataFrame
        Indexed by the postcode key (upper case, no spaces), columns ``easting`` and
        ``northing`` (float, EPSG:27700) and, from Code-Point Open (or an ONSPD with
        ``oslaua``), ``admin_district_code``: the postcode's own local authority district.
        Rows without coordinates are left out.

    Raises
    ------
    InputError
        The path does not exist or holds no postcode CSVs; a zip is truncated or damaged.
    SchemaError
        A CSV has no postcode column or no coordinate columns; a zip holds no Code-Point
        ``Data/CSV`` area files.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(folder / "codepo_gb.zip", "w") as z:
    ...     z.writestr("Data/CSV/st.csv", '"ST16 2HE",10,392000,323000,"E92000001"\\n')
    >>> read_postcode_lookup(folder / "codepo_gb.zip", postcodes=["st16 2he"])
              easting  northing
    postcode
    ST162HE  392000.0  323000.0
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"{path}: postcode lookup not found; give the Code-Point Open folder or a postcode "
            "CSV (relative paths are resolved against the study file's folder)"
        )
    check_regular_file(path, "postcode lookup", folder_ok=True)
    wanted = None if postcodes is None else set(normalise_postcode(pd.Series(list(postcodes))))
    if wanted is not None:
        wanted.discard("")
    if path.is_dir():
        folder = _codepoint_folder(path)
        files = sorted(folder.glob("*.csv"))
        if wanted is not None:
            areas = {a.lower() for a in _postcode_areas(wanted)}
            files = [f for f in files if f.stem.lower() in areas]
        if not files:
            return _finish(
                pd.DataFrame({"postcode": [], s.EASTING: [], s.NORTHING: []}, dtype=object),
                wanted,
                path,
            )
        return _finish(_read_codepoint_files(files), wanted, path)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: postcode lookup file is empty; export it again with its rows")
    if sniff(path) == "zip":
        return _finish(_read_codepoint_zip(path, wanted), wanted, path)
    if path.suffix.lower() == ".zip":
        raise InputError(
            f"{path}: the file is named .zip but is not a zip file (a failed or partial "
            f"download?); {_ZIP_FIX}"
        )
    head = _head(path)
    if not head or not head[0]:
        raise InputError(f"{path}: postcode lookup file is empty; export it again with its rows")
    first = [c.strip() for c in head[0]]
    if _POSTCODE_LIKE.match(first[0].upper()) and len(first) >= 4:
        return _finish(_read_codepoint_csv(path), wanted, path)
    return _finish(_read_table_lookup(path, first), wanted, path)


def _read_table_lookup(path: Path, header: list[str]) -> pd.DataFrame:
    """An ONSPD or plain postcode CSV with a header row."""
    columns = pd.DataFrame(columns=header)
    columns.attrs = {"path": str(path), "duplicate_columns": _repeated(header)}
    pc = find_column(columns, _POSTCODE_COLUMNS)
    east = find_column(columns, _EASTING_COLUMNS)
    north = find_column(columns, _NORTHING_COLUMNS)
    lat = find_column(columns, _LATITUDE_COLUMNS)
    lon = find_column(columns, _LONGITUDE_COLUMNS)
    if pc is None or not ((east and north) or (lat and lon)):
        raise SchemaError(
            f"{path}: not a recognised postcode lookup (expected a header-less Code-Point Open "
            "CSV, an ONS Postcode Directory with pcds/oseast1m/osnrth1m, or postcode,easting,"
            f"northing / postcode,latitude,longitude columns; the file has "
            f"{list_some(header, 10)}); give a Code-Point Open folder or rename the columns"
        )
    district = find_column(columns, _DISTRICT_COLUMNS)
    usecols = [c for c in (pc, east, north, lat, lon, district) if c is not None]
    raw = _read_csv(path, usecols=usecols, dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip() for c in raw.columns]
    frame = pd.DataFrame({"postcode": raw[pc]})
    if district is not None:
        frame[DISTRICT] = raw[district]
    if east and north:
        frame[s.EASTING] = pd.to_numeric(raw[east], errors="coerce")
        frame[s.NORTHING] = pd.to_numeric(raw[north], errors="coerce")
        # ONSPD gives no grid reference as blank or as 0/1 placeholders (e.g. ZZ99 codes).
        frame.loc[(frame[s.EASTING] <= 0) & (frame[s.NORTHING] <= 1), [s.EASTING, s.NORTHING]] = (
            np.nan
        )
    if lat and lon and (not (east and north) or frame[s.EASTING].isna().all()):
        la = pd.to_numeric(raw[lat], errors="coerce").to_numpy(dtype=float)
        lo = pd.to_numeric(raw[lon], errors="coerce").to_numpy(dtype=float)
        min_lon, min_lat, max_lon, max_lat = s.GB_BOUNDS_LONLAT
        inside = (lo >= min_lon) & (lo <= max_lon) & (la >= min_lat) & (la <= max_lat)
        x, y = _to_bng(np.where(inside, lo, np.nan), np.where(inside, la, np.nan))
        frame[s.EASTING], frame[s.NORTHING] = x, y
    return frame


_TRANSFORMER: Transformer | None = None


def _to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude to British National Grid (vectorised)."""
    global _TRANSFORMER
    if _TRANSFORMER is None:
        _TRANSFORMER = Transformer.from_crs(s.WGS84, s.BNG, always_xy=True)
    x, y = _TRANSFORMER.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def geocode(postcodes: pd.Series, lookup: pd.DataFrame | Path | str) -> pd.DataFrame:
    """Look postcodes up in a postcode lookup.

    Parameters
    ----------
    postcodes
        Postcodes in any case and spacing.
    lookup
        A frame from :func:`read_postcode_lookup`, or a path to read one from (only the
        area files these postcodes need are read).

    Returns
    -------
    pandas.DataFrame
        ``easting`` and ``northing`` (float, EPSG:27700; NaN where the postcode is blank or
        not found), with the same index as ``postcodes``; ``admin_district_code`` too when
        the lookup has it (blank where not found).
    """
    keys = normalise_postcode(postcodes)
    if not isinstance(lookup, pd.DataFrame):
        lookup = read_postcode_lookup(lookup, postcodes=keys)
    found = lookup.reindex(keys.to_numpy())
    out = pd.DataFrame(
        found[[s.EASTING, s.NORTHING]].to_numpy(dtype=float),
        index=postcodes.index,
        columns=[s.EASTING, s.NORTHING],
    )
    if DISTRICT in found:
        out[DISTRICT] = found[DISTRICT].fillna("").astype(str).to_numpy()
    return out
