"""The exact side of propose() (issue 22 item 2): the rows SCIP gets besides the lazy cuts,
the cuts it separates from fractional solutions, and CP-SAT's search from an incumbent.

Each part is drawn by hand as a :class:`~geo_pcn.proposal.model.Part` (plain numbers: the
solvers see nothing else), a path of practices whose graph and sizes are in the comment
above it, with the answer worked out there. No assertion depends on the machine's speed:
the searches get a generous limit and finish in well under a second."""

from __future__ import annotations

import pytest
from paths import SPLIT, path_part

from geo_pcn.proposal import _scip
from geo_pcn.proposal.model import Slot, _Graph, _score

# -- the least sum of whole practices --------------------------------------------------------


def test_least_sum_of_whole_practices():
    # subsets of {10, 20, 35}: 10, 20, 30, 35, 45, 55, 65
    assert _scip._least_sum([10, 20, 35], 25) == 30  # 10 + 20
    assert _scip._least_sum([10, 20, 35], 36) == 45  # 10 + 35
    assert _scip._least_sum([10, 20, 35], 65) == 65  # all
    assert _scip._least_sum([10, 20, 35], 66) is None  # more than all
    assert _scip._least_sum([10, 20, 35], 0) == 0  # nothing to reach


# -- a PCN above the band --------------------------------------------------------------------

#   0 ------ 1 ------ 2 ------ 3          path graph
#   U1       U1       U1       U2
#   2000     2000     1500     2500       U1 5500 (above the band [3000, 5000]), U2 2500
# Slots: U1 (0), U2 (1), one new PCN of U1 (2) that may hold U1's practices 0-2.
# U1 must lose 500 at least; whole practices: the least sum of {2000, 2000, 1500} reaching
# 500 is 1500. When it opens its new PCN, that PCN holds 3000 at least of U1's own practices:
# the least such sum is 3500 (2000 + 1500), 2000 more than 1500. So the row is
# leaving(U1) >= 1500 + 2000 * y[new]; U2 is not above the band: no row.
CHAIN = path_part(
    [2000, 2000, 1500, 2500],
    [0, 0, 0, 1],
    [
        Slot("U1", "U1", False, True, True, (0, 1, 2, 3)),
        Slot("U2", "U2", False, True, True, (2, 3)),
        Slot("\0new U1 1", "U1", True, True, True, (0, 1, 2)),
    ],
)


def test_a_pcn_above_the_band_loses_its_excess_in_whole_practices():
    rows = list(_scip._over_band_rows(CHAIN))
    assert rows == [(0, ([(0, 2000), (1, 2000), (2, 1500)], [(2, 2000)]), 1500)]


# -- cuts from a fractional solution ---------------------------------------------------------

#   0 ------ 1 ------ 2                   path graph, one slot (k = 0) that may hold all three
# x[0] = 0.8, x[1] = 0, x[2] = 0.7: the slot's support {0, 2} is in two groups, and
# x[0] + x[2] - x[1] = 1.5 > 1 breaks the separator cut of 0 and 2 around {0} (practice 1).
# With x[1] = 0.1 the support {0, 1, 2} is one group: no cut from the support.
LINE = path_part(
    [2000, 2000, 2000],
    [0, 0, 0],
    [Slot("U1", "U1", False, True, True, (0, 1, 2))],
)


def test_a_fractional_solution_in_two_groups_gets_a_separator_cut():
    graph = _Graph(LINE)
    cut = _scip._support_cuts(LINE, graph, {(0, 0): 0.8, (1, 0): 0.0, (2, 0): 0.7})
    assert cut == {(0, 0, 2, (1,))}
    assert _scip._support_cuts(LINE, graph, {(0, 0): 0.8, (1, 0): 0.1, (2, 0): 0.7}) == set()
    # two groups whose best shares add up to 1 or less: nothing is broken
    assert _scip._support_cuts(LINE, graph, {(0, 0): 0.5, (1, 0): 0.0, (2, 0): 0.5}) == set()


