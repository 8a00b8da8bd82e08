"""An exempt PCN's cap is kept by every answer a proposal shows (issue 22: "an exempt PCN
may not absorb practices without limit"): the heuristic's answer outside the band, a part
begun from an answer before, and the last resort's put-backs."""

from __future__ import annotations

from geo_pcn.proposal._last_resort import _back
from geo_pcn.proposal._objective import within_caps
from geo_pcn.proposal._part import Part, PartResult, Slot
from geo_pcn.proposal.heuristic import best_effort, valid

#: band 3,000-5,000; E is exempt, so its cap is the band's upper limit (5,000, more than
#: its 4,500). A may be in E only; B in E or X::
#:
#:     A (4,500, E: exempt, cap 5,000) --- B (1,000, X)
#:
#: X holding B alone is 2,000 below the band; B in E leaves X unused but takes E to 5,500,
#: 500 over its cap. Counted as patients outside the limits, 500 < 2,000: the old heuristic
#: moved B into E and showed it. Kept, the cap leaves the only answer: A in E, B in X,
#: 2,000 below the band.
TWO = Part(
    name="two",
    practices=("A", "B"),
    weights=(4500, 1000),
    current=(0, 1),
    placed=(True, True),
    edges=((0, 1),),
    slots=(
        Slot("E", "E", False, False, True, (0, 1), cap=5000),
        Slot("X", "X", False, True, True, (1,)),
    ),
    band=(3000, 5000),
)


def test_an_answer_over_a_cap_is_not_valid_even_outside_the_band():
    """``valid(band=False)`` is every rule but the band: B in E (5,500 over a cap of
    5,000) breaks one, B in X (below the band) does not."""
    assert not valid(TWO, (0, 0), band=False)
    assert not within_caps(TWO, (0, 0))
    assert valid(TWO, (0, 1), band=False)
    assert not valid(TWO, (0, 1))  # X is below the band


def test_the_heuristic_keeps_the_cap_when_it_cannot_meet_the_band():
    """The heuristic's answer outside the band (the one shown as ``band not met``) keeps
    E within its cap: B stays in X, 2,000 below the band (by hand, above)."""
    answer, complete = best_effort(TWO)
    assert (answer, complete) == ((0, 1), False)


def test_a_put_back_that_would_take_a_pcn_over_its_cap_is_not_made():
    """The last resort puts practices back in their given PCNs. Here E (exempt, cap 5,000
    = the band's upper limit) gave P away and took Q::

        P (3,000, was E) --- R (2,000, E) --- Q (2,500, was X)
                                                  |
                                              S (3,000, X)

    The answer: E = {R, Q} 4,500, X = {P, S} 6,000 (over the band, as answers the last
    resort mends may be). Putting P back in E makes E = 7,500, over its cap 5,000: not
    done, the answer is left as it was. Putting Q back in X keeps every cap: done."""
    part = Part(
        name="four",
        practices=("P", "Q", "R", "S"),
        weights=(3000, 2500, 2000, 3000),
        current=(0, 1, 0, 1),
        placed=(True, True, True, True),
        edges=((0, 2), (1, 2), (1, 3)),
        slots=(
            Slot("E", "E", False, False, True, (0, 1, 2, 3), cap=5000),
            Slot("X", "X", False, True, True, (0, 1, 2, 3)),
        ),
        band=(3000, 5000),
    )
    result = PartResult(
        name="four", status="time limit", assignment=("X", "E", "E", "X"),
        objective="patients", value=5500, bound=5000, gap=0.09, patients_moved=5500,
        practices_moved=2, seconds=1.0, n_variables=0, n_constraints=0,
        outside_band={"X": (6000, 5000)},
    )  # fmt: skip
    assert _back(part, result, {"P"}, ["E"]) is result
    back = _back(part, result, {"Q"}, ["E"])
    assert back.assignment == ("X", "X", "E", "X")
    assert back.patients_moved == 3000
