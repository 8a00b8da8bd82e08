"""A finding that stays with other figures is *changed*, not resolved and introduced again
(issue 13, item 4): its identity is check, kind, PCN and practices."""

from __future__ import annotations

import json
import re

import pytest

import geo_pcn
from geo_pcn import compare, revalidate, validate
from geo_pcn.datasets import demo
from geo_pcn.render import to_markdown


@pytest.fixture(scope="module")
def study():
    return demo()


@pytest.fixture(scope="module")
def start(study):
    return validate(study)


def _ids(findings):
    return {(f.check, f.kind, f.pcn_code) for f in findings}


def test_a_detached_group_whose_distance_changes_is_changed(study, start):
    # Z00045 leaves UZ010's main group: Z00048 is still detached, further away
    c = compare(start, revalidate(start, study.configuration.move("Z00045", to="UZ011")))
    split = [ch for ch in c.changed if (ch.check, ch.kind) == ("contiguity", "detached_group")]
    assert [(ch.pcn_code, ch.practice_codes) for ch in split] == [("UZ010", ("Z00048",))]
    (ch,) = split
    assert {"value", "message", "details"} <= set(ch.what)
    assert ch.before.value == pytest.approx(1146.9) and ch.after.value > ch.before.value
    assert ("contiguity", "detached_group", "UZ010") not in _ids(c.resolved)
    assert ("contiguity", "detached_group", "UZ010") not in _ids(c.introduced)
    assert ch.describe().startswith("value 1,147 m -> ")  # metres, whole, with the unit


def test_split_shares_that_change_are_changed_and_shown(study, start):
    # Z00024 (in no PCN) joins UZ005: the areas it wins join UZ005's footprint, so UZ005's
    # share of community team areas changes
    c = compare(start, revalidate(start, study.configuration.move("Z00024", to="UZ005")))
    split = {ch.pcn_code: ch for ch in c.changed if ch.kind == "split_across_areas"}
    assert "UZ005" in split
    b, a = split["UZ005"].before, split["UZ005"].after
    assert b.details["pct_footprint_by_area"] != a.details["pct_footprint_by_area"]
    assert ("alignment", "split_across_areas", "UZ005") not in _ids(c.resolved) | _ids(c.introduced)
    assert c.summary["n_changed"] == len(c.changed)
    data = json.loads(c.to_json())
    row = next(r for r in data["changed"] if r["pcn_code"] == "UZ005")
    assert row["kind"] == "split_across_areas" and "value" in row["what"]
    assert row["before"]["value"] != row["after"]["value"]
    md = to_markdown(c)
    assert "## Findings changed (" in md
    section = md.split("## Findings changed", 1)[1]
    assert "split_across_areas** UZ005" in section and "before:" in section


def test_a_code_mismatch_that_stays_is_neither_resolved_nor_introduced(study, start):
    # Z00056's recorded sub-ICB mismatch stays whether its PCN changes or not
    for moved in (
        study.configuration.move("Z00024", to="UZ002"),  # elsewhere
        study.configuration.move("Z00056", to="UZ012"),  # the practice itself
    ):
        c = compare(start, revalidate(start, moved))
        kinds = {(f.check, f.kind) for f in [*c.resolved, *c.introduced]}
        assert ("boundaries", "recorded_code_mismatch") not in kinds
    c = compare(start, revalidate(start, study.configuration.move("Z00056", to="UZ012")))
    (ch,) = [ch for ch in c.changed if ch.kind == "recorded_code_mismatch"]
    assert ch.what == ("pcn_code",) and (ch.before.pcn_code, ch.after.pcn_code) == (
        "UZ013",
        "UZ012",
    )


def test_an_unchanged_configuration_changes_nothing(study, start):
    c = compare(
        start,
        validate(
            study, geo_pcn.Configuration(study.configuration.assignments, study.configuration.names)
        ),
    )
    assert (c.resolved, c.introduced, c.changed) == ([], [], [])


