"""Parse and check a study file (TOML) into plain, resolved settings.

Kept apart from :mod:`geo_pcn.study` so that the study file's grammar lives in one place:
which keys exist (their sets and descriptions in :mod:`geo_pcn.studyfile_keys`), which are
required, how paths resolve. Every problem in the file, in
every section, is collected and reported at once, as one line: the study file, then one
clause per problem (naming the section, the key and the allowed keys) joined with ``; ``.

It also holds :class:`AgreedException`, the value of ``[rules.exceptions]`` (kept in
:attr:`geo_pcn.study.Rules.exceptions`; applied by :mod:`geo_pcn.checks.exceptions`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo_pcn.errors import StudyFileError
from geo_pcn.io._limits import not_a_regular_file, read_toml
from geo_pcn.io.tables import Source
from geo_pcn.settings import CHECK_NAMES
from geo_pcn.studyfile_keys import (
    BOUNDARY_KEYS,
    COMMUNITY_KEYS,
    EXCEPTION_KEYS,
    FILE_KEYS,
    FOOTPRINT_METHODS,
    KEY_DOCS,
    SECTIONS,
    TOP_KEYS,
    KeyDoc,
    grammar_keys,
)

__all__ = [
    "StudySpec",
    "AgreedException",
    "parse_study_file",
    "merge_exempt",
    "KeyDoc",
    "KEY_DOCS",
    "grammar_keys",
]

#: The reason given to the exception that ``[rules] exempt = [...]`` stands for.
EXEMPT_REASON = "listed in exempt"


@dataclass(frozen=True)
class AgreedException:
    """A locally agreed exception to one or more checks for one PCN.

    ``[rules] exempt = ["U12345"]`` is the exception ``AgreedException("U12345",
    ("size",), "listed in exempt")``. Findings of an excepted PCN and check are reported
    as INFO, quoting the reason and date (:func:`geo_pcn.checks.exceptions.apply_exceptions`).

    Parameters
    ----------
    pcn_code
        The PCN.
    checks
        Names of the checks it is excepted from (``size``, ``contiguity``, ...).
    reason
        Who agreed it and why, quoted in the findings.
    date
        When it was agreed (optional).

    Examples
    --------
    >>> e = AgreedException("U12345", ("size",), "rural, agreed by the ICB", dt.date(2024, 3, 1))
    >>> e.covers("U12345", "size"), e.covers("U12345", "contiguity")
    (True, False)
    """

    pcn_code: str
    checks: tuple[str, ...]
    reason: str
    date: dt.date | None = None

    def covers(self, pcn_code: str, check: str) -> bool:
        """Whether this exception is for ``pcn_code`` and ``check``."""
        return pcn_code == self.pcn_code and check in self.checks

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the date as ``YYYY-MM-DD`` or ``None``)."""
        return {
            "pcn_code": self.pcn_code,
            "checks": list(self.checks),
            "reason": self.reason,
            "date": None if self.date is None else self.date.isoformat(),
        }


def merge_exempt(
    exempt: Iterable[str], exceptions: Iterable[AgreedException]
) -> tuple[tuple[str, ...], tuple[AgreedException, ...]]:
    """Make ``exempt`` and ``exceptions`` agree (used by :class:`geo_pcn.study.Rules`).

    Every exempt PCN without an exception to ``size`` gets one (reason "listed in
    exempt"); every PCN with an exception to ``size`` is exempt from the band.

    Examples
    --------
    >>> exempt, exceptions = merge_exempt(["U1"], [AgreedException("U2", ("size",), "rural")])
    >>> exempt, [e.pcn_code for e in exceptions]
    (('U1', 'U2'), ['U2', 'U1'])
    """
    exempt = tuple(dict.fromkeys(str(code) for code in exempt))
    exceptions = tuple(exceptions)
    sized = [e.pcn_code for e in exceptions if "size" in e.checks]
    added = tuple(
        AgreedException(code, ("size",), EXEMPT_REASON) for code in exempt if code not in sized
    )
    more = tuple(code for code in dict.fromkeys(sized) if code not in exempt)
    return exempt + more, exceptions + added


