"""The partition (issue 20): every updater from a parent equals the same updater from
scratch, over random sequences of moves (hypothesis), on the demo and on the real QNC
study, and so do every check's findings (the findings per PCN are keyed updaters that
reuse the parent's findings of the PCNs a move leaves alone); a partition is immutable and holds its flows; a tally adds what joined and takes
off what left, checked by hand on the tiny study.

"From a parent" means: the parent holds every metric (all were asked for), the child is
made by :meth:`Partition.with_configuration` and each metric updates from the parent's.
"From scratch" means a partition of the same assignment with no parent.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import write_tiny_study

from geo_pcn import Configuration, Study
from geo_pcn.checks import CHECKS, boundaries, contiguity, run_check, size
from geo_pcn.datasets import demo
from geo_pcn.geography import Footprints
from geo_pcn.partition import UPDATERS, Partition, parts


def _equal(a, b, where: str) -> None:
    """Exact equality of two metric values (tables, footprints, dicts of records)."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, Footprints):
        assert list(a.pcns.index) == list(b.pcns.index), where
        assert list(a.pcns["pcn_name"]) == list(b.pcns["pcn_name"]), where
        assert shapely.equals_exact(
            a.pcns.geometry.to_numpy(), b.pcns.geometry.to_numpy(), 0
        ).all(), where
        for name in ("area_pcn", "area_unassigned"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None), where
            if x is not None:
                pd.testing.assert_series_equal(x, y, check_exact=True, obj=f"{where}.{name}")
        assert (a.area_piece is None) == (b.area_piece is None), where
        if a.area_piece is not None:
            # labels are numbered by first appearance: carried over or built, the same
            assert (a.area_piece == b.area_piece).all(), f"{where}.area_piece"
            assert (a.area_owner == b.area_owner).all(), f"{where}.area_owner"
        _equal(a.uncovered_areas, b.uncovered_areas, f"{where}.uncovered_areas")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _equal(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)) and not isinstance(a, str):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _equal(x, y, f"{where}[{i}]")
    elif isinstance(a, shapely.Geometry):
        assert shapely.equals_exact(a, b, 0), where
    elif hasattr(a, "__dataclass_fields__"):
        assert type(a) is type(b), where
        for name in a.__dataclass_fields__:
            _equal(getattr(a, name), getattr(b, name), f"{where}.{name}")
    elif hasattr(a, "to_dict") and hasattr(a, "layers"):  # an Alignment
        _equal(a.to_dict(), b.to_dict(), where)
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


#: the checks' findings per PCN (keyed updaters): name -> updater
FINDINGS = {
    size.FINDINGS: size.size_findings,
    contiguity.FINDINGS: contiguity.contiguity_findings,
    boundaries.FINDINGS: boundaries.boundary_findings,
}


def _everything(partition: Partition) -> Partition:
    for key in partition.keys():
        partition[key]
    for name, updater in FINDINGS.items():
        partition.metric(name, updater)
    return partition


def _check_findings(child: Partition, fresh: Partition, parent: Partition, where: str) -> None:
    """Every check's findings on ``child`` (its findings per PCN updated from
    ``parent``'s) equal those on ``fresh`` (from scratch); and the size findings of at
    least one PCN are the parent's own objects (reused, not made again)."""
    for name, check in CHECKS.items():
        _equal(run_check(check, child), run_check(check, fresh), f"{where} check {name}")
    for name, updater in FINDINGS.items():
        _equal(child.metric(name, updater), fresh.metric(name, updater), f"{where} {name}")
    before = parent.metric(size.FINDINGS, size.size_findings)
    after = child.metric(size.FINDINGS, size.size_findings)
    assert any(key in before and part[1] is before[key][1] for key, part in after.items()), (
        f"{where}: no PCN's size findings were reused from the parent"
    )


def _random_step(config: Configuration, graph, rng: random.Random) -> Configuration:
    """A practice to the PCN of a neighbouring practice (mostly), into no PCN, or a merge
    or a split: the changes a planner makes."""
    roll = rng.random()
    practice = rng.choice(config.practice_codes)
    if roll < 0.6:
        options = sorted({config.pcn_of(n) for n in graph.neighbors(practice)} - {""})
        return config.move(practice, to=rng.choice(options or list(config.pcn_codes)))
    if roll < 0.75:
        return config.move(practice, to=rng.choice(config.pcn_codes))
    if roll < 0.85:
        return config.unassign(practice)
    if roll < 0.93 and config.n_pcns > 2:
        a, b = rng.sample(config.pcn_codes, 2)
        return config.merge([a, b], into=a, name="MERGED")
    pcn = rng.choice([c for c in config.pcn_codes if config.members.get(c)])
    return config.split(pcn, {f"NEW{rng.randrange(1000)}": config.members[pcn][:1]})


