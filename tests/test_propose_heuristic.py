"""propose() says what it found (issue 22 items 1 and 4, issue 19 item 7), on tiny
hand-drawn studies (a row of 1 km boxes, one practice per box, band 3000-5000 unless
said; see tests/test_propose_fixtures.py for the drawing) whose answers are worked out by
hand in the comments."""

from __future__ import annotations

import pandas as pd
from test_propose_fixtures import SPLIT, moves, row_study, write_row_study

from geo_pcn import Severity, Study, validate
from geo_pcn.proposal import Proposal, propose, settings_for
from geo_pcn.proposal.heuristic import construct, valid
from geo_pcn.render.proposal import proposal_markdown
from geo_pcn.scenario import Scenario


def errors(study, configuration) -> list[tuple[str, str]]:
    report = validate(study, configuration)
    return sorted((f.check, f.kind) for f in report.findings if f.severity == Severity.ERROR)


# -- the heuristic's answer, worked out by hand ---------------------------------------------


#   A00001 - A00002 - A00003 - A00004 - A00005      all U00001: 9000, no other PCN
#    2000     2000      800     1200     3000
# The heuristic splits U00001 (9000 > 5000) in ceil(9000 / 5000) = 2 pieces grown from
# far-apart roots: the heaviest practice is A00005, the farthest from it A00001 (root 1),
# the farthest from A00001 A00005 (root 2). The lighter piece grows first, taking its
# lightest neighbour while below 3000 and its heaviest after: {A00001} 2000 takes A00002
# (4000); {A00005} 3000 takes A00004 (4200); {A00001, A00002} 4000 takes A00003 (4800).
# The heavier piece (4800) keeps U00001, the other ({A00004, A00005}, 4200) is a new PCN:
# 4200 patients moved, and no single move keeps both in the band and costs less. The
# solver then finds the optimum, 4000 (tests/test_propose_fixtures.py, test 3).
def test_the_heuristic_answer_is_shown_beside_the_best_and_the_bound(tmp_path):
    study = row_study(tmp_path, SPLIT)
    proposal = propose(study, workers=1, time_limit=600)
    [part] = proposal.parts.to_dict("records")
    assert (part["heuristic"], part["objective"], part["bound"]) == (4200, 4000, 4000)
    assert part["status"] == "optimal"
    md = proposal_markdown(proposal)
    assert "| heuristic | best | bound | gap |" in md
    assert "| optimal | 4,200 | 4,000 | 4,000 | 0.00% |" in md


def test_the_heuristic_alone_gives_a_valid_configuration(tmp_path):
    """The same split, without the solver: construct() on the part gives the 4200 answer
    worked out above, and it passes the contiguity and size checks once applied."""
    from geo_pcn.proposal import _parts, settings_for

    study = row_study(tmp_path, SPLIT)
    settings = settings_for(study)
    [part], _ = _parts(study, study.configuration, {**settings, "_joined": set()})
    answer = construct(part)
    assert answer is not None and valid(part, answer)
    codes = [part.slots[k].code for k in answer]
    assert codes[:3] == ["U00001"] * 3 and codes[3] == codes[4] != "U00001"
    again = construct(part)
    assert again == answer  # no clock, no randomness left to chance: the same answer


# -- a band of [0, 10^15] ------------------------------------------------------------------


