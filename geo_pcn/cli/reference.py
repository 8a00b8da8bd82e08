"""The study-file reference page and JSON Schema, generated from the grammar.

Both come from :data:`geo_pcn.studyfile_keys.KEY_DOCS` (every key the parser accepts, checked
by ``tests/test_study_reference.py``), the rule defaults of :class:`geo_pcn.study.Rules` and
the column aliases the readers recognise, so that neither can drift from the code:
``python scripts/study_reference.py`` rewrites ``docs/study-file.md`` and
``geo_pcn/schema/study.schema.json``; the test fails when either differs.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from geo_pcn import settings as s
from geo_pcn.io._formats import EPCN_COLUMNS, ODS_COLUMNS, PRACTICE_ALIASES
from geo_pcn.io.nhs import _REGISTRATION_ALIASES
from geo_pcn.io.ons import _POPULATION_ALIASES, LEVEL_STEMS
from geo_pcn.io.postcodes import (
    _EASTING_COLUMNS,
    _LATITUDE_COLUMNS,
    _LONGITUDE_COLUMNS,
    _NORTHING_COLUMNS,
    _POSTCODE_COLUMNS,
)
from geo_pcn.io.sites import _SITE_ALIASES
from geo_pcn.study import Rules
from geo_pcn.studyfile import KEY_DOCS, KeyDoc

__all__ = ["reference_markdown", "json_schema", "EXAMPLES", "write_reference"]

ROOT = Path(__file__).resolve().parents[2]
DOC_PATH = ROOT / "docs" / "study-file.md"
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema" / "study.schema.json"

#: Sections whose value is a file entry with extra keys of their own.
_FILE_SECTIONS = ("practices", "registrations", "list_sizes", "configuration", "areas")

#: Extra limits of numeric keys (JSON Schema keywords), beside ">= 0".
_LIMITS: dict[str, dict[str, Any]] = {
    "min_share": {"exclusiveMinimum": 0, "maximum": 1},
    "generalisation_m": {"minimum": 0, "exclusiveMaximum": 100000},
}

#: A worked example per input kind (each is a whole valid study file fragment).
EXAMPLES: dict[str, str] = {
    "NHS England practice map, one region": """[practices]
file = "gp-reg-pat-prac-map.csv"
where = { ICB_CODE = "QNC" }
locations = "practice_locations.csv"
""",
    "epraccur (no header) with PCNs from ePCN": """[practices]
file = "epraccur.csv"
where = { sub_icb_code = ["04Y", "05D"] }
postcodes = "codepo_gb.zip"

[configuration]
file = "ePCN.xlsx"
sheet = "PCN Core Partner Details"
""",
    "registrations by LSOA": """[registrations]
file = "gp-reg-pat-prac-lsoa-all.csv"
""",
    "registrations with columns of other names (Parquet)": """[registrations]
file = "gp-registrations.parquet"
columns = { practice_code = "OrganisationCode", area_code = "LSOA11CD", n_patients = "Patient" }
""",
    "list sizes": """[list_sizes]
file = "practice_demographics.csv"
""",
    "small areas, population, rural-urban, deprivation": """[areas]
file = "lsoa21.geojson"
population = "census21_lsoa21.csv"
rural = "ruc21_lsoa21.csv"
deprivation = "imd2019_lsoa11.csv"
""",
    "registrations in LSOA 2011 on LSOA 2021 polygons": """[areas]
file = "lsoa21.geojson"
population = "census21_lsoa21.csv"
lookup = "lsoa11_lsoa21_lookup.csv"
""",
    "boundary layers: polygons, a lookup, a GeoJSON with one NAME property": """[boundaries]
sub_icb = "sicbl24.geojson"
icb = { file = "lsoa21_sicbl24_icb24.csv", columns = { code = "icb24_code" } }
place = { file = "districts.geojson", columns = { code = "NAME" }, generalisation_m = 500 }
""",
    "community teams (areas) and pharmacies (sites)": """[community.teams]
file = "teams.geojson"
kind = "areas"
code = "team_code"

[community.pharmacies]
file = "edispensary.csv"
kind = "sites"
where = { icb_code = "QNC" }
postcodes = "codepo_gb.zip"
""",
    "rules and agreed exceptions": """[rules]
band = [30000, 50000]
exempt = ["U12345"]
study_boundary = "icb"

