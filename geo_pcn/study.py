"""Study: every input of a PCN check, loaded, cross-checked and projected to BNG.

A :class:`Study` is built from a study file (:meth:`Study.from_toml`) or the embedded demo
(:func:`geo_pcn.datasets.demo`). Loading validates every input at the top, collects the
problems and raises one :class:`~geo_pcn.errors.GeoPCNError` naming the files, rows and
codes. Nothing about the *planning rules* is checked here: that is the job of the checks.
"""

from __future__ import annotations

import html
import math
import re
import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_pcn import io as gio
from geo_pcn._words import count as _count
from geo_pcn.configuration import Configuration
from geo_pcn.errors import GeoPCNWarning, InputError, list_some
from geo_pcn.io._isin import isin
from geo_pcn.io.context import read_deprivation, read_rural
from geo_pcn.io.lookups import is_table, read_lookup_layer
from geo_pcn.io.tables import Source, to_number, warn
from geo_pcn.io.vintage import convert_registrations, read_area_lookup
from geo_pcn.settings import (
    AREA_CODE,
    BNG,
    DEFAULT_ADJACENCY_TOLERANCE_M,
    DEFAULT_BAND,
    GUESSED_SITE,
    LIST_SIZE,
    N_PATIENTS,
    PCN_CODE,
    PCN_NAME,
    POPULATION,
    POSTCODE,
    PRACTICE_CODE,
)
from geo_pcn.studyfile import AgreedException, StudySpec, merge_exempt, parse_study_file

__all__ = ["Study", "Rules", "CommunityLayer"]


@dataclass(frozen=True)
class Rules:
    """The planning rules a configuration is checked against.

    Parameters
    ----------
    band
        Inclusive list-size band ``(low, high)``; default 30,000-50,000.
    exempt
        PCN codes with a locally agreed exception to the band (reported as INFO); each is
        also an exception to ``size`` in ``exceptions`` (reason "listed in exempt").
    footprints
        ``"auto"`` (registrations when given, else voronoi), ``"registrations"`` or
        ``"voronoi"``.
    adjacency_tolerance_m
        Territories closer than this (metres) count as touching (estuaries, slivers).
    site_tolerance_m
        Practices closer than this (metres) share a site (co-located).
    study_boundary
        Boundary layer whose union is the study boundary: an override; by default the study
        area is decided from the data (see :func:`geo_pcn.geography.build_territories`).
    min_share
        A PCN's minimum-share footprint (its catchment) holds every small area where it has
        at least this share of the registered residents (default 5%).
    exceptions
        Agreed exceptions per PCN and check, with their reason and date
        (:class:`~geo_pcn.studyfile.AgreedException`); a PCN excepted from ``size`` is
        also ``exempt``. See :mod:`geo_pcn.checks.exceptions`.
    """

    band: tuple[int, int] = DEFAULT_BAND
    exempt: tuple[str, ...] = ()
    footprints: str = "auto"
    adjacency_tolerance_m: float = DEFAULT_ADJACENCY_TOLERANCE_M
    site_tolerance_m: float = 1.0
    study_boundary: str | None = None
    exceptions: tuple[AgreedException, ...] = ()
    min_share: float = 0.05

    def __post_init__(self) -> None:
        _check_rule_numbers(self)
        exempt, exceptions = merge_exempt(self.exempt, self.exceptions)
        object.__setattr__(self, "exempt", exempt)
        object.__setattr__(self, "exceptions", exceptions)


def _by_code(frame: Any, *columns: str) -> Any:
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


