"""The study file's keys: which the parser accepts (the grammar, :func:`grammar_keys`)
and what each means (:data:`KEY_DOCS`). The reference page (``docs/study-file.md``) and
the JSON Schema (``geo_pcn/schema/study.schema.json``) are generated from :data:`KEY_DOCS`
by ``scripts/study_reference.py``; ``tests/test_study_reference.py`` fails when a key of
the grammar has no entry. The parser, :mod:`geo_pcn.studyfile`, reads these sets;
``KEY_DOCS``, ``KeyDoc`` and ``grammar_keys`` are importable from it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo_pcn.settings import CHECK_NAMES

__all__ = [
    "BOUNDARY_KEYS",
    "COMMUNITY_KEYS",
    "EXCEPTION_KEYS",
    "FILE_KEYS",
    "FOOTPRINT_METHODS",
    "KEY_DOCS",
    "SECTIONS",
    "TOP_KEYS",
    "KeyDoc",
    "grammar_keys",
]


#: Keys allowed in any "file entry" table.
FILE_KEYS = {"file", "columns", "where", "sheet", "layer", "crs"}

#: section -> allowed keys (beyond the file keys where the section is a file entry).
SECTIONS: dict[str, set[str]] = {
    "practices": FILE_KEYS | {"locations", "postcodes"},
    "registrations": set(FILE_KEYS),
    "list_sizes": set(FILE_KEYS),
    "configuration": FILE_KEYS | {"as_of"},
    "areas": FILE_KEYS | {"population", "lookup", "rural", "deprivation"},
    "rules": {
        "band",
        "exempt",
        "footprints",
        "adjacency_tolerance_m",
        "site_tolerance_m",
        "min_share",
        "study_boundary",
        "exceptions",
    },
}
TOP_KEYS = {"name", "description", "synthetic", "postcodes", "boundaries", "community"} | set(
    SECTIONS
)
EXCEPTION_KEYS = {"checks", "reason", "date"}

COMMUNITY_KEYS = FILE_KEYS | {"kind", "code", "name", "pcn", "postcodes", "polygons"}
#: Keys of a boundary layer entry: a polygon layer, or a small area -> area lookup whose
#: small-area polygons are the [areas] layer or ``polygons = "..."``.
BOUNDARY_KEYS = FILE_KEYS | {"polygons", "generalisation_m"}
FOOTPRINT_METHODS = ("auto", "registrations", "voronoi")


def grammar_keys() -> set[tuple[str, str]]:
    """Every (section, key) the parser accepts, in :class:`KeyDoc`'s naming."""
    keys = {("", k) for k in TOP_KEYS} | {("file entry", k) for k in FILE_KEYS}
    for section, allowed in SECTIONS.items():
        keys |= {(section, k) for k in allowed - FILE_KEYS}
    keys |= {("boundaries.NAME", k) for k in BOUNDARY_KEYS - FILE_KEYS}
    keys |= {("community.NAME", k) for k in COMMUNITY_KEYS - FILE_KEYS}
    keys |= {("rules.exceptions.PCN", k) for k in EXCEPTION_KEYS}
    return keys


@dataclass(frozen=True)
class KeyDoc:
    """One key of the study file, described for the reference page and the JSON Schema
    (``docs/study-file.md`` and ``geo_pcn/schema/study.schema.json`` are generated from
    :data:`KEY_DOCS`; ``tests/test_study_reference.py`` fails when a key of the grammar
    above has no entry here).

    ``section`` is ``""`` for a top-level key, ``"file entry"`` for the keys of every file
    entry table, ``"boundaries.NAME"``, ``"community.NAME"``, ``"rules.exceptions.PCN"``
    for the keys of those tables. ``kind`` is the value's type: ``file`` (a path, or a file
    entry table), ``path``, ``text``, ``bool``, ``number``, ``band``, ``codes``, ``table``,
    ``columns``, ``date``, ``checks``, ``choice``.
    """

    section: str
    key: str
    kind: str
    text: str
    default: str = ""
    allowed: tuple[str, ...] = ()
    required: bool = False


