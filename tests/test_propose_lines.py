"""propose() keeps the lines (issue 22 item 3): crossings of sub-ICB, ICB and place lines
added are the second objective, after patients and before the tie-breaks, and proposal.md
lists every crossing added and why. Tiny hand-drawn studies (a row of 1 km boxes, one
practice per box, band 3000-5000; see tests/test_propose_fixtures.py), answers worked out
by hand in the comments."""

from __future__ import annotations

import pytest
from test_propose_fixtures import moves, row_study

from geo_pcn import Severity, validate
from geo_pcn.proposal import _parts, added_crossings, propose, settings_for
from geo_pcn.proposal.heuristic import construct
from geo_pcn.proposal.model import crossings_added
from geo_pcn.render.proposal import proposal_markdown

#   A00001 - A00002 - A00003 - A00004 - A00005      path graph
#   U00001   U00001   U00002   U00003   U00003
#    3000     1500     2000     1500     3000      U00001 4500, U00002 2000, U00003 4500
#
# U00002 (2000) is below the band and must change. Closing it puts A00003 (2000) into
# U00001 or U00003: 6500, above. So it gains a neighbour: A00002 (1500) from U00001 (which
# keeps 3000) or A00004 (1500) from U00003 (which keeps 3000): 3500 either way. Both move
# 1500 patients, one practice, open no PCN: a tie on every other objective, so only the
# lines tell them apart. Taking both moves 3000, and nothing else brings U00002 into the
# band, so 1500 is the optimum with exactly these two repairs.
TIED = [
    ("A00001", "U00001", 3000, 0),
    ("A00002", "U00001", 1500, 1),
    ("A00003", "U00002", 2000, 2),
    ("A00004", "U00003", 1500, 3),
    ("A00005", "U00003", 3000, 4),
]

# The place line drawn in either gap beside A00003: the repair from the side of the line
# A00003 is on keeps every line; the other adds a crossing. The model ignores geometry for
# everything else, so whichever repair it would pick without the lines, one of the two
# drawings catches it.
LINE_LEFT = {"WEST": range(0, 2), "EAST": range(2, 20)}  # | between A00002 and A00003
LINE_RIGHT = {"WEST": range(0, 3), "EAST": range(3, 20)}  # | between A00003 and A00004


@pytest.mark.parametrize(
    ("places", "expected"),
    [
        (LINE_LEFT, ("A00004", "U00003", "U00002", 1500)),
        (LINE_RIGHT, ("A00002", "U00001", "U00002", 1500)),
    ],
)
def test_of_two_repairs_that_cost_the_same_the_one_keeping_the_line(tmp_path, places, expected):
    study = row_study(tmp_path, TIED, places=places)
    proposal = propose(study, workers=1, time_limit=600)
    assert moves(proposal) == [expected]
    s = proposal.summary
    assert (s["value"], s["bound"], s["n_crossings_added"]) == (1500, 1500, 0)
    assert proposal.crossings_added == []
    report = validate(study, proposal.configuration)
    assert [f for f in report.findings if f.severity == Severity.ERROR] == []
    assert [f for f in report.findings if f.kind == "crosses_boundary"] == []
    md = proposal_markdown(proposal)
    assert "## Crossings added" in md and "None: no PCN of the proposal crosses" in md


