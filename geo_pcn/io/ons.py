"""ONS-style boundary layers (LSOA, sub-ICB, ICB, LAD...) and small-area population.

Boundaries are read with pyogrio (GeoJSON, GeoPackage, Shapefile...) or pyarrow
(GeoParquet), recognised by content, checked and projected to British National Grid.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn import settings as s
from geo_pcn.errors import CRSError, GeometryError, InputError, SchemaError, list_some
from geo_pcn.io._cache import cached
from geo_pcn.io._coverage import OVERLAP_SHARE  # noqa: F401 (importable here too)
from geo_pcn.io._coverage import check_coverage as _check_coverage
from geo_pcn.io._formats import canonical_table, canonical_where_error, count, lines_of
from geo_pcn.io._limits import check_regular_file
from geo_pcn.io.tables import (
    MAX_POPULATION,
    Source,
    apply_where,
    find_column,
    read_table,
    split_where,
    to_number,
    warn,
)

__all__ = ["read_boundaries", "read_areas", "read_population", "LEVEL_STEMS"]

#: Which ONS column stems fit each boundary level (first match in column order wins).
LEVEL_STEMS: dict[str, tuple[str, ...]] = {
    "sub_icb": ("sicbl", "subicb", "sicb", "ccg", "loc"),
    "icb": ("icb", "stp"),
    "place": ("lad", "ltla", "utla", "la", "lau", "place", "cty", "ctyua"),
    "areas": ("lsoa", "msoa", "oa", "dz", "dzone", "sa"),
}

# lsoa21cd, LAD24NM, SICBL24CDH, lsoa21_code, sicbl24_code_nhs, icb22_code_h, pcn_code ...
_ONS_COLUMN = re.compile(
    r"^(?P<stem>[a-z]+?)(?P<year>\d{2})?_?(?P<kind>cdh|cd|nm|code_nhs|code_h|code|name)$"
)
_KIND = {
    "cd": "code",
    "code": "code",
    "nm": "name",
    "name": "name",
    "cdh": "nhs_code",
    "code_nhs": "nhs_code",
    "code_h": "nhs_code",
}


def _pick_columns(columns: list[str], level: str) -> dict[str, str]:
    """Choose code/name/nhs_code columns by ONS naming, preferring the stem of ``level``."""
    groups: dict[str, dict[str, str]] = {}
    plain_nhs = next((c for c in columns if str(c).strip().lower() == "nhs_code"), None)
    for col in columns:
        m = _ONS_COLUMN.match(str(col).strip().lower())
        if not m or col == plain_nhs:
            continue
        key = m["stem"] + (m["year"] or "")
        groups.setdefault(key, {}).setdefault(_KIND[m["kind"]], col)
        groups[key].setdefault("_stem", m["stem"])
    candidates = [g for g in groups.values() if "code" in g]
    if not candidates:
        return {"nhs_code": plain_nhs} if plain_nhs is not None else {}
    wanted = LEVEL_STEMS.get(level.lower(), (level.lower(),))
    chosen = next((g for g in candidates if g["_stem"] in wanted), candidates[0])
    picked = {k: v for k, v in chosen.items() if not k.startswith("_")}
    if plain_nhs is not None:
        picked.setdefault("nhs_code", plain_nhs)
    return picked


#: GDAL drivers whose files hold exactly one layer (GDAL parses a GeoJSON file whole each
#: time it opens one, so the layers are not listed for them).
ONE_LAYER_DRIVERS = frozenset({"GeoJSON", "GeoJSONSeq", "ESRIJSON"})


def _read_layer(src: Source, level: str = "boundary") -> gpd.GeoDataFrame:
    path = src.path
    if not path.exists():
        raise InputError(
            f"{path}: boundary file not found; check the path (relative paths are resolved "
            "against the study file's folder)"
        )
    check_regular_file(path, "boundary file", folder_ok=True)
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: boundary file is empty; export the layer again")
    if path.is_file():
        with path.open("rb") as fh:
            magic = fh.read(4)
        if magic == b"PAR1":
            try:
                gdf = gpd.read_parquet(path)
                gdf.attrs["format"] = "GeoParquet"
                return gdf
            except ImportError:
                raise InputError(
                    f"{path}: reading GeoParquet needs pyarrow; pip install pyarrow"
                ) from None
            except Exception as exc:
                if "geo" in str(exc).lower() and "metadata" in str(exc).lower():
                    import pyarrow.parquet as pq

                    _no_geometry(src, pq.read_schema(path).names, level)
                raise InputError(
                    f"{path}: not a readable GeoParquet file ({' '.join(str(exc).split())}); "
                    "export it again"
                ) from None
    if path.is_file() and path.suffix.lower() == ".shp":
        _check_shapefile_parts(path)
    import pyogrio

    layer = src.options.get("layer")
    try:
        info = pyogrio.read_info(path, layer=layer)
        # a GeoJSON file holds one layer: listing them would parse the file once more
        if layer is None and not (path.is_file() and info.get("driver") in ONE_LAYER_DRIVERS):
            layers = pyogrio.list_layers(path)
            if len(layers) > 1:
                polygonal = [
                    str(name)
                    for name, kind in layers
                    if kind is not None and "POLYGON" in str(kind).upper()
                ]
                if len(polygonal) != 1:
                    raise SchemaError(
                        f"{path}: has {len(layers)} layers "
                        f"({list_some([str(n) for n, _ in layers], 8)}); pick one in the study "
                        'file with layer = "<name>"'
                    )
                layer = polygonal[0]
        kwargs = {"layer": layer} if layer is not None else {}
        try:
            import pyarrow  # noqa: F401

            kwargs["use_arrow"] = True
        except ImportError:
            pass
        gdf = gpd.read_file(path, engine="pyogrio", **kwargs)
    except SchemaError:
        raise
    except Exception as exc:  # pyogrio DataSourceError, DataLayerError...
        reason = " ".join(str(exc).split())
        raise InputError(
            f"{path}: not a readable boundary file ({reason}); give a GeoJSON, GeoPackage, "
            "Shapefile or GeoParquet file"
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf._geometry_column_name not in gdf:
        _no_geometry(src, list(gdf.columns), level)
    gdf.attrs["format"] = str(info.get("driver") or "OGR")
    return gdf


def _no_geometry(src: Source, columns: list, level: str) -> None:
    """Raise: a table was given where a polygon layer is needed."""
    columns = [str(c) for c in columns if str(c).lower() not in {"geometry", "wkb_geometry"}]
    if level == "areas":
        fix = (
            "[areas] needs the small-area polygons (e.g. the ONS LSOA 2021 boundaries as "
            'GeoJSON); a population table goes in [areas] population = "..."'
        )
    else:
        fix = (
            "a lookup of small area -> area is read as a layer when it is a .csv or .xlsx "
            "file (the study's [areas] polygons are dissolved by area; in Python: "
            "geo_pcn.io.lookups.read_lookup_layer)"
        )
    raise SchemaError(
        f"{src.label}: is a table with no geometry (columns {list_some(columns, 6)}), but "
        f"a polygon layer is needed (GeoJSON, GeoPackage, Shapefile or GeoParquet); {fix}"
    )


def _sidecar(path: Path, suffix: str) -> Path | None:
    """The file next to ``path`` with ``suffix`` in either case, or ``None``."""
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    return None


def _check_shapefile_parts(path: Path) -> None:
    """A shapefile is several files; name the ones that are missing."""
    missing = [suffix for suffix in (".shx", ".dbf") if _sidecar(path, suffix) is None]
    if missing:
        what = {".shx": "the index of the shapes", ".dbf": "the attributes: codes and names"}
        detail = "; ".join(f"{path.with_suffix(m).name} ({what[m]})" for m in missing)
        raise InputError(
            f"{path}: the shapefile is incomplete: missing {detail}; copy every file of the "
            "shapefile (.shp, .shx, .dbf, .prj) into the same folder with the same name, or "
            "give a GeoPackage or GeoJSON instead"
        )


def _set_crs(gdf: gpd.GeoDataFrame, src: Source) -> gpd.GeoDataFrame:
    wanted = src.options.get("crs")
    if wanted is not None:
        from pyproj import CRS

        try:
            CRS.from_user_input(wanted)
        except Exception:  # pyproj's CRSError (a typo such as EPSG:277000), a number...
            raise CRSError(
                f"{src.label}: crs = {wanted!r} is not a coordinate reference system; use e.g. "
                'crs = "EPSG:27700" (British National Grid) or "EPSG:4326" (latitude/longitude)'
            ) from None
    if gdf.crs is None:
        if wanted is None and src.path.suffix.lower() == ".shp" and not _sidecar(src.path, ".prj"):
            raise CRSError(
                f"{src.label}: the shapefile's .prj file ({src.path.with_suffix('.prj').name}) is "
                "missing, so its coordinate reference system is unknown; copy the .prj that "
                'came with it, or set it in the study file with crs = "EPSG:27700" (or 4326)'
            )
        if wanted is None:
            raise CRSError(
                f"{src.label} has no coordinate reference system; set it in the study file "
                'with crs = "EPSG:27700" (or 4326), or fix the file'
            )
        return gdf.set_crs(wanted)
    if wanted is not None and not gdf.crs.equals(wanted):
        warn(
            f"{src.label}: the file says its CRS is {gdf.crs.to_string()} but the study file "
            f"says crs = {wanted!r}; using {wanted!r} (remove crs from the study file to use "
            "the file's own)"
        )
        return gdf.set_crs(wanted, allow_override=True)
    return gdf


def _polygonal_parts(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (vectorised); ``None`` if none."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = np.isin(shapely.get_type_id(parts), [3, 6])
    parts, index = parts[keep], index[keep]
    polys, pindex = shapely.get_parts(parts, return_index=True)  # MultiPolygon -> Polygons
    out = np.full(len(geoms), None, dtype=object)
    if len(polys):
        shapely.multipolygons(polys, indices=index[pindex], out=out)
    single = shapely.get_num_geometries(out) == 1
    if single.any():
        out[single] = shapely.get_geometry(out[single], 0)
    return out


def read_boundaries(
    source: Source | str | Path, *, level: str = "boundary", check_coverage: bool | None = None
) -> gpd.GeoDataFrame:
    """Read a boundary layer (polygons with a code) into British National Grid.

    Parameters
    ----------
    source
        GeoJSON, GeoPackage (``options["layer"]`` picks a layer), Shapefile or GeoParquet.
        Columns: ``columns = {code = ..., name = ..., nhs_code = ...}``, else ONS-style
        columns in any case (``LSOA21CD``, ``LAD24NM``, ``sicbl24_code``,
        ``SICBL24CDH``/``sicbl24_code_nhs`` -> ``nhs_code``...), else ``code``/``name``.
        ``options["crs"]`` sets the CRS of a file without one.
    level
        Which level the layer is for; when several code columns exist the stem that fits
        wins (``sub_icb``: SICBL/CCG; ``icb``: ICB/STP; ``place``: LAD/LTLA/UTLA;
        ``areas``: LSOA/MSOA/OA/DZ; any other value is tried as a stem), else the first.
    check_coverage
        Refuse features of different codes that overlap (one polygon covering others, a
        copy under a new code; for ``level="areas"`` also the same code twice): by default
        for every layer (pass ``False`` to allow overlaps).

    Returns
    -------
    geopandas.GeoDataFrame
        ``code, name, nhs_code`` (``""`` when absent) and Polygon/MultiPolygon geometry in
        EPSG:27700, one row per code (features with the same code are dissolved).
        ``attrs``: ``path``, ``format`` (GDAL driver or ``GeoParquet``), ``skipped``.

    Raises
    ------
    InputError
        Missing, empty or unreadable file, or an empty layer, or features without a code.
    SchemaError
        No code column could be found, or several layers and none chosen.
    CRSError
        The layer has no CRS and none is given.
    GeometryError
        Null/empty or non-polygon geometry, features outside Great Britain, or (with
        ``check_coverage``) features that overlap.

    Warns
    -----
    GeoPCNWarning
        Invalid polygons are **repaired** with :func:`shapely.make_valid` (keeping the
        polygonal parts) and one warning names the features and the reason
        (:func:`shapely.is_valid_reason`). Boundary files from ONS and from generalisation
        tools often carry tiny self-intersections; refusing them would block planners for
        a problem that does not change any answer, so we repair and say so.
    """
    src = Source.coerce(source)
    options = {"source": src, "level": level, "check_coverage": check_coverage}
    return cached(
        "boundaries",
        _boundary_files(src),
        options,
        lambda: _read_boundaries(src, level=level, check_coverage=check_coverage),
    )


def _boundary_files(src: Source) -> list[Path]:
    """The files a layer is read from (a shapefile's .dbf, .shx, .prj... are part of it)."""
    if src.path.suffix.lower() == ".shp":
        return sorted(src.path.parent.glob(f"{src.path.stem}.*"))
    return [src.path]


def _read_boundaries(
    src: Source,
    *,
    level: str,
    check_coverage: bool | None,
    layer: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """:func:`read_boundaries` without the cache: the layer read (or ``layer``, the same
    file as :func:`_read_layer` read it), its columns picked, the ``where`` filter applied,
    every feature checked, projected to BNG and repaired."""
    gdf = _read_layer(src, level) if layer is None else layer
    label = src.label
    fmt = gdf.attrs.get("format", "OGR")
    if len(gdf) == 0:
        raise InputError(f"{label}: the boundary layer has no features; export it again")
    explicit = dict(src.columns)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    # pcn_code: the PCN an area is formally aligned to (community layers), only when named
    keys = ("code", "name", "nhs_code") + (("pcn_code",) if "pcn_code" in explicit else ())
    picked = _boundary_columns(frame, explicit, keys, level, label)
    skipped: dict[str, int] = {}
    table = pd.DataFrame(
        {k: _text(frame[picked[k]]) if k in picked else "" for k in keys},
        index=frame.index,
    )
    if src.where:
        table, gdf = _boundary_where(src, frame, table, gdf, skipped)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    codes = table["code"].to_numpy(dtype=object)
    _check_features(table, geoms, codes, picked, label)
    geoms = _boundary_bng(gpd.GeoDataFrame(table, geometry=geoms, crs=gdf.crs), src, codes)
    geoms = _repaired(geoms, codes, label)
    if check_coverage is not False:
        # every polygon layer: the first of two overlapping polygons would take every
        # practice and area of the overlap, depending on file order (a code split into
        # several features is one polygon outside the areas layer: dissolved below)
        _check_coverage(geoms, codes, label, level=level)
    gdf = gpd.GeoDataFrame(table, geometry=geoms, crs=s.BNG)
    if gdf["code"].duplicated().any():
        gdf = _dissolve(gdf)
    out = gdf.reset_index(drop=True)
    out.attrs = {
        "path": str(src.path),
        "format": fmt,
        "skipped": skipped,
        "columns": {k: str(v) for k, v in picked.items()},
    }
    return out


def _boundary_columns(
    frame: pd.DataFrame, explicit: dict, keys: tuple[str, ...], level: str, label: str
) -> dict[str, str]:
    """``code``, ``name``, ``nhs_code`` (and ``pcn_code``) -> the layer's column: those the
    study file names, else ONS-style columns of the level, else ``code`` / ``id``."""
    columns = list(frame.columns)
    picked = _pick_columns(columns, level)
    for key in keys:
        if key in explicit:
            col = find_column(frame, (), explicit=explicit[key])
            if col is None:
                raise SchemaError(
                    f"{label}: column {explicit[key]!r} named in the study file (columns = "
                    f"{{ {key} = ... }}) is not in the layer; it has {list_some(columns, 12)}"
                )
            picked[key] = col
    if "code" not in picked:
        fallback = find_column(frame, ["code", "id", "fid_code"])
        if fallback is None:
            raise SchemaError(
                f"{label}: not a recognised boundary file (expected an ONS code column such "
                f"as LSOA21CD / LAD24CD / SICBL24CD / icb24_code, or code; the layer has "
                f"{list_some(columns, 12)}); name the columns in the study file with "
                'columns = { code = "<column>", name = "<column>" }'
            )
        picked["code"] = fallback
        name = find_column(frame, ["name"])
        if name is not None and "name" not in picked:
            picked["name"] = name
    return picked


def _boundary_where(
    src: Source,
    frame: pd.DataFrame,
    table: pd.DataFrame,
    gdf: gpd.GeoDataFrame,
    skipped: dict[str, int],
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The features the ``where`` filter keeps: on the raw columns first, then on code /
    name / nhs_code (the rows left out counted in ``skipped``)."""
    label = src.label
    # raw columns first, then code / name / nhs_code
    raw = frame.astype(object).where(frame.notna(), "").astype(str)
    raw_where, canon_where = split_where(raw, src.where)
    kept = apply_where(raw, raw_where, source=label).index if raw_where else raw.index
    if canon_where:
        canonical_where_error(src, canon_where, raw, table)
        kept = apply_where(table.loc[kept], canon_where, source=label).index
    count(skipped, "outside the where filter", len(frame) - len(kept))
    table = table.loc[kept]
    gdf = gdf.loc[kept]
    return table, gdf


def _check_features(
    table: pd.DataFrame, geoms: np.ndarray, codes: np.ndarray, picked: dict, label: str
) -> None:
    """Every feature has a code and a polygon geometry."""
    blank = table["code"].eq("").to_numpy()
    if blank.any():
        raise InputError(
            f"{label}: {blank.sum()} feature(s) have no code (feature number(s) "
            f"{list_some(np.flatnonzero(blank) + 1)}); fill in the code column "
            f"{picked['code']!r}"
        )
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise GeometryError(
            f"{label}: feature(s) {list_some(codes[missing])} have no geometry (null or empty); "
            "delete them or fix the file"
        )
    type_id = shapely.get_type_id(geoms)
    wrong = ~np.isin(type_id, [3, 6])
    if wrong.any():
        kinds = sorted({shapely.geometry.base.GEOMETRY_TYPES[t] for t in type_id[wrong]})
        raise GeometryError(
            f"{label}: boundaries must be polygons, but feature(s) {list_some(codes[wrong])} "
            f"are {', '.join(kinds)}; give a polygon layer"
        )


def _boundary_bng(gdf: gpd.GeoDataFrame, src: Source, codes: np.ndarray) -> np.ndarray:
    """The layer's geometries in BNG, 2D, after checking that its coordinates match its CRS
    and lie in Great Britain."""
    gdf = _set_crs(gdf, src)
    _check_degrees(gdf, src.label)
    return _to_bng(gdf.geometry, codes, src.label)


def _check_degrees(gdf: gpd.GeoDataFrame, label: str) -> None:
    """Refuse a projected CRS whose coordinates are all within +-180/+-90 (degrees)."""
    if gdf.crs.is_projected:
        x0, y0, x1, y1 = gdf.total_bounds
        if max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90:
            raise GeometryError(
                f"{label}: coordinates look like degrees (longitude/latitude) but the CRS is "
                f'{gdf.crs.to_string()}; set crs = "EPSG:4326" in the study file or fix the file'
            )


def _to_bng(series: gpd.GeoSeries, codes: np.ndarray, label: str) -> np.ndarray:
    """Geometries with a CRS projected to BNG (each on its own: any subset of a layer gives
    the same polygons as the whole), 2D, refused when they fall outside Great Britain."""
    if not series.crs.equals(s.BNG):
        series = series.to_crs(s.BNG)
    geoms = np.asarray(series.values, dtype=object)
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    bounds = shapely.bounds(geoms)
    minx, miny, maxx, maxy = s.GB_BOUNDS_BNG
    outside = (
        (bounds[:, 0] < minx)
        | (bounds[:, 1] < miny)
        | (bounds[:, 2] > maxx)
        | (bounds[:, 3] > maxy)
        | ~np.isfinite(bounds).all(axis=1)
    )
    if outside.any():
        raise GeometryError(
            f"{label}: feature(s) {list_some(codes[outside])} lie outside Great Britain after "
            f'projection to {s.BNG}; check the file\'s CRS (set crs = "..." in the study file)'
        )
    return geoms


def _repaired(geoms: np.ndarray, codes: np.ndarray, label: str) -> np.ndarray:
    """Invalid polygons repaired with ``make_valid`` (with a warning naming them); one that
    cannot be repaired raises."""
    geoms, detail = _repair(geoms, codes, label)
    _warn_repaired(detail, label)
    return geoms


def _warn_repaired(detail: list[str], label: str) -> None:
    """One warning naming the repaired polygons (``code (reason)``), if any."""
    if detail:
        warn(
            f"{label}: repaired {len(detail)} invalid polygon(s) with shapely.make_valid: "
            f"{list_some(detail, 3)}; fix the file (e.g. QGIS 'Fix geometries') to silence "
            "this warning"
        )


def _repair(geoms: np.ndarray, codes: np.ndarray, label: str) -> tuple[np.ndarray, list[str]]:
    """Invalid polygons repaired with ``make_valid`` and ``code (reason)`` of each; one that
    cannot be repaired raises."""
    detail: list[str] = []
    valid = shapely.is_valid(geoms)
    if not valid.all():
        reasons = shapely.is_valid_reason(geoms[~valid])
        repaired = _polygonal_parts(shapely.make_valid(geoms[~valid]))
        lost = shapely.is_missing(repaired) | shapely.is_empty(repaired)
        bad_codes = codes[~valid]
        if lost.any():
            raise GeometryError(
                f"{label}: feature(s) {list_some(bad_codes[lost])} have invalid polygons that "
                f"cannot be repaired ({list_some(reasons[lost], 2)}); fix the file"
            )
        geoms = geoms.copy()
        geoms[~valid] = repaired
        detail = [f"{c} ({r})" for c, r in zip(bad_codes, reasons, strict=True)]
    return geoms, detail


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def _dissolve(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per code: union the geometries, keep the first name and NHS code."""
    first = gdf.drop(columns="geometry").groupby("code", sort=False).first()
    geom = gdf.dissolve(by="code", sort=False)[["geometry"]]
    out = first.join(geom).reset_index()
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=gdf.crs)
    types = shapely.get_type_id(np.asarray(out.geometry.values, dtype=object))
    if not np.isin(types, [3, 6]).all():
        out["geometry"] = _polygonal_parts(np.asarray(out.geometry.values, dtype=object))
    return out[[c for c in ("code", "name", "nhs_code", "pcn_code") if c in out] + ["geometry"]]


def read_areas(source: Source | str | Path) -> gpd.GeoDataFrame:
    """Read small areas (LSOA polygons).

    Parameters
    ----------
    source
        Any layer :func:`read_boundaries` reads; LSOA/MSOA/OA/DZ columns are preferred.

    Returns
    -------
    geopandas.GeoDataFrame
        ``area_code, area_name, geometry`` in EPSG:27700.

    Raises
    ------
    InputError, SchemaError, CRSError, GeometryError
        As :func:`read_boundaries`; overlapping areas (a copy under a new code, the same
        code twice, one area covering others) raise :class:`GeometryError`.
    """
    return _as_areas(read_boundaries(source, level="areas"))


def _as_areas(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A boundary layer read at ``level="areas"`` as :func:`read_areas` returns it."""
    out = gdf.rename(columns={"code": s.AREA_CODE, "name": s.AREA_NAME})[
        [s.AREA_CODE, s.AREA_NAME, "geometry"]
    ]
    out.attrs = dict(gdf.attrs)
    return out


_POPULATION_ALIASES = {
    s.AREA_CODE: [
        "area_code",
        "lsoa21_code",
        "LSOA21CD",
        "lsoa11_code",
        "LSOA11CD",
        "LSOA_CODE",
        "geography code",
        "code",
        "lsoa",
    ],
    s.POPULATION: [
        "population",
        "total_population",
        "total_residents",
        "residents",
        "usual_residents",
        "All persons",
        "All Ages",
        "persons",
        "count",
        "observation",
        "value",
    ],
}


def read_population(source: Source | str | Path) -> pd.DataFrame:
    """Read the resident population of each small area.

    Parameters
    ----------
    source
        A CSV with an area code column (``lsoa21_code``, ``LSOA21CD``, ``area_code``...) and
        a population column (``population``, ``total_population``, ``total_residents``,
        ``count``...), e.g. Census 2021 TS001/TS021 extracts.

    Returns
    -------
    pandas.DataFrame
        ``area_code, population`` (int64), one row per area.

    Raises
    ------
    InputError
        Blank codes, populations that are not whole numbers of 0 or more, or one area with
        two different populations.
    SchemaError
        Columns not recognised.
    """
    src = Source.coerce(source)
    # one cache entry of the two columns (a Census file has a column per year of age: an
    # entry of the table as read would be 3.6 MB for 34,753 LSOAs, this one 0.3 MB)
    return cached("population", [src.path], {"source": src}, lambda: _read_population(src))


def _read_population(src: Source) -> pd.DataFrame:
    """:func:`read_population` without the cache."""
    raw = read_table(
        src.path,
        role="population",
        header=src.options.get("header"),
        sheet=src.options.get("sheet"),
        cache=False,
    )  # type: ignore[arg-type]
    frame = canonical_table(
        raw,
        src,
        _POPULATION_ALIASES,
        required=[s.AREA_CODE, s.POPULATION],
        what="population",
        expected="an area code column (lsoa21_code, LSOA21CD, area_code) "
        "and a population column (population, total_residents, count)",
    )
    attrs = dict(frame.attrs)
    skipped = dict(attrs["skipped"])
    codes = frame[s.AREA_CODE].str.upper()
    blank = codes.eq("") | frame[s.POPULATION].eq("")
    if blank.any():
        raise InputError(
            f"{src.label}: area code or population missing at line(s) "
            f"{list_some(lines_of(frame, blank.to_numpy()))}; fill in or delete those rows"
        )
    pop = to_number(
        frame[s.POPULATION],
        source=src.label,
        column=frame.attrs.get("columns", {}).get(s.POPULATION, s.POPULATION),
        integer=True,
        maximum=MAX_POPULATION,
        first_line=attrs["first_line"],
    )
    tidy = pd.DataFrame({s.AREA_CODE: codes, s.POPULATION: pop.astype("int64")})
    exact = tidy.duplicated(keep="first")
    count(skipped, "duplicate row", exact.sum())
    tidy = tidy[~exact]
    clash = tidy[s.AREA_CODE].duplicated(keep=False)
    if clash.any():
        raise InputError(
            f"{src.label}: area(s) {list_some(sorted(tidy.loc[clash, s.AREA_CODE].unique()))} "
            f"appear more than once with different populations (line(s) "
            f"{list_some(lines_of(tidy, clash.to_numpy(), attrs['first_line']))}); keep one row "
            "per area"
        )
    out = tidy.reset_index(drop=True)
    out.attrs = {"path": attrs["path"], "format": attrs["format"], "skipped": skipped}
    return out