#   A00001 - A00002 - A00003 - A00004 - A00005
#   U00001   U00001   U00002   U00002   U00001      U00001 in two pieces
#    2000     2000     2000     2000     1000
# With the band [0, 10^15] every size is in it: only contiguity binds. A00005 (1000) must
# leave U00001 (or A00001 and A00002, 4000, must): into U00002 (joined to A00004) or a new
# PCN of its own, 1000 patients either way, one practice either way; the tie is broken by
# fewest new PCNs, so A00005 -> U00002, proven. (Issue 19 item 7: this band once gave
# "no solution" after 0.0 s, its 10^15 handed to the solver as a coefficient.)
def test_a_band_of_ten_to_the_fifteen_is_solved(tmp_path):
    row = [
        ("A00001", "U00001", 2000, 0),
        ("A00002", "U00001", 2000, 1),
        ("A00003", "U00002", 2000, 2),
        ("A00004", "U00002", 2000, 3),
        ("A00005", "U00001", 1000, 4),
    ]
    path = write_row_study(tmp_path, row)
    text = path.read_text(encoding="utf-8")
    assert "band = [3000, 5000]" in text
    path.write_text(text.replace("band = [3000, 5000]", "band = [0, 1000000000000000]"))
    study = Study.from_toml(path)
    assert study.rules.band[1] == 10**15
    proposal = propose(study, workers=1, time_limit=600)
    assert moves(proposal) == [("A00005", "U00001", "U00002", 1000)]
    s = proposal.summary
    assert (s["status"], s["value"], s["bound"]) == ("optimal", 1000, 1000)
    assert errors(study, proposal.configuration) == []


# -- an exempt PCN is capped ---------------------------------------------------------------


#   A00001 - A00002 - A00003
#   U00001   (none)   U00002        U00001 exempt
#    4000     2000     3000
# A00002 must be placed (placing is not a move: 0 either way). Into U00001: 6000, above
# both its own 4000 and the band's 5000: the cap on an exempt PCN forbids it. Into
# U00002: 5000, in the band. Alone: 2000, below it. So A00002 -> U00002, U00001 unchanged.
def test_an_exempt_pcn_may_not_grow_past_the_band(tmp_path):
    row = [("A00001", "U00001", 4000, 0), ("A00002", "", 2000, 1)]
    row.append(("A00003", "U00002", 3000, 2))
    study = row_study(tmp_path, row)
    proposal = propose(study, workers=1, exempt=["U00001"], time_limit=600)
    assert moves(proposal) == [("A00002", "", "U00002", 2000)]
    assert proposal.configuration.members["U00001"] == ("A00001",)
    assert "may grow only up to the band's upper limit" in proposal_markdown(proposal)


# -- nothing found is not "already passes" -------------------------------------------------


def test_no_configuration_found_is_not_called_a_pass(tmp_path):
    """A part that ended with no configuration (the search ran out of time): proposal.md
    says nothing was found and the errors remain, never that the configuration passes."""
    study = row_study(tmp_path, SPLIT)
    config = study.configuration
    parts = pd.DataFrame(
        [{"part": "QXX", "practices": 5, "pcns": 1, "slots": 3, "status": "no solution",
          "heuristic": None, "objective": None, "bound": 0, "gap": None}]
    )  # fmt: skip
    changes = pd.DataFrame(
        columns=["practice_code", "practice_name", "from_pcn", "from_name", "to_pcn",
                 "to_name", "patients", "part"]
    )  # fmt: skip
    summary = {
        "status": "no solution", "objective": "patients", "value": 0, "bound": None,
        "gap": None, "parts_without_solution": 1, "patients_moved": 0, "practices_moved": 0,
        "practices_placed": 0, "patients_placed": 0, "new_pcns": 0, "closed_pcns": 0,
        "n_parts": 1, "n_outside_band": 0, "seconds": 0.0,
    }  # fmt: skip
    settings = settings_for(study)
    proposal = Proposal(
        configuration=config, scenario=Scenario(operations=()), toml="", changes=changes,
        parts=parts, outside_band=[], summary=summary, settings=settings,
    )  # fmt: skip
    md = proposal_markdown(proposal)
    assert "already" not in md and "passes" not in md
    assert "no configuration was found" in md and "errors remain" in md


# -- an ejection chain ---------------------------------------------------------------------