def _finite(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _check_rule_numbers(rules: Rules) -> None:
    """Every rule number in range and finite, wherever ``Rules`` is made (not only in the
    study-file parser): ``adjacency_tolerance_m = inf`` would join every practice and
    hide a real detached group; a band ``(50000, 30000)`` would fail every PCN."""
    problems = []
    for key in ("adjacency_tolerance_m", "site_tolerance_m"):
        value = getattr(rules, key)
        if not (_finite(value) and value >= 0):
            problems.append(f"{key} must be a finite number of metres >= 0, got {value!r}")
    if not (_finite(rules.min_share) and 0 < rules.min_share <= 1):
        problems.append(f"min_share must be a share > 0 and <= 1, got {rules.min_share!r}")
    band = rules.band
    ok = (
        isinstance(band, tuple | list)
        and len(band) == 2
        and all(_finite(b) and float(b).is_integer() for b in band)
        and 0 <= band[0] <= band[1]
    )
    if not ok:
        problems.append(
            f"band must be two whole numbers of patients (low, high) with 0 <= low <= high, "
            f"got {band!r}"
        )
    if problems:
        raise InputError("rules: " + "; ".join(problems) + "; correct the [rules] values")


@dataclass(frozen=True, eq=False)
class CommunityLayer:
    """A community-service layer: team/neighbourhood ``areas`` or service ``sites``."""

    name: str
    kind: str
    data: gpd.GeoDataFrame
    source: Path | None = None

    @property
    def n_located(self) -> int:
        """Features with a geometry."""
        return int(self.data.geometry.notna().sum())

    @property
    def not_located(self) -> pd.DataFrame:
        """Features that could not be placed (kept, never dropped)."""
        return pd.DataFrame(self.data[self.data.geometry.isna()].drop(columns="geometry"))


@dataclass(frozen=True, eq=False)
class Study:
    """Every input of a PCN configuration check, in British National Grid.

    Attributes
    ----------
    name
        Title of the study.
    practices
        GeoDataFrame indexed by ``practice_code``: ``practice_name``, ``postcode``,
        recorded ``pcn_code``/``pcn_name``, ``sub_icb_code``, ``icb_code`` (as recorded in
        the practice file), ``list_size`` (nullable integer), ``n_registered`` (patients in
        the registrations, when given), ``locate_method`` and ``site_id`` (practices
        sharing a site share it); Point geometry, missing when not located.
    configuration
        The practice -> PCN assignment being checked.
    registrations
        Patients by practice by area of the study's practices (``practice_code, area_code,
        n_patients, area_kind``) or ``None``. Every residence code is kept and classed in
        ``area_kind``: ``small_area`` (a small area of the areas layer), ``outside_layer``
        (an English small area the areas layer does not hold), ``wales``, ``scotland``,
        ``northern_ireland``, ``crown_dependencies`` or ``unknown`` (``NO2011``, ``CLOSED``,
        ``EMPTY``...).
    outside_registrations
        The rows of the same file for practices *outside* the study (a national
        ``gp-reg-pat-prac-lsoa-all.csv`` holds every practice in England), or ``None``.
        Their residents compete for the small areas: an area most of whose registered
        residents use practices outside the study is *served from outside*. In a region
        study (see ``registrations_not_read``) only the rows in the areas in play.
    registrations_not_read
        A region study (practices narrowed by ``where``, or holding less than half of the
        registrations' patients) works on the *areas in play*: the small areas where its
        practices have residents or sites, and their neighbours within
        ``adjacency_tolerance_m``. The registrations of other practices everywhere else are
        counted here, not listed: ``n_rows``, ``n_patients``, ``n_practices`` and
        ``n_areas`` (distinct small-area codes: the layer's, or English ones it does not
        hold). ``None`` when nothing was set aside.
    areas
        Small-area polygons indexed by ``area_code`` (``area_name``, ``population``) or
        ``None``.
    boundaries
        Named boundary layers (``sub_icb``, ``icb``, ``place``...): ``code, name,
        nhs_code`` and polygons.
    community
        Named community-service layers.
    rules
        The planning rules.
    notes
        What loading assumed or set aside (counted, never silent).
    synthetic
        The data are made up (the demo region): reports and maps say so in a banner.
        Set by the study file's ``synthetic = true``; never guessed from the name.
    """

    name: str
    practices: gpd.GeoDataFrame
    configuration: Configuration
    registrations: pd.DataFrame | None = None
    outside_registrations: pd.DataFrame | None = None
    registrations_not_read: dict[str, int] | None = None
    areas: gpd.GeoDataFrame | None = None
    boundaries: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    community: dict[str, CommunityLayer] = field(default_factory=dict)
    rules: Rules = field(default_factory=Rules)
    source: Path | None = None
    description: str = ""
    notes: tuple[str, ...] = ()
    synthetic: bool = False

    def __post_init__(self) -> None:
        _check_study(self)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: Path | str) -> Study:
        """Load a study file (TOML); see the README for the keys.

        Parameters
        ----------
        path
            The study file. Paths inside it are relative to its folder.

        Returns
        -------
        Study

        Raises
        ------
        geo_pcn.errors.GeoPCNError
            Any input problem, as one line naming the file, rows/codes and the fix.

        Examples
        --------
        >>> from geo_pcn.datasets import demo_study_file
        >>> study = Study.from_toml(demo_study_file())
        >>> study.practices.crs.to_epsg()
        27700
        """
        return _load(parse_study_file(path))

    def with_configuration(self, configuration: Configuration) -> Study:
        """The same study checked against another configuration (unknown practices raise)."""
        self.check_configuration(configuration)
        return replace(self, configuration=configuration)

    def check_configuration(self, configuration: Configuration) -> None:
        """Raise when ``configuration`` names practices the study does not have (cheap when
        it has the same practices as the study's own configuration, as a scenario does)."""
        codes = configuration.practice_codes
        if codes is self.configuration.practice_codes or codes == self._practice_codes:
            return
        unknown = sorted(set(codes) - set(self._practice_codes))
        if unknown:
            raise InputError(
                f"configuration names practice(s) not in the study: {list_some(unknown)}; "
                "add them to the practices file or remove them from the configuration"
            )

    def subset(self, practice_codes, *, name: str | None = None) -> Study:
        """The study of some of its practices (an ICB of a national study): the others'
        registrations become registrations of practices outside the study, so they still
        compete for the small areas; every other input is shared.

        Examples
        --------
        >>> from geo_pcn.datasets import demo
        >>> study = demo()
        >>> part = study.subset(study.configuration.members["UZ001"])
        >>> part.configuration.n_pcns, len(part.outside_registrations) > 0, part.rules.exempt
        (1, True, ())
        """
        codes = [c for c in dict.fromkeys(practice_codes) if c in self.practices.index]
        practices = self.practices.loc[codes].copy()
        assign = self.configuration.assignments.reindex(codes).fillna("")
        frame = pd.DataFrame({PRACTICE_CODE: codes, PCN_CODE: assign.to_numpy(), PCN_NAME: ""})
        frame[PCN_NAME] = [self.configuration.name_of(c) if c else "" for c in frame[PCN_CODE]]
        registrations = outside = None
        if self.registrations is not None:
            mine = isin(self.registrations[PRACTICE_CODE], codes)
            registrations = self.registrations[mine].reset_index(drop=True)
            others = [self.registrations[~mine]]
            if self.outside_registrations is not None:
                others.append(self.outside_registrations)
            outside = pd.concat(others, ignore_index=True)
        configuration = Configuration.from_frame(frame)
        # the subset's own agreed exceptions only (the others' would all look stale)
        pcns = set(configuration.pcn_codes)
        rules = replace(
            self.rules,
            exempt=tuple(c for c in self.rules.exempt if c in pcns),
            exceptions=tuple(e for e in self.rules.exceptions if e.pcn_code in pcns),
        )
        return replace(
            self,
            name=name or self.name,
            practices=practices,
            configuration=configuration,
            registrations=registrations,
            outside_registrations=outside,
            rules=rules,
        )

    @cached_property
    def _practice_codes(self) -> tuple[str, ...]:
        return tuple(self.practices.index.tolist())

    # -- derived facts ----------------------------------------------------------------
    @cached_property
    def located(self) -> gpd.GeoDataFrame:
        """Practices with a location."""
        return self.practices[self.practices.geometry.notna()]

    @cached_property
    def not_located(self) -> tuple[str, ...]:
        """Codes of practices without a location."""
        return tuple(self.practices.index[self.practices.geometry.isna()])

    @cached_property
    def colocated(self) -> dict[str, tuple[str, ...]]:
        """``site_id -> practice codes`` for every site shared by two or more practices."""
        sites = self.practices["site_id"].dropna()
        counts = sites.value_counts()
        shared = sites[sites.isin(counts.index[counts > 1])]
        return {
            site: tuple(sorted(group.index)) for site, group in shared.groupby(shared, sort=True)
        }

    @property
    def n_patients(self) -> int:
        """Registered patients over all practices (pseudo-area rows included)."""
        return int(self.practices[LIST_SIZE].fillna(0).sum())

    def summary(self) -> dict[str, Any]:
        """What was loaded, as plain numbers and code lists (used by ``geo-pcn info``)."""
        practices = self.practices
        methods = practices["locate_method"].replace("", "not located").value_counts()
        out: dict[str, Any] = {
            "name": self.name,
            "source": str(self.source) if self.source else None,
            "n_practices": len(practices),
            "n_located": len(self.located),
            "located_by": {str(k): int(v) for k, v in methods.items()},
            "not_located": list(self.not_located),
            "n_sharing_site": sum(len(v) for v in self.colocated.values()),
            "n_shared_sites": len(self.colocated),
            "n_pcns": self.configuration.n_pcns,
            "unassigned": list(self.configuration.unassigned),
            "n_patients": self.n_patients,
            "no_list_size": list(practices.index[practices[LIST_SIZE].isna()]),
            "areas": None if self.areas is None else len(self.areas),
            "boundaries": {k: len(v) for k, v in self.boundaries.items()},
            "community": {
                k: {"kind": v.kind, "n": len(v.data), "n_located": v.n_located}
                for k, v in self.community.items()
            },
            "rules": {
                "band": list(self.rules.band),
                "exempt": list(self.rules.exempt),
                "footprints": self.footprint_method,
                "adjacency_tolerance_m": self.rules.adjacency_tolerance_m,
            },
            "notes": list(self.notes),
        }
        if self.registrations is not None:
            reg = self.registrations
            by_kind = reg.groupby("area_kind", observed=True)[N_PATIENTS].sum()
            total = int(reg[N_PATIENTS].sum())
            out["registrations"] = {
                "n_patients": total,
                "by_area_kind": {str(k): int(v) for k, v in by_kind.items()},
                "pct_pseudo": round(
                    100 * float(by_kind.drop("small_area", errors="ignore").sum()) / total, 2
                )
                if total
                else 0.0,
            }
        if self.outside_registrations is not None:
            other = self.outside_registrations
            out["registrations"]["outside_study"] = {
                "n_practices": int(other[PRACTICE_CODE].nunique()),
                "n_patients": int(other[N_PATIENTS].sum()),
            }
        if self.registrations_not_read is not None:
            out["registrations"]["outside_areas_read"] = dict(self.registrations_not_read)
        if "list_size_source" in practices:
            sources = practices["list_size_source"].replace("", "none").value_counts()
            out["list_size_sources"] = {str(k): int(v) for k, v in sources.items()}
        if "status" in practices:
            status = practices["status"].replace("", "not recorded").value_counts()
            out["status"] = {str(k): int(v) for k, v in status.items()}
        if self.areas is not None:
            out["areas_with_population"] = int(self.areas[POPULATION].notna().sum())
        return out

    @property
    def footprint_method(self) -> str:
        """The footprint method that will be used (``auto`` resolved)."""
        if self.rules.footprints != "auto":
            return self.rules.footprints
        return (
            "registrations"
            if self.registrations is not None and self.areas is not None
            else "voronoi"
        )

    def __repr__(self) -> str:
        return (
            f"<Study {self.name!r}: {len(self.practices)} practices, "
            f"{self.configuration.n_pcns} PCNs, {self.n_patients:,} patients>"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        rows = [
            ("Practices", f"{s['n_practices']:,} ({s['n_located']:,} located)"),
            ("PCNs", f"{s['n_pcns']:,} ({_count(len(s['unassigned']), 'practice')} in no PCN)"),
            ("Registered patients", f"{s['n_patients']:,}"),
            ("Small areas", "none" if s["areas"] is None else f"{s['areas']:,}"),
            (
                "Boundary layers",
                ", ".join(f"{k} ({v})" for k, v in s["boundaries"].items()) or "none",
            ),
            ("Community layers", ", ".join(s["community"]) or "none"),
            ("Band", f"{s['rules']['band'][0]:,}-{s['rules']['band'][1]:,}"),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        out = [f"<div><strong>Study: {html.escape(self.name)}</strong><table>{body}</table>"]
        if s["unassigned"] or s["not_located"]:
            items = [
                ("In no PCN", s["unassigned"]),
                ("Not located", s["not_located"]),
                ("No list size", s["no_list_size"]),
            ]
            lis = "".join(
                f"<li>{html.escape(k)}: {html.escape(', '.join(v))}</li>" for k, v in items if v
            )
            out.append(
                f"<details open><summary>Practices to look at</summary><ul>{lis}</ul></details>"
            )
        members = self.configuration.members
        pcn_rows = "".join(
            f"<tr><td>{html.escape(code)}</td><td>{html.escape(self.configuration.name_of(code))}"
            f"</td><td>{len(m)}</td></tr>"
            for code, m in members.items()
        )
        out.append(
            f"<details><summary>PCNs ({len(members)})</summary><table><tr><th>pcn_code</th>"
            f"<th>pcn_name</th><th>n_practices</th></tr>{pcn_rows}</table></details>"
        )
        if self.notes:
            notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
            out.append(
                f"<details><summary>Notes on the inputs ({len(self.notes)})</summary>"
                f"<ul>{notes}</ul></details>"
            )
        return "".join(out) + "</div>"


# ---------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------


def _crs_problem(what: str, frame) -> str | None:
    crs = getattr(frame, "crs", None)
    if crs is None:
        return f"{what} has no CRS; set it (e.g. .set_crs(4326)) and project with .to_crs(27700)"
    if crs.to_epsg() != 27700:
        return (
            f"{what} is in {crs.to_string()}, not British National Grid: project it with "
            ".to_crs(27700) (distances are measured in metres)"
        )
    return None


def _check_study(study: Study) -> None:
    """Validate a Study however it was made (a study file, or frames built in Python):
    British National Grid everywhere, points for practices, polygons for areas and layers,
    unique codes, and a configuration of the study's practices. Collect, then raise once."""
    problems: list[str] = []
    practices = study.practices
    if not isinstance(practices, gpd.GeoDataFrame):
        raise InputError("Study practices must be a GeoDataFrame indexed by practice_code")
    problem = _crs_problem("practices", practices)
    if problem:
        problems.append(problem)
    if practices.index.has_duplicates:
        dup = sorted(set(practices.index[practices.index.duplicated()]))
        problems.append(f"practices: practice code(s) {list_some(dup)} appear more than once")
    kinds = set(practices.geometry[practices.geometry.notna()].geom_type)
    if kinds - {"Point"}:
        problems.append(f"practices must be points (one site each), not {', '.join(sorted(kinds))}")
    for column in ("practice_name", LIST_SIZE, "site_id"):
        if column not in practices:
            problems.append(f"practices have no {column!r} column")
    if study.areas is not None:
        problem = _crs_problem("areas", study.areas)
        if problem:
            problems.append(problem)
        if study.areas.index.has_duplicates:
            dup = sorted(set(study.areas.index[study.areas.index.duplicated()]))
            problems.append(f"areas: area code(s) {list_some(dup)} appear more than once")
        if POPULATION not in study.areas:
            problems.append("areas have no 'population' column (use pd.NA where unknown)")
    for name, layer in study.boundaries.items():
        problem = _crs_problem(f"boundary layer {name!r}", layer)
        if problem:
            problems.append(problem)
    for name, layer in study.community.items():
        problem = _crs_problem(f"community layer {name!r}", layer.data)
        if problem:
            problems.append(problem)
    for what, table in (
        ("registrations", study.registrations),
        ("outside_registrations", study.outside_registrations),
    ):
        if table is not None:
            missing = {PRACTICE_CODE, AREA_CODE, N_PATIENTS, "area_kind"} - set(table.columns)
            if missing:
                problems.append(f"{what} lack column(s) {', '.join(sorted(missing))}")
    unknown = sorted(set(study.configuration.practice_codes) - set(practices.index))
    if unknown:
        problems.append(
            f"the configuration names practice(s) not in the study: {list_some(unknown)}"
        )
    if problems:
        raise InputError("Study: " + "; ".join(problems))


def _load(spec: StudySpec) -> Study:
    notes: list[str] = []
    # every table and layer in the order of its codes (sort at the source): the same data
    # in any file order gives the same study, and so byte-identical outputs
    raw = _by_code(gio.read_practices(spec.practices), PRACTICE_CODE)
    practices = _practice_table(raw, spec, notes)
    areas = _areas(spec, notes)
    assignment = _assignment(spec, practices)
    assignment = _one_name_per_pcn(assignment, spec, notes)
    practices, assignment = _by_status(practices, assignment, spec, notes)
    configuration = Configuration.from_frame(assignment)

    # list sizes and where each came from: a list-size file, else the registrations, else
    # the practices file; a practice with none has no list size (never a silent 0)
    registrations = outside = None
    source = pd.Series("practices file", index=practices.index, dtype=object)
    source[practices[LIST_SIZE].isna().to_numpy()] = ""
    if spec.registrations is not None:
        registrations, outside = _registrations(
            spec.registrations, practices, areas, notes, spec.area_lookup
        )
        registrations = _by_code(registrations, PRACTICE_CODE, AREA_CODE)
        outside = _by_code(outside, PRACTICE_CODE, AREA_CODE)
        totals = registrations.groupby(PRACTICE_CODE)[N_PATIENTS].sum()
        practices["n_registered"] = totals.reindex(practices.index).fillna(0).astype("int64")
        practices[LIST_SIZE] = totals.reindex(practices.index).astype("Int64")
        source[:] = ""
        source[practices.index.isin(totals.index)] = "registrations"
        _note_unregistered(practices.index.difference(totals.index), len(practices), spec, notes)
        if spec.population is not None and areas is not None:
            _warn_low_population(areas[POPULATION], registrations, spec.population.label)
    if spec.list_sizes is not None:
        sizes = gio.read_list_sizes(spec.list_sizes).set_index(PRACTICE_CODE)[LIST_SIZE]
        outside_sizes = sizes.index.difference(practices.index)
        if len(outside_sizes):
            notes.append(
                f"{len(outside_sizes):,} list-size rows are for practices outside the study "
                "(not used)"
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
                    if registrations is not None
                    else "they have no list size"
                )
            )
    practices[LIST_SIZE] = practices[LIST_SIZE].astype("Int64")
    practices["list_size_source"] = source.to_numpy()

    areas_label = spec.areas.label if spec.areas is not None else ""
    boundaries = {
        name: _by_code(_polygon_layer(
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
    _layer_dates(boundaries, raw.attrs.get("extract_date"), notes)
    community = _community(spec, notes, areas)
    rule_values = dict(spec.rules)
    rules = Rules(**rule_values)
    if rules.study_boundary is not None and rules.study_boundary not in boundaries:
        raise InputError(
            f"{spec.path}: [rules] study_boundary = {rules.study_boundary!r} is not a "
            f"boundary layer; the study has {list_some(boundaries) or 'none'}"
        )
    unknown_exempt = sorted(set(rules.exempt) - set(configuration.pcn_codes))
    if unknown_exempt:
        notes.append(f"exempt PCN code(s) not in the configuration: {list_some(unknown_exempt)}")
    practices = _place_by_residents(practices, registrations, areas, notes)
    practices = _mark_sites(practices, rules.site_tolerance_m)
    not_read = None
    if _is_region_study(spec, registrations, outside, areas):
        areas, outside, not_read = _areas_in_play(
            practices, registrations, outside, areas, rules, spec, notes
        )
    return Study(
        name=spec.name,
        practices=practices,
        configuration=configuration,
        registrations=registrations,
        outside_registrations=outside,
        registrations_not_read=not_read,
        areas=areas,
        boundaries=boundaries,
        community=community,
        rules=rules,
        source=spec.path,
        description=spec.description,
        notes=tuple(notes),
        synthetic=spec.synthetic,
    )


def _is_region_study(spec: StudySpec, registrations, outside, areas) -> bool:
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


def _areas_in_play(
    practices: gpd.GeoDataFrame,
    registrations: pd.DataFrame,
    outside: pd.DataFrame | None,
    areas: gpd.GeoDataFrame,
    rules: Rules,
    spec: StudySpec,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None, dict[str, int] | None]:
    """The areas a region study works on, the other practices' registrations there, and
    the count of those set aside (:attr:`Study.registrations_not_read`).

    Areas in play: the small areas where the study's practices have residents, those holding
    its practice sites, and every area within ``adjacency_tolerance_m`` of them (a bounding
    box first, then a distance test). The study's own rows are all kept, wherever they are.
    """
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
    tol = float(rules.adjacency_tolerance_m)
    x0, y0, x1, y1 = shapely.total_bounds(geoms[core])
    near = tree.query(shapely.box(x0 - tol, y0 - tol, x1 + tol, y1 + tol), predicate="intersects")
    near = near[~core[near]]
    hit = shapely.STRtree(geoms[core]).query(geoms[near], predicate="dwithin", distance=tol)
    keep = core.copy()
    keep[near[np.unique(hit[0])]] = True
    if keep.all():
        return areas, outside, None
    kept = areas[keep]
    notes.append(
        f"{spec.areas.label}: a region study: it works on the {int(keep.sum()):,} small areas "
        f"in play (where its practices have residents or sites, and their neighbours within "
        f"{tol:g} m), not all {len(areas):,} of the layer"
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
        f"{spec.path}: {key} = \"{spec.postcodes}\" is given but no practice input carries "
        f"postcodes to look up ({'; '.join(inputs)}), so it would be ignored: give "
        'locations = "<epraccur.csv or a table of practice_code, postcode>" under '
        "[practices], name the postcode column with columns = { postcode = \"<column>\" }, "
        f"or remove {key}"
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


def _one_name_per_pcn(
    assignment: pd.DataFrame, spec: StudySpec, notes: list[str]
) -> pd.DataFrame:
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


def _areas(spec: StudySpec, notes: list[str]) -> gpd.GeoDataFrame | None:
    if spec.areas is None:
        if spec.population is not None:
            raise InputError(
                f"{spec.population.label}: [areas] population needs [areas] file = polygons"
            )
        return None
    areas = gio.read_areas(spec.areas)
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
    return areas


def _place_by_residents(
    practices: gpd.GeoDataFrame,
    registrations: pd.DataFrame | None,
    areas: gpd.GeoDataFrame | None,
    notes: list[str],
) -> gpd.GeoDataFrame:
    """A practice no coordinates or postcode could place (a postcode no longer live) is put
    at the patient-weighted centre of its registered residents' small areas, and the notes
    name it; a practice with no residents in the layer stays unplaced."""
    missing = practices.index[practices.geometry.isna().to_numpy()]
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


def _note_unmatched(values: pd.Series, source: Source, what: str, notes: list[str]) -> None:
    missing = int(values.isna().sum())
    if missing:
        notes.append(
            f"{source.label}: {missing:,} of {len(values):,} small areas have no {what} (codes "
            "of another vintage?); their patients are left out of that figure"
        )


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


def _community(
    spec: StudySpec, notes: list[str], areas: gpd.GeoDataFrame | None = None
) -> dict[str, CommunityLayer]:
    layers: dict[str, CommunityLayer] = {}
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
            n_missing = int(data.geometry.isna().sum())
            if n_missing:
                notes.append(f"[community.{name}]: {n_missing:,} sites could not be located")
        for reason, count in data.attrs.get("skipped", {}).items():
            notes.append(f"{source.label}: {count:,} rows not used ({reason})")
        data = _by_code(data, "code")
        layers[name] = CommunityLayer(name=name, kind=str(kind), data=data, source=source.path)
    return layers


def _mark_sites(practices: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Give practices within ``tolerance_m`` of each other (transitively) one ``site_id``.

    The site is named by the smallest practice code at it, so ids are stable and readable.
    """
    import networkx as nx

    out = practices.copy()
    pts = out.geometry[out.geometry.notna()]
    site = pd.Series(pd.NA, index=out.index, dtype="string")
    if len(pts):
        left, right = pts.sindex.query(pts.to_numpy(), predicate="dwithin", distance=tolerance_m)
        graph = nx.Graph()
        graph.add_nodes_from(range(len(pts)))
        pairs = left < right
        graph.add_edges_from(zip(left[pairs].tolist(), right[pairs].tolist(), strict=True))
        codes = pts.index.to_numpy(dtype=object)
        label = codes.copy()
        for component in nx.connected_components(graph):
            members = list(component)
            label[members] = min(codes[members])
        site[pts.index] = label
    out["site_id"] = site
    return out