# -- CP-SAT from an incumbent ----------------------------------------------------------------

#   0 ------ 1 ------ 2 ------ 3 ------ 4      all U1: 9000, band [3000, 5000]
#   2000     2000     800      1200     3000
# (tests/test_propose_fixtures.py SPLIT.) U1 must split into contiguous pieces, a prefix and
# a suffix of the path: 4000 | 5000 (after practice 1) or 4800 | 4200 (after 2); three pieces
# move 6000 at least. The incumbent moves 3 and 4 (4200); the optimum moves 0 and 1 (4000).
# (tests/paths.py SPLIT)


def test_cpsat_improves_the_incumbent_to_the_proven_optimum():
    pytest.importorskip("ortools")
    from geo_pcn.proposal import _cpsat

    incumbent = _score(SPLIT, (0, 0, 0, 1, 1))
    assert incumbent["value"] == 4200
    found, bound, proven = _cpsat.improve(
        SPLIT, _Graph(SPLIT), incumbent, seconds=600, target=0.0, score=_score
    )
    assert (found["value"], bound, proven) == (4000, 4000, True)
    # practices 0 and 1 together in one new PCN, the rest stay
    assert found["slots"][0] == found["slots"][1] != 0
    assert found["slots"][2:] == (0, 0, 0)


def test_cpsat_returns_nothing_when_it_cannot_beat_the_incumbent():
    pytest.importorskip("ortools")
    from geo_pcn.proposal import _cpsat

    best = _score(SPLIT, (1, 1, 0, 0, 0))  # already the optimum, 4000
    found, bound, proven = _cpsat.improve(
        SPLIT, _Graph(SPLIT), best, seconds=600, target=0.0, score=_score
    )
    assert found is None
    assert bound == 4000 and proven


def test_cpsat_takes_over_when_scip_stalls(monkeypatch):
    """SCIP stands in here for a search that stalls: at its pause it is 50% from its bound
    and has not beaten the incumbent (4200, SPLIT above), so CP-SAT searches, and its
    answer (4000) and bound (4000, proven above by hand) are kept even when SCIP does not
    take the answer."""
    pytest.importorskip("ortools")
    import time

    from geo_pcn.proposal import model

    incumbent = _score(SPLIT, (0, 0, 0, 1, 1))

    def stalled(part, graph, cuts, target, left, *, score, incumbent=None, pause=None):
        assert pause is not None  # SCIP is told to pause
        better = pause[1](0.5, incumbent)  # 50% from the bound: CP-SAT searches
        assert better["value"] == 4000
        return 2100, incumbent, "time limit"

    monkeypatch.setattr(_scip, "first_objective", stalled)
    bound, best, status = model._exact(
        SPLIT, _Graph(SPLIT), set(), 0.0, incumbent, time.perf_counter() + 600
    )
    assert (bound, best["value"], status) == (4000, 4000, "time limit")


def test_scip_goes_on_alone_when_close_to_its_bound(monkeypatch):
    """Within 10% of its bound at the pause, SCIP keeps the time: CP-SAT is not called.
    (Whether SCIP beat the incumbent by then is its own test, before it asks.)"""
    import time

    from geo_pcn.proposal import _cpsat, model

    incumbent = _score(SPLIT, (0, 0, 0, 1, 1))

    def close(part, graph, cuts, target, left, *, score, incumbent=None, pause=None):
        assert pause[1](0.05, incumbent) is None  # 5% from the bound: no CP-SAT
        return 4100, incumbent, "time limit"

    def never(*args, **kwargs):
        raise AssertionError("CP-SAT called")

    monkeypatch.setattr(_scip, "first_objective", close)
    monkeypatch.setattr(_cpsat, "improve", never)
    bound, best, _ = model._exact(
        SPLIT, _Graph(SPLIT), set(), 0.0, incumbent, time.perf_counter() + 600
    )
    assert (bound, best["value"]) == (4100, 4200)
