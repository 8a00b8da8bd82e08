"""Counts read as English wherever a notebook shows them (issue 24, item 5): "1 practice in
no PCN", "1 error", "1 part"; and a changed finding's line says what changed in words,
never a bare field name or " : "."""

from __future__ import annotations

import pytest

import geo_pcn
from geo_pcn._words import count
from geo_pcn.datasets import demo

#: notebook 02's first four fixes: they leave one error (its step 4 says "errors 1 -> 0")
FIRST_FOUR = [("Z00024", "UZ002"), ("Z00035", "UZ008"), ("Z00003", "UZ005"), ("Z00006", "UZ003")]


@pytest.fixture(scope="module")
def study():
    return demo()


def test_count_is_singular_only_for_one():
    assert [count(n, "practice") for n in (0, 1, 2, 1200)] == [
        "0 practices",
        "1 practice",
        "2 practices",
        "1,200 practices",
    ]


def test_study_says_one_practice_in_no_pcn(study):
    # practices.csv of the demo leaves exactly one practice (Z00024) without a PCN code
    assert list(study.practices.index[study.practices["pcn_code"].fillna("") == ""]) == ["Z00024"]
    page = study._repr_html_()
    assert "(1 practice in no PCN)" in page and "1 practices" not in page


def test_report_with_one_error_says_error(study):
    config = study.configuration
    for practice, pcn in FIRST_FOUR:
        config = config.move(practice, to=pcn)
    report = geo_pcn.validate(study, config)
    assert sum(f.severity.value == "error" for f in report.findings) == 1
    assert ": FAIL, 1 error, " in repr(report)
    assert "1 error, " in report._repr_html_() and "1 errors" not in report._repr_html_()
    assert "practice(s)" not in report._repr_html_()


def test_changed_lines_name_what_changed_in_words(study):
    """Z00035 moving to UZ008 changes the study-wide "residents registered outside"
    finding only in which PCN has the highest share (the total, 11,660, is the same): its
    line must say so in words, with no PCN code and no " : "."""
    start = geo_pcn.validate(study)
    after = geo_pcn.revalidate(start, study.configuration.move("Z00035", to="UZ008"))
    comparison = geo_pcn.compare(start, after)
    (line,) = [c for c in comparison.changed if c.kind == "residents_registered_outside"]
    assert line.pcn_code == "" and line.before.value == line.after.value
    assert line.describe() == "same figures; what its message names changed"
    page = comparison._repr_html_()
    assert "coverage/residents_registered_outside: same figures;" in page
    assert " : " not in page and ": details." not in page and ": message." not in page
    assert "Now: " in page
    # a figure that changed carries its unit
    (site,) = [c for c in comparison.changed if c.kind == "site_outside_pcn"]
    assert site.describe() == "value 1,231 m -> 1,140 m"


def test_proposal_says_moved_and_placed_as_compare_does(study):
    proposal = geo_pcn.propose(study, workers=1)
    text = repr(proposal)
    # the demo's repair: 5 practices moved (35,889 patients), Foxholes (8,616) placed
    assert "5 practices moved between PCNs (35,889 patients)" in text
    assert "1 practice in no PCN placed (8,616 patients)" in text
    assert "part(s)" not in text and text.endswith("; 1 part>")
    comparison = geo_pcn.compare(
        geo_pcn.validate(study), geo_pcn.validate(study, proposal.configuration)
    )
    assert "5 practices moved between PCNs (35,889 patients); 1 practice in no PCN placed " in (
        repr(comparison)
    )
