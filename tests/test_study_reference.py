"""The study-file reference (docs/study-file.md) and JSON Schema are generated from the
grammar and cannot drift from it (issue 25).

* every key the parser accepts (``TOP_KEYS``, ``SECTIONS``, ``FILE_KEYS``, the boundary,
  community and exception keys) is described in ``KEY_DOCS`` and has a row on the page;
* the committed page and schema are what ``scripts/study_reference.py`` writes now;
* the schema (checked with ``jsonschema``, installed in the venv) accepts every hand-written
  study in ``tests/real/``, the demo study and every worked example on the page, and
  refuses the mistakes a new user made (``file = { file, columns }`` nested, an unknown
  key, a band of three numbers, an unknown check name).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest

from geo_pcn.cli import init as init_module
from geo_pcn.cli.reference import (
    DOC_PATH,
    EXAMPLES,
    SCHEMA_PATH,
    json_schema,
    reference_markdown,
    schema_text,
)
from geo_pcn.studyfile import KEY_DOCS, grammar_keys

ROOT = Path(__file__).resolve().parents[1]
STUDIES = sorted((ROOT / "tests" / "real").glob("*.toml")) + [ROOT / "boundaries/demo/demo.toml"]


def _plain(value):
    """TOML dates as the ISO strings a TOML-aware editor validates."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _errors(doc: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(json_schema())
    return [e.message for e in validator.iter_errors(_plain(doc))]


def test_every_key_of_the_grammar_is_described_and_on_the_page():
    described = {(d.section, d.key) for d in KEY_DOCS}
    assert grammar_keys() == described
    page = DOC_PATH.read_text(encoding="utf-8")
    sections = re.split(r"^## ", page, flags=re.M)
    for doc in KEY_DOCS:
        assert any(f"| `{doc.key}`" in part for part in sections), doc.key


def test_page_and_schema_are_regenerated():
    assert DOC_PATH.read_text(encoding="utf-8") == reference_markdown(), (
        "run: python scripts/study_reference.py"
    )
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "run: python scripts/study_reference.py"
    )
    # the schema geo-pcn init names in its #:schema line is the one shipped in the package
    assert init_module.SCHEMA_PATH == SCHEMA_PATH
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.name)
def test_hand_written_studies_fit_the_schema(study):
    doc = tomllib.loads(study.read_text(encoding="utf-8"))
    assert _errors(doc) == []


@pytest.mark.parametrize("title", list(EXAMPLES))
def test_worked_examples_fit_the_schema(title):
    doc = {"practices": "p.csv", **tomllib.loads(EXAMPLES[title])}
    assert _errors(doc) == []
    assert f"```toml\n{EXAMPLES[title].rstrip()}\n```" in DOC_PATH.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[practices]\nfile = { file = "a.csv", columns = { pcn_code = "PCN" } }\n', "not valid"),
        ('[practices]\nfile = "a.csv"\ncolumn = { pcn_code = "PCN" }\n', "column"),
        ('[practices]\nfile = "a.csv"\n[rules]\nband = [1, 2, 3]\n', "too long"),
        (
            '[practices]\nfile = "a.csv"\n[rules.exceptions]\nU1 = { checks = ["sizes"], '
            'reason = "x" }\n',
            "sizes",
        ),
        ('name = "no practices"\n', "'practices' is a required property"),
    ],
)
def test_schema_refuses_the_usual_mistakes(text, complaint):
    errors = _errors(tomllib.loads(text))
    assert errors and any(complaint in e for e in errors), errors