@dataclass(frozen=True)
class StudySpec:
    """A study file, parsed: every path resolved, every value checked."""

    path: Path
    name: str
    description: str
    practices: Source
    locations: Source | None
    postcodes: Path | None
    registrations: Source | None
    list_sizes: Source | None
    configuration: Source | None
    areas: Source | None
    population: Source | None
    boundaries: dict[str, Source]
    community: dict[str, Source]
    rules: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    #: ``[areas] lookup``: small areas of another vintage -> the areas layer's (ONS lookup)
    area_lookup: Source | None = None
    #: ``[areas] rural`` / ``deprivation``: ONS rural-urban classes, IMD scores by small area
    rural: Source | None = None
    deprivation: Source | None = None
    #: the key ``postcodes`` came from, for messages: ``"[practices] postcodes"`` or the
    #: top-level ``"postcodes"`` (which community sites use too); ``""`` when not given
    postcodes_key: str = ""

    def inputs(self) -> list[tuple[str, Path, bool]]:
        """Every file the study reads: ``(key in the study file, path, folder allowed)``,
        the study file first (a folder is allowed where a folder is read: Code-Point
        Open, a shapefile folder)."""
        entries: list[tuple[str, Any, bool]] = [
            ("the study file", self.path, False),
            ("[practices]", self.practices, False),
            ("[practices] locations", self.locations, False),
            ("postcodes", self.postcodes, True),
            ("[registrations]", self.registrations, False),
            ("[list_sizes]", self.list_sizes, False),
            ("[configuration]", self.configuration, False),
            ("[areas]", self.areas, True),
            ("[areas] population", self.population, False),
            ("[areas] lookup", self.area_lookup, False),
            ("[areas] rural", self.rural, False),
            ("[areas] deprivation", self.deprivation, False),
            *((f"[boundaries] {k}", v, True) for k, v in self.boundaries.items()),
            *((f"[community.{k}]", v, True) for k, v in self.community.items()),
        ]
        out: list[tuple[str, Path, bool]] = []
        for where, entry, folder_ok in entries:
            if entry is None:
                continue
            if isinstance(entry, Path):
                out.append((where, entry, folder_ok))
                continue
            out.append((where, entry.path, folder_ok))
            for key in ("polygons", "postcodes"):
                if key in entry.options:
                    out.append((f"{where} {key}", Path(str(entry.options[key])), True))
        return out


class _Collector:
    """Collects problems in the study file, then raises them as one error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(message)

    def raise_if_any(self) -> None:
        if self.problems:
            raise StudyFileError(f"{self.path}: " + "; ".join(self.problems))


def _crs_entries(spec: StudySpec) -> list[tuple[str, Source]]:
    """The file entries of ``spec`` that set ``crs = "..."``."""
    return [
        (where, entry)
        for where, entry in (
            ("[practices] locations", spec.locations),
            ("[areas]", spec.areas),
            *((f"[boundaries] {k}", v) for k, v in spec.boundaries.items()),
            *((f"[community.{k}]", v) for k, v in spec.community.items()),
        )
        if entry is not None and "crs" in entry.options
    ]


def _join(base: Path, relative: str) -> Path:
    """``relative`` resolved against the study file's folder, ``..`` collapsed."""
    return Path(os.path.normpath(base / relative))


def _unknown(where: str, table: Mapping[str, Any], allowed: set[str], out: _Collector) -> None:
    for key in table:
        if key not in allowed:
            out.add(f"unknown key {key!r} in {where}; allowed: {', '.join(sorted(allowed))}")


