"""The two exact searches of propose() agree (issue 22 item 2): SCIP (one branch-and-bound,
separator cuts added lazily by a constraint handler) when pyscipopt is installed, and the
HiGHS rounds of cuts when it is not. On the hand-drawn studies of
tests/test_propose_fixtures.py and tests/test_propose_heuristic.py, whose optima are worked
out by hand there, both give those optima, proven, and the same moves."""

from __future__ import annotations

import pytest
from test_propose_fixtures import CHAIN, SPLIT, moves, row_study
from test_propose_heuristic import CHAIN2

from geo_pcn.proposal import _scip, propose

pytest.importorskip("pyscipopt")

# (row, the optimum worked out by hand where the row is drawn)
CASES = {"chain": (CHAIN, 1500), "split": (SPLIT, 4000), "ejection chain": (CHAIN2, 1200)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_scip_and_highs_find_the_same_proven_optimum(tmp_path, monkeypatch, name):
    row, optimum = CASES[name]
    with_scip = propose(row_study(tmp_path / "scip", row), workers=1, time_limit=600)
    monkeypatch.setattr(_scip, "available", lambda: False)
    with_highs = propose(row_study(tmp_path / "highs", row), workers=1, time_limit=600)
    for proposal in (with_scip, with_highs):
        s = proposal.summary
        assert (s["status"], s["value"], s["bound"]) == ("optimal", optimum, optimum)
    assert moves(with_scip) == moves(with_highs)