#: Every key of the study-file grammar, described (the order is the reference page's).
KEY_DOCS: tuple[KeyDoc, ...] = (
    KeyDoc("", "name", "text", "The study's name, shown in every report.", "the file's name"),
    KeyDoc("", "description", "text", "A sentence or two shown under the name.", '""'),
    KeyDoc(
        "",
        "synthetic",
        "bool",
        "true only for made-up data (the demo): every output says so.",
        "false",
    ),
    KeyDoc(
        "",
        "postcodes",
        "path",
        "Code-Point Open (folder, zip or CSV) or an ONS postcode directory: places practices "
        "and community sites by postcode when they have no coordinates.",
    ),
    KeyDoc(
        "",
        "practices",
        "file",
        "The practices: the NHS England practice -> PCN map, epraccur (with [configuration] "
        "for PCNs), the ePCN workbook, or any table with a practice code column.",
        required=True,
    ),
    KeyDoc(
        "",
        "registrations",
        "file",
        "Registered patients by practice and small area (NHS England "
        "gp-reg-pat-prac-lsoa-all.csv): the practices' territories. Without it, territories "
        "are Voronoi cells of the practice sites.",
    ),
    KeyDoc(
        "",
        "list_sizes",
        "file",
        "Practice list sizes: a table of practice code and list size (e.g. NHS England "
        "gp-reg-pat-prac-all.csv).",
    ),
    KeyDoc(
        "",
        "configuration",
        "file",
        "Practice -> PCN membership when the practice file has none (epraccur): the ePCN "
        "workbook or a table of practice_code, pcn_code.",
    ),
    KeyDoc("", "areas", "file", "Small-area polygons (LSOA 2011 or 2021; any CRS)."),
    KeyDoc(
        "",
        "boundaries",
        "table",
        "Boundary layers by name: sub_icb, icb, place (and any other). Each is a polygon "
        "layer, or a small area -> area lookup dissolved over the [areas] polygons.",
    ),
    KeyDoc(
        "",
        "community",
        "table",
        'Community layers by name, [community.NAME]: team footprints (kind = "areas") or '
        'sites (kind = "sites").',
    ),
    KeyDoc("", "rules", "table", "The planning rules the configuration is checked against."),
    KeyDoc("file entry", "file", "path", "The file, relative to the study file.", required=True),
    KeyDoc(
        "file entry",
        "columns",
        "columns",
        "Column names where the file's are not recognised: canonical name = the file's "
        'column, e.g. { practice_code = "Org Code" }. Sits beside file, not inside it.',
    ),
    KeyDoc(
        "file entry",
        "where",
        "table",
        "Keep the rows whose column equals the value (a list of values keeps any of them), "
        'e.g. { ICB_CODE = "QNC" }; headerless ODS files use the canonical names '
        "(icb_code, sub_icb_code).",
    ),
    KeyDoc("file entry", "sheet", "sheet", "The Excel sheet (name or number).", "the first"),
    KeyDoc("file entry", "layer", "sheet", "The GeoPackage layer (name or number).", "the first"),
    KeyDoc(
        "file entry",
        "crs",
        "text",
        'The coordinate reference system when the file does not say, e.g. "EPSG:27700".',
        "the file's own",
    ),
    KeyDoc(
        "practices",
        "locations",
        "file",
        "Practice coordinates (lat/long or easting/northing by practice code).",
    ),
    KeyDoc(
        "practices",
        "postcodes",
        "path",
        "Code-Point Open or a postcode directory placing the practices by postcode.",
    ),
    KeyDoc(
        "configuration",
        "as_of",
        "date",
        "For the ODS ePCN workbook: the membership in force on that day, from each "
        "practice-PCN relationship's start and end dates (e.g. as_of = 2022-07-01).",
        "every relationship with no end date",
    ),
    KeyDoc(
        "areas",
        "population",
        "file",
        "Resident population by small area (Census 2021 usual residents, ONS mid-year estimates).",
    ),
    KeyDoc(
        "areas",
        "lookup",
        "file",
        "ONS small-area lookup between census vintages (LSOA 2011 -> 2021), when the "
        "registrations and the polygons differ.",
    ),
    KeyDoc("areas", "rural", "file", "ONS rural-urban classification of the small areas."),
    KeyDoc("areas", "deprivation", "file", "Index of multiple deprivation by small area."),
    KeyDoc(
        "boundaries.NAME",
        "polygons",
        "path",
        "For a lookup: the small-area polygons it dissolves, instead of the [areas] layer.",
        "the [areas] polygons",
    ),
    KeyDoc(
        "boundaries.NAME",
        "generalisation_m",
        "number",
        "How far (metres) the layer's lines may lie from the true ones, e.g. 500 for ONS "
        "BUC: crossings closer than this are reported as uncertain.",
        "0",
    ),
    KeyDoc(
        "community.NAME",
        "kind",
        "choice",
        "What the layer holds.",
        "sites when pcn is given",
        ("areas", "sites"),
        required=True,
    ),
    KeyDoc("community.NAME", "code", "text", "The column of the team's or site's code."),
    KeyDoc("community.NAME", "name", "text", "The column of its name."),
    KeyDoc("community.NAME", "pcn", "text", "The column of the PCN a site is aligned to."),
    KeyDoc("community.NAME", "postcodes", "path", "Code-Point Open placing sites by postcode."),
    KeyDoc(
        "community.NAME",
        "polygons",
        "path",
        "For a lookup of small areas -> team: the small-area polygons it dissolves.",
        "the [areas] polygons",
    ),
    KeyDoc("rules", "band", "band", "Inclusive list-size band [low, high] (patients)."),
    KeyDoc("rules", "exempt", "codes", "PCNs with an agreed exception to the band."),
    KeyDoc(
        "rules",
        "footprints",
        "choice",
        "How PCN footprints are drawn.",
        allowed=("auto", "registrations", "voronoi"),
    ),
    KeyDoc(
        "rules",
        "adjacency_tolerance_m",
        "number",
        "Territories closer than this (metres) count as touching.",
    ),
    KeyDoc(
        "rules", "site_tolerance_m", "number", "Practices closer than this (metres) share a site."
    ),
    KeyDoc(
        "rules",
        "min_share",
        "number",
        "A PCN's catchment holds every small area where it has at least this share of the "
        "registered residents (0 < share <= 1).",
    ),
    KeyDoc(
        "rules",
        "study_boundary",
        "text",
        'A boundary layer (e.g. "icb") whose union is the study area; by default it is '
        "decided from the data.",
    ),
    KeyDoc(
        "rules",
        "exceptions",
        "table",
        "Agreed exceptions: PCN code = { checks, reason, date }, reported as INFO.",
    ),
    KeyDoc(
        "rules.exceptions.PCN",
        "checks",
        "checks",
        "The checks the PCN is excepted from.",
        allowed=CHECK_NAMES,
        required=True,
    ),
    KeyDoc("rules.exceptions.PCN", "reason", "text", "Who agreed it and why.", required=True),
    KeyDoc("rules.exceptions.PCN", "date", "date", "When it was agreed (YYYY-MM-DD)."),
)