#   A00001 - A00002 - A00003 - A00004 - A00005
#   U00001   U00001   U00002   U00003   U00003
#    3000     1400     2000     1500     3000
#   WEST     WEST   | MID |   EAST     EAST       place lines on both sides of A00003
#
# U00002 (2000, alone in MID) must gain A00002 (1400: U00001 keeps 3000, U00002 3400) or
# A00004 (1500: U00003 keeps 3000, U00002 3500); closing it is above the band either way
# (6400 or 6500). Every repair puts U00002 across a line: one crossing added whatever
# happens, so the cheaper one, A00002 -> U00002 (1400), and proposal.md lists the crossing
# (U00002 gains WEST) and says no repair keeps every line.
def test_a_crossing_every_repair_needs_is_listed_and_why(tmp_path):
    row = [list(r) for r in TIED]
    row[1][2] = 1400
    places = {"WEST": range(0, 2), "MID": range(2, 3), "EAST": range(3, 20)}
    study = row_study(tmp_path, [tuple(r) for r in row], places=places)
    proposal = propose(study, workers=1, time_limit=600)
    assert moves(proposal) == [("A00002", "U00001", "U00002", 1400)]
    [added] = proposal.crossings_added
    got = (added["pcn_code"], added["layer"], added["areas_added"])
    assert got == ("U00002", "place", ["WEST"])
    assert added["practices"] == ["A00002"]
    assert "no repair of the band and contiguity keeps every line" in added["message"]
    [crossing] = [
        f for f in validate(study, proposal.configuration).findings if f.kind == "crosses_boundary"
    ]
    assert crossing.pcn_code == "U00002"  # the check sees the one crossing listed
    md = proposal_markdown(proposal)
    assert "U00002 now has practices in 2 place areas (MID, WEST)" in md


#   A00001 - A00002 - A00003 - A00004 - A00005
#   U00001   U00001   U00002   U00003   U00003
#    3000     1500     2000     1600     3000
#   WEST     WEST   | EAST     EAST     EAST
#
# A00002 -> U00002 (1500) crosses the line; A00004 -> U00002 (1600: U00003 keeps 3000,
# U00002 3600) keeps it. Patients come first: 1500 with the crossing, and proposal.md says
# keeping every line would move 1,600 (proven).
def test_a_crossing_that_saves_patients_is_kept_and_priced(tmp_path):
    row = [list(r) for r in TIED]
    row[3][2] = 1600
    study = row_study(tmp_path, [tuple(r) for r in row], places=LINE_LEFT)
    proposal = propose(study, workers=1, time_limit=600)
    assert moves(proposal) == [("A00002", "U00001", "U00002", 1500)]
    [added] = proposal.crossings_added
    assert added["pcn_code"] == "U00002" and added["areas_added"] == ["WEST"]
    assert "keeps every line moves 1,600 registered patients moved (proven)" in added["message"]
    assert "against 1,500" in added["message"]


def test_the_heuristic_and_the_model_count_crossings_alike(tmp_path):
    """crossings_added() on the part counts what added_crossings() (the check's way)
    lists, on the hand-drawn repairs: A00002 -> U00002 adds one place crossing under
    LINE_LEFT, none under LINE_RIGHT; staying put adds none."""
    for places, want in ((LINE_LEFT, 1), (LINE_RIGHT, 0)):
        study = row_study(tmp_path / str(want), TIED, places=places)
        settings = settings_for(study)
        [part], _ = _parts(study, study.configuration, {**settings, "_joined": set()})
        assert [layer for layer, _ in part.lines] == ["place"]
        u2 = [s.code for s in part.slots].index("U00002")
        now = tuple(part.current)
        assert crossings_added(part, now) == 0
        answer = list(now)
        answer[1] = u2  # A00002 -> U00002
        assert crossings_added(part, tuple(answer)) == want
        after = study.configuration.move(["A00002"], to="U00002")
        assert len(added_crossings(study, study.configuration, after)) == want
        assert construct(part) is not None


@pytest.mark.parametrize(
    ("places", "joins"), [(LINE_LEFT, "A00004"), (LINE_RIGHT, "A00002")]
)
def test_the_heuristic_keeps_the_line_too(tmp_path, places, joins):
    """construct() alone (no solver) breaks the same tie the same way: of the two moves
    that bring U00002 into the band at 1500 patients, the one from its side of the line."""
    study = row_study(tmp_path, TIED, places=places)
    [part], _ = _parts(study, study.configuration, {**settings_for(study), "_joined": set()})
    answer = construct(part)
    codes = dict(zip(part.practices, (part.slots[k].code for k in answer), strict=True))
    changed = sorted(p for p in codes if codes[p] != study.configuration.assignments[p])
    assert changed == [joins] and codes[joins] == "U00002"
    assert crossings_added(part, answer) == 0