def test_counts_say_what_they_count(study, start):
    c = compare(start, revalidate(start, study.configuration.move("Z00024", to="UZ002")))
    md = to_markdown(c)
    assert "practice(s)" not in md
    # Z00024 was in no PCN: placed, not moved (one definition with proposal.md and rank)
    assert "- 0 practices moved between PCNs (0 patients); 1 practice in no PCN placed " in md
    assert "(8,616 patients)" in md
    assert "practice(s)" not in c._repr_html_() and "1 practice in no PCN placed" in repr(c)


def _seen(markdown_text: str) -> str:
    """What a reader of the rendered Markdown sees (markdown-it-py, tags dropped)."""
    import html as html_lib

    from markdown_it import MarkdownIt

    page = MarkdownIt("commonmark").enable("table").render(markdown_text)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", page))


def test_compare_md_reads_as_written(study, start):
    """Issue 18: compare.md showed ``-&gt;``, raw keys (``pct_pcns_in_one_area 23.077``,
    ``n_off_docking``), 3-decimal values without units, and counted a placed practice as
    moved. Z00034 (8,169 patients in the registrations file) moves from UZ007 to UZ008 and
    Z00024 (8,616, in no PCN) is placed in UZ005 (the areas it wins join UZ005's footprint)."""
    moved = study.configuration.move("Z00034", to="UZ008").move("Z00024", to="UZ005")
    c = compare(start, revalidate(start, moved))
    raw = to_markdown(c)
    assert "&gt;" not in raw and "&lt;" not in raw  # the raw file reads as the text
    seen = _seen(raw)
    assert (
        "1 practice moved between PCNs (8,169 patients); 1 practice in no PCN placed "
        "(8,616 patients)"
    ) in seen
    # a changed value is written with its unit, as the finding's own message writes it
    site = next(ch for ch in c.changed if ch.kind == "site_outside_pcn")
    metres = [
        re.search(r"lies ([\d,]+) m outside", f.message).group(1) for f in (site.before, site.after)
    ]
    assert f"value {metres[0]} m -> {metres[1]} m" in seen
    split = next(ch for ch in c.changed if ch.kind == "split_across_areas")
    pcts = [re.search(r"and ([\d.]+)% in", f.message).group(1) for f in (split.before, split.after)]
    assert f"value {pcts[0]}% -> {pcts[1]}%" in seen
    # community alignment in words, percentages with one decimal
    teams = next(line for line in seen.splitlines() if line.startswith("teams:"))
    for key in ("pct_pcns_in_one_area", "n_off_docking", "n_pcns_split", "nmi "):
        assert key not in teams
    assert "coterminosity (share in the PCN's dominant area) " in teams
    assert "patients off the suggested docking" in teams


def test_a_finding_that_reads_the_same_is_not_changed(study, start):
    """Moving Z00048 into UZ011 changes the per-PCN breakdown behind the study-wide
    'residents registered outside' note, not its value or its message: it reads the same
    before and after, so it is neither changed, resolved nor introduced."""
    c = compare(start, revalidate(start, study.configuration.move("Z00048", to="UZ011")))
    (b,) = [f for f in start.findings if f.kind == "residents_registered_outside"]
    (a,) = [f for f in c.after.findings if f.kind == "residents_registered_outside"]
    assert (b.message, b.value) == (a.message, a.value) and b.details != a.details
    ids = {(x.check, x.kind) for x in [*c.changed, *c.resolved, *c.introduced]}
    assert ("coverage", "residents_registered_outside") not in ids


def test_markdown_leaves_arrows_and_brackets_as_they_are():
    """``->`` and ``[list_sizes]`` cannot start markup: the raw file and the rendered page
    both show them as written (issue 18: ``-&gt;`` and ``\\[list_sizes\\]``)."""
    from geo_pcn._escape import markdown

    text = "value 37.2 -> 30.1; give registrations or a [list_sizes] file"
    assert markdown(text) == text
    assert _seen(f"- {markdown(text)}").strip() == text
