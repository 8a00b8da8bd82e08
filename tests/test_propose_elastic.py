"""The national propose toward ten minutes (issue 22): a part whose band is proven out of
reach is answered by CP-SAT's fewest patients outside the band and fewest moves with them
(not the flow model's whole time), a part solved again only for an answer inside the band
ends at the proof, and a part gets at most MOST times its own time.

Parts drawn by hand (a path of practices, sizes under them), answers worked out in the
docstrings. No assertion depends on the machine's speed: every search here ends proven
in well under a second of its generous limit."""

from __future__ import annotations

from dataclasses import replace

import pytest
from paths import OUT_OF_REACH, path_part

from geo_pcn.proposal.model import PartResult, Slot, solve

# OUT_OF_REACH (tests/paths.py): no configuration inside the band; 800 outside at
# least, then 2600 moved (U1 = {0,1}, U2 = {2,3}).


def test_the_fewest_outside_the_band_then_the_fewest_moves_without_the_flow_model(
    monkeypatch,
):
    """CP-SAT proves 800 patients outside the band the fewest and moves 2600 with them:
    the part ends there, the flow model (HiGHS, ``_run``) never called for it."""
    pytest.importorskip("ortools")
    pytest.importorskip("pyscipopt")
    from geo_pcn.proposal import model

    def no_flow(*args, **kwargs):
        if kwargs.get("elastic"):
            raise AssertionError("the elastic flow model was solved")
        return real(*args, **kwargs)

    real = model._run
    monkeypatch.setattr(model, "_run", no_flow)
    result = solve(OUT_OF_REACH)
    assert result.status == "infeasible"
    assert result.assignment == ("U1", "U1", "U2", "U2")
    assert result.outside_band == {"U1": (5400, 5000), "U2": (5400, 5000)}
    assert (result.value, result.patients_moved, result.practices_moved) == (2600, 2600, 1)


def test_a_part_that_needs_the_band_ends_at_the_proof(monkeypatch):
    """Solved only for an answer inside the band (the softer freeze), the part ends once
    the band is proven out of reach: no answer, nothing searched outside the band."""
    pytest.importorskip("pyscipopt")
    from geo_pcn.proposal import _cpsat, model

    def never(*args, **kwargs):
        raise AssertionError("searched outside the band")

    monkeypatch.setattr(model, "_elastic", never)
    monkeypatch.setattr(_cpsat, "fewest_outside", never)
    result = solve(replace(OUT_OF_REACH, need_band=True))
    assert (result.status, result.assignment, result.value) == ("infeasible", (), None)


def test_the_softer_freeze_solves_its_parts_for_the_band_only(tmp_path, monkeypatch):
    """The softer freeze takes a part's answer only inside the band, so the parts it
    solves say so (``need_band``); the first solves and the judging rounds do not. On the
    drawn study of test_propose_joins, the answer is unchanged: A00001 -> U00002, 1,500
    patients, proven optimal."""
    from test_pieces import make_study
    from test_propose_joins import SOFT_AREAS, SOFT_PRACTICES, SOFT_REGISTRATIONS

    import geo_pcn.proposal as proposal_module

    real = proposal_module._solve_all
    asked = []

    def seen(parts, **options):
        asked.append([p.need_band for p in parts])
        return real(parts, **options)

    monkeypatch.setattr(proposal_module, "_solve_all", seen)
    study = make_study(tmp_path, SOFT_AREAS, SOFT_PRACTICES, SOFT_REGISTRATIONS)
    proposal = proposal_module.propose(study, workers=1, time_limit=60)
    assert asked == [[False], [True]]  # the first solve, then the softer freeze
    s = proposal.summary
    assert (s["status"], s["value"], s["bound"]) == ("optimal", 1500, 1500)


def test_a_part_gets_at_most_most_times_its_own_time():
    """Parts A (10 practices), B (20), C (30), 30 s each, in turn: A takes 1 s (29 spare),
    B starts with 30 + 29 * 20 / 50 = 41.6 s and takes 1 (17.4 + 40.6 = 58 spare), C would
    get 30 + 58 but gets 1.5 * 30 = 45 s: the rest is not spent."""
    from geo_pcn.proposal import _budget

    assert _budget.MOST == 1.5

    def part(name, n):
        return path_part(
            [1000] * n, [0] * n, [Slot("U1", "U1", False, False, True, ())], name, 30.0
        )

    given = []

    def quick(p):
        given.append((p.name, round(p.time_limit, 3)))
        return PartResult(p.name, "optimal", (), "patients", 0, 0, 0.0, 0, 0, 1.0, 0, 0)

    _budget.in_turn([part("C", 30), part("A", 10), part("B", 20)], quick)
    assert given == [("A", 30.0), ("B", 41.6), ("C", 45.0)]


def test_a_new_pcn_of_a_joined_pcn_left_outside_the_band_calls_for_the_softer_freeze():
    """Band [3000, 5000]::

        0 ------ 1 ------ 2 ------ 3
        1000     1000     2000     2000

    X (joined by its footprint) has made a new PCN of practices 0 and 1 (2000: below the
    band) and is used no more; Y holds 2 and 3 (4000). The PCN left outside the band is
    X's own new PCN: freeing X may help, so the softer freeze is called for (E54000052 of
    July 2022: NEW-U88407-1 left 393 below the band; before, only X itself or a PCN beside
    X's practices counted, and the part was not solved again)."""
    from geo_pcn.proposal._judge import _joined_in_the_way

    part = path_part(
        [1000, 1000, 2000, 2000],
        [0, 0, 2, 2],
        [
            Slot("X", "X", False, True, True, (0, 1, 2)),
            Slot("\0new X 1", "X", True, True, True, (0, 1)),
            Slot("Y", "Y", False, True, True, (1, 2, 3)),
        ],
    )
    answer = ("\0new X 1", "\0new X 1", "Y", "Y")
    result = PartResult(
        "P", "infeasible", answer, "patients", 2000, None, None, 2000, 2, 1.0, 0, 0,
        outside_band={"\0new X 1": (2000, 3000)},
    )  # fmt: skip
    assert _joined_in_the_way(part, result, {"X"})
    assert not _joined_in_the_way(part, result, {"W"})  # no PCN of the part is joined


def test_the_judging_makes_the_configuration_the_scenario_makes(tmp_path):
    """The judging makes the proposed configuration in one step (``_configured``), not
    through the scenario: the same assignments as the scenario's, new PCN and its name
    included. The drawn path of test_propose_fixtures::

        A00001 - A00002 - A00003 - A00004 - A00005      all U00001: 9000, no other PCN
         2000     2000      800     1200     3000

    splits into NEW-U00001-1 = A00001, A00002 (4000) and U00001 = A00003-A00005 (5000)."""
    from test_propose_fixtures import SPLIT, row_study

    import geo_pcn.proposal as proposal_module
    from geo_pcn.proposal._parts import _parts

    study = row_study(tmp_path, SPLIT)
    config = study.configuration
    settings = proposal_module.settings_for(study, time_limit=60)
    parts, names = _parts(study, config, {**settings, "_joined": set()})
    results = [solve(p) for p in parts]
    fast = proposal_module._configured(config, parts, results, names)
    slow = proposal_module._applied(config, parts, results, names, settings)[-1]
    assert (
        fast.assignments.to_dict()
        == slow.assignments.to_dict()
        == {
            "A00001": "NEW-U00001-1",
            "A00002": "NEW-U00001-1",
            "A00003": "U00001",
            "A00004": "U00001",
            "A00005": "U00001",
        }
    )
    assert fast.names["NEW-U00001-1"] == slow.names["NEW-U00001-1"]
