"""Small-area lookups (small area -> area) read as polygon layers.

ICBs and councils often publish their neighbourhoods, community teams or PCN footprints
as a table that puts each small area (LSOA, MSOA, OA) in an area, e.g. West Sussex's
``LSOA11NM, LSOA11CD, PCN_Code, PCN_Name``. :func:`read_lookup_layer` finds the small-area
code column and the area code (and name) column, and dissolves the small-area polygons
by area (:meth:`geopandas.GeoDataFrame.dissolve`, vectorised) into a layer shaped like
:func:`geo_pcn.io.read_boundaries`' output.

Every small area of the lookup is accounted for: dissolved into its area, or counted
(and the first few named) as missing from the polygons or as given no area.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn import settings as s
from geo_pcn.errors import InputError, SchemaError, list_some
from geo_pcn.io._cache import cached, frame_fingerprint
from geo_pcn.io._isin import isin
from geo_pcn.io.ons import _KIND, _ONS_COLUMN, LEVEL_STEMS, _pick_columns, _polygonal_parts
from geo_pcn.io.tables import Source, apply_where, find_column, read_table

__all__ = ["is_table", "read_lookup_layer"]

#: File endings of tables (never a polygon layer).
_TABLE_ENDINGS = (".csv", ".csv.gz", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls")
#: An ONS small-area code: OA ``E00``, LSOA ``E01``, MSOA ``E02`` (and Welsh ``W0x``),
#: Scottish data zones ``S01``.
_SMALL_AREA_CODE = re.compile(r"^(?:[EW]0[012]|S0[01])\d{6}$")
#: Above this share of the lookup's small areas missing from the polygons, the two are of
#: different vintages (or regions): stop rather than draw a layer with holes everywhere.
MAX_MISSING_SHARE = 0.5


def is_table(path: Path | str) -> bool:
    """Whether ``path`` names a table (CSV, CSV.gz, Excel) rather than a polygon layer.

    Examples
    --------
    >>> is_table("lsoa_pcn_lookup.csv"), is_table("teams.XLSX"), is_table("lsoa.geojson")
    (True, True, False)
    """
    return str(path).lower().endswith(_TABLE_ENDINGS)


def _codes(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip().str.upper()


def _small_area_column(
    raw: pd.DataFrame, explicit: str | None, polygons: pd.Index, label: str
) -> object | None:
    """The column of small-area codes: named, ONS-named (``LSOA11CD``, ``lsoa21_code``),
    or holding ONS small-area codes or the polygons' codes; the one matching most of the
    polygons wins."""
    if explicit is not None:
        col = find_column(raw, (), explicit=explicit)
        if col is None:
            raise SchemaError(
                f"{label}: column {explicit!r} named in the study file (columns = "
                f"{{ area_code = ... }}) is not in the file; it has {list_some(raw.columns, 12)}"
            )
        return col
    candidates = []
    for col in raw.columns:
        m = _ONS_COLUMN.match(str(col).strip().lower())
        named = bool(m) and m["stem"] in LEVEL_STEMS["areas"] and m["kind"] in ("cd", "code")
        values = _codes(raw[col])
        values = values[values != ""]
        if not len(values):
            continue
        looks = values.str.match(_SMALL_AREA_CODE).mean() > 0.9
        held = isin(values, polygons).mean() if len(polygons) else 0.0
        if named or looks or held > MAX_MISSING_SHARE:
            candidates.append((held, col))
    if not candidates:
        return None
    best = max(held for held, _ in candidates)
    return next(col for held, col in candidates if held == best)


def _area_columns(
    raw: pd.DataFrame, small: object, explicit: dict[str, str], level: str, label: str
) -> dict[str, object]:
    """``code`` (and ``name``, ``nhs_code``) of the areas the small areas are put in."""
    picked: dict[str, object] = {}
    for key in ("code", "name", "nhs_code", "pcn_code"):
        if key in explicit:
            col = find_column(raw, (), explicit=explicit[key])
            if col is None:
                raise SchemaError(
                    f"{label}: column {explicit[key]!r} named in the study file (columns = "
                    f"{{ {key} = ... }}) is not in the file; it has {list_some(raw.columns, 12)}"
                )
            picked[key] = col
    if "code" in picked:
        return picked
    # the small area's own columns (LSOA11CD, LSOA11NM) and any other small-area codes
    m = _ONS_COLUMN.match(str(small).strip().lower())
    own = (m["stem"] + (m["year"] or "")) if m else None
    others = []
    for col in raw.columns:
        if col == small:
            continue
        c = _ONS_COLUMN.match(str(col).strip().lower())
        if c and own and c["stem"] + (c["year"] or "") == own:
            continue
        if c and c["stem"] in LEVEL_STEMS["areas"]:
            continue
        values = _codes(raw[col])
        if values[values != ""].str.match(_SMALL_AREA_CODE).mean() > 0.9:
            continue
        others.append(col)
    _one_ons_group(raw, others, level, label)
    ons = _pick_columns(others, level)
    if "code" in ons:
        return {**ons, **picked}
    # no ONS-style code column: the column of text that groups the small areas (``team``),
    # or the only column of text; never numbers (a population column). Two columns that
    # group the small areas alike (a code and its name) are one choice; several different
    # groupings (LOCALITY, NETWORK, NEIGHBOURHOOD) are an error naming them.
    n = len(raw)
    texts, groupers = [], []
    for col in others:
        values = _codes(raw[col])
        values = values[values != ""]
        if not len(values) or pd.to_numeric(values, errors="coerce").notna().all():
            continue
        if values.nunique() <= max(1, n // 2):
            groupers.append(col)
        texts.append(col)
    if groupers:
        choices = _distinct_groupings(raw, groupers)
        if len(choices) > 1:
            _several(label, raw, choices)
        return {"code": choices[0], **picked}
    return {"code": texts[0], **picked} if len(texts) == 1 else picked


def _distinct_groupings(raw: pd.DataFrame, columns: list) -> list:
    """``columns`` less those that group the rows exactly as an earlier one does (a name
    column beside its code column)."""
    kept: list = []
    for col in columns:
        a = _codes(raw[col])
        same = False
        for other in kept:
            b = _codes(raw[other])
            pairs = pd.DataFrame({"a": a, "b": b}).drop_duplicates()
            if len(pairs) == a.nunique() == b.nunique():
                same = True
                break
        if not same:
            kept.append(col)
    return kept


def _several(label: str, raw: pd.DataFrame, columns: list) -> None:
    """Raise: several columns could each be the area, and the study file names none."""
    counts = {c: _codes(raw[c]).replace("", pd.NA).nunique() for c in columns}
    shown = ", ".join(f"{c} ({n:,} area{'s' * (n != 1)})" for c, n in counts.items())
    raise SchemaError(
        f"{label}: {len(columns)} columns could each be the area of the lookup ({shown}) and "
        f'the study file names none; choose one with columns = {{ code = "{columns[0]}" }} '
        "in this entry"
    )


def _one_ons_group(raw: pd.DataFrame, columns: list, level: str, label: str) -> None:
    """Raise when ONS-named code columns of several areas (``sicbl22_code``,
    ``icb22_code``, ``ltla22_code``) are in the lookup and the layer's level does not pick
    exactly one of them (a community layer, or two that fit the level)."""
    groups: dict[str, object] = {}
    for col in columns:
        m = _ONS_COLUMN.match(str(col).strip().lower())
        if m and _KIND[m["kind"]] == "code" and str(col).strip().lower() != "nhs_code":
            groups.setdefault(m["stem"] + (m["year"] or ""), col)
    if len(groups) < 2:
        return
    wanted = LEVEL_STEMS.get(level.lower(), (level.lower(),))
    fits = [
        col
        for key, col in groups.items()
        if _ONS_COLUMN.match(str(col).strip().lower())["stem"] in wanted
    ]
    if len(fits) != 1:
        _several(label, raw, fits or list(groups.values()))


def read_lookup_layer(
    source: Source | str | Path,
    polygons: gpd.GeoDataFrame,
    *,
    level: str = "community",
    polygons_label: str = "the areas layer",
    vintage: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Read a small area -> area lookup and dissolve the small-area polygons by area.

    Long because: most of it is its docstring (parameters, the attrs it returns, an
    example); the code is 24 lines.

    Parameters
    ----------
    source
        A CSV (optionally ``.gz``) or Excel table. The small-area code column is found by
        its ONS name (``LSOA11CD``, ``lsoa21_code``, ``MSOA21CD``...), else by content
        (ONS small-area codes, or the polygons' codes); the area code column by its ONS
        name (``PCN_Code``, ``sicbl24_code``: the stem that fits ``level`` wins), else the
        first other column that groups the small areas. ``source.columns`` may name them:
        ``area_code`` (the small area), ``code``, ``name``, ``nhs_code``, ``pcn_code``;
        ``source.where`` filters rows first.
    polygons
        The small-area polygons, indexed by their code (upper case), in EPSG:27700.
    level
        The layer's level (``community``, ``sub_icb``, ``icb``, ``place``...).
    polygons_label
        How the polygons are named in messages.
    vintage
        The ONS lookup between census vintages (code columns, from
        :func:`geo_pcn.io.vintage.read_area_lookup`): small areas of the other vintage are
        re-coded to the polygons' (a split area's pieces stay in its area; an area merged
        from pieces in different areas goes to the area holding most of them).

    Returns
    -------
    geopandas.GeoDataFrame
        ``code, name, nhs_code`` (and ``pcn_code`` when named), one row per area, the union
        of its small areas' polygons, EPSG:27700. ``attrs``: ``path``, ``format``
        (``"lookup"``), ``skipped``, ``columns`` (the file's small-area and area columns),
        ``n_small_areas`` (distinct small areas in the lookup), ``n_dissolved``,
        ``missing`` (codes not in the polygons, sorted), ``no_area`` (codes given no area),
        ``n_direct`` (the lookup's small areas found in the polygons as they are),
        ``n_converted`` (small areas re-coded through ``vintage``) and ``n_conflicts``
        (polygons merged from small areas of different areas).

    Raises
    ------
    SchemaError
        No column of small-area codes (the table is not a lookup), or no area column.
    InputError
        A small area put in two areas; or most of the lookup's small areas are not in the
        polygons (another vintage or region).

    Examples
    --------
    >>> import tempfile
    >>> from shapely import box
    >>> cells = gpd.GeoDataFrame(
    ...     geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000)],
    ...     index=pd.Index(["T01", "T02", "T03"], name="area_code"), crs=27700)
    >>> path = Path(tempfile.mkdtemp()) / "teams.csv"
    >>> _ = path.write_text("lsoa_code,team\\nT01,WEST\\nT02,WEST\\nT03,EAST\\n")
    >>> layer = read_lookup_layer(path, cells)
    >>> dict(zip(layer.code, layer.area))
    {'EAST': 1000000.0, 'WEST': 2000000.0}
    """
    src = Source.coerce(source)
    options = {
        "source": src,
        "level": level,
        "polygons_label": polygons_label,
        "polygons": frame_fingerprint(polygons[[polygons.geometry.name]]),
        "vintage": None if vintage is None else frame_fingerprint(vintage),
    }
    return cached(
        "lookup layer",
        [src.path],
        options,
        lambda: _read_lookup_layer(
            src, polygons, level=level, polygons_label=polygons_label, vintage=vintage
        ),
    )


