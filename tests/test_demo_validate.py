"""The demo region: validate() finds every planted problem, with the planted figures, and
flags nothing else. The answers come from boundaries/demo/planted.json, which the demo
generator checked against its own independent implementation of the rules."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from geo_pcn import validate
from geo_pcn.checks import CHECKS
from geo_pcn.cli import cli
from geo_pcn.datasets import demo, demo_planted


@pytest.fixture(scope="module")
def report():
    return validate(demo())


def planted_findings():
    """Planted problems that a registered check reports as a finding of its own."""
    return [p for p in demo_planted() if p["finding"] and p["finding"]["check"] in CHECKS]


def _match(report, planted):
    want = planted["finding"]
    return [
        f
        for f in report.findings
        if (f.check, f.kind) == (want["check"], want["kind"])
        and f.pcn_code == (planted["pcn_code"] or "")
    ]


@pytest.mark.parametrize("planted", planted_findings(), ids=lambda p: p["kind"])
def test_every_planted_problem_is_found_with_its_figures(report, planted):
    (finding,) = _match(report, planted)
    e = planted["expected"]
    kind = planted["kind"]
    if kind in ("above_band", "below_band", "below_band_exempt", "unallocated_practice"):
        assert finding.value == e["list_size"]
    if kind == "single_practice":
        assert finding.practice_codes == tuple(planted["practice_codes"])
    if kind == "split":
        assert list(finding.practice_codes) == e["detached_practices"]
        assert finding.details["patients"] == e["detached_list_size"]
        assert finding.details["distance_m"] == pytest.approx(e["distance_m"], abs=0.1)
    if kind == "crosses_place":
        assert finding.details["layer"] == "place"
        sides = {k: v["patients"] for k, v in finding.details["sides"].items()}
        assert sides == e["list_size_by_place"]
    if kind == "sub_icb_mismatch":
        assert finding.practice_codes == tuple(planted["practice_codes"])
        assert finding.details["recorded"] == e["recorded_sub_icb"]
        assert finding.details["actual_nhs_code"] == e["site_sub_icb"]
    if kind == "hole":  # on the region edge, served by practices outside the study
        assert finding.details["areas"] == e["area_codes"]
        assert finding.value == e["population"]
    if kind == "residents_registered_outside":
        assert finding.value == e["patients"]
    if kind == "split_across_teams":
        assert finding.details["layer"] == "teams"
        assert list(finding.practice_codes) == planted["practice_codes"]
        assert len(finding.details["areas"]) == e["n_teams"]
        assert (
            finding.details["footprint_population_by_area"] == (e["footprint_population_by_team"])
        )
        assert finding.details["patients_by_area"] == e["patients_by_team"]
        assert finding.details["pct_patients_by_area"] == e["pct_patients_by_team"]
        # the rule weighs the footprint by registered residents: the same order as census
        pct = finding.details["pct_footprint_by_area"]
        by_pop = e["pct_footprint_population_by_team"]
        assert list(pct) == sorted(by_pop, key=by_pop.get, reverse=True)
        assert finding.value == pytest.approx(min(by_pop.values()), abs=1.0)
    if kind == "site_outside_footprint":
        assert finding.details["site_code"] == e["site_code"]
        assert finding.details["distance_m"] == pytest.approx(e["distance_m"], abs=0.1)
        assert finding.details["footprint_pcn_at_site"] == e["footprint_pcn_at_site"]


def test_nothing_else_is_flagged(report):
    expected = sorted(
        (p["finding"]["check"], p["finding"]["kind"], p["pcn_code"] or "")
        for p in planted_findings()
    )
    got = sorted((f.check, f.kind, f.pcn_code) for f in report.findings)
    assert got == expected


def test_colocated_practices_are_joined_in_the_graph(report):
    (pair,) = [p["practice_codes"] for p in demo_planted() if p["kind"] == "co_located"]
    edge = report.context.graph.edges[pair[0], pair[1]]
    assert "same site" in edge["reasons"]


def test_demo_cli_writes_every_output_and_exits_0(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert "FAIL" in result.output  # the demo plants errors on purpose
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["summary"]["synthetic"] is True
    assert doc["summary"]["n_practices"] == 59
    assert doc["summary"]["n_pcns"] == 13
    statuses = {p["pcn_code"]: p["band_status"] for p in doc["pcns"]}
    planted = {p["kind"]: p["pcn_code"] for p in demo_planted()}
    assert statuses[planted["above_band"]] == "above"
    assert statuses[planted["below_band"]] == "below"
    assert statuses[planted["below_band_exempt"]] == "exempt"
    assert "SYNTHETIC" in (tmp_path / "report.md").read_text()
