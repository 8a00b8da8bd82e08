"""Where things are: coordinates from lat/long, easting/northing or postcodes, in BNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo_pcn import settings as s
from geo_pcn.errors import GeometryError, InputError, SchemaError, list_some
from geo_pcn.io._formats import STATUS, load_practice_table
from geo_pcn.io.postcodes import _to_bng, geocode, read_postcode_lookup
from geo_pcn.io.tables import Source, to_number

__all__ = ["locate", "read_locations"]


def _has(frame: pd.DataFrame, *columns: str) -> bool:
    return all(c in frame.columns for c in columns)


def _blank(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip().eq("")


def _pair(
    frame: pd.DataFrame, a: str, b: str, *, source: str, first_line: int
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse a coordinate pair; returns (a, b, given) and raises for half-given pairs."""
    x = to_number(frame[a], source=source, column=a, allow_negative=True, first_line=first_line)
    y = to_number(frame[b], source=source, column=b, allow_negative=True, first_line=first_line)
    half = x.isna() ^ y.isna()
    if half.any():
        raise InputError(
            f"{source}: {a} and {b} must both be given or both blank; only one is given in "
            f"{_rows(frame, half, first_line)}; complete or clear those rows"
        )
    return x.astype(float), y.astype(float), x.notna()


def _rows(frame: pd.DataFrame, mask: pd.Series, first_line: int) -> str:
    """``line 5 (A81001), line 9 (B82002)`` for the selected rows."""
    code_col = next((c for c in (s.PRACTICE_CODE, s.CODE) if c in frame.columns), None)
    labels = []
    for i in frame.index[mask.to_numpy()]:
        label = f"line {int(i) + first_line}"
        if code_col is not None:
            label += f" ({frame.at[i, code_col]})"
        labels.append(label)
    return list_some(labels)


def locate(
    frame: pd.DataFrame,
    *,
    source: str,
    postcodes: Path | str | pd.DataFrame | None = None,
    first_line: int = 2,
) -> pd.DataFrame:
    """Put every row of a table on the British National Grid.

    Coordinates win over postcodes: ``easting``/``northing`` first, then
    ``latitude``/``longitude`` (WGS84, transformed with pyproj), then the ``postcode``
    looked up in ``postcodes`` for rows that have no coordinates.

    Parameters
    ----------
    frame
        Canonical columns (text or numbers): ``easting``/``northing``,
        ``latitude``/``longitude`` and/or ``postcode``; ``practice_code`` or ``code`` is
        used to name rows in messages. Not modified.
    source
        The file's label, for messages.
    postcodes
        A postcode lookup (path for :func:`read_postcode_lookup`, or its result).
    first_line
        File line of the row with index label ``0`` (2 with a header row, 1 without).

    Returns
    -------
    pandas.DataFrame
        Same index as ``frame``; ``easting``, ``northing`` (float, EPSG:27700, NaN when not
        located) and ``locate_method`` (``"easting/northing"``, ``"lat/long"``,
        ``"postcode"`` or ``""``).

    Raises
    ------
    SchemaError
        No coordinate columns, and no postcodes or no postcode lookup.
    InputError
        Non-numeric coordinates, or only one of a pair given.
    GeometryError
        Coordinates outside Great Britain (the message says when latitude and longitude
        look swapped, or when eastings/northings look like degrees).
    """
    has_en = _has(frame, s.EASTING, s.NORTHING)
    has_ll = _has(frame, s.LATITUDE, s.LONGITUDE)
    has_pc = s.POSTCODE in frame.columns and postcodes is not None
    if not (has_en or has_ll or has_pc):
        hint = (
            'give a postcode lookup (postcodes = "<Code-Point Open folder or codepo_gb.zip>")'
            if s.POSTCODE in frame.columns
            else "add latitude/longitude or easting/northing columns, or postcodes and a "
            "postcode lookup"
        )
        raise SchemaError(
            f"{source}: no coordinates (latitude/longitude or easting/northing) to locate "
            f"rows with; {hint}"
        )
    n = len(frame)
    east = np.full(n, np.nan)
    north = np.full(n, np.nan)
    method = np.full(n, "", dtype=object)
    problems: list[str] = []
    if has_en:
        _take_en(frame, east, north, method, problems, source, first_line)
    if has_ll:
        _take_lat_long(frame, east, north, method, problems, source, first_line)
    if problems:
        raise GeometryError(f"{source}: " + "; ".join(problems))
    if has_pc:
        _take_postcodes(frame, east, north, method, postcodes)
    return pd.DataFrame(
        {s.EASTING: east, s.NORTHING: north, "locate_method": pd.array(method, dtype="str")},
        index=frame.index,
    )


def _take_en(
    frame: pd.DataFrame,
    east: np.ndarray,
    north: np.ndarray,
    method: np.ndarray,
    problems: list[str],
    source: str,
    first_line: int,
) -> None:
    """Rows with easting/northing: placed there (in place in ``east``, ``north``,
    ``method``); rows outside Great Britain, or in degrees, are ``problems``."""
    x, y, given = _pair(frame, s.EASTING, s.NORTHING, source=source, first_line=first_line)
    minx, miny, maxx, maxy = s.GB_BOUNDS_BNG
    # degrees fall inside the BNG box (near its origin, in the sea): catch them too
    degrees = given & x.abs().le(180) & y.abs().le(90)
    out = given & (~(x.between(minx, maxx) & y.between(miny, maxy)) | degrees)
    if out.any():
        msg = (
            f"easting/northing outside Great Britain ({minx:.0f}..{maxx:.0f}, "
            f"{miny:.0f}..{maxy:.0f} m) in {_rows(frame, out, first_line)}"
        )
        if degrees.any():
            msg += "; the values look like degrees: put them in latitude/longitude columns instead"
        problems.append(msg)
    take = given.to_numpy()
    east[take], north[take] = x.to_numpy()[take], y.to_numpy()[take]
    method[take] = "easting/northing"