def _source(
    value: Any, where: str, base: Path, out: _Collector, *, allowed: set[str] = FILE_KEYS
) -> Source | None:
    """A file entry: a path string, or a table with ``file`` and options."""
    if isinstance(value, str):
        return Source(_join(base, value))
    if not isinstance(value, Mapping):
        out.add(f'{where} must be a file path or a table {{ file = "..." }}')
        return None
    _unknown(where, value, allowed, out)
    if "file" not in value:
        out.add(f'{where} needs file = "<path>"')
        return None
    if not isinstance(value["file"], str) or not value["file"].strip():
        out.add(
            f'{where} file must be a path in quotes, e.g. file = "data.csv"; got {value["file"]!r}'
        )
        return None
    columns = value.get("columns", {})
    where_filter = value.get("where", {})
    if not isinstance(columns, Mapping) or not all(isinstance(v, str) for v in columns.values()):
        out.add(
            f"{where}.columns must be a table of column names, "
            'e.g. { practice_code = "Org Code" }'
        )
        columns = {}
    if not isinstance(where_filter, Mapping):
        out.add(f'{where}.where must be a table, e.g. {{ ICB_CODE = "QNC" }}')
        where_filter = {}
    options = {k: v for k, v in value.items() if k not in {"file", "columns", "where"}}
    return Source(_join(base, value["file"]), dict(columns), dict(where_filter), options)


def _with_polygons(src: Source, value: Any, where: str, base: Path, out: _Collector) -> Source:
    """``polygons = "..."``: the small-area polygons a lookup entry dissolves (instead of
    the [areas] layer), resolved against the study file's folder into ``options``."""
    if not isinstance(value, Mapping) or "polygons" not in value:
        return src
    polygons = value["polygons"]
    if not isinstance(polygons, str) or not polygons.strip():
        out.add(
            f"{where} polygons must be a path to small-area polygons in quotes, e.g. polygons = "
            f'"lsoa11.geojson"; got {polygons!r}'
        )
        return src
    options = {**src.options, "polygons": str(_join(base, polygons))}
    return Source(src.path, dict(src.columns), dict(src.where), options)


def _check_generalisation(value: Any, where: str, out: _Collector) -> None:
    """``generalisation_m``: how far the layer's lines may be from the true ones (metres)."""
    if not isinstance(value, Mapping) or "generalisation_m" not in value:
        return
    given = value["generalisation_m"]
    if isinstance(given, bool) or not isinstance(given, int | float) or not 0 <= given < 1e5:
        out.add(
            f"{where} generalisation_m must be a distance in metres from 0 to 100000 (how far "
            f"the layer's lines may lie from the true ones, e.g. 500 for ONS BUC), got {given!r}"
        )


def _section_source(doc: Mapping[str, Any], key: str, base: Path, out: _Collector) -> Source | None:
    if key not in doc:
        return None
    value = doc[key]
    if isinstance(value, Mapping):
        _unknown(f"[{key}]", value, SECTIONS[key], out)
        return _source({k: v for k, v in value.items() if k in FILE_KEYS}, f"[{key}]", base, out)
    return _source(value, f"[{key}]", base, out)


