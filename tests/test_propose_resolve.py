"""Issue 22, the re-solves: a part solved again begins from its answer before (the held
practices put back) and gets a share of its time; when it still finds nothing, the last
resort puts the practices back without a solver, so that no new contiguity error is left,
and says which PCN that leaves outside the band; a practice with no registered patients in
no PCN is nothing to place, not a new PCN below the band.

The study is test_propose_joins's, with a second, separate repair drawn beside it (1 km
boxes, one small area each; band 3,000-5,000)::

    row  2            T09 A00007 (V)  3,200
    row  1            T06 A00005 (V)  1,600
    row  0   T01 A00001 (X) | T02 A00002 (Y) | T03 A00003 (X)      T10 A00008 (Z) | T11 A00009 (Q) | T12 A00010 (Q)
    row -1            T07 A00004 (W)  1,000 (+400 in T02)             2,000           1,200            3,500
    row -2            T08 A00006 (W)  3,500
            column 0          column 1          column 2          column 5         column 6         column 7

Left (worked out in test_propose_joins): X (U00001) is contiguous only through its
footprint, which holds T02 (X has 2,200 residents there against Y's 2,000). Y (U00002,
2,000) is below the band. The cheapest repair moves A00004 (1,400) into Y, but Y then wins
T02 and X's practices are cut apart; held in W, the answer is A00005 -> Y (1,600).

Right: Z (U00005 = A00008, 2,000) is below the band; Q (U00006 = A00009 1,200 + A00010
3,500 = 4,700). A00009 -> Z (1,200) makes Z 3,200 and Q 3,500, both inside, each in one
piece; A00008 -> Q makes 6,700 (above); A00010 does not touch Z. So 1,200, the only repair.

The optimum without the check is therefore 1,400 + 1,200 = 2,600; with it, 1,600 + 1,200 =
2,800. When the part solved again finds nothing (stubbed below), the last resort puts
A00004 back in W: the proposal is A00009 -> Z alone (1,200), Y stays at 2,000 (1,000
below the band), and no contiguity error is left.
"""

from __future__ import annotations

from dataclasses import replace

from test_pieces import make_study
from test_propose_joins import AREAS, PRACTICES, REGISTRATIONS

import geo_pcn.proposal as proposal_module
from geo_pcn import Severity, validate
from geo_pcn.proposal import propose
from geo_pcn.proposal._budget import AGAIN, LEAST, Again
from geo_pcn.proposal._judge import bar, started
from geo_pcn.proposal._part import Part, PartResult, Slot
from geo_pcn.render.proposal import proposal_markdown

BOTH_AREAS = {
    **AREAS,
    "T10": [(5, 0, 6, 1)],
    "T11": [(6, 0, 7, 1)],
    "T12": [(7, 0, 8, 1)],
}
BOTH_PRACTICES = [
    *PRACTICES,
    ("A00008", "U00005", (5.5, 0.5)),
    ("A00009", "U00006", (6.5, 0.5)),
    ("A00010", "U00006", (7.5, 0.5)),
]
BOTH_REGISTRATIONS = [
    *REGISTRATIONS,
    ("A00008", "T10", 2000),
    ("A00009", "T11", 1200),
    ("A00010", "T12", 3500),
]


def _contiguity_errors(study, configuration):
    return [
        (f.pcn_code, f.practice_codes)
        for f in validate(study, configuration).findings
        if f.check == "contiguity" and f.severity is Severity.ERROR
    ]


def _moves(proposal):
    c = proposal.changes
    return sorted(zip(c["practice_code"], c["from_pcn"], c["to_pcn"], strict=True))


def _spy(monkeypatch, *, nothing_again: bool):
    """Record every list of parts solved; with ``nothing_again``, every solve after the
    first finds nothing (as a solver that runs out of time would)."""
    real = proposal_module._solve_all
    calls: list[list[Part]] = []

    def solve_all(parts, **options):
        calls.append(list(parts))
        if len(calls) == 1 or not nothing_again:
            return real(parts, **options)
        return [
            PartResult(
                p.name, "no solution", (), p.objective, None, None, None, None, None, 0.0, 0, 0
            )
            for p in parts
        ]

    monkeypatch.setattr(proposal_module, "_solve_all", solve_all)
    return calls


