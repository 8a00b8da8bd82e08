"""A study's practices from a parsed study file: the practice table located in BNG, the
configuration's assignment, list sizes and their sources, the registrations (the study's and
other practices'), and shared sites.

These are the steps :meth:`geo_pcn.study.Study.from_toml` runs in order (each adds its notes
to ``notes``, counted, never silent); the :class:`~geo_pcn.study.Study` itself is built in
:mod:`geo_pcn.study`. This module sits one layer above the readers of ``geo_pcn.io`` (it
reads a :class:`~geo_pcn.studyfile.StudySpec`): see ``tests/test_layers.py``.
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn import io as gio
from geo_pcn._spatial import connected_labels, present
from geo_pcn.errors import GeoPCNWarning, InputError, list_some
from geo_pcn.io._isin import isin
from geo_pcn.io.tables import Source, to_number, warn
from geo_pcn.io.vintage import convert_registrations, read_area_lookup
from geo_pcn.settings import (
    AREA_CODE,
    BNG,
    GUESSED_SITE,
    LIST_SIZE,
    N_PATIENTS,
    PCN_CODE,
    PCN_NAME,
    POPULATION,
    POSTCODE,
    PRACTICE_CODE,
)
from geo_pcn.studyfile import StudySpec

__all__ = ["add_list_sizes", "by_code", "place_sites", "read_assignment", "read_practice_table"]


def by_code(frame: Any, *columns: str) -> Any:
    """``frame`` sorted by ``columns`` (those it has; stable, index kept so that line
    numbers in messages still point into the file), attrs kept; ``None`` stays ``None``."""
    if frame is None:
        return None
    keys = [c for c in columns if c in getattr(frame, "columns", ())]
    if not keys:
        return frame
    attrs = dict(frame.attrs)
    out = frame.sort_values(keys, kind="stable")
    out.attrs = attrs
    return out


def read_practice_table(spec: StudySpec, notes: list[str]) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The practices file as read (its ``attrs`` hold the extract date) and the practice
    table indexed by code and located in BNG.

    Every table and layer is put in the order of its codes (sorted at the source): the same
    data in any file order gives the same study, and so byte-identical outputs.
    """
    raw = by_code(gio.read_practices(spec.practices), PRACTICE_CODE)
    return raw, _practice_table(raw, spec, notes)


