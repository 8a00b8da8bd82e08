"""A study's small areas and polygon layers from a parsed study file: the areas with their
population and context, boundary and community layers (polygon files, or small-area lookups
dissolved), their dates against the practices', and a region study's areas in play.

Steps of :meth:`geo_pcn.study.Study.from_toml`, next to :mod:`geo_pcn.io.study_practices`
(the same layer: they read a :class:`~geo_pcn.studyfile.StudySpec`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn import io as gio
from geo_pcn._spatial import present
from geo_pcn.errors import InputError, list_some
from geo_pcn.io._area_layer import AreaLayer
from geo_pcn.io._isin import isin
from geo_pcn.io.context import read_deprivation, read_rural
from geo_pcn.io.lookups import is_table, read_lookup_layer
from geo_pcn.io.study_practices import by_code
from geo_pcn.io.tables import Source
from geo_pcn.io.vintage import read_area_lookup
from geo_pcn.settings import AREA_CODE, BNG, N_PATIENTS, POPULATION, PRACTICE_CODE
from geo_pcn.studyfile import StudySpec

__all__ = [
    "areas_in_play",
    "dissolves_areas",
    "is_region_study",
    "read_boundary_layers",
    "read_community_layers",
    "read_small_areas",
    "region_polygons",
    "with_polygons",
]


def read_small_areas(
    spec: StudySpec, notes: list[str]
) -> tuple[pd.DataFrame | None, AreaLayer | None]:
    """Every small area of the ``[areas]`` layer indexed by code, with its name, population
    and context (the notes counting what did not match are of the whole layer).

    When the layer's rows can be taken one by one (no ``where``, every code once), no
    polygon is projected yet: the areas come as a plain frame with the
    :class:`~geo_pcn.io._area_layer.AreaLayer` to take them from (:func:`with_polygons`
    for every area, :func:`region_polygons` for a region study's); otherwise as a
    GeoDataFrame of every area, with ``None``.
    """
    if spec.areas is None:
        if spec.population is not None:
            raise InputError(
                f"{spec.population.label}: [areas] population needs [areas] file = polygons"
            )
        return None, None
    layer: AreaLayer | None = AreaLayer.read(spec.areas)
    if layer.sliceable:
        areas = layer.table()
    else:
        areas, layer = layer.whole(), None
    # codes compare as the registrations' do: upper case, no surrounding spaces
    areas["area_code"] = areas["area_code"].astype(str).str.strip().str.upper()
    areas = areas.set_index("area_code").sort_index(kind="stable")
    areas.index.name = "area_code"
    areas[POPULATION] = pd.array([pd.NA] * len(areas), dtype="Int64")
    if spec.population is not None:
        pop = gio.read_population(spec.population)
        pop["area_code"] = pop["area_code"].astype(str).str.strip().str.upper()
        pop = pop.groupby("area_code")[POPULATION].first()
        extra = pop.index.difference(areas.index)
        if len(extra):
            notes.append(
                f"{spec.population.label}: {len(extra):,} population rows for areas outside "
                "the study (not used)"
            )
        areas[POPULATION] = pop.reindex(areas.index).astype("Int64")
        missing = int(areas[POPULATION].isna().sum())
        if missing:
            notes.append(f"{missing:,} areas have no population in {spec.population.label}")
    if spec.rural is not None:
        rural = read_rural(spec.rural)
        areas["rural"] = pd.array(rural.reindex(areas.index).to_numpy(), dtype="boolean")
        _note_unmatched(areas["rural"], spec.rural, "rural-urban class", notes)
    if spec.deprivation is not None:
        imd = read_deprivation(spec.deprivation).reindex(areas.index)
        areas["imd_score"] = imd["imd_score"].to_numpy()
        areas["imd_decile"] = imd["imd_decile"].astype("Int64").to_numpy()
        _note_unmatched(areas["imd_score"], spec.deprivation, "IMD score", notes)
    return areas, layer


def dissolves_areas(spec: StudySpec) -> bool:
    """Whether a boundary or community layer is a small-area lookup dissolving the
    ``[areas]`` polygons (then every area's polygon is needed before the registrations)."""
    sources = list(spec.boundaries.values()) + [
        src for src in spec.community.values() if src.options.get("kind") == "areas"
    ]
    return any(
        is_table(src.path) and src.path.is_file() and src.options.get("polygons") is None
        for src in sources
    )


def with_polygons(layer: AreaLayer, areas: pd.DataFrame) -> gpd.GeoDataFrame:
    """``areas`` (from :func:`read_small_areas`) with every area's polygon: the whole
    layer's read (:func:`geo_pcn.io.read_areas`, one cache entry)."""
    whole = layer.whole()
    codes = whole["area_code"].astype(str).str.strip().str.upper()
    geoms = pd.Series(whole.geometry.to_numpy(), index=codes.to_numpy()).reindex(areas.index)
    return _with_geometry(areas, geoms.to_numpy())


def _with_geometry(areas: pd.DataFrame, geoms: np.ndarray) -> gpd.GeoDataFrame:
    """``areas`` with ``geoms`` (BNG) as the column after ``area_name`` (where
    :func:`geo_pcn.io.read_areas` puts it)."""
    frame = pd.DataFrame(areas, copy=True)
    frame.insert(1, "geometry", geoms)
    out = gpd.GeoDataFrame(frame, geometry="geometry", crs=BNG)
    out.attrs = dict(areas.attrs)
    return out


def region_polygons(
    layer: AreaLayer,
    areas: pd.DataFrame,
    registrations: pd.DataFrame,
    place: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame],
    adjacency_tolerance_m: float,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    """A region study's candidate areas with their polygons, and its practices placed.

    Only these polygons are projected, repaired and overlap-checked: the areas where the
    study's practices have residents (their polygons first: ``place(areas)`` places the
    practices no postcode located at their residents' centre and returns the practices),
    every area whose bounds hold a practice site, and every area whose bounds come within
    ``adjacency_tolerance_m`` of those. They hold every area :func:`areas_in_play` keeps
    from the whole layer (its tests are exact, on these polygons). ``None`` when none of
    the study's residents live in the layer (then the whole layer is read).
    """
    codes = registrations.loc[registrations["area_kind"] == "small_area", AREA_CODE]
    core = np.flatnonzero(isin(areas.index, pd.unique(codes.to_numpy())))
    if not len(core):
        return None
    upper = pd.Index(pd.Series(layer.codes).str.upper())
    row_of = upper.get_indexer(areas.index)  # areas (by code) -> rows of the file
    core_geoms, repaired = layer.project(row_of[core])
    practices = place(_with_geometry(areas.iloc[core], core_geoms))
    sites = practices.geometry.to_numpy()
    sites = sites[~shapely.is_missing(sites)]
    start = np.union1d(row_of[core], layer.holding(sites))
    rows = layer.around(start, float(adjacency_tolerance_m))
    at = np.full(len(layer.codes), -1, dtype=np.intp)
    at[row_of] = np.arange(len(row_of))
    chosen = np.sort(at[rows])  # in the areas' order (by code)
    geoms = np.empty(len(chosen), dtype=object)
    is_core = isin(chosen, core)
    geoms[is_core] = pd.Series(core_geoms, index=core).reindex(chosen[is_core]).to_numpy()
    more, more_repaired = layer.project(row_of[chosen[~is_core]])
    geoms[~is_core] = more
    layer.check(row_of[chosen], geoms, {**repaired, **more_repaired})
    return _with_geometry(areas.iloc[chosen], geoms), practices


def _note_unmatched(values: pd.Series, source: Source, what: str, notes: list[str]) -> None:
    missing = int(values.isna().sum())
    if missing:
        notes.append(
            f"{source.label}: {missing:,} of {len(values):,} small areas have no {what} (codes "
            "of another vintage?); their patients are left out of that figure"
        )


def read_boundary_layers(
    spec: StudySpec,
    areas: gpd.GeoDataFrame | None,
    extract: dt.date | None,
    notes: list[str],
) -> dict[str, gpd.GeoDataFrame]:
    """The study's ``[boundaries]`` layers by name, each in the order of its codes, with a
    note for each layer older than the practices' ``extract`` date."""
    areas_label = spec.areas.label if spec.areas is not None else ""
    boundaries = {
        name: by_code(_polygon_layer(
            src,
            areas,
            level=name,
            what=f"[boundaries] {name}",
            notes=notes,
            areas_label=areas_label,
            area_lookup=spec.area_lookup,
        ), "code")
        for name, src in spec.boundaries.items()
    }  # fmt: skip
    _layer_dates(boundaries, extract, notes)
    return boundaries


def read_community_layers(
    spec: StudySpec, notes: list[str], areas: gpd.GeoDataFrame | None = None
) -> dict[str, tuple[str, gpd.GeoDataFrame, Path]]:
    """``name -> (kind, data, path)`` for each ``[community.<name>]`` layer: team areas (a
    polygon layer or a small-area lookup) or service sites (located; those that could not
    be are counted in a note). :class:`~geo_pcn.study.CommunityLayer` is made in
    :mod:`geo_pcn.study`."""
    layers: dict[str, tuple[str, gpd.GeoDataFrame, Path]] = {}
    for name, source in spec.community.items():
        kind = source.options.get("kind")
        if kind == "areas":
            data = _polygon_layer(
                source,
                areas,
                level="community",
                what=f"[community.{name}]",
                notes=notes,
                areas_label=spec.areas.label if spec.areas is not None else "",
                area_lookup=spec.area_lookup,
            )
        else:
            postcodes = source.options.get("postcodes") or spec.postcodes
            data = gio.read_sites(source, postcodes=Path(postcodes) if postcodes else None)
            n_missing = int((~present(data.geometry)).sum())
            if n_missing:
                notes.append(
                    f"[community.{name}]: {n_missing:,} site{'s' if n_missing != 1 else ''} "
                    "could not be located"
                )
        for reason, count in data.attrs.get("skipped", {}).items():
            notes.append(f"{source.label}: {count:,} rows not used ({reason})")
        data = by_code(data, "code")
        layers[name] = (str(kind), data, source.path)
    return layers


#: a column name carrying a two-digit year: ``CCG21CD``, ``icb22_code``, ``LAD24CD``
_YEAR_IN_COLUMN = re.compile(r"^[A-Za-z]+?(\d{2})_?(?:CDH|CD|NM|CODE_NHS|CODE_H|CODE|NAME)$", re.I)


def _layer_year(layer: gpd.GeoDataFrame) -> int | None:
    """The year a boundary layer is of, from its ONS code column's name (``CCG21CD``:
    2021), or ``None`` when the name carries none."""
    column = str(layer.attrs.get("columns", {}).get("code", ""))
    match = _YEAR_IN_COLUMN.match(column)
    return 2000 + int(match.group(1)) if match else None


def _layer_dates(boundaries: dict, extract, notes: list[str]) -> None:
    """A note for each boundary layer older than the practice map's extract: lines move
    (sub-ICBs and ICBs on 1 July 2022, councils in 2019-2023), so a layer of an earlier year
    may put a practice on the wrong side of a line that has since moved."""
    if extract is None:
        return
    for name, layer in boundaries.items():
        year = _layer_year(layer)
        if year is not None and year < extract.year:
            column = layer.attrs["columns"]["code"]
            notes.append(
                f"[boundaries] {name} is of {year} (its codes are in {column}), older than "
                f"the practices ({extract:%d %b %Y}): a line that moved since is drawn and "
                "checked where it was; give the layer (or ONS lookup) of the practices' date "
                "to be sure"
            )


def _polygon_layer(
    source: Source,
    areas: gpd.GeoDataFrame | None,
    *,
    level: str,
    what: str,
    notes: list[str],
    areas_label: str = "",
    area_lookup: Source | None = None,
) -> gpd.GeoDataFrame:
    """A boundary or community areas layer: a polygon file, or a small area -> area lookup
    (CSV/Excel) dissolving the study's small areas (or ``polygons = "..."`` of the entry).
    The lookup's small areas are all accounted for in one note."""
    if not is_table(source.path) or not source.path.is_file():
        layer = gio.read_boundaries(source, level=level)
        if "generalisation_m" in source.options:  # how far its lines may be from the truth
            layer.attrs["generalisation_m"] = float(source.options["generalisation_m"])
        return layer
    polygons_path = source.options.get("polygons")
    if polygons_path is not None:
        polygons = gio.read_areas(Source(Path(polygons_path)))
        polygons["area_code"] = polygons["area_code"].astype(str).str.strip().str.upper()
        polygons = polygons.drop_duplicates("area_code").set_index("area_code")
        polygons_label = str(polygons_path)
    elif areas is not None:
        polygons, polygons_label = areas, f"the [areas] layer {areas_label}"
    else:
        raise InputError(
            f"{source.label}: {what} is a table (a lookup of small area -> area needs the "
            'small-area polygons to dissolve): give [areas] file = "<LSOA polygons>" or '
            'polygons = "<LSOA polygons>" in this entry, or give a polygon layer (GeoJSON, '
            "GeoPackage, Shapefile or GeoParquet)"
        )
    vintage = None
    if polygons_path is None and area_lookup is not None:
        vintage = read_area_lookup(area_lookup)
    data = read_lookup_layer(
        source, polygons, level=level, polygons_label=polygons_label, vintage=vintage
    )
    info = data.attrs
    columns = info["columns"]
    parts = [
        f"{source.label}: {what} is a lookup of {info['n_small_areas']:,} small areas (column "
        f"{columns['small_area']}) -> {len(data):,} areas (column {columns['code']}), dissolved "
        f"from {polygons_label}: {info['n_direct']:,} small areas found as they are"
    ]
    if info["n_converted"]:
        parts.append(
            f"{info['n_converted']:,} of another census vintage re-coded through "
            f"{area_lookup.label} to {info['n_dissolved'] - info['n_direct']:,} small areas "
            f"({info['n_conflicts']:,} merged from small areas in different areas, each given "
            "to the area holding most of them)"
        )
    if info["missing"]:
        parts.append(
            f"{len(info['missing']):,} not in the polygons and in no footprint "
            f"({list_some(info['missing'], 5)})"
        )
    if info["no_area"]:
        parts.append(f"{len(info['no_area']):,} given no area ({list_some(info['no_area'], 5)})")
    notes.append("; ".join(parts))
    return data


def is_region_study(spec: StudySpec, registrations, outside, areas) -> bool:
    """A study of part of the registrations: its practices narrowed by ``where``, or holding
    less than half of the registrations' patients. A national study is not one."""
    if registrations is None or areas is None:
        return False
    if spec.practices.where:
        return True
    if outside is None:
        return False
    mine = int(registrations[N_PATIENTS].sum())
    return mine < int(outside[N_PATIENTS].sum())


def areas_in_play(
    practices: gpd.GeoDataFrame,
    registrations: pd.DataFrame,
    outside: pd.DataFrame | None,
    areas: gpd.GeoDataFrame,
    adjacency_tolerance_m: float,
    spec: StudySpec,
    notes: list[str],
    n_layer: int | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, dict[str, int] | None]:
    """The areas a region study works on, the other practices' registrations there, and
    the count of those set aside (:attr:`Study.registrations_not_read`).

    Areas in play: the small areas where the study's practices have residents, those holding
    its practice sites, and every area within ``adjacency_tolerance_m`` of them (a bounding
    box first, then a distance test). The study's own rows are all kept, wherever they are.
    ``areas`` may be a part of the layer holding all of those (:func:`region_polygons`):
    ``n_layer`` is then the layer's number of areas.
    """
    n_layer = len(areas) if n_layer is None else n_layer
    codes = registrations.loc[registrations["area_kind"] == "small_area", AREA_CODE]
    core = np.zeros(len(areas), dtype=bool)
    at = areas.index.get_indexer(pd.unique(codes.to_numpy()))
    core[at[at >= 0]] = True
    sites = practices.geometry.to_numpy()
    sites = sites[~shapely.is_missing(sites)]
    geoms = areas.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    if len(sites):
        core[np.unique(tree.query(sites, predicate="intersects")[1])] = True
    if not core.any():
        return areas, outside, None
    tol = float(adjacency_tolerance_m)
    x0, y0, x1, y1 = shapely.total_bounds(geoms[core])
    near = tree.query(shapely.box(x0 - tol, y0 - tol, x1 + tol, y1 + tol), predicate="intersects")
    near = near[~core[near]]
    hit = shapely.STRtree(geoms[core]).query(geoms[near], predicate="dwithin", distance=tol)
    keep = core.copy()
    keep[near[np.unique(hit[0])]] = True
    if keep.all() and len(areas) == n_layer:
        return areas, outside, None
    kept = areas[keep]
    notes.append(
        f"{spec.areas.label}: a region study: it works on the {int(keep.sum()):,} small areas "
        f"in play (where its practices have residents or sites, and their neighbours within "
        f"{tol:g} m), not all {n_layer:,} of the layer"
    )
    if outside is None:
        return kept, None, None
    inside = isin(outside[AREA_CODE], kept.index)
    if inside.all():
        return kept, outside, None
    rest = outside.loc[~inside]
    small = rest["area_kind"].isin(["small_area", "outside_layer"]).to_numpy()
    not_read = {
        "n_rows": len(rest),
        "n_patients": int(rest[N_PATIENTS].sum()),
        "n_practices": int(rest[PRACTICE_CODE].nunique()),
        "n_areas": int(rest.loc[small, AREA_CODE].nunique()),
    }
    notes.append(
        f"{spec.registrations.label}: registrations outside the areas read: "
        f"{not_read['n_rows']:,} rows, {not_read['n_patients']:,} patients at "
        f"{not_read['n_practices']:,} practices in {not_read['n_areas']:,} small areas "
        "(other practices' residents away from the study: counted, not listed)"
    )
    return kept, outside.loc[inside].reset_index(drop=True), not_read
