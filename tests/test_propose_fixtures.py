"""propose() on tiny hand-drawn studies whose optimal answers are worked out by hand (issue 14).

Every study here is a row of 1 km boxes, one practice per box and every patient of a practice
living in its box, so each practice's territory is its box:

    northing (km)
     1 +------+------+------+------+      +------+
       | T01  | T02  | T03  | T04  |      | T05  |  ...
     0 +------+------+------+------+      +------+
       0      1      2      3      4      5      6   easting (km)
         A00001 A00002 A00003 A00004        A00005

Boxes that share an edge touch, so the practice graph is a path; a column left empty (1 km,
far more than the 250 m adjacency tolerance) cuts it. The band is the tiny study's
[3000, 5000]. Each test draws its row as ``(practice, PCN, patients, column)`` and works out,
above it, the graph, the sizes and why the expected answer is the optimum (and whether it is
the only one).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tiny import (
    TINY_TOML,
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
from geo_pcn.geography import geography_of
from geo_pcn.proposal import propose

# -- drawing a row of boxes ----------------------------------------------------------------

Row = list[tuple[str, str, int, int]]  # (practice, PCN or "" for none, patients, column)


def _layer(areas: dict[str, range]) -> str:
    return feature_collection([union_box(code, cols, range(1)) for code, cols in areas.items()])


def write_row_study(
    folder: Path,
    row: Row,
    *,
    places: dict[str, range] | None = None,
    icbs: dict[str, range] | None = None,
) -> Path:
    """Write a study of one box per practice along row 0 (practice ``i`` in box ``T0i``);
    ``places`` / ``icbs`` map an area code to the columns it covers (``icbs`` adds an ``icb``
    boundary layer, so that each ICB is solved as its own part). Returns the study file."""
    practices = [
        "PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,"
        "SUB_ICB_LOCATION_CODE,ICB_CODE"
    ]
    locations = ["PRACTICE_CODE,EASTING,NORTHING"]
    registrations = ["PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS"]
    cells = {}
    for i, (code, pcn, patients, col) in enumerate(row, 1):
        pcn_name = f"{pcn} PCN" if pcn else ""
        practices.append(f"{code},{code} SURGERY,AB{i} 1AA,{pcn},{pcn_name},01A,QXX")
        locations.append(f"{code},{X0 + 500 + 1000 * col},{Y0 + 500}")
        registrations.append(f"{code},T{i:02d},{patients}")
        cells[f"T{i:02d}"] = (col, 0)
    reg = "\n".join(registrations) + "\n"
    files = {
        "practices_csv": "\n".join(practices) + "\n",
        "locations_csv": "\n".join(locations) + "\n",
        "registrations_csv": reg,
        "areas_geojson": box_features(cells),
        "population_csv": population_of(reg),
        "place_geojson": _layer(places or {"ALL": range(0, 20)}),
    }
    if icbs:
        files["study_toml"] = TINY_TOML.replace(
            'place = "place.geojson"\n', 'place = "place.geojson"\nicb = "icb.geojson"\n'
        )
        files["icb_geojson"] = _layer(icbs)
    return write_tiny_study(folder, **files)


def row_study(folder: Path, row: Row, **layers) -> Study:
    return Study.from_toml(write_row_study(folder, row, **layers))


def moves(proposal) -> list[tuple[str, str, str, int]]:
    """The changes as ``(practice, from PCN, to PCN, patients)``, sorted by practice."""
    c = proposal.changes
    return sorted(
        zip(c["practice_code"], c["from_pcn"], c["to_pcn"], c["patients"].astype(int), strict=True)
    )


def assert_proven_optimal(proposal, value: int) -> None:
    """Optimal with ``value`` and a proven bound equal to it, in every part."""
    s = proposal.summary
    assert (s["status"], s["value"], s["bound"], s["gap"]) == ("optimal", value, value, 0.0)
    parts = proposal.parts
    assert set(parts["status"]) == {"optimal"}
    assert (parts["objective"] == parts["bound"]).all()
    assert (parts["gap"] == 0).all()
    assert proposal.outside_band == []


def error_checks(study, configuration) -> list[tuple[str, str]]:
    report = validate(study, configuration)
    return sorted((f.check, f.kind) for f in report.findings if f.severity == Severity.ERROR)


# -- 1. one move fixes two PCNs ------------------------------------------------------------

#   A00001 - A00002 - A00003 | A00004         path graph
#   U00001   U00001   U00001 | U00002
#    2000     2000     1500  |  2500          U00001 5500 (above), U00002 2500 (below)
CHAIN = [
    ("A00001", "U00001", 2000, 0),
    ("A00002", "U00001", 2000, 1),
    ("A00003", "U00001", 1500, 2),
    ("A00004", "U00002", 2500, 3),
]


# U00001 must lose at least 500 and cannot split (5500 < 2 x 3000); U00002 must gain at least
# 500 or close. A00003 (1500) is U00001's smallest practice and the only one touching U00002:
# A00003 -> U00002 gives 4000 and 4000. Every other repair moves a practice of 2000 or more
# (closing U00002 moves A00004, 2500), so 1500 is optimal and the answer unique.
def test_one_move_fixes_the_pcn_above_and_the_pcn_below(tmp_path):
    study = row_study(tmp_path, CHAIN)
    assert sorted(tuple(sorted(e)) for e in geography_of(study).graph.edges) == [
        ("A00001", "A00002"),
        ("A00002", "A00003"),
        ("A00003", "A00004"),
    ]
    proposal = propose(study, workers=1)
    assert moves(proposal) == [("A00003", "U00001", "U00002", 1500)]
    assert_proven_optimal(proposal, 1500)
    s = proposal.summary
    assert (s["patients_moved"], s["practices_moved"], s["new_pcns"], s["closed_pcns"]) == (
        1500,
        1,
        0,
        0,
    )
    assert proposal.configuration.members == {
        "U00001": ("A00001", "A00002"),
        "U00002": ("A00003", "A00004"),
    }
    assert error_checks(study, proposal.configuration) == []


# -- 2. infeasible, and the relaxation that makes it feasible ------------------------------

#   ICB QW        |  ICB QE
#   A00001   .    |  A00002 - A00003 - A00004 - A00005
#   U00001        |  U00002   U00002   U00002   U00003
#    2000         |   2000     2000     1500     2500
ISOLATED = [
    ("A00001", "U00001", 2000, 0),
    ("A00002", "U00002", 2000, 2),
    ("A00003", "U00002", 2000, 3),
    ("A00004", "U00002", 1500, 4),
    ("A00005", "U00003", 2500, 5),
]
TWO_ICBS = {"QW": range(0, 2), "QE": range(2, 20)}


# QW: A00001 touches no practice (column 1 is empty), so U00001 can neither gain nor be
# closed: at best 2000, 1000 below the lower limit -> infeasible, U00001 named with size 2000
# and limit 3000. QE is the chain of test 1 again: A00004 -> U00003 (1500), unique; it is
# still solved to optimality, since each ICB is its own part. With U00001 exempt, QW needs
# nothing (0) and the whole proposal is optimal with the same single move.
def test_an_isolated_pcn_below_the_band_is_infeasible_until_exempt(tmp_path):
    study = row_study(tmp_path, ISOLATED, icbs=TWO_ICBS)
    proposal = propose(study, workers=1)
    assert proposal.summary["status"] == "infeasible"
    assert [(o["pcn_code"], o["size"], o["limit"]) for o in proposal.outside_band] == [
        ("U00001", 2000, 3000)
    ]
    message = proposal.outside_band[0]["message"]
    assert "U00001" in message and "2,000" in message
    assert "exempt" in message and "reach 2" in message
    parts = proposal.parts.set_index("part")
    assert parts.loc["QW", "status"] == "infeasible"
    assert (parts.loc["QE", "status"], parts.loc["QE", "objective"]) == ("optimal", 1500)
    assert parts.loc["QE", "bound"] == 1500
    assert moves(proposal) == [("A00004", "U00002", "U00003", 1500)]
    assert proposal.configuration.members["U00001"] == ("A00001",)

    relaxed = propose(study, exempt=["U00001"], workers=1)
    assert_proven_optimal(relaxed, 1500)
    assert moves(relaxed) == [("A00004", "U00002", "U00003", 1500)]
    assert relaxed.settings["exempt"] == ["U00001"]


#   ICB QW               |  ICB QE (as above)
#   A00001 - A00002   .  |  A00003 - A00004 - A00005 - A00006
#   U00001   U00001      |  U00002   U00002   U00002   U00003
#    3000     2200       |   2000     2000     1500     2500
ISOLATED_ABOVE = [
    ("A00001", "U00001", 3000, 0),
    ("A00002", "U00001", 2200, 1),
    ("A00003", "U00002", 2000, 3),
    ("A00004", "U00002", 2000, 4),
    ("A00005", "U00002", 1500, 5),
    ("A00006", "U00003", 2500, 6),
]


# QW: U00001 (5200) touches no other PCN and cannot split into two PCNs in the band (A00002
# alone is 2200 < 3000): infeasible. The least it can be outside the band is whole, 200 above
# the upper limit; split as {A00001} 3000 | {A00002} 2200 it would be 800 short (and move a
# practice for nothing). So U00001 is named with size 5200 and limit 5000 and keeps both
# practices. QE is the chain of test 1: A00005 -> U00003 (1500).
def test_an_isolated_pcn_above_the_band_that_cannot_split_is_named(tmp_path):
    study = row_study(tmp_path, ISOLATED_ABOVE, icbs={"QW": range(0, 3), "QE": range(3, 20)})
    proposal = propose(study, workers=1)
    assert proposal.parts.set_index("part").loc["QW", "status"] == "infeasible"
    assert proposal.summary["status"] == "infeasible"
    assert [(o["pcn_code"], o["size"], o["limit"]) for o in proposal.outside_band] == [
        ("U00001", 5200, 5000)
    ]
    assert moves(proposal) == [("A00005", "U00002", "U00003", 1500)]
    assert proposal.configuration.members["U00001"] == ("A00001", "A00002")


#   place WEST              | EAST   |  place FAR
#   A00001 - A00002 - A00003 - A00004 .  A00005 - A00006 - A00007 - A00008
#   U00001   U00001   U00001 | U00002|   U00003   U00003   U00003   U00004
#    2000     2000     1500  |  2500 |    2000     2000     1500     2500
WITHIN = [
    *CHAIN,
    ("A00005", "U00003", 2000, 5),
    ("A00006", "U00003", 2000, 6),
    ("A00007", "U00003", 1500, 7),
    ("A00008", "U00004", 2500, 8),
]
WITHIN_PLACES = {"WEST": range(0, 3), "EAST": range(3, 5), "FAR": range(5, 20)}


# Without `within`: the chain of test 1 twice (A00003 -> U00002, A00007 -> U00004: 3000).
# With within="place" the only fix of the first chain (A00003 over the WEST/EAST line) is
# forbidden: U00002 (2500, EAST alone) cannot gain; U00001 (5500, WEST alone) cannot split
# (5500 < 2 x 3000). FAR is still fixed (A00007 -> U00004). With U00001 and U00002 exempt,
# only FAR needs a move.
def test_within_place_relaxations(tmp_path):
    study = row_study(tmp_path, WITHIN, places=WITHIN_PLACES)
    free = propose(study, workers=1)
    assert moves(free) == [
        ("A00003", "U00001", "U00002", 1500),
        ("A00007", "U00003", "U00004", 1500),
    ]
    assert_proven_optimal(free, 3000)
    exempted = propose(study, within="place", exempt=["U00001", "U00002"], workers=1)
    assert moves(exempted) == [("A00007", "U00003", "U00004", 1500)]
    assert_proven_optimal(exempted, 1500)
    assert sorted(exempted.parts["part"]) == ["EAST", "FAR", "WEST"]


# With within="place": EAST is U00002 whole at 2500 (500 short); WEST is U00001 whole at
# 5500 (500 over: splitting it as 2000 | 3500 leaves 1000 short, 4000 | 1500 leaves 1500
# short); FAR is A00007 -> U00004. The message names dropping `within` as a relaxation.
def test_within_place_forbidding_the_only_fix_is_infeasible(tmp_path):
    study = row_study(tmp_path, WITHIN, places=WITHIN_PLACES)
    proposal = propose(study, within="place", workers=1)
    assert proposal.summary["status"] == "infeasible"
    outside = {o["pcn_code"]: (o["size"], o["limit"]) for o in proposal.outside_band}
    assert outside == {"U00001": (5500, 5000), "U00002": (2500, 3000)}
    for o in proposal.outside_band:
        assert "exempt" in o["message"] and "place lines (no within)" in o["message"]
    assert moves(proposal) == [("A00007", "U00003", "U00004", 1500)]


# -- nothing to repair ---------------------------------------------------------------------


# The tiny study itself passes (WEST 3808 and EAST 4652 patients, both in the band, both in
# one piece, every practice in a PCN): the least disruptive repair is none, proven (0 = 0).
def test_a_configuration_that_passes_needs_no_change(tmp_path):
    study = Study.from_toml(write_tiny_study(tmp_path))
    assert validate(study).ok
    proposal = propose(study, workers=1)
    assert_proven_optimal(proposal, 0)
    assert moves(proposal) == []
    assert proposal.configuration.assignments.equals(study.configuration.assignments)


# -- 3. a forced split ---------------------------------------------------------------------

#   A00001 - A00002 - A00003 - A00004 - A00005      all U00001: 9000, no other PCN
#    2000     2000      800     1200     3000
SPLIT = [
    ("A00001", "U00001", 2000, 0),
    ("A00002", "U00001", 2000, 1),
    ("A00003", "U00001", 800, 2),
    ("A00004", "U00001", 1200, 3),
    ("A00005", "U00001", 3000, 4),
]


# 9000 > 5000 and no other PCN: U00001 must split into contiguous pieces (prefix | suffix of
# the path). Prefix sums 2000, 4000, 4800, 6000: the cuts with both pieces in the band are
# after A00002 (4000 | 5000) and after A00003 (4800 | 4200). The old code keeps the larger
# piece and the smaller moves: 4000 (A00001, A00002) or 4200 (A00004, A00005). Three pieces
# would move at least 6000. So A00001 and A00002 -> NEW-U00001-1 (4000), unique; U00001
# keeps A00003 - A00005 (5000).
def test_a_pcn_above_twice_the_band_splits_in_two(tmp_path):
    study = row_study(tmp_path, SPLIT)
    proposal = propose(study, workers=1)
    assert moves(proposal) == [
        ("A00001", "U00001", "NEW-U00001-1", 2000),
        ("A00002", "U00001", "NEW-U00001-1", 2000),
    ]
    assert_proven_optimal(proposal, 4000)
    assert proposal.configuration.members == {
        "NEW-U00001-1": ("A00001", "A00002"),
        "U00001": ("A00003", "A00004", "A00005"),
    }
    s = proposal.summary
    assert (s["patients_moved"], s["practices_moved"], s["new_pcns"]) == (4000, 2, 1)
    assert all(code.startswith("NEW-") for code in proposal.changes["to_pcn"])
    assert "[[add_pcn]]" in proposal.toml
    assert error_checks(study, proposal.configuration) == []


# -- 4. a practice in no PCN is placed -----------------------------------------------------

#   A00001 - A00002 - A00003 - A00004
#   U00001   U00001   (none)   U00002
#    1500     1500     1500     4000


# A00003 must join a PCN it touches or a new one. U00001: 3000 + 1500 = 4500 (in the band);
# U00002: 4000 + 1500 = 5500 (above); alone: 1500 (below). Placing a practice in no PCN is
# not a move, so A00003 -> U00001 costs 0; anything else moves a practice. Unique.
def test_a_practice_in_no_pcn_is_placed_where_the_band_holds(tmp_path):
    row = [
        ("A00001", "U00001", 1500, 0),
        ("A00002", "U00001", 1500, 1),
        ("A00003", "", 1500, 2),
        ("A00004", "U00002", 4000, 3),
    ]
    study = row_study(tmp_path, row)
    assert study.configuration.unassigned == ("A00003",)
    proposal = propose(study, workers=1)
    assert moves(proposal) == [("A00003", "", "U00001", 1500)]
    assert_proven_optimal(proposal, 0)
    s = proposal.summary
    assert (s["patients_moved"], s["practices_moved"]) == (0, 0)
    assert (s["practices_placed"], s["patients_placed"]) == (1, 1500)
    assert proposal.configuration.unassigned == ()
    assert error_checks(study, proposal.configuration) == []


# -- 5. a detached group -------------------------------------------------------------------

#   A00001 - A00002 - A00003 - A00004 - A00005
#   U00001   U00001   U00002   U00002   U00001      U00001 in two pieces (5000)
#    2000     2000     2000     2000     1000       U00002 4000


# U00001 is {A00001, A00002} + {A00005}. The only repair of 1000 patients or fewer moves
# A00005 alone: into U00002 (5000, in the band, joined to A00004) or into a new PCN (1000,
# below). Any other repair moves a 2000 practice. So A00005 -> U00002, 1000; unique.
def test_a_detached_practice_joins_the_pcn_it_touches(tmp_path):
    row = [
        ("A00001", "U00001", 2000, 0),
        ("A00002", "U00001", 2000, 1),
        ("A00003", "U00002", 2000, 2),
        ("A00004", "U00002", 2000, 3),
        ("A00005", "U00001", 1000, 4),
    ]
    study = row_study(tmp_path, row)
    assert {f.kind for f in validate(study).findings if f.check == "contiguity"}
    proposal = propose(study, workers=1)
    assert moves(proposal) == [("A00005", "U00001", "U00002", 1000)]
    assert_proven_optimal(proposal, 1000)
    assert error_checks(study, proposal.configuration) == []


#   A00001 - A00002 - A00003 - A00004
#   U00001   U00002   U00001   U00002      both PCNs in two pieces
#    2000      500     2000     3000       U00001 4000, U00002 3500


# Cheapest fix is the practice between the pieces, not a detached one. Choices: A00001 stays
# in U00001 and A00004 in U00002 (no other PCN reaches them); A00002 in U00001 or U00002,
# A00003 in U00001 or U00002 (new PCNs of one detached practice would be below the band).
# U00001 connected needs A00002 in it whenever A00003 is; U00002 connected needs A00003 in it
# whenever A00002 is. (A00002, A00003) = (U00001, U00001): 4500 | 3000, cost 500;
# (U00002, U00002): 2000 | 5500, above; (U00001, U00002): 2500 | 5000, below (cost 2500);
# (U00002, U00001): the start, in pieces. So A00002 -> U00001, 500; unique.
def test_the_bridge_between_two_pieces_moves_when_it_is_cheapest(tmp_path):
    row = [
        ("A00001", "U00001", 2000, 0),
        ("A00002", "U00002", 500, 1),
        ("A00003", "U00001", 2000, 2),
        ("A00004", "U00002", 3000, 3),
    ]
    study = row_study(tmp_path, row)
    proposal = propose(study, workers=1)
    assert moves(proposal) == [("A00002", "U00002", "U00001", 500)]
    assert_proven_optimal(proposal, 500)
    assert proposal.configuration.members == {
        "U00001": ("A00001", "A00002", "A00003"),
        "U00002": ("A00004",),
    }
    assert error_checks(study, proposal.configuration) == []


# -- 6. the scenario reproduces the proposal -----------------------------------------------

#   ICB QW: the chain of test 1      .  ICB QE: the split of test 3
#   A00001 - A00002 - A00003 - A00004 .  A00005 - A00006 - A00007 - A00008 - A00009
TWO_PARTS = [
    *CHAIN,
    *((f"A0000{int(p[-1]) + 4}", "U00003", n, col + 5) for p, _, n, col in SPLIT),
]
TWO_PARTS_ICBS = {"QW": range(0, 5), "QE": range(5, 20)}
# QW: A00003 -> U00002 (1500); QE: A00005, A00006 -> NEW-U00003-1 (4000); 5500 in all, each
# part unique as worked out in tests 1 and 3.
TWO_PARTS_MOVES = [
    ("A00003", "U00001", "U00002", 1500),
    ("A00005", "U00003", "NEW-U00003-1", 2000),
    ("A00006", "U00003", "NEW-U00003-1", 2000),
]


def test_the_scenario_reproduces_the_proposal(tmp_path):
    path = write_row_study(tmp_path / "study", TWO_PARTS, icbs=TWO_PARTS_ICBS)
    study = Study.from_toml(path)
    proposal = propose(study, workers=1)
    assert moves(proposal) == TWO_PARTS_MOVES
    assert_proven_optimal(proposal, 5500)
    applied = Scenario.from_toml_text(proposal.toml).apply(study.configuration)
    assert applied.assignments.equals(proposal.configuration.assignments)
    assert applied.members == proposal.configuration.members

    scenario_file = tmp_path / "proposal.toml"
    scenario_file.write_text(proposal.toml, encoding="utf-8")
    out = tmp_path / "after"
    result = CliRunner().invoke(
        cli, ["scenario", str(path), str(scenario_file), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "PASS after the scenario" in result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [f for f in report["findings"] if f["severity"] == "error"] == []


# -- local processes give the same answer --------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_local_processes_give_the_same_answer(tmp_path, workers):
    study = row_study(tmp_path, TWO_PARTS, icbs=TWO_PARTS_ICBS)
    proposal = propose(study, workers=workers)
    assert sorted(proposal.parts["part"]) == ["QE", "QW"]
    assert moves(proposal) == TWO_PARTS_MOVES
    assert_proven_optimal(proposal, 5500)
    assert proposal.configuration.members == {
        "NEW-U00003-1": ("A00005", "A00006"),
        "U00001": ("A00001", "A00002"),
        "U00002": ("A00003", "A00004"),
        "U00003": ("A00007", "A00008", "A00009"),
    }


# -- 7. objective="practices" against "patients" --------------------------------------------

#   A00001 - A00002 - A00003 - A00004 - A00005
#   U00001   U00001   U00002   U00002   U00003
#    3000     1600      400     1000     3000       U00001 4600, U00002 1400 (below), U00003 3000
OBJECTIVES = [
    ("A00001", "U00001", 3000, 0),
    ("A00002", "U00001", 1600, 1),
    ("A00003", "U00002", 400, 2),
    ("A00004", "U00002", 1000, 3),
    ("A00005", "U00003", 3000, 4),
]


# No PCN is above 5000 or in pieces, so no new PCN is offered; A00001 can only be in U00001
# and A00005 in U00003 (no other PCN reaches them); A00002 in U00001/U00002, A00003 in
# U00001/U00002, A00004 in U00002/U00003. The 8 choices, contiguity and band checked:
#   A00003 -> U00001 (needs A00002 in U00001) and A00004 -> U00003: 5000 | closed | 4000,
#       2 practices, 1400 patients;
#   A00002 -> U00002: 3000 | 3000 | 3000, 1 practice, 1600 patients;
#   every other choice leaves U00002 below 3000, or U00001 in pieces.
# patients: the two small practices (1400); practices: the one big practice (1 move). pcns:
# the first changes U00001, U00002 (closed) and U00003, the second U00001 and U00002 only, so
# the big practice again (2 PCNs changed). Each unique.
@pytest.mark.parametrize(
    ("objective", "expected", "value"),
    [
        (
            "patients",
            [("A00003", "U00002", "U00001", 400), ("A00004", "U00002", "U00003", 1000)],
            1400,
        ),
        ("practices", [("A00002", "U00001", "U00002", 1600)], 1),
        ("pcns", [("A00002", "U00001", "U00002", 1600)], 2),
    ],
)
def test_the_objective_chooses_between_one_big_and_two_small_moves(
    tmp_path, objective, expected, value
):
    study = row_study(tmp_path, OBJECTIVES)
    proposal = propose(study, objective=objective, workers=1)
    assert moves(proposal) == expected
    assert_proven_optimal(proposal, value)
    assert proposal.summary["objective"] == objective
    assert proposal.summary["closed_pcns"] == (1 if objective == "patients" else 0)
    assert error_checks(study, proposal.configuration) == []


# -- reach ---------------------------------------------------------------------------------

#   A00001 - A00002 - A00003
#   U00001   U00002   U00003
#    2000      500      500        all below the band; 3000 in all
REACH = [
    ("A00001", "U00001", 2000, 0),
    ("A00002", "U00002", 500, 1),
    ("A00003", "U00003", 500, 2),
]


# Any PCN must hold 3000+, and the three hold exactly 3000: all three end in one PCN. Reach 1:
# only U00002 (in the middle) touches both others, so only it can hold all three: A00001 and
# A00003 move (2500). Reach 2: U00001 reaches A00003 too, and all in U00001 moves A00002 and
# A00003 (1000), less than all in U00002 (2500) or U00003 (A00001 + A00002, 2500). Each
# unique.
@pytest.mark.parametrize(
    ("reach", "expected", "value"),
    [
        (1, [("A00001", "U00001", "U00002", 2000), ("A00003", "U00003", "U00002", 500)], 2500),
        (2, [("A00002", "U00002", "U00001", 500), ("A00003", "U00003", "U00001", 500)], 1000),
    ],
)
def test_reach_lets_a_practice_join_a_pcn_two_steps_away(tmp_path, reach, expected, value):
    study = row_study(tmp_path, REACH)
    proposal = propose(study, reach=reach, workers=1)
    assert moves(proposal) == expected
    assert_proven_optimal(proposal, value)
    assert proposal.summary["closed_pcns"] == 2
    assert error_checks(study, proposal.configuration) == []


# -- 8. bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"objective": "fastest"}, "objective 'fastest' is not known"),
        ({"within": "county"}, "within='county'"),
        ({"exempt": ["U00009"]}, "U00009"),
        ({"reach": 0}, "reach must be 1 or more.*not 0"),
    ],
)
def test_bad_input_names_the_value(tmp_path, kwargs, match):
    study = row_study(tmp_path, CHAIN)
    with pytest.raises(InputError, match=match):
        propose(study, workers=1, **kwargs)


# -- a practice in no PCN that no boundary layer places and nothing touches ----------------


#   A00001 - A00002    (gap)    A00003           icb QXX covers columns 0-2 only
#   U00001   U00001             no PCN, 3500
#    2000     2000
# A00003 is in no ICB polygon and touches no practice: its part is "no area", and the only
# way to place it is a new PCN of its own (3500: in the band). Placing is not a move: 0
# patients moved, one new PCN, with a provisional code in code characters (the national
# run once made "NEW-(no area)-1", which a scenario reads as "NEW-(NO AREA)-1").
def test_a_lone_practice_outside_every_icb_gets_a_new_pcn(tmp_path):
    row = [("A00001", "U00001", 2000, 0), ("A00002", "U00001", 2000, 1)]
    row.append(("A00003", "", 3500, 5))
    study = row_study(tmp_path, row, icbs={"QXX": range(0, 3)})
    proposal = propose(study, workers=1)
    assert moves(proposal) == [("A00003", "", "NEW-UNPLACED-1", 3500)]
    assert_proven_optimal(proposal, 0)
    s = proposal.summary
    assert (s["practices_placed"], s["new_pcns"], s["practices_moved"]) == (1, 1, 0)
    again = Scenario.from_toml_text(proposal.toml).apply(study.configuration)
    assert again.assignments.equals(proposal.configuration.assignments)


# -- a practice above the band on its own ---------------------------------------------------


#   A00001 - A00002 - A00003
#   U00001   U00001   U00002
#    6000     1000     4000
# A00001 alone is above the upper limit (5000): any PCN holding it is above the band, so no
# configuration meets the band everywhere. It is not an infeasible search: A00001 stays,
# U00001 is left out of the band and named (with A00001 and its size), and nothing else
# needs to move (U00002 is in the band): 0 patients moved, proven.
def test_a_practice_above_the_band_alone_is_named_not_searched(tmp_path):
    row = [("A00001", "U00001", 6000, 0), ("A00002", "U00001", 1000, 1)]
    row.append(("A00003", "U00002", 4000, 2))
    study = row_study(tmp_path, row)
    proposal = propose(study, workers=1)
    assert moves(proposal) == []
    s = proposal.summary
    assert (s["status"], s["value"], s["bound"]) == ("optimal", 0, 0)
    [named] = proposal.outside_band
    assert (named["pcn_code"], named["size"], named["limit"]) == ("U00001", 7000, 5000)
    assert "A00001 alone has 6,000" in named["message"] and "exempt" in named["message"]
    # agreed as an exception, it is no longer named
    assert propose(study, workers=1, exempt=["U00001"]).outside_band == []