#   A00001 - A00002 - A00003 - A00004 - A00005      path graph
#   U00001   U00001   U00002   U00002   U00003
#    4900      600     4400      600     3500      U00001 5500, U00002 5000, U00003 3500
#
# U00001 is 500 above the band; its only practice that can leave is A00002 (A00001 touches
# no other PCN, and alone A00002 would be a PCN of 600). A00002 -> U00002 makes U00002 5600
# (600 over: worse than 500); A00004 -> U00003 first leaves the 500 as it is (U00002 4400,
# U00003 4100). No single move lowers the patients outside the band, so the descent stops;
# the chain of both (A00002 -> U00002, A00004 -> U00003) brings all three into the band.
# It is also the only repair: U00002 at 5600 must lose 600 or more, and A00003 (4400) can
# go nowhere (U00001 would be 9300). 1200 patients moved, the optimum.
CHAIN2 = [
    ("A00001", "U00001", 4900, 0),
    ("A00002", "U00001", 600, 1),
    ("A00003", "U00002", 4400, 2),
    ("A00004", "U00002", 600, 3),
    ("A00005", "U00003", 3500, 4),
]


def _part_of(study):
    from geo_pcn.proposal import _parts

    [part], _ = _parts(study, study.configuration, {**settings_for(study), "_joined": set()})
    return part


def test_an_ejection_chain_repairs_what_no_single_move_can(tmp_path):
    from geo_pcn.proposal import heuristic as H

    part = _part_of(row_study(tmp_path, CHAIN2))
    st = H._State(part)
    for p, k in enumerate(part.current):
        st.put(p, k)
    H._descend(st, repair=True)
    assert st.penalty() == 500  # the descent is stuck: no single move helps
    H._chains(st)
    assert st.penalty() == 0
    answer = construct(part)
    codes = [part.slots[k].code for k in answer]
    assert codes == ["U00001", "U00002", "U00002", "U00003", "U00003"]
    proposal = propose(row_study(tmp_path / "again", CHAIN2), workers=1, time_limit=600)
    [row] = proposal.parts.to_dict("records")
    assert (row["heuristic"], row["objective"], row["bound"]) == (1200, 1200, 1200)


# -- a practice with no neighbours below the band ------------------------------------------


#   A00001   .   A00002 - A00003 - A00004
#   U00001       U00002   U00002   U00003
#    2000         4400      600     3500
#
# A00001 touches no practice (column 1 is empty): whatever happens U00001 holds 2000, below
# the band; its practices and every practice within reach hold 2000 in all. That PCN is
# named outside the band with that reason, and the rest of the part is still solved: here
# nothing else needs to change (U00002 5000 and U00003 3500 are in the band), so 0 moved,
# proven (bound 0), and the heuristic answers too.
def test_a_pcn_with_no_neighbours_below_the_band_is_named_and_the_rest_solved(tmp_path):
    row = [
        ("A00001", "U00001", 2000, 0),
        ("A00002", "U00002", 4400, 2),
        ("A00003", "U00002", 600, 3),
        ("A00004", "U00003", 3500, 4),
    ]
    study = row_study(tmp_path, row)
    proposal = propose(study, workers=1, time_limit=600)
    [part] = proposal.parts.to_dict("records")
    assert (part["status"], part["heuristic"], part["objective"], part["bound"]) == (
        "infeasible", 0, 0, 0,
    )  # fmt: skip
    [out] = proposal.outside_band
    assert (out["pcn_code"], out["size"], out["limit"]) == ("U00001", 2000, 3000)
    assert "every practice within reach hold 2,000 patients in all" in out["message"]
    assert moves(proposal) == []