[rules.exceptions]
U67890 = { checks = ["contiguity"], reason = "island practice, agreed", date = 2024-03-01 }
""",
}


def _rule_defaults() -> dict[str, str]:
    out = {}
    for f in dataclasses.fields(Rules):
        value = getattr(Rules(), f.name)
        if f.name == "band":
            value = list(value)
        elif f.name in ("exempt", "exceptions"):
            value = "none"
        elif value is None:
            value = "decided from the data"
        out[f.name] = (
            json.dumps(value) if not isinstance(value, str) or f.name == "footprints" else value
        )
    return out


def _default(doc: KeyDoc) -> str:
    if doc.section == "rules":
        return _rule_defaults().get(doc.key, doc.default)
    return doc.default


def _value_schema(doc: KeyDoc) -> dict[str, Any]:
    kind = doc.kind
    if kind == "file":
        out: dict[str, Any] = {"$ref": "#/$defs/file"}
    elif kind == "path":
        out = {"type": "string", "minLength": 1}
    elif kind == "text":
        out = {"type": "string"}
    elif kind == "sheet":
        out = {"type": ["string", "integer"]}
    elif kind == "bool":
        out = {"type": "boolean"}
    elif kind == "number":
        out = {"type": "number", "minimum": 0, **_LIMITS.get(doc.key, {})}
    elif kind == "band":
        out = {
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
            "minItems": 2,
            "maxItems": 2,
        }
    elif kind == "codes":
        out = {"type": "array", "items": {"type": "string"}}
    elif kind == "columns":
        out = {"type": "object", "additionalProperties": {"type": "string"}}
    elif kind == "date":
        out = {"type": "string", "format": "date"}
    elif kind == "checks":
        out = {"type": "array", "items": {"enum": list(doc.allowed)}, "minItems": 1}
    elif kind == "choice":
        out = {"enum": list(doc.allowed)}
    elif kind == "table" and doc.key == "where":
        scalar = {"type": ["string", "number"]}
        out = {
            "type": "object",
            "additionalProperties": {"anyOf": [scalar, {"type": "array", "items": scalar}]},
        }
    else:
        out = {"type": "object"}
    text = doc.text
    default = _default(doc)
    if default:
        text += f" Default: {default}."
    return {"description": text, **out}


def _of(section: str) -> list[KeyDoc]:
    return [d for d in KEY_DOCS if d.section == section]


def _entry(section: str, *, string_ok: bool = True) -> dict[str, Any]:
    """A file entry table with the keys of ``section`` beside the file entry keys."""
    docs = _of("file entry") + (_of(section) if section != "file entry" else [])
    table = {
        "type": "object",
        "properties": {d.key: _value_schema(d) for d in docs},
        "required": sorted(d.key for d in docs if d.required),
        "additionalProperties": False,
    }
    return {"anyOf": [{"type": "string", "minLength": 1}, table]} if string_ok else table


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a study file, from :data:`KEY_DOCS`."""
    top: dict[str, Any] = {}
    for doc in _of(""):
        if doc.key in _FILE_SECTIONS:
            schema = _entry(doc.key)
        elif doc.key == "boundaries":
            schema = {"type": "object", "additionalProperties": _entry("boundaries.NAME")}
        elif doc.key == "community":
            schema = {
                "type": "object",
                "additionalProperties": _entry("community.NAME", string_ok=False),
            }
        elif doc.key == "rules":
            props = {d.key: _value_schema(d) for d in _of("rules")}
            exception = {
                "type": "object",
                "properties": {d.key: _value_schema(d) for d in _of("rules.exceptions.PCN")},
                "required": sorted(d.key for d in _of("rules.exceptions.PCN") if d.required),
                "additionalProperties": False,
            }
            props["exceptions"] = {**props["exceptions"], "additionalProperties": exception}
            schema = {"type": "object", "properties": props, "additionalProperties": False}
        else:
            schema = {}
        described = _value_schema(doc)
        top[doc.key] = {"description": described["description"], **schema} if schema else described
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://geo-pcn.invalid/study.schema.json",
        "title": "geo_pcn study file",
        "description": "A study for geo-pcn validate (TOML). Generated from geo_pcn.studyfile; "
        "see docs/study-file.md.",
        "type": "object",
        "properties": top,
        "required": sorted(d.key for d in _of("") if d.required),
        "additionalProperties": False,
        "$defs": {
            "file": {
                "description": "A path relative to the study file, or a table "
                '{ file = "...", columns = {...}, where = {...}, sheet, layer, crs }.',
                **_entry("file entry"),
            }
        },
    }


def _aliases(table: dict[str, list[str]]) -> list[str]:
    return [
        f"| `{key}` | {', '.join(f'`{a}`' for a in names)} |"
        for key, names in table.items()
        if not key.startswith("_")
    ]