def _read_lookup_layer(
    src: Source,
    polygons: gpd.GeoDataFrame,
    *,
    level: str,
    polygons_label: str,
    vintage: pd.DataFrame | None,
) -> gpd.GeoDataFrame:
    """:func:`read_lookup_layer` without the cache: the small-area and area columns found,
    the table tidied, re-coded from another vintage when needed, and dissolved."""
    label = src.label
    raw = read_table(src.path, role="lookup", sheet=src.options.get("sheet"))
    explicit = dict(src.columns)
    index = pd.Index(polygons.index.astype(str))
    small = _small_area_column(raw, explicit.get("area_code"), index, label)
    if small is None:
        raise SchemaError(
            f"{label}: is a table with no geometry and no column of small-area codes (columns "
            f"{list_some(raw.columns, 6)}), but a polygon layer is needed (GeoJSON, "
            "GeoPackage, Shapefile or GeoParquet), or a lookup of small area -> area with a "
            "column of LSOA codes (e.g. LSOA21CD) and a column of area codes; name the "
            'columns with columns = { area_code = "<small areas>", code = "<areas>" }'
        )
    picked = _area_columns(raw, small, explicit, level, label)
    if "code" not in picked:
        raise SchemaError(
            f"{label}: a lookup of small area -> area needs a column of area codes beside the "
            f"small-area codes ({small}); the file has {list_some(raw.columns, 12)}; name it "
            'with columns = { code = "<column>" }'
        )
    skipped: dict[str, int] = {}
    table = _lookup_table(raw, small, picked, src, skipped)
    n_small = len(table)
    no_area = table.loc[table["code"].eq(""), s.AREA_CODE].sort_values().tolist()
    table = table[table["code"].ne("")]
    n_direct = int(isin(table[s.AREA_CODE], index).sum())
    n_converted = n_conflicts = 0
    if vintage is not None and n_direct < len(table):
        table, n_converted, n_conflicts = _convert(table, vintage, index)
    held = isin(table[s.AREA_CODE], index)
    missing = sorted(table.loc[~held, s.AREA_CODE])
    if n_small and len(missing) > MAX_MISSING_SHARE * n_small:
        raise InputError(
            f"{label}: {len(missing):,} of the lookup's {n_small:,} small areas (column "
            f"{small}: {list_some(missing, 3)}) are not in {polygons_label}: the lookup and "
            "the polygons are of different census vintages (e.g. LSOA 2011 codes against "
            "LSOA 2021 polygons) or regions; give a lookup of the polygons' vintage, or the "
            "ONS lookup between the vintages as [areas] lookup"
        )
    table = table[held]
    if table.empty:
        raise InputError(
            f"{label}: no small area of the lookup is in {polygons_label}; give a lookup of "
            "the polygons' small areas"
        )
    out = _dissolved(table, polygons)
    out.attrs = {
        "path": str(src.path),
        "format": "lookup",
        "skipped": skipped,
        "columns": {"small_area": str(small), **{k: str(v) for k, v in picked.items()}},
        "n_small_areas": n_small,
        "n_dissolved": len(table),
        "missing": missing,
        "no_area": no_area,
        "n_direct": n_direct,
        "n_converted": n_converted,
        "n_conflicts": n_conflicts,
    }
    return out


