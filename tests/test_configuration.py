"""Configuration: immutable scenario operations, their changes log, errors and CSV output.

Property tests (hypothesis) run on the demo region's configuration: every practice stays
assigned exactly once, patients are conserved, and a move then its reverse is the identity.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_pcn import Change, Configuration, InputError, UnknownCodeError
from geo_pcn.datasets import demo
from geo_pcn.io import read_configuration
from geo_pcn.settings import LIST_SIZE

TINY = {"A00001": "U00001", "A00002": "U00001", "A00003": "U00002", "A00004": ""}


@pytest.fixture(scope="module")
def study():
    return demo()


@pytest.fixture
def config():
    return Configuration(TINY, {"U00001": "WEST PCN", "U00002": "EAST PCN"})


def test_move_returns_a_new_configuration_that_remembers(config):
    new = config.move("A00001", to="U00002")
    assert config.pcn_of("A00001") == "U00001"  # the original is untouched
    assert new.pcn_of("A00001") == "U00002"
    assert new.parent is config
    (change,) = new.changes
    assert isinstance(change, Change)
    assert change.op == "move"
    assert change.moves == (("A00001", "U00001", "U00002"),)
    assert str(change) == "move A00001 from U00001 to U00002"
    assert new.history == (change,)
    with pytest.raises(AttributeError, match="immutable"):
        new.parent = None


def test_move_accepts_lists_and_lower_case(config):
    new = config.move(["a00001", "A00004"], to="U00002")
    assert new.members["U00002"] == ("A00001", "A00003", "A00004")
    assert new.unassigned == ()


def test_merge_split_add_unassign_rename(config):
    merged = config.merge(["U00001", "U00002"], into="U00009", name="ONE PCN")
    assert merged.members == {"U00009": ("A00001", "A00002", "A00003")}
    assert merged.name_of("U00009") == "ONE PCN"
    assert merged.changes[0].op == "merge"

    split = merged.split("U00009", {"U00010": ["A00003"]}, names={"U00010": "NEW"})
    assert split.members == {"U00009": ("A00001", "A00002"), "U00010": ("A00003",)}
    assert split.names == {"U00009": "ONE PCN", "U00010": "NEW"}

    added = config.add_pcn("U00003", "THIRD", ["A00004"])
    assert added.members["U00003"] == ("A00004",)
    empty = config.add_pcn("U00004", "LATER")
    assert empty.empty_pcns == ("U00004",) and empty.n_pcns == 2
    assert empty.move("A00004", to="U00004").members["U00004"] == ("A00004",)

    out = config.unassign("A00002")
    assert out.unassigned == ("A00002", "A00004")
    assert config.rename("U00001", "W").names["U00001"] == "W"
    assert [c.op for c in added.unassign("A00001").rename("U00003", "X").history] == [
        "add_pcn",
        "unassign",
        "rename",
    ]


def test_unknown_codes_raise_one_line_errors(study):
    config = study.configuration
    with pytest.raises(
        UnknownCodeError,
        match=r"^unknown practice Z99999; the configuration has 59 practices, e\.g\. Z00001",
    ):
        config.move("Z99999", to="UZ001")
    with pytest.raises(UnknownCodeError, match=r"unknown PCN UZ999; .*add_pcn\('UZ999'"):
        config.move("Z00001", to="UZ999")
    with pytest.raises(UnknownCodeError, match="unknown PCN UZ998"):
        config.merge(["UZ001", "UZ998"], into="UZ001")
    with pytest.raises(InputError, match="use unassign"):
        config.move("Z00001", to="")
    with pytest.raises(InputError, match="use unassign"):
        config.move("Z00001", to=None)
    with pytest.raises(InputError, match="Z00009 is not in UZ001"):
        config.split("UZ001", {"UZ100": ["Z00009"]})
    with pytest.raises(InputError, match="PCN UZ002 already exists"):
        config.add_pcn("UZ002", "AGAIN")
    with pytest.raises(InputError, match="no practice codes given"):
        config.unassign([])
    assert issubclass(UnknownCodeError, InputError)


def test_diff_lists_the_practices_that_changed(config):
    new = config.move("A00001", to="U00002").unassign("A00003")
    assert config.diff(new).to_dict("records") == [
        {"practice_code": "A00001", "from_pcn_code": "U00001", "to_pcn_code": "U00002"},
        {"practice_code": "A00003", "from_pcn_code": "U00002", "to_pcn_code": ""},
    ]


def test_members_kept_up_to_date_incrementally(study):
    config = study.configuration
    _ = config.members  # cached: children update it PCN by PCN
    new = (
        config.move(["Z00024", "Z00001"], to="UZ002")
        .split("UZ001", {"UZX": ["Z00002"]})
        .merge(["UZ008", "UZ007"], into="UZ007")
        .unassign("Z00054")
    )
    fresh = Configuration(new.assignments, new.names)
    assert new.members == fresh.members
    assert new.pcn_codes == fresh.pcn_codes
    assert new == fresh


@pytest.mark.parametrize("layout", ["plain", "nhs"])
def test_to_csv_round_trips(tmp_path, study, layout):
    config = study.configuration.move("Z00024", to="UZ002").unassign("Z00001")
    path = config.to_csv(tmp_path / f"{layout}.csv", layout=layout, practices=study.practices)
    back = read_configuration(path)
    assert Configuration.from_frame(back) == config
    if layout == "nhs":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert list(frame.columns)[:7] == [
            "PUBLICATION",
            "EXTRACT_DATE",
            "PRACTICE_CODE",
            "PRACTICE_NAME",
            "PRACTICE_POSTCODE",
            "PCN_CODE",
            "PCN_NAME",
        ]
        row = frame.set_index("PRACTICE_CODE").loc["Z00001"]
        assert (row["PCN_CODE"], row["PCN_NAME"]) == ("U", "Unallocated")
        assert row["PRACTICE_NAME"] == study.practices.loc["Z00001", "practice_name"]


def test_to_csv_is_excel_safe(tmp_path):
    config = Configuration({"A00001": "U00001"}, {"U00001": "=HYPERLINK(1)"})
    text = config.to_csv(tmp_path / "c.csv").read_text()
    assert "'=HYPERLINK(1)" in text


def test_repr_html_escapes_names():
    config = Configuration({"A00001": "U00001"}, {"U00001": "<script>x</script>"})
    text = config.rename("U00001", "<b>bold</b>")._repr_html_()
    assert "<script>" not in text and "<b>bold" not in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "<details" in text


# -- properties --------------------------------------------------------------------------


@st.composite
def operations(draw, config: Configuration):
    """A short random sequence of scenario operations valid for ``config``."""
    steps = []
    current = config
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["move", "merge", "split", "add_pcn", "unassign"]))
        practices = draw(
            st.lists(st.sampled_from(current.practice_codes), min_size=1, max_size=3, unique=True)
        )
        if kind == "move":
            current = current.move(practices, to=draw(st.sampled_from(current.pcn_codes)))
        elif kind == "merge" and current.n_pcns >= 2:
            pcns = draw(
                st.lists(st.sampled_from(current.pcn_codes), min_size=2, max_size=3, unique=True)
            )
            current = current.merge(pcns, into=pcns[0])
        elif kind == "split":
            pcn = draw(st.sampled_from(current.pcn_codes))
            part = draw(st.lists(st.sampled_from(current.members[pcn]), min_size=1, unique=True))
            current = current.split(pcn, {f"NEW{i}": part})
        elif kind == "add_pcn":
            current = current.add_pcn(f"ADD{i}", f"ADDED {i}", practices)
        else:
            current = current.unassign(practices)
        steps.append(current)
    return steps


def _patients(study, config: Configuration) -> int:
    sizes = study.practices[LIST_SIZE].fillna(0).astype(int)
    in_pcns = sum(int(sizes.reindex(list(m)).sum()) for m in config.members.values())
    return in_pcns + int(sizes.reindex(list(config.unassigned)).sum())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_practice_once_and_patients_conserved(study, data):
    config = study.configuration
    total = study.n_patients
    for step in data.draw(operations(config)):
        assert sorted(step.practice_codes) == sorted(config.practice_codes)
        seen = [p for m in step.members.values() for p in m] + list(step.unassigned)
        assert sorted(seen) == sorted(config.practice_codes)  # each practice exactly once
        assert _patients(study, step) == total
        assert step.members == Configuration(step.assignments, step.names).members


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_move_then_reverse_is_the_identity(study, data):
    config = study.configuration
    practices = data.draw(
        st.lists(st.sampled_from(config.practice_codes), min_size=1, max_size=4, unique=True)
    )
    target = data.draw(st.sampled_from(config.pcn_codes))
    moved = config.move(practices, to=target)
    back = moved
    for practice in practices:
        home = config.pcn_of(practice)
        back = back.move(practice, to=home) if home else back.unassign(practice)
    assert back == config
    assert back.members == config.members
    assert len(back.history) == 1 + len(practices)


def test_a_child_is_given_only_known_derived_facts():
    """A child configuration is given its parent's derived facts through ``_set``; a name
    that is no derived fact is refused, not silently stored."""
    parent = Configuration({"A1": "U1", "A2": "U1", "A3": "U2"})
    _ = parent.members, parent.pcn_by_practice
    child = parent.move("A2", to="U2")
    assert child.members == {"U1": ("A1",), "U2": ("A2", "A3")}
    assert child.pcn_by_practice == {"A1": "U1", "A2": "U2", "A3": "U2"}
    with pytest.raises(TypeError, match="n_pcns"):
        object.__new__(Configuration)._set(parent.assignments, {}, None, (), {"n_pcns": 2})
