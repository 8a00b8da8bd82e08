"""Regressions found by a review of geo-pcn propose, each on a tiny hand-drawn study (band
3000-5000) whose right answer is worked out by hand in its comment."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner
from test_propose_fixtures import moves, row_study
from tiny import (
    X0,
    Y0,
    box_features,
    feature_collection,
    population_of,
    union_box,
    write_tiny_study,
)

from geo_pcn import Scenario, Severity, Study, validate
from geo_pcn.cli import cli
from geo_pcn.errors import InputError
from geo_pcn.proposal import propose


def custom_study(folder: Path, practices, registrations, n_cols: int, names=None) -> Study:
    """``practices``: (code, PCN, column of its site); ``registrations``: (code, column of
    the area its patients live in, patients); areas T01... one per column."""
    rows = [
        "PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,"
        "SUB_ICB_LOCATION_CODE,ICB_CODE"
    ]
    sites = ["PRACTICE_CODE,EASTING,NORTHING"]
    for i, (code, pcn, col) in enumerate(practices, 1):
        buf = io.StringIO()
        pcn_name = (names or {}).get(pcn, f"{pcn} PCN" if pcn else "")
        row = [code, f"{code} SURGERY", f"AB{i} 1AA", pcn, pcn_name, "01A", "QXX"]
        csv.writer(buf, lineterminator="").writerow(row)
        rows.append(buf.getvalue())
        sites.append(f"{code},{X0 + 500 + 1000 * col},{Y0 + 500}")
    reg = "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n" + "".join(
        f"{p},T{c + 1:02d},{n}\n" for p, c, n in registrations
    )
    files = {
        "practices_csv": "\n".join(rows) + "\n",
        "locations_csv": "\n".join(sites) + "\n",
        "registrations_csv": reg,
        "areas_geojson": box_features({f"T{c + 1:02d}": (c, 0) for c in range(n_cols)}),
        "population_csv": population_of(reg),
        "place_geojson": feature_collection([union_box("ALL", range(0, 20), range(1))]),
    }
    return Study.from_toml(write_tiny_study(folder, **files))


def errors(study, configuration) -> list[tuple[str, str]]:
    report = validate(study, configuration)
    return sorted((f.check, f.kind) for f in report.findings if f.severity == Severity.ERROR)


# U00001 = 4000 + 4000 + 4000 (above) and a PCN really coded NEW-U00001-1 (A00004, 4000, in
# the band; a planner applied an earlier proposal without renaming). The answer splits
# U00001 in three (8000 moved) and leaves A00004 alone; the internal names of new PCNs
# once clashed with that code and moved A00004 out of its own PCN.
def test_a_pcn_coded_like_a_provisional_code_is_left_alone(tmp_path):
    row = [("A00001", "U00001", 4000, 0), ("A00002", "U00001", 4000, 1)]
    row += [("A00003", "U00001", 4000, 2), ("A00004", "NEW-U00001-1", 4000, 3)]
    study = row_study(tmp_path, row)
    proposal = propose(study, workers=1)
    assert proposal.summary["value"] == 8000
    assert proposal.configuration.members["NEW-U00001-1"] == ("A00004",)
    assert errors(study, proposal.configuration) == []


# U00001 = A00001 (box T01) + A00003 (T03): their territories do not touch (A00002, sited in
# T05, wins T02 as an outlying piece), but U00001's own footprint wins T02 between them, so
# the contiguity check joins them (INFO). The configuration passes; the proposal must change
# nothing (it once split U00001).
def test_a_pcn_joined_by_its_footprint_is_left_as_it_is(tmp_path):
    practices = [("A00001", "U00001", 0), ("A00002", "U00002", 4)]
    practices += [("A00003", "U00001", 2), ("A00004", "U00002", 3)]
    regs = [("A00001", 0, 2000), ("A00001", 1, 100), ("A00003", 2, 2000), ("A00003", 1, 100)]
    regs += [("A00002", 1, 150), ("A00002", 4, 3000), ("A00004", 3, 100)]
    study = custom_study(tmp_path, practices, regs, 5)
    assert validate(study).ok
    proposal = propose(study, workers=1)
    assert moves(proposal) == [] and proposal.summary["value"] == 0


# A00001 (3000) - A00002 (no patients) - A00003 (1500), all U00001, then A00004 (U00002,
# 3500). A00002 has no patients but a territory from its site: it connects A00001 and A00003
# for the contiguity check, which finds nothing wrong. Nothing to move (it once moved
# A00003, calling 1500 optimal).
def test_a_practice_with_no_patients_still_connects_its_pcn(tmp_path):
    practices = [("A00001", "U00001", 0), ("A00002", "U00001", 1)]
    practices += [("A00003", "U00001", 2), ("A00004", "U00002", 3)]
    regs = [("A00001", 0, 3000), ("A00003", 2, 1500), ("A00004", 3, 3500)]
    study = custom_study(tmp_path, practices, regs, 4)
    assert errors(study, study.configuration) == []
    proposal = propose(study, workers=1)
    assert moves(proposal) == [] and proposal.summary["status"] == "optimal"


# 3000 - 4000 - 3000, all U00001 (10,000): no two-way split is in the band (7000 | 3000 or
# 3000 | 7000), the three-way split is (each practice its own PCN): 6000 moved, the middle
# one keeping the code (4000 stays). It was once called infeasible: one new PCN offered.
def test_a_three_way_split_is_offered_when_two_cannot_meet_the_band(tmp_path):
    row = [("A00001", "U00001", 3000, 0), ("A00002", "U00001", 4000, 1)]
    row.append(("A00003", "U00001", 3000, 2))
    study = row_study(tmp_path, row)
    proposal = propose(study, workers=1)
    s = proposal.summary
    assert (s["status"], s["value"], s["bound"], s["new_pcns"]) == ("optimal", 6000, 6000, 2)
    assert proposal.configuration.pcn_of("A00002") == "U00001"
    assert errors(study, proposal.configuration) == []


# A00003 (500 patients, in no PCN) has no site and its patients live outside the areas: no
# territory, so no contiguity binds it. It joins U00001 (4000 -> 4500), not a PCN of its own
# below the band (it was once reported infeasible).
def test_a_practice_in_no_pcn_without_a_territory_joins_a_pcn(tmp_path):
    practices = [("A00001", "U00001", 0), ("A00002", "U00001", 1), ("A00003", "", 1)]
    regs = [("A00001", 0, 2000), ("A00002", 1, 2000), ("A00003", 2, 500)]
    custom_study(tmp_path, practices, regs, 2)
    sites = tmp_path / "locations.csv"
    kept = [line for line in sites.read_text().splitlines() if not line.startswith("A00003")]
    sites.write_text("\n".join(kept) + "\n")
    study = Study.from_toml(tmp_path / "study.toml")
    proposal = propose(study, workers=1)
    assert moves(proposal) == [("A00003", "", "U00001", 500)]
    assert errors(study, proposal.configuration) == []


# objective="pcns" with within="place": U00001 spans WEST (A00001, A00002) and EAST (A00003,
# 1000); A00003 must leave it for U00002 (3500 -> 4500). Two PCNs change: U00001 and
# U00002 (U00001's change used to go uncounted).
def test_pcns_changed_counts_a_pcn_cut_by_a_line(tmp_path):
    row = [("A00001", "U00001", 2000, 0), ("A00002", "U00001", 2000, 1)]
    row += [("A00003", "U00001", 1000, 2), ("A00004", "U00002", 3500, 3)]
    study = row_study(tmp_path, row, places={"WEST": range(0, 2), "EAST": range(2, 20)})
    proposal = propose(study, within="place", objective="pcns", workers=1)
    assert moves(proposal) == [("A00003", "U00001", "U00002", 1000)]
    assert (proposal.summary["value"], proposal.summary["bound"]) == (2, 2)


# A PCN name with DEL, quotes, a backslash and ]] goes through proposal.toml intact.
def test_awkward_names_survive_the_scenario_file(tmp_path):
    name = 'Q "quoted" \\back\\ ]] \x7f end'
    practices = [("A00001", "U00001", 0), ("A00002", "U00001", 1), ("A00003", "U00001", 2)]
    regs = [("A00001", 0, 3000), ("A00002", 1, 3000), ("A00003", 2, 3000)]
    study = custom_study(tmp_path, practices, regs, 3, names={"U00001": name})
    proposal = propose(study, workers=1)
    again = Scenario.from_toml_text(proposal.toml).apply(study.configuration)
    assert again.names == proposal.configuration.names
    assert any(name in n for n in proposal.configuration.names.values())


def test_exempt_codes_are_matched_whatever_their_case(tmp_path):
    row = [("A00001", "U00001", 2000, 0), ("A00002", "U00002", 4000, 1)]
    study = row_study(tmp_path, row)
    assert "U00001" in propose(study, workers=1, exempt=["u00001"]).settings["exempt"]
    assert "U00001" in propose(study, workers=1, exempt="U00001").settings["exempt"]


def test_bad_scheduler_address_is_one_line_before_the_slow_part(tmp_path):
    row = [("A00001", "U00001", 4000, 0)]
    study_file = tmp_path / "study"
    row_study(study_file, row)
    result = CliRunner().invoke(
        cli,
        ["propose", str(study_file / "study.toml"), "--out", str(tmp_path / "o"), "-q"]
        + ["--scheduler", "notanaddress"],
    )
    assert result.exit_code == 2, result.output
    assert "notanaddress" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()
    try:
        propose(Study.from_toml(study_file / "study.toml"), scheduler="notanaddress")
    except InputError as exc:
        assert "tcp://" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a bad scheduler address was accepted")