def _check_walk(study, start: Partition, steps: int, seed: int) -> None:
    rng = random.Random(seed)
    partition = _everything(start)
    for i in range(steps):
        config = _random_step(partition.configuration, partition.graph, rng)
        child = _everything(partition.with_configuration(config))
        assert child.parent is partition
        fresh = Partition(
            study,
            Configuration(config.assignments, config.names),
            geography=start.geography,
        )
        assert fresh.parent is None
        for key in UPDATERS:
            _equal(child[key], fresh[key], f"step {i} {key}")
        _check_findings(child, fresh, partition, f"step {i}")
        partition = child


@pytest.fixture(scope="module")
def demo_study():
    return demo()


@pytest.fixture(scope="module")
def demo_start(demo_study):
    return _everything(Partition(demo_study))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 100_000))
def test_every_updater_from_a_parent_equals_from_scratch_on_the_demo(demo_study, demo_start, seed):
    _check_walk(demo_study, demo_start, steps=4, seed=seed)


def test_a_setting_from_a_parent_equals_from_scratch():
    """The demo has no rural or deprivation columns: give it some, so the setting updater
    has rows to carry over."""
    study = demo()
    rng = np.random.default_rng(0)
    n = len(study.areas)
    study.areas["rural"] = rng.random(n) < 0.4
    study.areas["imd_score"] = np.round(rng.random(n) * 60, 3)
    study.areas["imd_decile"] = rng.integers(1, 11, n).astype(float)
    start = Partition(study)
    assert {"pct_rural", "imd_score", "imd_decile"} <= set(start.pcn_setting.columns)
    for seed in range(3):
        _check_walk(study, start, steps=4, seed=seed)


@pytest.mark.real_data
@pytest.mark.slow
def test_every_updater_from_a_parent_equals_from_scratch_on_qnc(qnc_study_file):
    study = Study.from_toml(qnc_study_file)
    start = Partition(study)
    for seed in range(3):
        _check_walk(study, start, steps=5, seed=seed)


# -- the partition itself, on the tiny study -----------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return Study.from_toml(write_tiny_study(tmp_path_factory.mktemp("tiny")))


def test_flows_and_the_list_size_tally_by_hand(tiny):
    """Moving A00003 from U00002 into U00001: the flows say so, and U00001's list size
    grows by A00003's while U00002's shrinks by it. By hand from tiny.py's registrations:
    A00001 1000 + 900 + 5 = 1,905, A00002 1,100 + 800 + 3 = 1,903, A00003 1,200 + 700 + 2
    = 1,902, A00004 1,300 + 600 = 1,900, A00005 400 + 450 = 850."""
    start = Partition(tiny)
    before = start.pcn_list_sizes
    step = start.move("A00003", to="U00001")
    assert step.parent is start
    assert step.flows.moved == ("A00003",)
    assert dict(step.flows.by_pcn) == {
        "U00001": (frozenset({"A00003"}), frozenset()),
        "U00002": (frozenset(), frozenset({"A00003"})),
    }
    assert before.to_dict() == {"U00001": 1905 + 1903, "U00002": 1902 + 1900 + 850}
    assert step.pcn_list_sizes.to_dict() == {"U00001": 1905 + 1903 + 1902, "U00002": 1900 + 850}


def test_a_partition_is_immutable_and_flips_to_a_new_one(tiny):
    start = Partition(tiny)
    with pytest.raises(AttributeError, match="immutable"):
        start.configuration = None
    step = start.flip({"A00003": "U00001", "A00005": None})
    assert step is not start and start.configuration is tiny.configuration
    assert step.configuration.pcn_of("A00003") == "U00001"
    assert step.configuration.pcn_of("A00005") == ""
    assert set(step.flows.moved) == {"A00003", "A00005"}
    # the same configuration: the same partition; other practices: from scratch
    assert start.with_configuration(start.configuration) is start


def test_metrics_are_cached_and_read_from_the_parent_only_when_it_holds_them(tiny):
    start = Partition(tiny)
    assert not start.holds("footprints")
    fp = start.footprints
    assert start["footprints"] is fp and start.holds("footprints")
    step = start.move("A00003", to="U00001")
    assert step.footprints.recomputed is not None  # updated from the parent's
    lone = Partition(tiny).move("A00003", to="U00001")
    assert lone.footprints.recomputed is None  # the parent held none: built afresh
    with pytest.raises(AttributeError, match="no attribute or metric"):
        start.no_such_metric


def test_a_chain_of_moves_keeps_two_partitions_not_all(tiny):
    """A partition drops its parent once a child is made from it and it holds every metric
    the parent holds (its updaters would not read the parent again): an editing session of
    many moves keeps the last partition and its parent alive, not the whole chain. One that
    lacks a metric its parent holds keeps the parent (its updater will read it)."""
    start = _everything(Partition(tiny))
    first = start.move("A00003", to="U00001")
    assert first.parent is start
    first.footprints  # only one of the parent's metrics
    second = first.move("A00003", to="U00002")
    assert first.parent is start  # still needs start for the other metrics
    _everything(first)
    third = _everything(second).move("A00003", to="U00001")
    assert third.parent is second and second.parent is None  # second holds all first held
    fourth = _everything(third).move("A00003", to="U00002")
    assert fourth.parent is third and third.parent is None
    assert _everything(fourth).flows.moved == ("A00003",)  # flows kept, the chain cut


