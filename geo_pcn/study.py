"""Study: every input of a PCN check, loaded, cross-checked and projected to BNG.

A :class:`Study` is built from a study file (:meth:`Study.from_toml`) or the embedded demo
(:func:`geo_pcn.datasets.demo`). Loading validates every input at the top, collects the
problems and raises one :class:`~geo_pcn.errors.GeoPCNError` naming the files, rows and
codes. Nothing about the *planning rules* is checked here: that is the job of the checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_pcn._spatial import present
from geo_pcn._templates import render
from geo_pcn._words import count as _count
from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError, list_some
from geo_pcn.io._isin import isin
from geo_pcn.io.study_areas import (
    areas_in_play,
    dissolves_areas,
    is_region_study,
    read_boundary_layers,
    read_community_layers,
    read_small_areas,
    region_polygons,
    with_polygons,
)
from geo_pcn.io.study_practices import (
    add_list_sizes,
    by_code,
    place_sites,
    read_assignment,
    read_practice_table,
)
from geo_pcn.settings import (
    AREA_CODE,
    DEFAULT_ADJACENCY_TOLERANCE_M,
    DEFAULT_BAND,
    LIST_SIZE,
    N_PATIENTS,
    PCN_CODE,
    PCN_NAME,
    POPULATION,
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
        return int(present(self.data.geometry).sum())

    @property
    def not_located(self) -> pd.DataFrame:
        """Features that could not be placed (kept, never dropped)."""
        return pd.DataFrame(self.data[~present(self.data.geometry)].drop(columns="geometry"))


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
        return self.practices[present(self.practices.geometry)]

    @cached_property
    def not_located(self) -> tuple[str, ...]:
        """Codes of practices without a location."""
        return tuple(self.practices.index[~present(self.practices.geometry)])

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
        """HTML for notebooks (``geo_pcn/templates/study.html.j2``; every string
        escaped)."""
        s = self.summary()
        return render(
            "study.html.j2",
            name=self.name,
            n_practices=s["n_practices"],
            n_located=s["n_located"],
            n_pcns=s["n_pcns"],
            in_no_pcn=_count(len(s["unassigned"]), "practice"),
            n_patients=s["n_patients"],
            n_areas=s["areas"],
            boundaries=", ".join(f"{k} ({v})" for k, v in s["boundaries"].items()),
            community=", ".join(s["community"]),
            band=s["rules"]["band"],
            unassigned=", ".join(s["unassigned"]),
            not_located=", ".join(s["not_located"]),
            no_list_size=", ".join(s["no_list_size"]),
            pcns=[
                (code, self.configuration.name_of(code), len(practices))
                for code, practices in self.configuration.members.items()
            ],
            notes=list(self.notes),
        )


# ---------------------------------------------------------------------------------------
# checks on a study, and loading one from a study file
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
    kinds = set(practices.geometry[present(practices.geometry)].geom_type)
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


def _rules(spec: StudySpec, boundaries, configuration, notes: list[str]) -> Rules:
    """The study file's rules, checked against its boundary layers and PCNs."""
    rules = Rules(**dict(spec.rules))
    if rules.study_boundary is not None and rules.study_boundary not in boundaries:
        raise InputError(
            f"{spec.path}: [rules] study_boundary = {rules.study_boundary!r} is not a "
            f"boundary layer; the study has {list_some(boundaries) or 'none'}"
        )
    unknown_exempt = sorted(set(rules.exempt) - set(configuration.pcn_codes))
    if unknown_exempt:
        notes.append(f"exempt PCN code(s) not in the configuration: {list_some(unknown_exempt)}")
    return rules


def _load(spec: StudySpec) -> Study:
    """Read every input of a parsed study file and build the study. The steps run in this
    order (their notes too) and live in :mod:`geo_pcn.io.study_practices` and
    :mod:`geo_pcn.io.study_areas`; the rules, the community layers and the study are made
    here."""
    notes: list[str] = []
    raw, practices = read_practice_table(spec, notes)
    # the areas' codes, names and figures; their polygons once the study's areas are known
    areas, layer = read_small_areas(spec, notes)
    if layer is not None and dissolves_areas(spec):
        areas, layer = with_polygons(layer, areas), None
    practices, assignment = read_assignment(spec, practices, notes)
    configuration = Configuration.from_frame(assignment)
    practices, registrations, outside = add_list_sizes(spec, practices, areas, notes)
    boundaries = read_boundary_layers(spec, areas, raw.attrs.get("extract_date"), notes)
    community = {
        name: CommunityLayer(name=name, kind=kind, data=data, source=path)
        for name, (kind, data, path) in read_community_layers(spec, notes, areas).items()
    }
    rules = _rules(spec, boundaries, configuration, notes)
    region = is_region_study(spec, registrations, outside, areas)
    n_layer = None if areas is None else len(areas)
    sliced = None
    if region and layer is not None:
        # a region study projects and checks the polygons of its areas in play only
        sliced = region_polygons(
            layer,
            areas,
            registrations,
            lambda core: place_sites(practices, registrations, core, rules.site_tolerance_m, notes),
            rules.adjacency_tolerance_m,
        )
    if sliced is not None:
        areas, practices = sliced
    else:
        if layer is not None:
            areas = with_polygons(layer, areas)
        practices = place_sites(practices, registrations, areas, rules.site_tolerance_m, notes)
    not_read = None
    read = outside
    if region:
        areas, outside, not_read = areas_in_play(
            practices,
            registrations,
            outside,
            areas,
            rules.adjacency_tolerance_m,
            spec,
            notes,
            n_layer=n_layer,
        )
    # the other practices' rows in code order: those kept from a region's areas numbered
    # afresh (as they were when the rows were sorted before being kept)
    outside = by_code(outside, PRACTICE_CODE, AREA_CODE)
    if outside is not None and read is not None and len(outside) != len(read):
        outside = outside.reset_index(drop=True)
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
