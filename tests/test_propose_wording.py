"""What a proposal says it found (issue 22, "say what was found"): the fewest patients
outside the band proven or only found, a part solved again proven to have no
configuration, and a new PCN named after the PCN most of its patients come from."""

from __future__ import annotations

from dataclasses import replace

import pytest
from paths import OUT_OF_REACH, path_part

from geo_pcn.proposal._explain import _why
from geo_pcn.proposal._judge import _resolve
from geo_pcn.proposal._names import _provisional
from geo_pcn.proposal.model import PartResult, Slot, solve

# OUT_OF_REACH (tests/paths.py): no configuration inside the band; the fewest patients
# outside it, 800 ({0,1}|{2,3}), is proven by a finished search.

SETTINGS = {"reach": 1, "within": None, "exempt": []}


def _result(part, status, assignment=()) -> PartResult:
    return PartResult(
        part.name, status, assignment, part.objective, None, None, None, None, None, 0.0, 0, 0
    )


def test_the_fewest_outside_the_band_proven_is_said_so():
    """CP-SAT finishes (800 outside the band is the least, by hand above): ``proven``,
    and proposal.md keeps "of those that come nearest"."""
    pytest.importorskip("ortools")
    result = solve(OUT_OF_REACH)
    assert (result.status, result.fewest) == ("infeasible", "proven")
    said = _why(OUT_OF_REACH, "U1", 5400, 5000, SETTINGS, "infeasible", "U1", "", result.fewest)
    assert "of those that come nearest, with fewest patients outside the band" in said["message"]
    assert "not proven" not in said["message"]


def test_the_fewest_outside_the_band_found_but_not_proven_is_said_so(monkeypatch):
    """When CP-SAT's search for the fewest outside the band stops before its proof (here:
    it returns the answer it was given, {0}|{1,2,3}, 3,200 outside, unproven), the part
    says ``found`` and proposal.md says "found in the time given (not proven the
    fewest)", not "those that come nearest"."""
    pytest.importorskip("ortools")
    from geo_pcn.proposal import _cpsat

    monkeypatch.setattr(_cpsat, "fewest_outside", lambda part, graph, effort, **k: (effort, False))
    result = solve(OUT_OF_REACH)
    assert (result.status, result.fewest) == ("infeasible", "found")
    said = _why(OUT_OF_REACH, "U1", 5400, 5000, SETTINGS, "infeasible", "U1", "", result.fewest)
    message = said["message"]
    assert "fewest patients outside the band found in the time given (not proven" in message
    assert "come nearest" not in message


def test_a_part_solved_again_proven_to_have_none_is_not_said_to_have_run_out_of_time():
    """Solved again with a practice held, a part whose band is proven out of reach (the
    softer freeze's parts need the band: ``infeasible`` with no answer) is said to be
    proven to have none; one that found nothing (``no solution``) ran out of time."""
    part = replace(OUT_OF_REACH, name="P", need_band=True)
    before = _result(part, "infeasible", ("U1", "U1", "U2", "U2"))
    for status, said in (
        ("infeasible", "was proven to have no configuration inside the band with them held"),
        ("no solution", "found no configuration in the time given"),
    ):

        def solve_all(parts, status=status):
            return [_result(p, status) for p in parts]

        _, _, failed = _resolve([part], [before], {0: {"A00001"}}, {0}, solve_all)
        ((i, why),) = failed
        assert i == 0 and said in why


def test_a_new_pcn_grown_from_practices_in_no_pcn_is_named_after_where_most_come_from():
    """A new PCN whose practices were in no PCN or in U2 is named after where most of its
    patients come from::

        0 ------ 1 ------ 2 ------ 3
        500      3000     2800     4000
        no PCN   U2       U2       U3

    The new PCN {0, 1}: 500 from no PCN, 3,000 from U2: it is U2's (``NEW-U2-1``, "Second
    PCN (new PCN 1)"). A new PCN {3} of practices in no PCN alone keeps the name it had."""
    part = path_part(
        [500, 3000, 2800, 4000],
        [-1, 0, 0, -1],
        [
            Slot("U2", "U2", False, True, True, (0, 1, 2, 3)),
            Slot("\0new  0", "", True, True, True, (0, 1, 2, 3)),
            Slot("\0new  1", "", True, True, True, (0, 1, 2, 3)),
        ],
        name="E54000099",
    )
    got = {"A00001": "\0new  0", "A00002": "\0new  0", "A00003": "U2", "A00004": "\0new  1"}
    names = {"U2": "Second PCN"}
    out = _provisional(part, got, names, {"U2"})
    assert out == {
        "\0new  0": ("NEW-U2-1", "Second PCN (new PCN 1)"),
        "\0new  1": ("NEW-E54000099-1", "New PCN 1 in E54000099 (practices in no PCN)"),
    }
