"""Real data: Staffordshire and Stoke-on-Trent ICB (QNC), October 2025, from ../shared/data.

Known answers come from the data README (computed with pandas from the same files) and
the issue texts; they are not read back from geo_pcn's own output.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from geo_pcn import Study, validate
from geo_pcn.cli import cli

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def qnc(qnc_study_file):
    return Study.from_toml(qnc_study_file)


@pytest.fixture(scope="module")
def qnc_report(qnc):
    return validate(qnc)


def test_qnc_loads_141_practices_25_pcns_1210283_patients(qnc):
    assert len(qnc.practices) == 141
    assert qnc.configuration.n_pcns == 25
    assert qnc.n_patients == 1_210_283
    reg = qnc.summary()["registrations"]
    assert reg["by_area_kind"]["unknown"] == 1_381  # CLOSED + EMPTY rows
    assert qnc.practices.crs.to_epsg() == 27700
    assert qnc.areas.crs.to_epsg() == 27700
    assert all(layer.crs.to_epsg() == 27700 for layer in qnc.boundaries.values())


def test_qnc_all_located_from_coordinates_and_from_postcodes_agree(qnc, qnc_study_file, tmp_path):
    assert qnc.not_located == ()
    text = qnc_study_file.read_text()
    locations = next(line for line in text.splitlines() if line.startswith("locations ="))
    codepoint = next(line for line in text.splitlines() if "codepoint_open_2025" in line)
    geocoded_file = tmp_path / "qnc_postcodes.toml"
    geocoded_file.write_text(
        text.replace(locations, codepoint.replace("postcodes =", "postcodes =", 1))
    )
    geocoded = Study.from_toml(geocoded_file)
    assert set(geocoded.practices["locate_method"]) == {"postcode"}
    assert geocoded.not_located == ()
    gap = qnc.practices.geometry.distance(geocoded.practices.geometry.reindex(qnc.practices.index))
    assert gap.max() < 1.0


def test_qnc_18_practices_share_a_site(qnc):
    assert sum(len(v) for v in qnc.colocated.values()) == 18


def test_qnc_info_prints_the_counts(qnc_study_file):
    result = CliRunner().invoke(cli, ["info", str(qnc_study_file)])
    assert result.exit_code == 0, result.output
    assert "Practices: 141 (141 located" in result.output
    assert "PCNs: 25" in result.output
    assert "Registered patients: 1,210,283" in result.output
    assert "sharing a site with another practice: 18" in result.output


def test_qnc_size_band(qnc_report):
    above = {f.pcn_code: f.value for f in qnc_report.findings if f.kind == "above_band"}
    names = {c: qnc_report.configuration.name_of(c) for c in above}
    assert sorted(above.values(), reverse=True) == [155_279, 93_616, 62_098, 50_164, 50_083]
    assert names[max(above, key=above.get)] == "EAST STAFFORDSHIRE PCN"
    assert not [f for f in qnc_report.findings if f.kind == "below_band"]


def _pcn_names(report, kind, layer):
    return sorted(
        report.configuration.name_of(f.pcn_code)
        for f in report.findings
        if f.kind == kind and f.details.get("layer") == layer
    )


def test_qnc_pcns_across_sub_icb_lines(qnc_report):
    assert _pcn_names(qnc_report, "crosses_boundary", "sub_icb") == [
        "ABOUT BETTER CARE (ABC) PCN",
        "MEIR PCN",
        "RUGELEY & GREAT HAYWOOD PCN",
        "SEISDON PCN",
    ]


def test_qnc_recorded_sub_icb_mismatches(qnc_report):
    mismatched = sorted(
        f.practice_codes[0]
        for f in qnc_report.findings
        if f.kind == "recorded_code_mismatch" and f.details["layer"] == "sub_icb"
    )
    assert mismatched == ["M83125", "M83632"]
    m83125 = next(
        f
        for f in qnc_report.findings
        if f.practice_codes == ("M83125",) and f.kind == "recorded_code_mismatch"
    )
    assert "Shropshire, Telford and Wrekin" in m83125.details["actual_name"]


def test_qnc_seven_pcns_across_local_authorities(qnc_report):
    assert len(_pcn_names(qnc_report, "crosses_boundary", "place")) == 7


def test_qnc_validate_cli_writes_every_output(qnc_study_file, tmp_path):
    result = CliRunner().invoke(
        cli, ["validate", str(qnc_study_file), "--out", str(tmp_path), "-q"]
    )
    assert result.exit_code == 1, result.output  # the real configuration has errors
    for name in (
        "report.json",
        "report.md",
        "pcns.csv",
        "practices.csv",
        "findings.csv",
        "footprints.gpkg",
    ):
        assert (tmp_path / name).is_file(), name
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["summary"]["n_practices"] == 141
    assert doc["summary"]["n_pcns"] == 25
    assert doc["summary"]["n_patients"] == 1_210_283
    assert doc["summary"]["ok"] is False
    by_code = {p["pcn_code"]: p for p in doc["pcns"]}
    assert by_code["U57641"]["list_size"] == 155_279
    assert by_code["U57641"]["band_status"] == "above"
