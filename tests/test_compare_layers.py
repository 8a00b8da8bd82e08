"""compare() matches a boundary finding only with one about the same layer (issue 22 item
3): on QNC-national, STAFFORD SOUTH PCN (U83494) crossed place lines before the proposal
and sub-ICB and place lines after it (M83715 joined from another CCG); compare.md paired
the place crossing before with the sub-ICB crossing after and called the place crossing
introduced, while proposal.md (rightly) listed a sub-ICB crossing added."""

from __future__ import annotations

from geo_pcn.compare import _match_findings
from geo_pcn.findings import Finding, Severity


def _crossing(layer: str, practices: tuple[str, ...]) -> Finding:
    return Finding(
        check="boundaries",
        kind="crosses_boundary",
        severity=Severity.WARNING,
        message=f"U83494 has practices in 2 {layer} areas",
        pcn_code="U83494",
        practice_codes=practices,
        value=2,
        threshold=1,
        details={"layer": layer},
    )


def test_a_crossing_of_a_new_layer_is_introduced_not_changed():
    three = ("M83001", "M83002", "M83003")
    four = (*three, "M83715")
    before = [_crossing("place", three)]
    after = [_crossing("sub_icb", four), _crossing("place", four)]  # report order
    resolved, introduced, changed = _match_findings(before, after)
    assert resolved == []
    assert [f.details["layer"] for f in introduced] == ["sub_icb"]
    assert [(c.before.details["layer"], c.after.details["layer"]) for c in changed] == [
        ("place", "place")
    ]


def test_the_same_practices_across_two_layers_pair_layer_by_layer():
    """Same PCN and practices, both layers crossed before and after: two pairs, each of
    one layer (by key alone the first two would pair whatever their layers)."""
    four = ("M83001", "M83002", "M83003", "M83715")
    before = [_crossing("place", four), _crossing("sub_icb", four)]
    after = [_crossing("sub_icb", four), _crossing("place", four)]
    resolved, introduced, changed = _match_findings(before, after)
    assert (resolved, introduced, changed) == ([], [], [])