def _lookup_table(
    raw: pd.DataFrame, small: str, picked: dict[str, str], src: Source, skipped: dict[str, int]
) -> pd.DataFrame:
    """``area_code, code, name, nhs_code[, pcn_code]``, one row per small area: the ``where``
    filter applied and rows with no small-area code counted in ``skipped``; a small area
    put in two areas raises."""
    label = src.label
    if src.where:
        kept = apply_where(raw, src.where, source=label)
        if len(kept) < len(raw):
            skipped["outside the where filter"] = len(raw) - len(kept)
        raw = kept
    table = pd.DataFrame(
        {
            s.AREA_CODE: _codes(raw[small]).to_numpy(),
            **{
                key: raw[col].fillna("").astype(str).str.strip().to_numpy()
                for key, col in picked.items()
            },
        }
    )
    for key in ("name", "nhs_code"):
        if key not in table:
            table[key] = ""
    blank = table[s.AREA_CODE].eq("")
    if blank.any():
        skipped["no small-area code"] = int(blank.sum())
        table = table[~blank]
    table = table.drop_duplicates()
    clash = table.drop_duplicates([s.AREA_CODE, "code"])
    clash = clash[clash[s.AREA_CODE].duplicated(keep=False)]
    if len(clash):
        pairs = clash.groupby(s.AREA_CODE, sort=True)["code"].agg(lambda v: "/".join(sorted(v)))
        shown = [f"{a} ({b})" for a, b in pairs.items()]
        raise InputError(
            f"{label}: {len(pairs):,} small area(s) are put in more than one area "
            f"({list_some(shown, 4)}) in columns {small} and {picked['code']}; give each "
            "small area one area"
        )
    table = table.drop_duplicates(s.AREA_CODE)
    return table