def test_the_capped_resolve_begins_from_the_answer_before_and_finds_the_worked_answer(
    tmp_path, monkeypatch
):
    """The part is solved again once, with A00004 held, for AGAIN of the time limit, from
    the first answer with A00004 put back: every practice as given but A00009, which is in
    Z. The answer is the 2,800 worked out above, proven (the part is tiny: proven at
    once whatever the load; the assertion holds for any time the solver is given)."""
    calls = _spy(monkeypatch, nothing_again=False)
    study = make_study(tmp_path, BOTH_AREAS, BOTH_PRACTICES, BOTH_REGISTRATIONS)
    proposal = propose(study, workers=1, time_limit=60)
    assert len(calls) == 2
    (first,), (again,) = calls
    assert first.start == () and first.time_limit == 60
    assert again.time_limit == AGAIN * 60
    slots = [again.slots[k].code for k in again.start]
    given = dict(zip(again.practices, slots, strict=True))
    assert given == {
        "A00001": "U00001", "A00002": "U00002", "A00003": "U00001", "A00004": "U00003",
        "A00005": "U00004", "A00006": "U00003", "A00007": "U00004", "A00008": "U00005",
        "A00009": "U00005", "A00010": "U00006",
    }  # fmt: skip
    assert _moves(proposal) == [
        ("A00005", "U00004", "U00002"),
        ("A00009", "U00006", "U00005"),
    ]
    s = proposal.summary
    assert (s["status"], s["value"], s["bound"]) == ("optimal", 2800, 2800)
    row = proposal.parts.iloc[0]
    assert row["heuristic"] == 2600  # the first solve's heuristic: the cheap repair
    assert _contiguity_errors(study, proposal.configuration) == []
    assert validate(study, proposal.configuration).ok
    (note,) = proposal.joins_held
    assert (note["pcn_code"], note["practices"], note["resolved"]) == (
        "U00001",
        ["A00004"],
        True,
    )


def test_the_last_resort_turns_a_detached_group_into_a_size_finding_that_is_said(
    tmp_path, monkeypatch
):
    calls = _spy(monkeypatch, nothing_again=True)
    study = make_study(tmp_path, BOTH_AREAS, BOTH_PRACTICES, BOTH_REGISTRATIONS)
    proposal = propose(study, workers=1, time_limit=60)
    # solved again with A00004 held (nothing), A00004 put back without a solver; Y is then
    # outside the band beside X (joined by its footprint): the softer freeze tries X free
    # (nothing either), and the answer put back stays
    assert len(calls) == 3
    assert calls[2][0].time_limit == AGAIN * 60  # the stubs took 0 s of its share
    assert _moves(proposal) == [("A00009", "U00006", "U00005")]
    assert _contiguity_errors(study, proposal.configuration) == []
    s = proposal.summary
    assert (s["status"], s["value"], s["patients_moved"]) == ("band not met", 1200, 1200)
    (out,) = proposal.outside_band
    assert (out["pcn_code"], out["size"], out["limit"]) == ("U00002", 2000, 3000)
    assert out["message"].startswith(
        "U00002 is left outside the band 3,000-5,000: 2,000 patients, 1,000 below the lower "
        "limit, in part (no area): A00004 in U00003 put back in its PCN, without a solver, "
        "so that U00001 is not left detached"
    )
    report = validate(study, proposal.configuration)
    sizes = [(f.pcn_code, f.value) for f in report.findings if f.check == "size"]
    assert ("U00002", 2000) in sizes  # the validator says the same size finding
    held, back = proposal.joins_held
    assert (held["practices"], held["resolved"]) == (["A00004"], True)
    assert "found no configuration in the time given" in held["message"]
    assert back["practices"] == ["A00004"] and back["resolved"] is True
    assert "A00004 (U00002 back to U00003)" in back["message"]
    text = proposal_markdown(proposal)
    assert "Still detached" not in text
    assert "put back in their given PCNs without a solver" in text


def test_again_gives_each_part_a_share_of_its_time_in_all():
    """30 s a part: 22.5 s of solving again in all (AGAIN 0.75); after 10 s and 11.5 s,
    1 s is left, less than LEAST (5%: 1.5 s), so none; another part still has its 22.5 s."""
    assert (AGAIN, LEAST) == (0.75, 0.05)
    again = Again(30)
    assert again.left("E1") == 22.5
    again.took("E1", 10.0)
    assert again.left("E1") == 12.5
    again.took("E1", 11.5)
    assert again.left("E1") == 0.0
    assert again.left("E2") == 22.5


def _tiny():
    """Three practices on a path 0 - 1 - 2; slots X (0, 1), Y (2) and a new one."""
    slots = (
        Slot("X", "X", False, True, True, (0, 1, 2)),
        Slot("Y", "Y", False, True, True, (1, 2)),
        Slot("\0new X 2", "X", True, True, True, (0, 1)),
    )
    return Part(
        name="P", practices=("A", "B", "C"), weights=(1, 2, 3), current=(0, 0, 1),
        placed=(True, True, True), edges=((0, 1), (1, 2)), slots=slots, band=(1, 9),
    )  # fmt: skip


def test_started_puts_the_held_practices_back_as_slot_indices():
    part = _tiny()
    answer = PartResult("P", "optimal", ("X", "Y", "Y"), "patients", 2, 2, 0.0, 2, 1, 0.1, 0, 0)
    assert started(part, answer) == (0, 1, 1)
    assert started(part, answer, ["B"]) == (0, 0, 1)  # B back in X
    assert started(part, replace(answer, assignment=())) == ()
    assert started(part, replace(answer, assignment=("X", "Z", "Y"))) == ()  # no slot Z