#   A00001   .   A00002 - A00003 - A00004
#   U00001       U00001   U00001   U00002
#    2000         2000     2000     3500
#
# U00001 is in two pieces; A00001 touches no practice, so whatever PCN holds it holds
# A00001 alone (2000, below the band). Cheapest: A00001 leaves for a new PCN of its own
# (2000 moved; keeping it and moving A00002 and A00003 out moves 4000, and they fit
# nowhere else: U00002 would be 7500). That new PCN is named outside the band, and the
# part still gets a heuristic answer and a proven bound: 2000 = 2000.
def test_a_detached_practice_with_no_neighbours_is_a_pcn_of_its_own(tmp_path):
    row = [
        ("A00001", "U00001", 2000, 0),
        ("A00002", "U00001", 2000, 2),
        ("A00003", "U00001", 2000, 3),
        ("A00004", "U00002", 3500, 4),
    ]
    study = row_study(tmp_path, row)
    proposal = propose(study, workers=1, time_limit=600)
    [part] = proposal.parts.to_dict("records")
    assert (part["status"], part["heuristic"], part["objective"], part["bound"]) == (
        "infeasible", 2000, 2000, 2000,
    )  # fmt: skip
    [(practice, before, after, patients)] = moves(proposal)
    assert (practice, before, patients) == ("A00001", "U00001", 2000)
    assert after.startswith("NEW-U00001")
    [out] = proposal.outside_band
    assert (out["pcn_code"], out["size"], out["limit"]) == (after, 2000, 3000)
    assert "every practice within reach hold 2,000 patients in all" in out["message"]
    # the contiguity error is cleared; the one left is the new PCN below the band
    assert errors(study, proposal.configuration) == [("size", "below_band")]


# -- a long ejection chain ------------------------------------------------------------------

#   A01  A02 | A03  A04  A05 | A06  A07  A08 | A09  A10  A11 | A12     (a path, left to right)
#   U1   U1  | U2   U2   U2  | U3   U3   U3  | U4   U4   U4  | U5
#   5000 500 | 500  4000 500 | 500  4000 500 | 500  4000 500 | 3000
#   U1 5500 (500 above), U2 = U3 = U4 = 5000 (full), U5 3000 (2000 to spare)
#
# PCNs on a path are runs of boxes; let s_i be the patients crossing the line between U_i
# and U_i+1 to the right. U1 = 5500 - s1 <= 5000, so s1 >= 500; U2 = 5000 + s1 - s2 <= 5000,
# so s2 >= s1; likewise s4 >= s3 >= s2 >= 500, and U5 = 3000 + s4 <= 5000. No PCN can close
# (four hold at most 20,000 of the 23,500) and none can split (each holds less than twice
# 3000). So at least 4 x 500 = 2000 patients move, and the only way is each 500 at the
# right end passing on: A02 -> U2, A05 -> U3, A08 -> U4, A11 -> U5 (U5 3500). No single
# move helps (each fills the next PCN as much as it empties the last), nor a chain of 3
# (it ends in U4, full): only a chain of 4.
LONG = [
    ("A00001", "U00001", 5000, 0),
    ("A00002", "U00001", 500, 1),
    ("A00003", "U00002", 500, 2),
    ("A00004", "U00002", 4000, 3),
    ("A00005", "U00002", 500, 4),
    ("A00006", "U00003", 500, 5),
    ("A00007", "U00003", 4000, 6),
    ("A00008", "U00003", 500, 7),
    ("A00009", "U00004", 500, 8),
    ("A00010", "U00004", 4000, 9),
    ("A00011", "U00004", 500, 10),
    ("A00012", "U00005", 3000, 11),
]


def test_a_long_ejection_chain_passes_the_excess_along_four_pcns(tmp_path):
    from geo_pcn.proposal import heuristic as H

    part = _part_of(row_study(tmp_path, LONG))
    st = H._State(part)
    for p, k in enumerate(part.current):
        st.put(p, k)
    H._descend(st, repair=True)
    H._chains(st)
    assert st.penalty() == 500  # single moves and chains of 3 are stuck
    H._long_chains(st)
    assert st.penalty() == 0
    answer = construct(part)
    codes = [part.slots[k].code for k in answer]
    assert codes == ["U00001"] + ["U00002"] * 3 + ["U00003"] * 3 + ["U00004"] * 3 + ["U00005"] * 2
    proposal = propose(row_study(tmp_path / "again", LONG), workers=1, time_limit=600)
    [row] = proposal.parts.to_dict("records")
    assert (row["heuristic"], row["objective"], row["bound"]) == (2000, 2000, 2000)
    assert moves(proposal) == [
        ("A00002", "U00001", "U00002", 500),
        ("A00005", "U00002", "U00003", 500),
        ("A00008", "U00003", "U00004", 500),
        ("A00011", "U00004", "U00005", 500),
    ]


