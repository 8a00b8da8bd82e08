"""``geo-pcn validate --by icb``: one folder per ICB and an index (issue 11).

The tiny study split in two ICBs by the practices' recorded codes: WEST's practices in
QXA, EAST's in QXB. Each ICB is checked as its own study with the other's registrations as
outside competition: WEST's 2 practices and 3,808 patients, EAST's 3 and 4,652.
"""

from __future__ import annotations

import json

from click.testing import CliRunner
from tiny import TINY_PRACTICES, write_tiny_study

from geo_pcn import Study, validate
from geo_pcn.cli import cli


def _two_icbs(tmp_path):
    practices = TINY_PRACTICES.replace("U00001,WEST PCN,01A,QXX", "U00001,WEST PCN,01A,QXA")
    practices = practices.replace("U00002,EAST PCN,01A,QXX", "U00002,EAST PCN,01A,QXB")
    return write_tiny_study(tmp_path / "study", practices_csv=practices)


def test_report_by_icb(tmp_path):
    report = validate(Study.from_toml(_two_icbs(tmp_path)))
    by = report.by_icb.set_index("icb_code")
    assert by["n_pcns"].to_dict() == {"QXA": 1, "QXB": 1}
    assert by["n_patients"].to_dict() == {"QXA": 3808, "QXB": 4652}
    assert report.icb_practices() == {
        "QXA": ["A00001", "A00002"],
        "QXB": ["A00003", "A00004", "A00005"],
    }


def test_validate_by_icb_writes_a_folder_per_icb_and_an_index(tmp_path):
    path = _two_icbs(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--out", str(out), "--by", "icb", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file() and (out / "report.json").is_file()
    for icb, n in (("QXA", 3808), ("QXB", 4652)):
        doc = json.loads((out / icb / "report.json").read_text())
        assert doc["summary"]["n_patients"] == n
        assert (out / icb / "map.html").is_file() and (out / icb / "report.html").is_file()
    whole = json.loads((out / "report.json").read_text())
    for row in whole["by_icb"]:  # the table and the folders count alike
        part = json.loads((out / row["icb_code"] / "report.json").read_text())["summary"]
        assert (row["n_practices"], row["n_patients"]) == (part["n_practices"], part["n_patients"])
    index = (out / "index.html").read_text()
    assert "QXA/report.html" in index and "QXB/map.html" in index
    # EAST alone: WEST's residents compete from outside, nothing is lost
    east = json.loads((out / "QXB" / "report.json").read_text())
    assert east["summary"]["study_area"]["registrations_of_other_practices"]["n_patients"] == 3808
    # a re-run owns the folder: it replaces the ICB folders, refuses foreign files
    again = CliRunner().invoke(cli, ["validate", str(path), "--out", str(out), "--by", "icb", "-q"])
    assert again.exit_code == 0, again.output
    (out / "notes.txt").write_text("mine")
    refused = CliRunner().invoke(
        cli, ["validate", str(path), "--out", str(out), "--by", "icb", "-q"]
    )
    assert refused.exit_code == 2 and "notes.txt" in refused.output