def _dissolved(table: pd.DataFrame, polygons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One polygon per area code: its small areas' polygons dissolved, in BNG."""
    geoms = polygons.geometry.reindex(pd.Index(table[s.AREA_CODE].to_numpy()))
    pieces = gpd.GeoDataFrame(
        table.drop(columns=s.AREA_CODE).reset_index(drop=True),
        geometry=np.asarray(geoms.values, dtype=object),
        crs=polygons.crs,
    )
    first = pieces.drop(columns="geometry").groupby("code", sort=True).first()
    dissolved = pieces[["code", "geometry"]].dissolve(by="code", sort=True)
    out = first.join(dissolved).reset_index()
    geometry = np.asarray(out["geometry"].values, dtype=object)
    if not np.isin(shapely.get_type_id(geometry), [3, 6]).all():
        geometry = _polygonal_parts(geometry)
    columns = ["code", "name", "nhs_code"] + (["pcn_code"] if "pcn_code" in out else [])
    out = gpd.GeoDataFrame(out[columns], geometry=geometry, crs=polygons.crs)
    if out.crs is not None and not out.crs.equals(s.BNG):
        out = out.to_crs(s.BNG)
    return out


def _convert(
    table: pd.DataFrame, vintage: pd.DataFrame, index: pd.Index
) -> tuple[pd.DataFrame, int, int]:
    """Small areas of another census vintage re-coded to the polygons' through the ONS
    lookup between the vintages (``vintage``: from :func:`geo_pcn.io.vintage.read_area_lookup`).

    A split small area's pieces all go to its area; a small area merged from pieces in
    different areas goes to the area holding most of them (ties: the smallest code). Codes
    the vintage lookup does not know stay as they are (and are reported missing).

    Returns the table, the number of small areas converted and of merged ones whose pieces
    were in different areas.
    """
    other = ~isin(table[s.AREA_CODE], index)
    old = table[other]
    source = max(vintage.columns, key=lambda c: int(isin(vintage[c], old[s.AREA_CODE]).sum()))
    targets = [c for c in vintage.columns if c != source]
    if not targets:
        return table, 0, 0
    target = max(targets, key=lambda c: int(isin(vintage[c], index).sum()))
    pairs = vintage[[source, target]].drop_duplicates()
    pairs = pairs[isin(pairs[target], index)]
    pairs.columns = ["_from", "_to"]
    moved = old.merge(pairs, left_on=s.AREA_CODE, right_on="_from", how="inner")
    if moved.empty:
        return table, 0, 0
    votes = moved.groupby(["_to", "code"], as_index=False).size()
    n_conflicts = int((votes.groupby("_to")["code"].nunique() > 1).sum())
    votes = votes.sort_values(["_to", "size", "code"], ascending=[True, False, True])
    best = votes.drop_duplicates("_to")[["_to", "code"]]
    names = table.drop_duplicates("code").set_index("code").drop(columns=s.AREA_CODE)
    new = best.rename(columns={"_to": s.AREA_CODE}).join(names, on="code")
    kept = table[~other]
    new = new[~isin(new[s.AREA_CODE], kept[s.AREA_CODE])]
    unknown = old[~isin(old[s.AREA_CODE], moved["_from"])]
    out = pd.concat([kept, new[kept.columns], unknown], ignore_index=True)
    return out, int(moved["_from"].nunique()), n_conflicts
