"""The public API holds up (issue 10 items 21, 22, 23): a synthetic banner only when the
study says so, an empty configuration is still a configuration, unknown checks are one
clear error, and a user's own check runs beside the built-in ones."""

from __future__ import annotations

import dataclasses

import pytest
from tiny import write_tiny_study

import geo_pcn
from geo_pcn import Study, revalidate, validate
from geo_pcn.alignment import build_alignment
from geo_pcn.checks import CHECKS, register_check
from geo_pcn.configuration import Configuration
from geo_pcn.datasets import demo
from geo_pcn.errors import GeoPCNError
from geo_pcn.findings import Finding, Severity
from geo_pcn.render import to_html, to_markdown
from geo_pcn.render._map_data import build_map_data


@pytest.fixture
def tiny_study(tmp_path):
    return Study.from_toml(write_tiny_study(tmp_path))


@pytest.fixture
def checks_restored():
    """Whatever a test registers is taken out again: the registry is global."""
    saved = dict(CHECKS)
    yield CHECKS
    CHECKS.clear()
    CHECKS.update(saved)


# -- item 21: synthetic is a field ---------------------------------------------------------


def test_a_real_study_named_synthetic_gets_no_demo_banner(tiny_study):
    study = dataclasses.replace(tiny_study, name="Synthetic Fields ICB")
    assert study.synthetic is False
    report = validate(study)
    assert report.summary["synthetic"] is False
    assert "SYNTHETIC" not in to_markdown(report)
    assert "SYNTHETIC" not in to_html(report)
    assert build_map_data(report).synthetic is False


def test_a_synthetic_study_gets_the_banner_whatever_its_name(tiny_study):
    study = dataclasses.replace(tiny_study, name="Practice Vale", synthetic=True)
    report = validate(study)
    assert report.summary["synthetic"] is True
    assert "SYNTHETIC demo region" in to_markdown(report)
    assert "SYNTHETIC demo region" in to_html(report)
    data = build_map_data(report)
    assert data.synthetic is True
    assert data.title.startswith("SYNTHETIC ")


def test_the_demo_says_it_is_synthetic():
    assert demo().synthetic is True


# -- item 22: an empty configuration is not falsy -------------------------------------------


def test_an_empty_configuration_is_truthy():
    empty = Configuration({})
    assert len(empty) == 0
    assert bool(empty) is True
    assert (empty or "default") is empty


def test_alignment_of_an_empty_configuration_is_not_the_studys():
    alignment = build_alignment(demo(), Configuration({}))
    assert alignment.layers["teams"].summary["n_pcns"] == 0


# -- item 23: checks by name, and a user's own check ----------------------------------------


@pytest.mark.parametrize("checks", [["x"], ["size", "x"], "x", []])
def test_unknown_check_is_one_clear_error(tiny_study, checks):
    with pytest.raises(
        GeoPCNError, match="registered checks: size, contiguity, boundaries"
    ) as info:
        validate(tiny_study, checks=checks)
    assert "\n" not in str(info.value)
    if checks:
        assert "unknown check 'x'" in str(info.value)


def test_a_check_named_as_text_runs_alone(tiny_study):
    report = validate(tiny_study, checks="size")
    assert {f.check for f in report.findings} <= {"size", "exceptions"}


def test_register_check_runs_in_validate_and_revalidate(tiny_study, checks_restored, tmp_path):
    @register_check("practice_count")
    def check_practice_count(study, configuration, *, context):
        return [
            Finding(
                check="practice_count",
                kind="three_or_more",
                severity=Severity.WARNING,
                message=f"{code} has {len(members)} practices.",
                pcn_code=code,
                practice_codes=members,
                value=len(members),
                threshold=2,
            )
            for code, members in configuration.members.items()
            if len(members) > 2
        ]

    assert CHECKS["practice_count"] is check_practice_count
    assert list(CHECKS)[-1] == "practice_count"
    report = validate(tiny_study)
    [found] = [f for f in report.findings if f.check == "practice_count"]
    assert (found.pcn_code, found.severity, found.value) == ("U00002", Severity.WARNING, 3)
    assert "U00002 has 3 practices." in to_markdown(report)
    assert "practice_count" in report.findings_frame()["check"].tolist()
    # a scenario step re-runs it (in full) and gives what a full run gives
    moved = tiny_study.configuration.move("A00003", to="U00001")
    step = revalidate(report, moved)
    assert step.findings == validate(tiny_study, moved).findings
    assert [f.pcn_code for f in step.findings if f.check == "practice_count"] == ["U00001"]
    # only the named checks run
    assert {f.check for f in validate(tiny_study, checks=["practice_count"]).findings} == {
        "practice_count"
    }
    # agreed exceptions apply to a user's check too
    from geo_pcn.studyfile import AgreedException

    rules = dataclasses.replace(
        tiny_study.rules,
        exceptions=(AgreedException("U00002", ("practice_count",), "three partners, agreed"),),
    )
    excepted = validate(dataclasses.replace(tiny_study, rules=rules))
    [found] = [f for f in excepted.findings if f.check == "practice_count"]
    assert found.severity is Severity.INFO
    assert "three partners, agreed" in found.message


def test_registered_checks_do_not_leak_between_tests():
    assert list(CHECKS) == ["size", "contiguity", "boundaries", "coverage", "alignment"]


def test_builtin_checks_are_the_names_a_study_file_may_except():
    assert tuple(CHECKS) == geo_pcn.settings.CHECK_NAMES


@pytest.mark.parametrize("name", ["", "exceptions", None])
def test_register_check_refuses_bad_names(name):
    with pytest.raises(ValueError, match="register_check|reserved"):
        register_check(name)