def _as_of(value: Any, out: _Collector) -> str | None:
    """``[configuration] as_of`` as an ISO date (a TOML date or ``"YYYY-MM-DD"`` text)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    out.add(
        f"[configuration] as_of must be a date, e.g. as_of = 2022-07-01 (the ePCN "
        f"relationships in force that day); got {value!r}"
    )
    return None


def _rules(value: Any, out: _Collector) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        out.add("[rules] must be a table")
        return {}
    _unknown("[rules]", value, SECTIONS["rules"], out)
    rules: dict[str, Any] = {}
    if "band" in value:
        band = value["band"]
        ok = (
            isinstance(band, list)
            and len(band) == 2
            and all(_whole_number(b) for b in band)
            and 0 <= band[0] <= band[1]
        )
        if ok:
            rules["band"] = (int(band[0]), int(band[1]))
        else:
            out.add(
                "[rules] band must be two whole numbers of patients [low, high] with "
                f"0 <= low <= high, e.g. [30000, 50000]; got {band!r}"
            )
    if "exempt" in value:
        exempt = value["exempt"]
        if isinstance(exempt, list) and all(isinstance(e, str) for e in exempt):
            rules["exempt"] = tuple(e.strip().upper() for e in exempt)
        else:
            out.add('[rules] exempt must be a list of PCN codes, e.g. ["U12345"]')
    if "footprints" in value:
        if value["footprints"] in FOOTPRINT_METHODS:
            rules["footprints"] = value["footprints"]
        else:
            out.add(
                f"[rules] footprints must be one of {', '.join(FOOTPRINT_METHODS)}, "
                f"got {value['footprints']!r}"
            )
    for key in ("adjacency_tolerance_m", "site_tolerance_m"):
        if key in value:
            number = value[key]
            if (
                isinstance(number, int | float)
                and not isinstance(number, bool)
                and math.isfinite(number)
                and number >= 0
            ):
                rules[key] = float(number)
            else:
                out.add(f"[rules] {key} must be a finite number of metres >= 0, got {number!r}")
    if "min_share" in value:
        share = value["min_share"]
        if isinstance(share, int | float) and not isinstance(share, bool) and 0 < share <= 1:
            rules["min_share"] = float(share)
        else:
            out.add(f"[rules] min_share must be a share between 0 and 1 (e.g. 0.05), got {share!r}")
    if "study_boundary" in value:
        if isinstance(value["study_boundary"], str):
            rules["study_boundary"] = value["study_boundary"]
        else:
            out.add('[rules] study_boundary must name a boundary layer, e.g. "icb"')
    if "exceptions" in value:
        rules["exceptions"] = _exceptions(value["exceptions"], out)
    return rules


def _whole_number(value: Any) -> bool:
    """A finite whole number (``30000`` or ``3.0e4``; not ``2.5``, ``inf``, ``nan``, ``true``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or (math.isfinite(value) and value.is_integer())


def _exceptions(value: Any, out: _Collector) -> tuple[AgreedException, ...]:
    """``[rules.exceptions]``: ``PCN = { checks = [...], reason = "...", date = ... }``."""
    where = "[rules.exceptions]"
    example = 'U12345 = { checks = ["size"], reason = "agreed by the ICB", date = "2024-03-01" }'
    if not isinstance(value, Mapping):
        out.add(f"{where} must be a table of PCN code = {{ checks, reason, date }}, e.g. {example}")
        return ()
    known = ", ".join(CHECK_NAMES)
    found: list[AgreedException] = []
    seen: set[str] = set()
    for key, entry in value.items():
        code = str(key).strip().upper()
        if code in seen:
            out.add(f"{where} {code} is listed twice; give one entry with every check in it")
            continue
        seen.add(code)
        if not isinstance(entry, Mapping):
            out.add(f"{where} {key} must be a table, e.g. {example}")
            continue
        _unknown(f"{where} {key}", entry, EXCEPTION_KEYS, out)
        checks = entry.get("checks")
        if (
            not isinstance(checks, list)
            or not checks
            or not all(isinstance(c, str) and c.strip() for c in checks)
        ):
            out.add(
                f'{where} {key} checks must be a list of check names, e.g. ["size"]; known: {known}'
            )
            checks = None
        else:
            checks = [c.strip() for c in checks]
            for name in checks:
                if name not in CHECK_NAMES:
                    out.add(f"{where} {key}: unknown check {name!r}; known: {known}")
                    checks = None
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            out.add(f'{where} {key} needs reason = "..." (who agreed it and why)')
            reason = None
        date = _date(entry["date"]) if "date" in entry else None
        if "date" in entry and date is None:
            out.add(
                f"{where} {key} date must be a date, e.g. date = 2024-03-01 or "
                f'"2024-03-01"; got {entry["date"]!r}'
            )
        elif checks is not None and reason is not None:
            found.append(AgreedException(code, tuple(dict.fromkeys(checks)), reason.strip(), date))
    return tuple(found)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def parse_study_file(path: Path | str) -> StudySpec:
    """Read a study file and check its keys and values.

    Parameters
    ----------
    path
        The TOML study file. Relative paths inside it resolve against its folder.

    Returns
    -------
    StudySpec

    Raises
    ------
    StudyFileError
        The file is missing, not valid TOML, or has unknown keys or bad values (every
        problem is listed in the one message).
    """
    path = Path(path)
    doc = read_toml(path, StudyFileError, "study file")

    base = path.resolve().parent
    out = _Collector(path)
    _unknown("the study file", doc, TOP_KEYS, out)
    practices, locations, postcodes, postcodes_key = _practices_section(doc, base, out)
    areas, population, area_lookup, rural, deprivation = _areas_section(doc, base, out)
    boundaries = _boundaries_section(doc, base, out)
    community = _community_section(doc, base, out)
    rules = _rules(doc.get("rules", {}), out)
    name, description, synthetic = _titles(doc, path, out)
    # every section is parsed before raising, so that every problem is reported together
    registrations = _section_source(doc, "registrations", base, out)
    list_sizes = _section_source(doc, "list_sizes", base, out)
    configuration = _configuration_section(doc, base, out)
    out.raise_if_any()
    spec = StudySpec(
        path=path,
        name=name,
        description=str(description),
        synthetic=synthetic,
        practices=practices,
        locations=locations,
        postcodes=postcodes,
        postcodes_key=postcodes_key,
        registrations=registrations,
        list_sizes=list_sizes,
        configuration=configuration,
        areas=areas,
        population=population,
        area_lookup=area_lookup,
        rural=rural,
        deprivation=deprivation,
        boundaries=boundaries,
        community=community,
        rules=rules,
    )
    _check_files(spec, out)
    out.raise_if_any()
    return spec


def _practices_section(
    doc: Mapping[str, Any], base: Path, out: _Collector
) -> tuple[Source | None, Source | None, Path | None, str]:
    """``[practices]`` (required), its ``locations`` and the postcode lookup (top-level
    ``postcodes``, or the section's, which wins) with the key it came from."""
    practices = None
    locations = None
    postcodes: Path | None = None
    postcodes_key = ""
    top_postcodes = doc.get("postcodes")
    if top_postcodes is not None:
        if isinstance(top_postcodes, str):
            postcodes = _join(base, top_postcodes)
            postcodes_key = "postcodes"
        else:
            out.add("postcodes must be a path to Code-Point Open or a postcode directory")
    if "practices" not in doc:
        out.add('[practices] is required: file = "<practice file>"')
    else:
        section = doc["practices"]
        practices = _section_source(doc, "practices", base, out)
        if isinstance(section, Mapping):
            if "locations" in section:
                locations = _source(section["locations"], "[practices] locations", base, out)
            if "postcodes" in section:
                if isinstance(section["postcodes"], str):
                    postcodes = _join(base, section["postcodes"])
                    postcodes_key = "[practices] postcodes"
                else:
                    out.add("[practices] postcodes must be a path")
    return practices, locations, postcodes, postcodes_key


def _areas_section(
    doc: Mapping[str, Any], base: Path, out: _Collector
) -> tuple[Source | None, Source | None, Source | None, Source | None, Source | None]:
    """``[areas]``, its ``population``, ``lookup``, ``rural`` and ``deprivation``."""
    areas = _section_source(doc, "areas", base, out)
    population = None
    if isinstance(doc.get("areas"), Mapping) and "population" in doc["areas"]:
        population = _source(doc["areas"]["population"], "[areas] population", base, out)
    area_lookup = rural = deprivation = None
    if isinstance(doc.get("areas"), Mapping):
        section = doc["areas"]
        if "lookup" in section:
            area_lookup = _source(section["lookup"], "[areas] lookup", base, out)
        if "rural" in section:
            rural = _source(section["rural"], "[areas] rural", base, out)
        if "deprivation" in section:
            deprivation = _source(section["deprivation"], "[areas] deprivation", base, out)
    return areas, population, area_lookup, rural, deprivation


def _boundaries_section(doc: Mapping[str, Any], base: Path, out: _Collector) -> dict[str, Source]:
    """``[boundaries]``: name -> a polygon layer, or a small area -> area lookup."""
    boundaries: dict[str, Source] = {}
    raw_boundaries = doc.get("boundaries", {})
    if not isinstance(raw_boundaries, Mapping):
        out.add('[boundaries] must be a table of name = "file"')
        raw_boundaries = {}
    for name, value in raw_boundaries.items():
        src = _source(value, f"[boundaries] {name}", base, out, allowed=BOUNDARY_KEYS)
        if src is not None:
            boundaries[name] = _with_polygons(src, value, f"[boundaries] {name}", base, out)
            _check_generalisation(value, f"[boundaries] {name}", out)
    return boundaries


def _community_section(doc: Mapping[str, Any], base: Path, out: _Collector) -> dict[str, Source]:
    """``[community.NAME]`` sections: name -> the layer, its kind and columns in options."""
    community: dict[str, Source] = {}
    raw_community = doc.get("community", {})
    if not isinstance(raw_community, Mapping):
        out.add("[community.NAME] sections must be tables")
        raw_community = {}
    for name, value in raw_community.items():
        if not isinstance(value, Mapping):
            out.add(f'[community.{name}] must be a table with file = "..." and kind')
            continue
        src = _community_entry(name, value, base, out)
        if src is not None:
            community[name] = src
    return community


def _community_entry(
    name: str, value: Mapping[str, Any], base: Path, out: _Collector
) -> Source | None:
    """One ``[community.NAME]`` table: its file entry with ``kind`` (and ``postcodes``) in
    the options and its ``code``/``name``/``pcn`` columns; ``None`` when it has no file."""
    src = _source(value, f"[community.{name}]", base, out, allowed=COMMUNITY_KEYS)
    kind = value.get("kind", "sites" if "pcn" in value else None)
    if kind not in ("areas", "sites"):
        out.add(
            f'[community.{name}] needs kind = "areas" (team footprints, polygons) or '
            f'kind = "sites" (points or postcodes), got {kind!r}'
        )
    if src is not None:
        options = dict(src.options)
        options["kind"] = kind
        columns = dict(src.columns)
        for key, canonical in (("code", "code"), ("name", "name"), ("pcn", "pcn_code")):
            if key in value:
                columns[canonical] = value[key]
        if "postcodes" in value:
            options["postcodes"] = str(_join(base, value["postcodes"]))
        return _with_polygons(
            Source(src.path, columns, src.where, options),
            value,
            f"[community.{name}]",
            base,
            out,
        )
    return None


def _titles(doc: Mapping[str, Any], path: Path, out: _Collector) -> tuple[str, str, bool]:
    """The study's ``name`` (the file's name by default), ``description`` and ``synthetic``."""
    name = doc.get("name", path.stem)
    if not isinstance(name, str):
        out.add("name must be text")
        name = path.stem
    description = doc.get("description", "")
    synthetic = doc.get("synthetic", False)
    if not isinstance(synthetic, bool):
        out.add(f"synthetic must be true or false (true only for made-up data); got {synthetic!r}")
        synthetic = False
    return name, str(description), synthetic


def _configuration_section(doc: Mapping[str, Any], base: Path, out: _Collector) -> Source | None:
    """``[configuration]``, with ``as_of`` (an ePCN workbook's date) in its options."""
    configuration = _section_source(doc, "configuration", base, out)
    if configuration is not None and isinstance(doc.get("configuration"), Mapping):
        as_of = _as_of(doc["configuration"].get("as_of"), out)
        if as_of is not None:
            options = {**configuration.options, "as_of": as_of}
            configuration = Source(
                configuration.path, configuration.columns, configuration.where, options
            )
    return configuration


def _check_files(spec: StudySpec, out: _Collector) -> None:
    """Every ``crs`` a coordinate reference system, and every input a file on disk (or a
    folder where one is read)."""
    for where, entry in _crs_entries(spec):
        crs = entry.options["crs"]
        try:
            from pyproj import CRS

            CRS.from_user_input(crs)
        except Exception:  # pyproj.exceptions.CRSError, TypeError for a number...
            out.add(
                f"{where} crs = {crs!r} is not a coordinate reference system; use e.g. "
                'crs = "EPSG:27700" (British National Grid) or "EPSG:4326" (latitude/longitude)'
            )
    for label, file, folder_ok in spec.inputs():
        why = not_a_regular_file(file, folder_ok=folder_ok)
        if why is not None:
            out.add(f"{label} {file} {why}; give a file saved on disk")