def test_bar_keeps_a_practice_out_of_one_slot_only():
    """A practice detached in its given PCN cannot be held there (its PCN could not be
    contiguous): it is kept out of the PCN it joined instead. B (index 1) out of Y: Y's
    candidates lose B, X and the new slot keep it; unknown practices are ignored."""
    part = _tiny()
    barred = bar(part, [("B", "Y"), ("Q", "X")])
    assert [s.candidates for s in barred.slots] == [(0, 1, 2), (2,), (0, 1)]
    assert bar(part, []) is part


def test_a_practice_with_no_registered_patients_is_nothing_to_place():
    """The no-area part of the national run: one practice in no PCN, no registered
    patients, no territory; the model's answer is a new PCN of 0 patients, below the band.
    The proposal leaves it in no PCN, says there is nothing to place, and the part (0
    moved, bound 0) is optimal, not infeasible."""
    part = Part(
        name=proposal_module.NO_AREA, practices=("Y0001",), weights=(0,), current=(-1,),
        placed=(False,), edges=(), band=(30000, 50000),
        slots=(Slot("\0new (no area) 1 0", "", True, True, True, (0,)),),
    )  # fmt: skip
    result = PartResult(
        part.name, "infeasible", ("\0new (no area) 1 0",), "patients", 0, 0, 0.0, 0, 0, 0.1,
        1, 1, outside_band={"\0new (no area) 1 0": (0, 30000)},
    )  # fmt: skip
    target, new_names, rows, outside, nothing = proposal_module._collect(
        [part], [result], {}, {"within": None, "reach": 1}, _NoConfig()
    )
    assert target == {"Y0001": ""}
    assert new_names == {} and outside == []
    assert [r["status"] for r in rows] == ["optimal"]
    assert nothing == [
        {
            "practice_code": "Y0001",
            "part": "(no area)",
            "message": "Y0001 has no registered patients: nothing to place. It is left in no "
            "PCN, as it was (not made a new PCN of 0 patients, below the band).",
        }
    ]


class _NoConfig:
    pcn_codes: tuple = ()
    empty_pcns: tuple = ()


def test_when_no_put_back_mends_it_the_detached_group_joins_the_pcn_beside_it(
    tmp_path, monkeypatch
):
    """The end of the last resort. Solved again, the part finds nothing (stubbed), and no
    put-back mends the join (stubbed: putting back changes nothing, as when every cause
    was detached in its given PCN). The first answer is A00004 -> Y and A00009 -> Z; Y
    then wins T02 and X (U00001) falls in two: A00001 (T01, 2,100) and A00003 (T03,
    2,100). The group the validator calls detached joins a PCN beside it in the graph:
    Y (U00002: its homes T02 and T07 touch T01 and T03) or V (U00004: T06 touches both at
    a corner). Either way X is left at 2,100 (900 below the band) and the other PCN above
    it (Y 2,000 + 1,400 + 2,100 = 5,500; V 4,800 + 2,100 = 6,900): two PCNs outside the
    band and 1,400 + 1,200 + 2,100 = 4,700 patients moved each, so the first code wins:
    Y. No contiguity error is left, and both size findings are said."""
    import geo_pcn.proposal._last_resort as last_resort

    _spy(monkeypatch, nothing_again=True)
    monkeypatch.setattr(last_resort, "_back", lambda part, result, practices, pcns: result)
    study = make_study(tmp_path, BOTH_AREAS, BOTH_PRACTICES, BOTH_REGISTRATIONS)
    cut = validate(study).configuration.move("A00004", to="U00002").move("A00009", to="U00005")
    errors = [
        f.practice_codes
        for f in validate(study, cut).findings
        if f.check == "contiguity" and f.severity is Severity.ERROR
    ]
    (group,) = errors  # X cut in two: one practice of it detached
    (detached,) = group
    assert detached in ("A00001", "A00003")
    proposal = propose(study, workers=1, time_limit=60)
    assert _moves(proposal) == sorted(
        [(detached, "U00001", "U00002"), ("A00004", "U00003", "U00002"),
         ("A00009", "U00006", "U00005")]
    )  # fmt: skip
    assert _contiguity_errors(study, proposal.configuration) == []
    s = proposal.summary
    assert (s["status"], s["patients_moved"]) == ("band not met", 4700)
    out = {o["pcn_code"]: (o["size"], o["limit"]) for o in proposal.outside_band}
    assert out == {"U00001": (2100, 3000), "U00002": (5500, 5000)}
    assert all(f"{detached} joined U00002, the PCN beside them" in o["message"]
               for o in proposal.outside_band)  # fmt: skip
    report = validate(study, proposal.configuration)
    sizes = {(f.pcn_code, f.value) for f in report.findings if f.check == "size"}
    assert {("U00001", 2100), ("U00002", 5500)} <= sizes
    (joined,) = [n for n in proposal.joins_held if "the PCN beside them" in n["message"]]
    assert (joined["pcn_code"], joined["practices"], joined["resolved"]) == (
        "U00001",
        [detached],
        True,
    )
    assert "Still detached" not in proposal_markdown(proposal)
