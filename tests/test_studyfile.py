"""The study file's grammar (geo_pcn.studyfile): every section checked, every problem
reported at once (issue 10 items 8, 9, 21; issue 9 item 9 for ``[rules.exceptions]``)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from click.testing import CliRunner
from tiny import write_tiny_study

from geo_pcn.cli import cli
from geo_pcn.errors import StudyFileError
from geo_pcn.study import Rules, Study
from geo_pcn.studyfile import parse_study_file

PROPOSED = "practice_code,pcn_code\nA00001,N1\nA00002,N1\nA00003,N2\nA00004,N2\nA00005,N2\n"


def _study(tmp_path, extra: str = "", *, replace: tuple[str, str] | None = None, **files):
    path = write_tiny_study(tmp_path, **files)
    text = path.read_text()
    if replace:
        text = text.replace(*replace)
    path.write_text(text + extra)
    return path


def _one_line_cli_error(path, *patterns):
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.output.strip()
    assert "\n" not in message, message
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    return message


# -- item 8: every section's problems are collected ---------------------------------------


def test_misspelt_key_in_configuration_is_refused(tmp_path):
    """``fle = ...`` used to validate the recorded configuration instead of the proposal."""
    path = _study(tmp_path, '[configuration]\nfle = "proposed.csv"\n', proposed_csv=PROPOSED)
    with pytest.raises(StudyFileError) as info:
        parse_study_file(path)
    message = str(info.value)
    assert str(path) in message
    assert "'fle' in [configuration]" in message
    assert "allowed: as_of, columns, crs, file, layer, sheet, where" in message
    _one_line_cli_error(path, r"study\.toml", r"\[configuration\]", "fle", "allowed")


def test_registrations_file_that_is_not_a_path_is_refused(tmp_path):
    """``file = 5`` used to switch silently to Voronoi territories."""
    path = _study(tmp_path, replace=('file = "registrations.csv"', "file = 5"))
    with pytest.raises(StudyFileError, match=r"\[registrations\] file must be a path"):
        parse_study_file(path)
    _one_line_cli_error(path, r"study\.toml", r"\[registrations\]", "file")


def test_misspelt_columns_in_list_sizes_is_refused(tmp_path):
    path = _study(
        tmp_path,
        '[list_sizes]\nfile = "sizes.csv"\ncolums = { practice_code = "CODE" }\n',
        sizes_csv="CODE,N\nA00001,10\n",
    )
    with pytest.raises(StudyFileError, match=r"'colums' in \[list_sizes\]; allowed: columns"):
        parse_study_file(path)


def test_problems_of_every_section_come_in_one_error(tmp_path):
    path = _study(
        tmp_path,
        '[configuration]\nfle = "proposed.csv"\n[list_sizes]\nfile = 5\n',
        replace=("band = [3000, 5000]", 'band = [3000, 5000]\nfootprint = "voronoi"'),
    )
    with pytest.raises(StudyFileError) as info:
        parse_study_file(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    for part in ("'fle' in [configuration]", "[list_sizes] file", "'footprint' in [rules]"):
        assert part in message, message


# -- item 9: the band -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "band",
    ["[0, inf]", "[-inf, 5000]", "[nan, 5000]", "[2999.5, 5000]", "[3000, 5000.25]", "[1, 2, 3]"],
)
def test_band_must_be_two_finite_whole_numbers(tmp_path, band):
    path = _study(tmp_path, replace=("band = [3000, 5000]", f"band = {band}"))
    with pytest.raises(StudyFileError, match=r"\[rules\] band must be two whole numbers"):
        parse_study_file(path)
    _one_line_cli_error(path, r"study\.toml", "band", "whole numbers")


def test_band_of_whole_floats_is_accepted(tmp_path):
    path = _study(tmp_path, replace=("band = [3000, 5000]", "band = [3.0e3, 5000.0]"))
    band = parse_study_file(path).rules["band"]
    assert band == (3000, 5000)
    assert all(type(b) is int for b in band)


# -- item 21: synthetic is a key, not a guess from the name ---------------------------------


def test_synthetic_is_false_unless_the_study_file_says_so(tmp_path):
    path = _study(tmp_path, replace=('name = "Tiny test study"', 'name = "Synthetic Hills ICB"'))
    assert parse_study_file(path).synthetic is False
    assert Study.from_toml(path).synthetic is False


def test_synthetic_key(tmp_path):
    path = _study(tmp_path, replace=("[practices]", "synthetic = true\n[practices]"))
    assert parse_study_file(path).synthetic is True
    assert Study.from_toml(path).synthetic is True


def test_synthetic_must_be_true_or_false(tmp_path):
    path = _study(tmp_path, replace=("[practices]", 'synthetic = "yes"\n[practices]'))
    with pytest.raises(StudyFileError, match="synthetic must be true or false"):
        parse_study_file(path)


# -- issue 9 item 9: [rules.exceptions] -----------------------------------------------------


def test_exceptions_are_parsed(tmp_path):
    from geo_pcn.studyfile import AgreedException

    path = _study(
        tmp_path,
        "[rules.exceptions]\n"
        'U00001 = { checks = ["size", "contiguity"], reason = "agreed by the ICB", '
        'date = "2024-03-01" }\n'
        'u00002 = { checks = ["boundaries"], reason = "crosses the river", date = 2023-11-30 }\n',
    )
    rules = parse_study_file(path).rules
    assert rules["exceptions"] == (
        AgreedException("U00001", ("size", "contiguity"), "agreed by the ICB", dt.date(2024, 3, 1)),
        AgreedException("U00002", ("boundaries",), "crosses the river", dt.date(2023, 11, 30)),
    )


def test_exempt_is_an_exception_to_size(tmp_path):
    from geo_pcn.studyfile import AgreedException

    path = _study(
        tmp_path, replace=("band = [3000, 5000]", 'band = [3000, 5000]\nexempt = ["U00001"]')
    )
    rules = Study.from_toml(path).rules
    assert rules.exempt == ("U00001",)
    assert rules.exceptions == (AgreedException("U00001", ("size",), "listed in exempt"),)


def test_size_exception_makes_the_pcn_exempt():
    from geo_pcn.checks.exceptions import exception_for
    from geo_pcn.studyfile import AgreedException

    rules = Rules(exceptions=(AgreedException("U2", ("size", "contiguity"), "rural"),))
    assert rules.exempt == ("U2",)
    assert Rules(exempt=("U1",), exceptions=rules.exceptions).exceptions == (
        AgreedException("U2", ("size", "contiguity"), "rural"),
        AgreedException("U1", ("size",), "listed in exempt"),
    )
    assert exception_for(rules, "U2", "contiguity").reason == "rural"
    assert exception_for(rules, "U2", "boundaries") is None


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('U00001 = { checks = ["size"] }', r"U00001 needs reason"),
        ('U00001 = { checks = ["size"], reason = "  " }', r"U00001 needs reason"),
        (
            'U00001 = { checks = ["sise"], reason = "x" }',
            r"unknown check 'sise'; known: size, contiguity",
        ),
        ('U00001 = { checks = "size", reason = "x" }', r"checks must be a list"),
        ('U00001 = { checks = [], reason = "x" }', r"checks must be a list"),
        ('U00001 = { reason = "x" }', r"checks must be a list"),
        (
            'U00001 = { checks = ["size"], reason = "x", by = "me" }',
            r"unknown key 'by' in \[rules.exceptions\] U00001; allowed: checks, date, reason",
        ),
        ('U00001 = { checks = ["size"], reason = "x", date = "March" }', r"date must be"),
        ('U00001 = "size"', r"U00001 must be a table"),
        (
            'U00001 = { checks = ["size"], reason = "x" }\nu00001 = { checks = ["size"], '
            'reason = "y" }',
            "listed twice",
        ),
    ],
)
def test_bad_exceptions_are_refused(tmp_path, entry, problem):
    path = _study(tmp_path, f"[rules.exceptions]\n{entry}\n")
    with pytest.raises(StudyFileError, match=problem) as info:
        parse_study_file(path)
    assert "[rules.exceptions]" in str(info.value)


def test_exceptions_must_be_a_table(tmp_path):
    path = _study(
        tmp_path, replace=("band = [3000, 5000]", 'band = [3000, 5000]\nexceptions = ["U00001"]')
    )
    with pytest.raises(StudyFileError, match=r"\[rules.exceptions\] must be a table"):
        parse_study_file(path)