def _take_lat_long(
    frame: pd.DataFrame,
    east: np.ndarray,
    north: np.ndarray,
    method: np.ndarray,
    problems: list[str],
    source: str,
    first_line: int,
) -> None:
    """Rows with latitude/longitude and no easting/northing: projected to BNG (in place);
    rows outside Great Britain (or with the two swapped) are ``problems``."""
    lat, lon, given = _pair(frame, s.LATITUDE, s.LONGITUDE, source=source, first_line=first_line)
    min_lon, min_lat, max_lon, max_lat = s.GB_BOUNDS_LONLAT
    inside = lon.between(min_lon, max_lon) & lat.between(min_lat, max_lat)
    out = given & ~inside
    if out.any():
        swapped = out & lat.between(min_lon, max_lon) & lon.between(min_lat, max_lat)
        rest = out & ~swapped
        if swapped.any():
            problems.append(
                f"latitude and longitude appear to be swapped in "
                f"{_rows(frame, swapped, first_line)}; swap the columns"
            )
        if rest.any():
            problems.append(
                f"latitude/longitude outside Great Britain (latitude {min_lat}..{max_lat}, "
                f"longitude {min_lon}..{max_lon}) in {_rows(frame, rest, first_line)}; "
                "correct those rows"
            )
    take = (given & (method == "")).to_numpy()
    if take.any():
        x, y = _to_bng(lon.to_numpy()[take], lat.to_numpy()[take])
        east[take], north[take] = x, y
        method[take] = "lat/long"


def _take_postcodes(
    frame: pd.DataFrame,
    east: np.ndarray,
    north: np.ndarray,
    method: np.ndarray,
    postcodes: Path | str | pd.DataFrame,
) -> None:
    """Rows still unplaced with a postcode: placed at it (in place), when the lookup has it."""
    need = (method == "") & ~_blank(frame[s.POSTCODE]).to_numpy()
    if need.any():
        codes = frame[s.POSTCODE][need]
        lookup = (
            postcodes
            if isinstance(postcodes, pd.DataFrame)
            else read_postcode_lookup(postcodes, postcodes=codes)
        )
        found = geocode(codes, lookup)
        hit = found[s.EASTING].notna().to_numpy()
        where = np.flatnonzero(need)[hit]
        east[where] = found[s.EASTING].to_numpy()[hit]
        north[where] = found[s.NORTHING].to_numpy()[hit]
        method[where] = "postcode"


def read_locations(
    source: Source | str | Path, *, postcodes: Path | str | pd.DataFrame | None = None
) -> pd.DataFrame:
    """Read practice locations from any table keyed by practice code.

    Coordinates may be latitude/longitude (``Latitude_1m``/``Longitude_1m``, ``lat``/
    ``long``...), easting/northing (``easting``, ``X``/``Y``...) or postcodes geocoded with
    ``postcodes`` (so an epraccur file or the NHS map can serve).

    Parameters
    ----------
    source
        The file, or a :class:`~geo_pcn.io.tables.Source` with ``columns``/``where``.
    postcodes
        A postcode lookup (Code-Point Open folder or codepo_gb.zip, ONSPD or postcode
        CSV) for rows without coordinates.

    Returns
    -------
    pandas.DataFrame
        ``practice_code, easting, northing, locate_method`` (one row per practice; NaN and
        ``""`` where not located), and ``postcode`` (upper case, single spaces) and
        ``status`` (as :func:`~geo_pcn.io.nhs.read_practices` gives it) when the file has
        them (an epraccur file or the NHS map used for locations does), so that a study can
        take them from here. ``attrs``: ``path``, ``format``, ``skipped``.

    Raises
    ------
    InputError, SchemaError, GeometryError
        See :func:`locate`; also a practice listed twice at different places.
    """
    src = Source.coerce(source)
    frame = load_practice_table(src, what="practice locations")
    attrs = dict(frame.attrs)
    first_line = attrs["first_line"]
    frame[s.PRACTICE_CODE] = frame[s.PRACTICE_CODE].str.upper()
    keep = [
        c
        for c in (s.PRACTICE_CODE, s.EASTING, s.NORTHING, s.LATITUDE, s.LONGITUDE, s.POSTCODE)
        if c in frame.columns
    ]
    # a status column of blanks is the reader's "no status" (e.g. a plain coordinates CSV)
    extra = [c for c in (s.POSTCODE, STATUS) if c in frame.columns and frame[c].ne("").any()]
    located = locate(frame[keep], source=src.label, postcodes=postcodes, first_line=first_line)
    out = pd.concat([frame[[s.PRACTICE_CODE]], located], axis=1)
    skipped = dict(attrs["skipped"])
    dup = out.duplicated(keep="first")
    if dup.any():
        skipped["duplicate row"] = skipped.get("duplicate row", 0) + int(dup.sum())
    if s.POSTCODE in extra:
        out[s.POSTCODE] = frame[s.POSTCODE].str.upper().str.split().str.join(" ").fillna("")
    if STATUS in extra:
        out[STATUS] = frame[STATUS]
    out = out[~dup.to_numpy()]
    twice = out[s.PRACTICE_CODE].duplicated(keep=False)
    if twice.any():
        codes = sorted(out.loc[twice, s.PRACTICE_CODE].unique())
        raise InputError(
            f"{src.label}: practice(s) {list_some(codes)} are given at different places "
            f"({_rows(out, twice, first_line)}); keep one row per practice"
        )
    out = out.reset_index(drop=True)
    out.attrs = {"path": str(src.path), "format": attrs["format"], "skipped": skipped}
    return out
