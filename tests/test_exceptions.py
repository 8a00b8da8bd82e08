"""Agreed exceptions for every rule, with their reason (issue 9 item 9): findings of an
excepted PCN and check become INFO quoting the reason and date; exceptions no finding
needed are listed; a scenario's incremental re-validation gives the same findings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_scenario import _full, _same
from tiny import write_tiny_study

from geo_pcn import Study, revalidate, validate
from geo_pcn.checks.exceptions import apply_exceptions, stale_exceptions
from geo_pcn.cli import cli
from geo_pcn.datasets import demo
from geo_pcn.findings import Finding, Severity
from geo_pcn.render import to_markdown
from geo_pcn.study import Rules
from geo_pcn.studyfile import AgreedException

AGREED = dt.date(2024, 3, 1)


def _finding(check, kind, severity, pcn_code="U1", **kw):
    return Finding(check, kind, severity, f"{pcn_code} {kind}.", pcn_code=pcn_code, **kw)


# -- apply_exceptions / stale_exceptions on hand-made findings ---------------------------


def test_excepted_errors_and_warnings_become_notes_quoting_the_reason():
    rules = Rules(
        exceptions=(
            AgreedException("U1", ("contiguity", "boundaries"), "agreed by the ICB", AGREED),
        )
    )
    findings = [
        _finding("contiguity", "detached_group", Severity.ERROR, value=1.1, threshold=0.25),
        _finding("boundaries", "crosses_boundary", Severity.WARNING),
        _finding("size", "above_band", Severity.ERROR),  # another check: kept
        _finding("contiguity", "detached_group", Severity.ERROR, pcn_code="U2"),  # another PCN
        _finding("contiguity", "joined_through_footprint", Severity.INFO),  # a note: kept
    ]
    out = apply_exceptions(findings, rules)
    assert [f.severity for f in out] == [
        Severity.INFO,
        Severity.INFO,
        Severity.ERROR,
        Severity.ERROR,
        Severity.INFO,
    ]
    first = out[0]
    assert (first.check, first.kind, first.pcn_code, first.value, first.threshold) == (
        "contiguity",
        "detached_group",
        "U1",
        1.1,
        0.25,
    )
    assert first.message == (
        "U1 detached_group. Agreed exception: agreed by the ICB (2024-03-01); noted, not failed."
    )
    assert first.details["exception"] == {
        "reason": "agreed by the ICB",
        "date": "2024-03-01",
        "severity": "error",
    }
    assert out[1].details["exception"]["severity"] == "warning"
    assert out[2:] == findings[2:]
    assert apply_exceptions(out, rules) == out  # applying twice changes nothing
    assert stale_exceptions(out, rules, pcn_codes=["U1", "U2"]) == []
    assert stale_exceptions(findings, rules, pcn_codes=["U1", "U2"]) == []


def test_exceptions_no_finding_needed_are_listed():
    rules = Rules(
        exceptions=(
            AgreedException("U1", ("size", "contiguity"), "rural", AGREED),
            AgreedException("U9", ("boundaries",), "gone"),
        )
    )
    findings = [_finding("size", "below_band", Severity.ERROR)]
    stale = stale_exceptions(apply_exceptions(findings, rules), rules, pcn_codes=["U1"])
    assert [(f.check, f.kind, f.severity, f.pcn_code) for f in stale] == [
        ("exceptions", "stale_exception", Severity.INFO, "U1"),
        ("exceptions", "stale_exception", Severity.INFO, "U9"),
    ]
    assert stale[0].details == {"checks": ["contiguity"], "reason": "rural", "date": "2024-03-01"}
    assert "to contiguity" in stale[0].message and "no longer be needed" in stale[0].message
    assert "not in the configuration" in stale[1].message
    # a check that did not run cannot call its exception stale
    assert stale_exceptions(findings, rules, checks=["size"], pcn_codes=["U1", "U9"]) == []


# -- the tiny study: the study file, the report, the exit code ---------------------------


TINY_EXCEPTIONS = """[rules.exceptions]
U00001 = { checks = ["size"], reason = "rural, agreed by the ICB", date = 2024-03-01 }
U00002 = { checks = ["contiguity"], reason = "split by the river, agreed" }
"""


def _tiny(tmp_path, extra=TINY_EXCEPTIONS):
    path = write_tiny_study(tmp_path)
    text = path.read_text().replace("band = [3000, 5000]", "band = [4000, 5000]")
    path.write_text(text + extra)
    return path


def test_size_exception_in_the_study_file_passes_the_pcn(tmp_path):
    report = validate(Study.from_toml(_tiny(tmp_path)))
    assert report.ok
    [size] = [f for f in report.findings if f.check == "size"]
    assert (size.kind, size.severity, size.pcn_code) == ("exempt", Severity.INFO, "U00001")
    assert size.message.endswith("Reason: rural, agreed by the ICB (2024-03-01).")
    assert size.details["exception"]["date"] == "2024-03-01"
    assert report.pcns.set_index("pcn_code").loc["U00001", "band_status"] == "exempt"
    [stale] = [f for f in report.findings if f.check == "exceptions"]
    assert (stale.kind, stale.pcn_code) == ("stale_exception", "U00002")
    assert "split by the river" in to_markdown(report)


def test_cli_exit_code_follows_the_exceptions(tmp_path):
    without = _tiny(tmp_path / "without", extra="")
    result = CliRunner().invoke(cli, ["validate", str(without), "--out", str(tmp_path / "a"), "-q"])
    assert result.exit_code == 1, result.output
    with_them = _tiny(tmp_path / "with")
    out = tmp_path / "b"
    result = CliRunner().invoke(cli, ["validate", str(with_them), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    kinds = {(f["check"], f["kind"], f["severity"]) for f in report["findings"]}
    assert ("size", "exempt", "info") in kinds
    assert ("exceptions", "stale_exception", "info") in kinds


def test_exempt_still_means_an_exception_to_size(tmp_path):
    path = _tiny(tmp_path, extra="")
    path.write_text(
        path.read_text().replace("band = [4000, 5000]", 'band = [4000, 5000]\nexempt = ["U00001"]')
    )
    report = validate(Study.from_toml(path))
    [size] = [f for f in report.findings if f.check == "size"]
    assert (size.kind, size.severity) == ("exempt", Severity.INFO)
    assert size.message.endswith("Reason: listed in exempt (no date recorded).")
    assert not [f for f in report.findings if f.check == "exceptions"]


# -- the demo: every kind of check, and the incremental path -----------------------------


DEMO_EXCEPTIONS = (
    AgreedException("UZ010", ("contiguity", "size"), "island practice, agreed", AGREED),
    AgreedException("UZ006", ("boundaries",), "two places by design"),
    AgreedException("UZ008", ("size", "alignment"), "rural, agreed by the ICB", AGREED),
    AgreedException("UZ002", ("contiguity",), "old agreement"),
    AgreedException("UZ999", ("size",), "a PCN that has gone"),
)


@pytest.fixture(scope="module")
def excepted():
    study = demo()
    rules = dataclasses.replace(study.rules, exceptions=DEMO_EXCEPTIONS)
    return dataclasses.replace(study, rules=rules)


@pytest.fixture(scope="module")
def excepted_report(excepted):
    return validate(excepted)


def test_demo_exceptions(excepted, excepted_report):
    by_key = {(f.check, f.kind, f.pcn_code): f for f in excepted_report.findings}
    for key in [
        ("contiguity", "detached_group", "UZ010"),
        ("alignment", "site_outside_pcn", "UZ008"),
        ("boundaries", "crosses_boundary", "UZ006"),
    ]:
        finding = by_key[key]
        assert finding.severity is Severity.INFO, key
        assert "Agreed exception:" in finding.message
    # an exception to size makes the PCN exempt from the band: the size check's own note
    below = by_key[("size", "exempt", "UZ008")]
    assert below.severity is Severity.INFO
    assert below.message.endswith("Reason: rural, agreed by the ICB (2024-03-01).")
    assert ("size", "below_band", "UZ008") not in by_key
    # not excepted: unchanged
    assert by_key[("size", "above_band", "UZ001")].severity is Severity.ERROR
    assert by_key[("boundaries", "recorded_code_mismatch", "UZ013")].severity is Severity.WARNING
    # exempt = ["UZ009"] is kept, and still a note
    assert by_key[("size", "exempt", "UZ009")].severity is Severity.INFO
    assert excepted.rules.exempt == ("UZ009", "UZ010", "UZ008", "UZ999")
    stale = {
        f.pcn_code: f.details["checks"] for f in excepted_report.findings if f.check == "exceptions"
    }
    assert stale == {"UZ010": ["size"], "UZ002": ["contiguity"], "UZ999": ["size"]}


def test_incremental_equals_full_with_exceptions(excepted, excepted_report):
    # moving the detached practice away resolves UZ010's split (its exception to contiguity
    # goes stale) and takes UZ010 below the band (its exception to size is used)
    config = excepted.configuration.move("Z00048", to="UZ011")
    report = revalidate(excepted_report, config)
    _same(report, _full(excepted, config))
    stale = {f.pcn_code: f.details["checks"] for f in report.findings if f.check == "exceptions"}
    assert stale == {"UZ010": ["contiguity"], "UZ002": ["contiguity"], "UZ999": ["size"]}
    below = [f for f in report.findings if (f.check, f.pcn_code) == ("size", "UZ010")]
    assert [(f.kind, f.severity) for f in below] == [("exempt", Severity.INFO)]
    # merging UZ008 away: its exception names a PCN no longer in the configuration
    config = config.merge(["UZ007", "UZ008"], into="UZ007")
    report = revalidate(report, config)
    _same(report, _full(excepted, config))
    assert any(
        f.pcn_code == "UZ008" and "not in the configuration" in f.message
        for f in report.findings
        if f.check == "exceptions"
    )


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_incremental_equals_full_with_exceptions_for_random_moves(excepted, excepted_report, seed):
    rng = random.Random(seed)
    report, config = excepted_report, excepted.configuration
    for _ in range(3):
        practice = rng.choice(config.practice_codes)
        config = config.move(practice, to=rng.choice(config.pcn_codes))
        report = revalidate(report, config)
    _same(report, _full(excepted, config))
