"""Degenerate configurations (issue 19, item 5): each gives a whole report that says what
it is, never a traceback.

The tiny study (see ``tiny.py``): 5 practices, 8,460 registered patients (WEST's 2
practices 3,808, EAST's 3 practices 4,652), two PCNs.

* every practice in no PCN: ``KeyError 'pcn_code'`` in ``Report.geodata`` before;
* ``--by icb`` where one ICB (QXC) holds only a practice in no PCN: the whole run lost;
* a scenario that unassigns every practice: ``KeyError`` in compare.
"""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner
from tiny import TINY_PRACTICES, write_tiny_study

from geo_pcn.cli import cli

ALL = ["A00001", "A00002", "A00003", "A00004", "A00005"]


def _no_pcns(practices: str) -> str:
    for pcn in ("U00001,WEST PCN", "U00002,EAST PCN"):
        practices = practices.replace(pcn, ",")
    return practices


def _check_empty_report(out, n_practices: int, n_patients: int) -> None:
    doc = json.loads((out / "report.json").read_text())
    assert doc["summary"]["n_pcns"] == 0
    assert doc["summary"]["n_practices"] == n_practices
    assert doc["summary"]["n_patients"] == n_patients
    assert doc["pcns"] == []
    pcns = pd.read_csv(out / "pcns.csv")
    assert len(pcns) == 0 and "pcn_code" in pcns.columns and "list_size" in pcns.columns
    practices = pd.read_csv(out / "practices.csv", dtype=str, keep_default_na=False)
    assert len(practices) == n_practices and set(practices["pcn_code"]) == {""}
    md = (out / "report.md").read_text()
    assert f"{n_practices} practices in 0 PCNs" in md
    assert f"practices in no PCN: {n_practices} practices ({n_patients:,} patients)" in md
    kinds = [f["kind"] for f in doc["findings"] if f["severity"] == "error"]
    assert kinds.count("practice_in_no_pcn") == n_practices
    for name in ("footprints.gpkg", "map.html", "report.html", "report.xlsx"):
        assert (out / name).stat().st_size > 0, name


def test_every_practice_in_no_pcn(tmp_path):
    path = write_tiny_study(tmp_path / "study", practices_csv=_no_pcns(TINY_PRACTICES))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["validate", str(path), "--out", str(out), "-q"])
    assert result.exit_code == 1, (result.output, result.exception)
    assert "FAIL - 5 errors" in result.output
    _check_empty_report(out, 5, 8460)


def test_by_icb_with_an_icb_of_one_unallocated_practice(tmp_path):
    """QXC holds only A00005 (850 registered patients: 400 in T04, 450 in T08); its own
    report has 1 practice in 0 PCNs, and the other ICBs are written too."""
    practices = TINY_PRACTICES.replace("U00001,WEST PCN,01A,QXX", "U00001,WEST PCN,01A,QXA")
    practices = practices.replace("U00002,EAST PCN,01A,QXX", "U00002,EAST PCN,01A,QXB")
    practices = practices.replace(
        "A00005,EAST FIVE SURGERY,AB1 4AA,U00002,EAST PCN,01A,QXB",
        "A00005,EAST FIVE SURGERY,AB1 4AA,,,01A,QXC",
    )
    path = write_tiny_study(tmp_path / "study", practices_csv=practices)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--out", str(out), "--by", "icb", "-q"]
    )
    assert result.exit_code == 1, (result.output, result.exception)
    assert "3 ICBs" in result.output
    whole = json.loads((out / "report.json").read_text())["summary"]
    part = json.loads((out / "QXC" / "report.json").read_text())["summary"]
    assert (part["n_pcns"], part["n_practices"]) == (0, 1)
    assert part["n_patients"] == 850
    assert whole["n_patients"] == 8460
    assert "1 practice in 0 PCNs" in (out / "QXC" / "report.md").read_text()
    assert "QXC/report.html" in (out / "index.html").read_text()


def test_scenario_that_unassigns_every_practice(tmp_path):
    path = write_tiny_study(tmp_path / "study")
    plan = tmp_path / "none.toml"
    plan.write_text(f"[[unassign]]\npractices = {json.dumps(ALL)}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scenario", str(path), str(plan), "--out", str(out), "-q"])
    assert result.exit_code == 1, (result.output, result.exception)
    _check_empty_report(out, 5, 8460)
    compare = json.loads((out / "compare.json").read_text())
    # out of their PCN into none: "taken out", not moved between PCNs (one definition)
    assert compare["summary"]["n_practices_taken_out"] == 5
    assert compare["summary"]["n_patients_taken_out"] == 8460
    assert compare["summary"]["n_practices_moved"] == 0
    assert (out / "compare_map.html").stat().st_size > 0
    assert "compare.md" in {p.name for p in out.iterdir()}