def _layouts() -> list[str]:
    out = ["## Recognised column names", ""]
    out += [
        "Files are recognised by their columns and values, never by their names. A column "
        "is found when its name matches one of these (case, spaces, dots and underscores "
        "ignored; the first match wins); otherwise name it with `columns = { canonical = "
        '"your column" }` beside `file`.',
        "",
    ]
    practice_keys = [
        s.PRACTICE_CODE, s.PRACTICE_NAME, s.POSTCODE, s.PCN_CODE, s.PCN_NAME, s.SUB_ICB_CODE,
        s.ONS_SUB_ICB_CODE, s.SUB_ICB_NAME, s.ICB_CODE, s.ONS_ICB_CODE, s.ICB_NAME,
        s.LIST_SIZE, "status", s.EASTING, s.NORTHING, s.LATITUDE, s.LONGITUDE,
    ]  # fmt: skip
    sections = [
        (
            "Practices, practice maps, locations, list sizes ([practices], [practices] "
            "locations, [list_sizes], [configuration])",
            {k: PRACTICE_ALIASES[k] for k in practice_keys},
        ),
        (
            "ODS files without a header: epraccur (GP practices) and edispensary "
            "(pharmacies); the column number, 0 first. `where` uses these canonical names",
            {k: [f"column {v[0]}" for v in (n,)] for k, n in ODS_COLUMNS.items()},
        ),
        ("ODS ePCN workbook, sheet 'PCN Core Partner Details' ([configuration])", EPCN_COLUMNS),
        ("Registrations by small area ([registrations])", _REGISTRATION_ALIASES),
        ("Population by small area ([areas] population)", _POPULATION_ALIASES),
        ('Community sites ([community.NAME], kind = "sites")', _SITE_ALIASES),
        (
            "Postcode directories ([practices] postcodes, postcodes); Code-Point Open has no "
            "header and is read by position (postcode, -, easting, northing, ..., district)",
            {
                "postcode": _POSTCODE_COLUMNS,
                "easting": _EASTING_COLUMNS,
                "northing": _NORTHING_COLUMNS,
                "latitude": _LATITUDE_COLUMNS,
                "longitude": _LONGITUDE_COLUMNS,
            },
        ),
    ]
    for title, table in sections:
        out += [f"### {title}", "", "| canonical | recognised names |", "|---|---|"]
        out += _aliases(table) + [""]
    out += [
        "### Boundary layers and lookups ([areas], [boundaries], community areas)",
        "",
        "ONS-style columns `<stem><yy>cd` / `<stem><yy>_code` (code), `nm` / `_name` (name), "
        "`cdh` / `_code_nhs` / `_code_h` (NHS code), e.g. `LSOA21CD`, `sicbl24_code_nhs`. "
        "The stem says the level:",
        "",
        "| level | stems |",
        "|---|---|",
    ]
    out += [f"| `{k}` | {', '.join(f'`{v}`' for v in stems)} |" for k, stems in LEVEL_STEMS.items()]
    out += [
        "",
        "Rural-urban classes: a `ruc` column of Rural/Urban, or `ruc11_code` / `ruc21_code`. "
        "Deprivation: a column of small-area codes and an IMD score column (`IMD`, "
        "`IMD score`, `Index of Multiple Deprivation (IMD) Score`).",
        "",
    ]
    return out


def reference_markdown() -> str:
    """``docs/study-file.md``: every section and key, its type, default, allowed values;
    the recognised column names of each layout; a worked example per input kind."""
    out = [
        "# The study file: every key",
        "",
        "<!-- Generated by scripts/study_reference.py from geo_pcn/studyfile_keys.py (KEY_DOCS); "
        "do not edit by hand. -->",
        "",
        "A study file is TOML. `geo-pcn init FOLDER` writes one from a folder of downloads; "
        "this page describes every key it may hold. Paths are relative to the study file. "
        "Any *file* value is a path in quotes, or a table whose `file` key is the path with "
        "the file entry keys beside it (`columns`, `where`, ...), never inside it. A JSON "
        "Schema of the same grammar ships in the package (`geo_pcn/schema/study.schema.json`"
        "); editors with TOML schema support (Taplo, Even Better TOML) use it through the "
        "`#:schema` line `geo-pcn init` writes.",
        "",
    ]
    titles = {
        "": "Top level",
        "file entry": "Every file entry (a table with `file`)",
        "practices": "[practices]",
        "configuration": "[configuration]",
        "areas": "[areas]",
        "boundaries.NAME": "[boundaries] NAME = file entry (sub_icb, icb, place, any other)",
        "community.NAME": "[community.NAME]",
        "rules": "[rules]",
        "rules.exceptions.PCN": "[rules.exceptions] PCN = { ... }",
    }
    for section in dict.fromkeys(d.section for d in KEY_DOCS):
        titles.setdefault(section, f"[{section}]")  # a section added to the grammar later
    for section, title in titles.items():
        out += [
            f"## {title}",
            "",
            "| key | type | default | allowed | meaning |",
            "|---|---|---|---|---|",
        ]
        for doc in _of(section):
            allowed = ", ".join(f"`{a}`" for a in doc.allowed)
            need = " **required**" if doc.required else ""
            text = doc.text.replace("|", "\\|")
            out.append(f"| `{doc.key}`{need} | {doc.kind} | {_default(doc)} | {allowed} | {text} |")
        out.append("")
    out += _layouts()
    out += ["## Worked examples", ""]
    for title, toml in EXAMPLES.items():
        out += [f"### {title}", "", "```toml", toml.rstrip("\n"), "```", ""]
    return "\n".join(out)


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=True) + "\n"


def write_reference() -> list[Path]:
    """Rewrite the reference page and the schema; return the paths written."""
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(reference_markdown(), encoding="utf-8", newline="\n")
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8", newline="\n")
    return [DOC_PATH, SCHEMA_PATH]
