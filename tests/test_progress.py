"""Progress on stderr (issue 11): the commands time their stages on stderr unless -q; the
Python API says nothing; stdout and every output file are the same either way."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner

from geo_pcn import validate
from geo_pcn.cli import cli
from geo_pcn.datasets import demo, demo_study_file
from geo_pcn.progress import is_reporting, note, reporting, stage

LINE = re.compile(r"^geo-pcn: (.+) \.\.\. \d+\.\d s$")


def _stages(stderr: str) -> list[str]:
    return [m.group(1) for m in map(LINE.match, stderr.splitlines()) if m]


def test_stage_is_silent_unless_reporting():
    err = io.StringIO()
    with stage("territories"):
        note("nothing")
    assert not is_reporting()
    with reporting(True, stream=err):
        assert is_reporting()
        with stage("territories"):
            pass
        note("a note")
        with reporting(False), stage("hidden"):
            pass
    assert not is_reporting()
    lines = err.getvalue().splitlines()
    assert LINE.match(lines[0]) and lines[0].startswith("geo-pcn: territories ... ")
    assert lines[1:] == ["geo-pcn: a note"]


def test_a_failed_stage_prints_no_time():
    err = io.StringIO()
    with reporting(True, stream=err), pytest.raises(ValueError), stage("broken"):
        raise ValueError("boom")
    assert err.getvalue() == ""
    assert not is_reporting()


def test_the_python_api_is_quiet(capsys):
    validate(demo())
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_validate_prints_stages_on_stderr_and_nothing_with_q(tmp_path):
    study = str(demo_study_file())
    loud = CliRunner().invoke(cli, ["validate", study, "--out", str(tmp_path / "loud")])
    quiet = CliRunner().invoke(cli, ["validate", study, "--out", str(tmp_path / "quiet"), "-q"])
    assert loud.exit_code == quiet.exit_code == 1, loud.output  # the demo fails on purpose
    stages = _stages(loud.stderr)
    for name in (
        f"read {demo_study_file().name}",
        "territories",
        "graph",
        "footprints",
        "check size",
        "check contiguity",
        "check boundaries",
        "check coverage",
        "check alignment",
        "report.json",
        "map.html",
        "report.html",
        "report.xlsx",
    ):
        assert name in stages, (name, loud.stderr)
    assert quiet.stderr == ""
    # stdout is the same line either way (the folder named differs), with no progress in it
    assert "geo-pcn:" not in loud.stdout
    assert loud.stdout.replace("loud", "quiet") == quiet.stdout
    # and so is every file written
    for path in sorted((tmp_path / "quiet").iterdir()):
        if path.is_file():
            assert (tmp_path / "loud" / path.name).read_bytes() == path.read_bytes(), path.name
    assert not is_reporting()  # the command leaves progress off behind it


def test_map_and_scenario_are_quiet_with_q(tmp_path):
    study = str(demo_study_file())
    loud = CliRunner().invoke(cli, ["map", study, "--out", str(tmp_path / "m.html")])
    assert loud.exit_code == 0, loud.output
    assert {"territories", "m.html"} <= set(_stages(loud.stderr))
    quiet = CliRunner().invoke(cli, ["map", study, "--out", str(tmp_path / "q.html"), "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""

    plan = tmp_path / "move.toml"
    plan.write_text('[[move]]\npractices = ["Z00024"]\nto = "UZ002"\n', encoding="utf-8")
    loud = CliRunner().invoke(cli, ["scenario", study, str(plan), "--out", str(tmp_path / "s")])
    assert loud.exit_code in (0, 1), loud.output
    assert {"territories", "compare_map.html"} <= set(_stages(loud.stderr))
    quiet = CliRunner().invoke(
        cli, ["scenario", study, str(plan), "--out", str(tmp_path / "s2"), "-q"]
    )
    assert quiet.exit_code == loud.exit_code and quiet.stderr == ""


def test_by_icb_says_one_line_per_icb(tmp_path):
    from tiny import TINY_PRACTICES, write_tiny_study

    practices = TINY_PRACTICES.replace("U00001,WEST PCN,01A,QXX", "U00001,WEST PCN,01A,QXA")
    practices = practices.replace("U00002,EAST PCN,01A,QXX", "U00002,EAST PCN,01A,QXB")
    path = write_tiny_study(tmp_path / "study", practices_csv=practices)
    out = str(tmp_path / "out")
    result = CliRunner().invoke(cli, ["validate", str(path), "--out", out, "--by", "icb"])
    assert result.exit_code == 0, result.output
    stages = _stages(result.stderr)
    assert [s for s in stages if s.startswith("ICB ")] == ["ICB 1/2 QXA", "ICB 2/2 QXB"]
    assert stages.count("territories") == 1  # the whole study's; not one per ICB
    assert "report.xlsx" in stages
