"""Community sites (pharmacies, clinics, team bases...) as points: ODS organisation files
(``edispensary.csv``) or tables with a code or name column and coordinates or postcodes.
Importable from :mod:`geo_pcn.io.nhs` too, where it was.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo_pcn import settings as s
from geo_pcn.io._formats import (
    ODS_COLUMNS,
    PRACTICE_ALIASES,
    STATUS,
    canonical_table,
    count,
    ods_active,
    ods_layout,
)
from geo_pcn.io.locations import locate
from geo_pcn.io.tables import Source, find_column, read_table

__all__ = ["read_sites"]

_SITE_ALIASES = {
    s.CODE: [
        "code",
        "site_code",
        "Site Code",
        "ODS code",
        "ORG_CODE",
        "Organisation Code",
        "id",
        "site_id",
        "practice_code",
    ],
    s.NAME: ["name", "site_name", "Site Name", "Organisation Name", "ORG_NAME"],
    s.POSTCODE: PRACTICE_ALIASES[s.POSTCODE],
    s.PCN_CODE: ["pcn_code", "PCN Code", "aligned_pcn", "aligned_pcn_code"],
    "status": ["status"],
    s.EASTING: PRACTICE_ALIASES[s.EASTING],
    s.NORTHING: PRACTICE_ALIASES[s.NORTHING],
    s.LATITUDE: PRACTICE_ALIASES[s.LATITUDE],
    s.LONGITUDE: PRACTICE_ALIASES[s.LONGITUDE],
}


def read_sites(
    source: Source | str | Path, *, postcodes: Path | str | pd.DataFrame | None = None
) -> gpd.GeoDataFrame:
    """Read community sites (pharmacies, clinics, team bases...) as points.

    Parameters
    ----------
    source
        An ODS header-less organisation file such as ``edispensary.csv`` (column 0 code,
        1 name, 3 ICB code, 9 postcode, 12 status; active ``A`` rows kept, so
        ``where = { icb_code = "QNC" }`` works), or a CSV with a code or name column and
        coordinates and/or postcodes. The PCN a site is aligned to is read from a
        ``pcn_code`` column, or the column named in ``columns = { pcn_code = ... }`` or
        ``options["pcn"]``.
    postcodes
        Postcode lookup for sites without coordinates.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code, name, postcode, [pcn_code], status, locate_method, geometry`` (points in
        EPSG:27700; ``None`` where not located, never dropped). ``status`` is ``active`` for
        ODS files, the file's status column otherwise, or ``""``.

    Raises
    ------
    SchemaError
        No code or name column, or nothing to locate sites with.
    InputError, GeometryError
        Bad coordinates (see :func:`~geo_pcn.io.locations.locate`).
    """
    src = Source.coerce(source)
    raw = read_table(
        src.path, role="sites", header=src.options.get("header"), sheet=src.options.get("sheet")
    )  # type: ignore[arg-type]
    explicit = dict(src.columns)
    if "pcn" in src.options and s.PCN_CODE not in explicit:
        explicit[s.PCN_CODE] = str(src.options["pcn"])
    src = Source(src.path, columns=explicit, where=src.where, options=src.options)
    layout = ods_layout(raw)
    frame = _ods_sites(raw, src, layout) if layout is not None else _table_sites(raw, src, explicit)
    attrs = dict(frame.attrs)
    for col in (s.NAME, s.POSTCODE, "status"):
        if col not in frame.columns:
            frame[col] = ""
    frame[s.CODE] = frame[s.CODE].str.upper() if layout is not None else frame[s.CODE]
    frame[s.POSTCODE] = frame[s.POSTCODE].str.upper().str.split().str.join(" ").fillna("")
    if s.PCN_CODE in frame.columns:
        pcn = frame[s.PCN_CODE].str.upper()
        frame[s.PCN_CODE] = pcn.where(~pcn.isin(s.UNALLOCATED_PCN_CODES), "")
    located = locate(frame, source=src.label, postcodes=postcodes, first_line=attrs["first_line"])
    columns = (
        [s.CODE, s.NAME, s.POSTCODE]
        + ([s.PCN_CODE] if s.PCN_CODE in frame.columns else [])
        + ["status"]
    )
    table = frame[columns].copy()
    table["locate_method"] = located["locate_method"]
    points = shapely.points(located[[s.EASTING, s.NORTHING]].to_numpy())
    points[located["locate_method"].eq("").to_numpy()] = None
    out = gpd.GeoDataFrame(table.reset_index(drop=True), geometry=points, crs=s.BNG)
    out.attrs = {
        "path": attrs["path"],
        "format": attrs["format"],
        "skipped": dict(attrs["skipped"]),
    }
    return out


def _ods_sites(raw: pd.DataFrame, src: Source, layout: str) -> pd.DataFrame:
    """The active sites of a header-less ODS organisation file, ``status`` ``active``."""
    schema = {
        s.CODE: ODS_COLUMNS[s.PRACTICE_CODE],
        s.NAME: ODS_COLUMNS[s.PRACTICE_NAME],
        s.ICB_CODE: ODS_COLUMNS[s.ICB_CODE],
        s.POSTCODE: ODS_COLUMNS[s.POSTCODE],
        "_status": ODS_COLUMNS[STATUS],
        s.SUB_ICB_CODE: ODS_COLUMNS[s.SUB_ICB_CODE],
        s.PCN_CODE: [],
    }
    fmt = "edispensary" if layout == "ods_organisations" else layout
    frame = canonical_table(raw, src, schema, required=[s.CODE], what="sites", expected="", fmt=fmt)
    active = ods_active(frame, "_status")
    count(frame.attrs["skipped"], "not active (closed or proposed)", (~active).sum())
    frame = frame[active].copy()
    frame["status"] = "active"
    return frame


def _table_sites(raw: pd.DataFrame, src: Source, explicit: dict) -> pd.DataFrame:
    """The sites of a table with a code or name column (the name is the code when there is
    no code column)."""
    required = (
        [s.CODE]
        if (find_column(raw, _SITE_ALIASES[s.CODE]) is not None or s.CODE in explicit)
        else [s.NAME]
    )
    frame = canonical_table(
        raw,
        src,
        _SITE_ALIASES,
        required=required,
        what="sites",
        expected="a code or name column (code, site_code, name...) with latitude/"
        "longitude, easting/northing or postcode columns",
    )
    if s.CODE not in frame.columns:
        frame[s.CODE] = frame[s.NAME]
    return frame
