"""GeoPackage: the layers of a report in one file, the same bytes on every run.

The attribute values are written as they are (a GeoPackage is data, not a sheet: no
formula guard), but for the characters no output holds, replaced as in every output
(:func:`geo_pcn._escape.printable`). GDAL stamps every table with the time of writing;
:func:`write_gpkg` sets it to :data:`GPKG_TIMESTAMP` so that a re-run on the same inputs
gives the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
from pandas.api.types import is_object_dtype

from geo_pcn._escape import printable_frame

__all__ = ["write_gpkg", "fix_gpkg_timestamps", "GPKG_TIMESTAMP"]

#: ``last_change`` written into every GeoPackage table (the real time would make every
#: run's file different).
GPKG_TIMESTAMP = "1970-01-01T00:00:00.000Z"


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path) -> Path | None:
    """Write every non-empty layer into the GeoPackage ``path``, in order, with a fixed
    ``last_change``.

    Parameters
    ----------
    layers
        ``layer name -> GeoDataFrame`` (:meth:`geo_pcn.report.Report.geodata`).
    path
        The ``.gpkg`` file.

    Returns
    -------
    pathlib.Path or None
        ``path``, or ``None`` when every layer was empty (no file is written then).
    """
    path = Path(path)
    arrow = {"use_arrow": True} if _arrow_writes() else {}
    for layer, frame in layers.items():
        if len(frame):
            # data as it is (not a sheet), control characters as every output shows them;
            # through Arrow when GDAL can (the same bytes, without a Python loop per row)
            printable_frame(_one_type(frame)).to_file(path, layer=layer, driver="GPKG", **arrow)
    if not path.exists():
        return None
    fix_gpkg_timestamps(path)
    return path


def _one_type(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Numbers written as text in a column that also holds text (a finding's threshold
    is metres for one kind, an area code for another): Arrow takes one type a column."""
    out = frame
    for column in [c for c in frame.columns if is_object_dtype(frame[c].dtype)]:
        values = frame[column]
        text = values.map(lambda v: isinstance(v, str))
        other = values.notna() & ~text
        if text.any() and other.any():
            out = out.copy() if out is frame else out
            out[column] = values.where(~other, values[other].map(str))
    return out


def _arrow_writes() -> bool:
    """Whether pyogrio can write through Arrow here (pyogrio 0.8 with GDAL 3.8 or later)."""
    import pyogrio

    def version(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split(".")[:2] if p.isdigit())

    return version(pyogrio.__version__) >= (0, 8) and pyogrio.__gdal_version__ >= (3, 8, 0)


def fix_gpkg_timestamps(path: str | Path, timestamp: str = GPKG_TIMESTAMP) -> None:
    """Set every ``last_change`` of a GeoPackage to ``timestamp`` (GDAL writes the time of
    writing, so two runs on the same inputs would give different files)."""
    with sqlite3.connect(path) as con:
        con.execute("UPDATE gpkg_contents SET last_change = ?", (timestamp,))
    con.close()