# -- infeasible for the part, and the PCNs around named --------------------------------------


#   A00001 - A00002
#   U00001   U00002
#    2000     4500
#
# U00001 (2000) is below the band. It can reach 3000 only by taking A00002 (then 6500,
# above it), or close, A00001 joining U00002 (6500, above it); U00002 cannot split (4500 is
# less than twice 3000). So no configuration meets the band: infeasible, proven by the
# solver (A00001 and A00002 hold 6500 in all, so the cheap proof of a PCN that cannot grow
# does not apply). With fewest patients outside the band (1000: U00001 as it is, against
# 1500 either other way) nothing moves, and the message says the proof is for the part and
# names U00002 (4,500) as the PCN U00001 may join and take practices from.
def test_an_infeasible_part_names_the_pcn_left_out_and_those_around_it(tmp_path):
    row = [("A00001", "U00001", 2000, 0), ("A00002", "U00002", 4500, 1)]
    study = row_study(tmp_path, row)
    proposal = propose(study, workers=1, time_limit=600)
    [part] = proposal.parts.to_dict("records")
    assert part["status"] == "infeasible" and part["bound"] is None
    assert moves(proposal) == []
    [out] = proposal.outside_band
    assert (out["pcn_code"], out["size"], out["limit"]) == ("U00001", 2000, 3000)
    message = out["message"]
    assert "No configuration of part" in message and "proven" in message
    assert "its practices may join U00002 (4,500)" in message
    assert "it may take practices from U00002 (4,500)" in message
    md = proposal_markdown(proposal)
    assert "## PCNs left outside the band" in md
    assert "- **infeasible**: proven: no configuration the model allows" in md


# -- a PCN joined only by its own footprint --------------------------------------------------


#   A00001 - A00002 - A00003
#   U00001   U00001   U00002
#    2000     2000     3500        (U00001 4000, in the band)
#
# Told that the contiguity check joins U00001 only through its own footprint (as the
# report says of such a PCN), the model keeps it as it is: inside the band, a change could
# undo the join (the national proposal once left 29 such PCNs in pieces). So its slot is
# free of the graph but may hold only A00001 and A00002, and no other slot may take them
# (U00002's slot, whose reach covers A00002, holds A00003 only). Above the band (A00001
# 4000: U00001 6000) it must change, so it is held to the graph like any other PCN and
# U00002 may take A00002 again.
def test_a_pcn_joined_by_its_footprint_is_kept_inside_the_band_and_held_outside(tmp_path):
    from geo_pcn.proposal import _parts

    def slots(row, folder):
        study = row_study(folder, row)
        settings = {**settings_for(study), "_joined": {"U00001"}}
        [part], _ = _parts(study, study.configuration, settings)
        return {s.code: (s.contiguous, s.candidates) for s in part.slots if not s.new}

    row = [("A00001", "U00001", 2000, 0), ("A00002", "U00001", 2000, 1)]
    row.append(("A00003", "U00002", 3500, 2))
    inside = slots(row, tmp_path / "in")
    assert inside == {"U00001": (False, (0, 1)), "U00002": (True, (2,))}
    row[0] = ("A00001", "U00001", 4000, 0)
    above = slots(row, tmp_path / "above")
    assert above == {"U00001": (True, (0, 1, 2)), "U00002": (True, (1, 2))}