def read_assignment(
    spec: StudySpec, practices: gpd.GeoDataFrame, notes: list[str]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The practices kept (not-active practices in no PCN left out) and ``practice_code,
    pcn_code, pcn_name`` for each: the configuration file's, else the practices file's, with
    one name per PCN code."""
    assignment = _assignment(spec, practices)
    assignment = _one_name_per_pcn(assignment, spec, notes)
    return _by_status(practices, assignment, spec, notes)


def add_list_sizes(
    spec: StudySpec,
    practices: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """List sizes and where each came from: a list-size file, else the registrations, else
    the practices file; a practice with none has no list size (never a silent 0).

    Returns the practices with ``list_size`` and ``list_size_source`` (and ``n_registered``
    when registrations are given), the study's registrations in code order and those of
    practices outside it in file order (:func:`by_code` puts them in code order; each
    ``None`` without them).
    """
    registrations = outside = None
    source = pd.Series("practices file", index=practices.index, dtype=object)
    source[practices[LIST_SIZE].isna().to_numpy()] = ""
    if spec.registrations is not None:
        registrations, outside = _sizes_from_registrations(spec, practices, areas, source, notes)
    if spec.list_sizes is not None:
        _sizes_from_file(spec, practices, source, registrations is not None, notes)
    practices[LIST_SIZE] = practices[LIST_SIZE].astype("Int64")
    practices["list_size_source"] = source.to_numpy()
    return practices, registrations, outside


def _sizes_from_registrations(
    spec: StudySpec,
    practices: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None,
    source: pd.Series,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Read the registrations and take each practice's list size from them (in place in
    ``practices`` and ``source``); practices with no rows have none."""
    registrations, outside = _registrations(
        spec.registrations, practices, areas, notes, spec.area_lookup
    )
    registrations = by_code(registrations, PRACTICE_CODE, AREA_CODE)
    # the other practices' rows are put in code order by the caller, once a region study
    # has kept those in its areas (sorting the 860,000 national rows to keep a few cost more)
    totals = registrations.groupby(PRACTICE_CODE)[N_PATIENTS].sum()
    practices["n_registered"] = totals.reindex(practices.index).fillna(0).astype("int64")
    practices[LIST_SIZE] = totals.reindex(practices.index).astype("Int64")
    source[:] = ""
    source[practices.index.isin(totals.index)] = "registrations"
    _note_unregistered(practices.index.difference(totals.index), len(practices), spec, notes)
    if spec.population is not None and areas is not None:
        _warn_low_population(areas[POPULATION], registrations, spec.population.label)
    return registrations, outside


def _sizes_from_file(
    spec: StudySpec,
    practices: gpd.GeoDataFrame,
    source: pd.Series,
    has_registrations: bool,
    notes: list[str],
) -> None:
    """Take the list sizes the list-size file gives (in place in ``practices`` and
    ``source``), with notes on its rows for other practices and the practices it misses."""
    sizes = gio.read_list_sizes(spec.list_sizes).set_index(PRACTICE_CODE)[LIST_SIZE]
    outside_sizes = sizes.index.difference(practices.index)
    if len(outside_sizes):
        notes.append(
            f"{len(outside_sizes):,} list-size rows are for practices outside the study (not used)"
        )
    given = sizes.reindex(practices.index)
    has = given.notna().to_numpy()
    sized = practices[LIST_SIZE].astype("Int64").copy()
    sized[has] = given[has].astype("int64").to_numpy()
    practices[LIST_SIZE] = sized
    source[has] = "list sizes file"
    missing = practices.index[~has]
    if len(missing):
        notes.append(
            f"{spec.list_sizes.label}: no list size for {len(missing):,} practice(s) "
            f"({list_some(list(missing))}); "
            + (
                "their registrations are used instead"
                if has_registrations
                else "they have no list size"
            )
        )


def place_sites(
    practices: gpd.GeoDataFrame,
    registrations: pd.DataFrame | None,
    areas: gpd.GeoDataFrame | None,
    site_tolerance_m: float,
    notes: list[str],
) -> gpd.GeoDataFrame:
    """Practices no coordinates or postcode placed put at their residents' centre, then a
    ``site_id`` for every practice (practices within ``site_tolerance_m`` share one)."""
    practices = _place_by_residents(practices, registrations, areas, notes)
    return _mark_sites(practices, site_tolerance_m)


def _practice_table(raw: pd.DataFrame, spec: StudySpec, notes: list[str]) -> gpd.GeoDataFrame:
    """Practices indexed by code, located in BNG."""
    frame = raw.copy()
    label = spec.practices.label
    for column in (POSTCODE, PCN_CODE, PCN_NAME, "practice_name", "sub_icb_code", "icb_code"):
        if column not in frame:
            frame[column] = ""
    frame = frame.set_index(PRACTICE_CODE)
    frame.index.name = PRACTICE_CODE
    for reason, count in raw.attrs.get("skipped", {}).items():
        notes.append(f"{label}: {count:,} rows not used ({reason})")

    if LIST_SIZE in frame:
        frame[LIST_SIZE] = (
            to_number(
                frame[LIST_SIZE].reset_index(drop=True),
                source=label,
                column=LIST_SIZE,
                integer=True,
            )
            .set_axis(frame.index)
            .astype("Int64")
        )
    else:
        frame[LIST_SIZE] = pd.array([pd.NA] * len(frame), dtype="Int64")

    located = pd.DataFrame(
        {"easting": np.nan, "northing": np.nan, "locate_method": ""}, index=frame.index
    )
    has_coords = {"easting", "northing"} <= set(frame) or {"latitude", "longitude"} <= set(frame)
    if has_coords:
        located = gio.locate(frame.reset_index(), source=label, postcodes=None).set_index(
            frame.index
        )
    # postcodes the practices file gives (those taken from `locations` were looked up there)
    own_postcode = frame[POSTCODE].fillna("").ne("")
    if spec.locations is not None:
        table = gio.read_locations(spec.locations, postcodes=spec.postcodes)
        table = table.drop_duplicates(PRACTICE_CODE).set_index(PRACTICE_CODE)
        extra = table.index.difference(frame.index)
        if len(extra):
            notes.append(
                f"{spec.locations.label}: {len(extra):,} locations for practices outside the "
                "study (not used)"
            )
        table = table.reindex(frame.index)
        use = located["locate_method"].eq("") & table["locate_method"].fillna("").ne("")
        located.loc[use, ["easting", "northing", "locate_method"]] = table.loc[
            use, ["easting", "northing", "locate_method"]
        ]
        _take_from_locations(frame, table, spec.locations.label, notes)
    _check_postcodes_used(frame, raw, spec)
    missing = located["locate_method"].eq("") & own_postcode
    if missing.any() and spec.postcodes is not None:
        lookup = gio.read_postcode_lookup(
            spec.postcodes, postcodes=frame.loc[missing, POSTCODE].tolist()
        )
        coded = gio.geocode(frame.loc[missing, POSTCODE], lookup)
        hit = coded["easting"].notna()
        idx = coded.index[hit]
        located.loc[idx, "easting"] = coded.loc[idx, "easting"]
        located.loc[idx, "northing"] = coded.loc[idx, "northing"]
        located.loc[idx, "locate_method"] = "postcode"
        if "admin_district_code" in coded:  # the postcode's own district (Code-Point)
            located["admin_district_code"] = ""
            located.loc[idx, "admin_district_code"] = coded.loc[idx, "admin_district_code"]

    geometry = gpd.points_from_xy(
        located["easting"].astype(float), located["northing"].astype(float), crs=BNG
    )
    geometry[located["locate_method"].eq("").to_numpy()] = None
    keep = [c for c in frame.columns if c not in {"easting", "northing", "latitude", "longitude"}]
    out = gpd.GeoDataFrame(frame[keep], geometry=geometry, crs=BNG)
    out["locate_method"] = located["locate_method"].to_numpy()
    if "admin_district_code" in located:
        out["admin_district_code"] = located["admin_district_code"].fillna("").to_numpy()
    return out


def _take_from_locations(
    frame: pd.DataFrame, table: pd.DataFrame, label: str, notes: list[str]
) -> None:
    """Fill the practices' blank postcodes and statuses from the ``locations`` file (an
    epraccur file or the NHS map there carries both), in place, with a note saying how many."""
    for column, what in ((POSTCODE, "postcodes"), ("status", "status")):
        if column not in table:
            continue
        given = table[column].fillna("").astype(str)
        take = frame[column].fillna("").astype(str).eq("") & given.ne("")
        if not take.any():
            continue
        frame.loc[take, column] = given[take]
        text = (
            f"{label}: {what} of {int(take.sum()):,} practice(s) taken from it (the practices "
            "file gives none for them)"
        )
        if column == "status":
            counts = given[take].value_counts()
            text += ": " + ", ".join(f"{int(n):,} {k}" for k, n in counts.items())
        notes.append(text)


def _check_postcodes_used(frame: pd.DataFrame, raw: pd.DataFrame, spec: StudySpec) -> None:
    """Refuse a postcode lookup that no practice input gives postcodes for: it would be
    silently ignored and every practice without coordinates placed at its residents'
    centre. The top-level ``postcodes`` is fine when community sites use it."""
    if spec.postcodes is None or frame[POSTCODE].fillna("").ne("").any():
        return
    key = spec.postcodes_key or "postcodes"
    if key == "postcodes" and any(
        src.options.get("kind") == "sites" and not src.options.get("postcodes")
        for src in spec.community.values()
    ):
        return
    fmt = raw.attrs.get("format", "")
    has_column = POSTCODE in raw.columns
    inputs = [
        f"{spec.practices.label} "
        + ("has a blank postcode column" if has_column else "has no postcode column")
        + (": the ODS ePCN workbook lists no practice postcodes" if fmt == "epcn" else "")
    ]
    if spec.locations is not None:
        inputs.append(f"[practices] locations {spec.locations.label} has none either")
    raise InputError(
        f'{spec.path}: {key} = "{spec.postcodes}" is given but no practice input carries '
        f"postcodes to look up ({'; '.join(inputs)}), so it would be ignored: give "
        'locations = "<epraccur.csv or a table of practice_code, postcode>" under '
        '[practices], name the postcode column with columns = { postcode = "<column>" }, '
        f"or remove {key}"
    )


def _assignment(spec: StudySpec, practices: pd.DataFrame) -> pd.DataFrame:
    """``practice_code, pcn_code, pcn_name`` for every practice of the study."""
    if spec.configuration is None:
        return practices.reset_index()[[PRACTICE_CODE, PCN_CODE, PCN_NAME]]
    proposed = gio.read_configuration(spec.configuration)
    unknown = sorted(set(proposed[PRACTICE_CODE]) - set(practices.index))
    if unknown:
        raise InputError(
            f"{spec.configuration.label}: configuration names {len(unknown)} practice(s) not in "
            f"the practices file {spec.practices.label}: {list_some(unknown)}; add them to the "
            "practices file or remove them from the configuration"
        )
    # practices the proposal leaves out are in no PCN (the coverage check reports them)
    if PCN_NAME not in proposed:
        proposed = proposed.assign(**{PCN_NAME: ""})
    merged = practices[[]].reset_index().merge(proposed, on=PRACTICE_CODE, how="left")
    merged[[PCN_CODE, PCN_NAME]] = merged[[PCN_CODE, PCN_NAME]].fillna("")
    return merged


def _one_name_per_pcn(assignment: pd.DataFrame, spec: StudySpec, notes: list[str]) -> pd.DataFrame:
    """Each PCN code gets one name: where the configuration input gives a code two or more
    names, the name most of its practices carry (ties: the first in the file) is used, and
    a warning (and a note) counts and names the codes."""
    named = assignment[(assignment[PCN_CODE] != "") & (assignment[PCN_NAME] != "")]
    counts = named.groupby([PCN_CODE, PCN_NAME], sort=False).size()
    n_names = counts.groupby(level=0, sort=False).size()
    clash = n_names.index[n_names > 1]
    if not len(clash):
        return assignment
    # most practices first, then file order (groupby kept it): a stable sort
    ranked = counts.reset_index(name="n").sort_values(
        [PCN_CODE, "n"], ascending=[True, False], kind="stable"
    )
    chosen = ranked.drop_duplicates(PCN_CODE).set_index(PCN_CODE)[PCN_NAME]
    label = (spec.configuration or spec.practices).label
    shown = []
    for code in sorted(clash)[:3]:
        names = ranked[ranked[PCN_CODE] == code]
        said = ", ".join(
            f"{n!r} ({k:,} practice{'s' * (k != 1)})"
            for n, k in zip(names[PCN_NAME], names["n"], strict=True)
        )
        shown.append(f"{code}: {said}")
    n_practices = int(named[PCN_CODE].isin(clash).sum())
    more = f" and {len(clash) - 3:,} more" if len(clash) > 3 else ""
    text = (
        f"{label}: {len(clash):,} PCN code(s) have two or more names ({n_practices:,} "
        f"practices): {'; '.join(shown)}{more}; each is called by the name most of its "
        "practices carry: give one name per PCN code"
    )
    warn(text)
    notes.append("Warning: " + text)
    out = assignment.copy()
    fix = out[PCN_CODE].isin(clash) & (out[PCN_NAME] != "")
    out.loc[fix, PCN_NAME] = out.loc[fix, PCN_CODE].map(chosen)
    return out


def _by_status(
    practices: gpd.GeoDataFrame, assignment: pd.DataFrame, spec: StudySpec, notes: list[str]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Leave out closed, dormant or proposed practices that are in no PCN (counted in a
    note); keep every practice the configuration places in a PCN, whatever its status (the
    coverage check warns about those that are not active)."""
    if "status" not in practices:
        practices["status"] = ""
        return practices, assignment
    status = practices["status"].fillna("").astype(str).str.strip().str.lower()
    practices["status"] = status.to_numpy()
    in_pcn = assignment.set_index(PRACTICE_CODE)[PCN_CODE].reindex(practices.index).fillna("")
    drop = (status.ne("") & status.ne("active") & in_pcn.eq("")).to_numpy()
    if drop.any():
        counts = status[drop].value_counts()
        words = ", ".join(f"{int(v):,} {k}" for k, v in counts.items())
        notes.append(
            f"{spec.practices.label}: {int(drop.sum()):,} practice(s) that are not active "
            f"({words}) and in no PCN are left out"
        )
        practices = practices[~drop]
        assignment = assignment[assignment[PRACTICE_CODE].isin(practices.index)]
    return practices, assignment


def _warn_low_population(population: pd.Series, registrations: pd.DataFrame, label: str) -> None:
    """Warn when the population file is far below the residents registered at the study's
    practices (1 or 0 per area: another column, or a sample): the residents it leaves out
    would otherwise silently be taken as registered nowhere else."""
    registered = registrations.groupby(AREA_CODE)[N_PATIENTS].sum()
    pop = population.reindex(registered.index)
    known = pop.notna().to_numpy() & (registered.to_numpy() >= 10)
    if not known.any():
        return
    reg, pop = registered[known], pop[known].astype("int64")
    low = pop < reg / 2
    if low.sum() > 0.5 * len(reg):  # most areas: the file, not a few student halls
        warnings.warn(
            f"{label}: the population of {int(low.sum()):,} of {len(reg):,} small areas is "
            f"less than half the residents registered there at the study's practices "
            f"(population {int(pop.sum()):,} against {int(reg.sum()):,} registered in those "
            "areas); check that the column is the usual residents (Census 2021 TS001 total)",
            GeoPCNWarning,
            stacklevel=3,
        )


#: Residence codes of English small areas (LSOA 2011/2021 ``E01``, OA ``E00``, MSOA ``E02``).
_ENGLISH_SMALL_AREA = r"^E0[012]\d{6}$"


def _registrations(
    source: Source,
    practices: pd.DataFrame,
    areas: gpd.GeoDataFrame | None,
    notes: list[str],
    lookup: Source | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The registrations of the study's practices, and those of practices outside it.

    Residence codes are classed against the areas layer (``area_kind``); a file whose codes
    match almost none of the areas stops with an error (a vintage or layer mismatch).
    """
    reg = gio.read_registrations(source)
    for reason, count in reg.attrs.get("skipped", {}).items():
        notes.append(f"{source.label}: {count:,} rows not used ({reason})")
    repeated = reg.attrs.get("repeated")
    if repeated:
        notes.append(
            f"Warning: {source.label}: {repeated['rows']:,} row(s) repeat a practice and area "
            f"already listed ({repeated['practices']:,} practice(s), {repeated['patients']:,} "
            f"patients in the repeated rows, e.g. {repeated['example']}); they were summed "
            "with the first: if they are copies, remove them"
        )
    if lookup is not None and areas is not None:
        reg = _convert_vintage(reg, lookup, areas, notes)
    reg = _class_residence(reg, areas)
    inside = isin(reg[PRACTICE_CODE], practices.index)
    outside = None
    if not inside.all():
        outside = reg.loc[~inside].reset_index(drop=True)
        notes.append(
            f"{source.label}: {len(outside):,} rows ({int(outside[N_PATIENTS].sum()):,} patients) "
            f"for {outside[PRACTICE_CODE].nunique():,} practices outside the study: where they "
            "live in the study's small areas they compete for them (served from outside)"
        )
    reg = reg.loc[inside].reset_index(drop=True)
    if reg.empty:
        raise InputError(
            f"{source.label}: no registrations for any practice of the study; check that the "
            "practice codes match the practices file"
        )
    if areas is not None:
        _check_area_match(reg, areas, source)
        by_kind = reg.groupby("area_kind")[N_PATIENTS].sum()
        off = by_kind.drop("small_area", errors="ignore")
        if off.sum():
            parts = ", ".join(f"{_KIND_WORDS.get(k, k)}: {int(v):,}" for k, v in off.items() if v)
            notes.append(
                f"{source.label}: {int(off.sum()):,} patients of the study's practices do not "
                f"live in a small area of the areas layer ({parts})"
            )
    return reg, outside


#: How residence classes read in notes and reports.
_KIND_WORDS = {
    "outside_layer": "English small areas the areas layer does not hold",
    "unknown": "residence unknown (NO2011, CLOSED, EMPTY...)",
    "wales": "Wales",
    "scotland": "Scotland",
    "northern_ireland": "Northern Ireland",
    "crown_dependencies": "Crown dependencies",
}


def _class_residence(reg: pd.DataFrame, areas: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Refine ``area_kind`` against the areas layer.

    A code the reader took for a small area is ``small_area`` only when the layer holds it;
    an English small-area code the layer does not hold is ``outside_layer``; anything else
    (``NO2011``, a made-up code) is ``unknown``. Without an areas layer, English small-area
    codes are small areas and other codes with digits are kept as the study's own.
    """
    # each distinct (code, kind) pair is classed once (35,000 pairs, not 870,000 national
    # rows), and the answer taken back to the rows
    code_of, codes = pd.factorize(reg[AREA_CODE].astype(str), use_na_sentinel=False)
    kind_of, kinds = pd.factorize(reg["area_kind"].astype(str), use_na_sentinel=False)
    where, pairs = pd.factorize(code_of.astype(np.int64) * max(len(kinds), 1) + kind_of)
    codes = pd.Series(codes).take(pairs // max(len(kinds), 1)).reset_index(drop=True)
    kind = pd.Series(kinds).take(pairs % max(len(kinds), 1)).to_numpy(dtype=object).copy()
    small = kind == "small_area"
    english = codes.str.match(_ENGLISH_SMALL_AREA).to_numpy(dtype=bool)
    pseudo = codes.str.match(r"^NO\d{4}$").to_numpy(dtype=bool)  # NO2011, NO2021
    if areas is not None:
        held = isin(codes, areas.index)
        kind[small & ~held & english] = "outside_layer"
        kind[small & ~held & ~english] = "unknown"
        kind[held] = "small_area"
    else:
        kind[small & pseudo] = "unknown"
    return reg.assign(area_kind=pd.array(kind.astype(str), dtype="str").take(where))


def _convert_vintage(
    reg: pd.DataFrame, lookup: Source, areas: gpd.GeoDataFrame, notes: list[str]
) -> pd.DataFrame:
    """Registrations of another census vintage re-coded to the areas layer's small areas
    (splits shared by the areas' population, whole patients conserved), with a note."""
    table = read_area_lookup(lookup)
    population = areas[POPULATION] if areas[POPULATION].notna().any() else None
    out, info = convert_registrations(reg, table, areas.index, population=population)
    if info["n_patients_converted"]:
        shared = "by the areas' population" if population is not None else "equally"
        notes.append(
            f"{lookup.label}: registrations converted from {info['from']} to {info['to']}: "
            f"{info['n_patients_converted']:,} patients in {info['n_codes']:,} small areas of "
            f"the other vintage, {info['n_patients_split']:,} of them through split areas "
            f"(shared {shared}; whole patients, none lost)"
        )
    return out


def _check_area_match(reg: pd.DataFrame, areas: gpd.GeoDataFrame, source: Source) -> None:
    """Stop when the study's registrations name almost none of the areas layer's codes."""
    coded = reg[reg["area_kind"].isin(["small_area", "outside_layer"])]
    total = int(coded[N_PATIENTS].sum())
    unknown = reg[reg["area_kind"] == "unknown"]
    total_all = total + int(unknown[N_PATIENTS].sum())
    matched = int(coded.loc[coded["area_kind"] == "small_area", N_PATIENTS].sum())
    if total_all and matched < 0.5 * total_all:
        unmatched = reg.loc[reg["area_kind"].isin(["outside_layer", "unknown"]), AREA_CODE].unique()
        raise InputError(
            f"{source.label}: only {matched:,} of {total_all:,} patients "
            f"({100 * matched / total_all:.0f}%) live in small areas the areas layer holds "
            f"(codes such as {list_some(sorted(unmatched))} are not in it); the registrations "
            "and the areas layer use different small areas or vintages (e.g. LSOA 2011 codes "
            "against LSOA 2021 polygons), or the layer covers another region: use an areas "
            "layer of the registrations' vintage that covers where the patients live"
        )


def _note_unregistered(missing: pd.Index, n_practices: int, spec: StudySpec, notes: list[str]):
    """Say which practices have no rows in the registrations (never a silent 0)."""
    if not len(missing):
        return
    label = spec.registrations.label
    wider = (
        "; most practices have none, so the practices file is wider than the registrations "
        "(filter it with where = {...}, or use registrations for the whole area)"
        if len(missing) > n_practices / 2
        else ""
    )
    notes.append(
        f"{label}: no registrations for {len(missing):,} of {n_practices:,} practices "
        f"({list_some(list(missing))}); they have no list size from it{wider}"
    )


def _place_by_residents(
    practices: gpd.GeoDataFrame,
    registrations: pd.DataFrame | None,
    areas: gpd.GeoDataFrame | None,
    notes: list[str],
) -> gpd.GeoDataFrame:
    """A practice no coordinates or postcode could place (a postcode no longer live) is put
    at the patient-weighted centre of its registered residents' small areas, and the notes
    name it; a practice with no residents in the layer stays unplaced."""
    missing = practices.index[(~present(practices.geometry)).to_numpy()]
    if registrations is None or areas is None or not len(missing):
        return practices
    rows = registrations[
        registrations[PRACTICE_CODE].isin(missing) & (registrations["area_kind"] == "small_area")
    ]
    if rows.empty:
        return practices
    points = shapely.point_on_surface(areas.geometry.reindex(rows[AREA_CODE]).to_numpy())
    w = rows[N_PATIENTS].to_numpy(dtype=float)
    frame = (
        pd.DataFrame(
            {
                PRACTICE_CODE: rows[PRACTICE_CODE].to_numpy(),
                "x": shapely.get_x(points) * w,
                "y": shapely.get_y(points) * w,
                "w": w,
            }
        )
        .groupby(PRACTICE_CODE)[["x", "y", "w"]]
        .sum()
    )
    frame = frame[frame["w"] > 0]
    if frame.empty:
        return practices
    out = practices.copy()
    placed = gpd.points_from_xy(
        (frame["x"] / frame["w"]).round(0), (frame["y"] / frame["w"]).round(0), crs=BNG
    )
    geometry = out.geometry.copy()
    geometry.loc[frame.index] = placed
    out = out.set_geometry(geometry)
    out.loc[frame.index, "locate_method"] = GUESSED_SITE
    notes.append(
        f"{len(frame):,} practice(s) not located by coordinates or postcode were placed at "
        f"the patient-weighted centre of their registered residents: {list_some(list(frame.index))}"
        " (check their sites)"
    )
    return out


def _mark_sites(practices: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Give practices within ``tolerance_m`` of each other (transitively) one ``site_id``.

    The site is named by the smallest practice code at it, so ids are stable and readable.
    """
    out = practices.copy()
    pts = out.geometry[present(out.geometry)]
    site = pd.Series(pd.NA, index=out.index, dtype="string")
    if len(pts):
        left, right = pts.sindex.query(pts.to_numpy(), predicate="dwithin", distance=tolerance_m)
        component = connected_labels(left, right, len(pts))
        codes = pd.Series(pts.index.to_numpy(dtype=object))
        site[pts.index] = codes.groupby(component).transform("min").to_numpy(dtype=object)
    out["site_id"] = site
    return out