def test_a_column_replaced_in_place_is_not_served_the_old_geography(tiny):
    """The geography is kept on the study and fingerprinted by content. T08 holds 600
    patients of A00004 and 450 of A00005, so A00004 wins it (tiny.py); replace the
    registrations' ``n_patients`` column in place with A00005's T08 row at 650 and
    A00005 wins it: a fingerprint of the frame's identity and length would not see it."""
    from geo_pcn.geography import geography_of

    before = geography_of(tiny)
    assert geography_of(tiny) is before  # unchanged: the same geography
    assert before.territories.area_winner["T08"] == "A00004"
    reg = tiny.registrations
    row = (reg["practice_code"] == "A00005") & (reg["area_code"] == "T08")
    try:
        reg["n_patients"] = reg["n_patients"].where(~row, 650)  # same frame, same length
        after = geography_of(tiny)
        assert after is not before
        assert after.territories.area_winner["T08"] == "A00005"
    finally:
        reg["n_patients"] = reg["n_patients"].where(~row, 450)
    assert geography_of(tiny).territories.area_winner["T08"] == "A00004"


def test_the_geography_is_not_written_into_the_study_and_dies_with_it(tmp_path):
    """``geography_of`` keeps a study's geography in the geography module's own cache,
    keyed weakly by the study: the study's ``__dict__`` holds its dataclass fields and
    its own cached properties and nothing else, and once the study is gone so is its cache entry (the geography does
    not keep its study alive)."""
    import dataclasses
    import functools
    import gc
    import weakref

    from geo_pcn.geography import _GEOGRAPHIES, geography_of

    study = Study.from_toml(write_tiny_study(tmp_path))
    geo = geography_of(study)
    assert geography_of(study) is geo
    own = {f.name for f in dataclasses.fields(Study)}
    own |= {k for k, v in vars(Study).items() if isinstance(v, functools.cached_property)}
    assert set(vars(study)) <= own
    assert not any(v is geo for v in vars(study).values())
    assert _GEOGRAPHIES[study] is geo
    alive = weakref.ref(study)
    n_before = len(_GEOGRAPHIES)
    del study
    gc.collect()
    assert alive() is None
    assert len(_GEOGRAPHIES) == n_before - 1


def test_size_findings_per_pcn_are_an_updater_reusing_untouched_pcns(tiny):
    """The tiny study (band 3,000-5,000; sizes by hand in
    :func:`test_flows_and_the_list_size_tally_by_hand`): WEST U00001 = 1,905 + 1,903 =
    3,808 and EAST U00002 = 1,902 + 1,900 + 850 = 4,652 are in the band. A00003 (1,902)
    into U00001: 5,710, above by 710; U00002: 2,750, below by 250 (both PCNs remade).
    Then A00005 (850) into no PCN: U00002 is A00004 alone, 1,900, below by 1,100 and a
    single practice (remade); U00001 is untouched, so its findings are the parent's own objects.

        +------+------+------+------+
        | T01  | T02  | T03  | T04  |     A00001 T01, A00002 T02 (U00001)
        +------+------+------+------+     A00003 T03, A00004 + A00005 T04 (U00002)
    """
    start = Partition(tiny)
    name, updater = size.FINDINGS, size.size_findings
    assert [f.kind for f in parts(start.metric(name, updater))] == []
    step = start.move("A00003", to="U00001")
    found = {f.pcn_code: f for f in parts(step.metric(name, updater))}
    assert {c: (f.kind, f.value, f.threshold) for c, f in found.items()} == {
        "U00001": ("above_band", 5710, 5000),
        "U00002": ("below_band", 2750, 3000),
    }
    assert "710 above the upper limit" in found["U00001"].message
    after = step.move("A00005", to=None)
    again = after.metric(name, updater)
    assert again["U00001"][1] is step.metric(name, updater)["U00001"][1]
    assert again["U00002"][1] is not step.metric(name, updater)["U00002"][1]
    below, single = again["U00002"][1]  # A00004 alone now: a single-practice PCN too
    assert (below.kind, below.value, below.threshold) == ("below_band", 1900, 3000)
    assert (single.kind, single.practice_codes) == ("single_practice", ("A00004",))
    # the same findings as a partition of that configuration made from scratch
    fresh = Partition(
        tiny, Configuration(after.configuration.assignments, after.configuration.names)
    )
    _equal(parts(again), parts(fresh.metric(name, updater)), "tiny size findings")
