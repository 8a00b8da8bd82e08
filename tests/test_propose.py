"""geo-pcn propose on the demo and on real QNC: the proposal passes, is proven optimal (or
within the gap asked for), reproduces through `geo-pcn scenario`, and solves the same on a
Dask cluster. Hand-worked optima on tiny studies are in tests/test_propose_fixtures.py."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import geo_pcn
from geo_pcn.cli import cli
from geo_pcn.datasets import demo
from geo_pcn.proposal import propose

DEMO = Path(__file__).resolve().parents[1] / "boundaries" / "demo" / "demo.toml"
QNC = Path(__file__).resolve().parent / "real" / "qnc_oct2025.toml"

#: the kinds a proposal must clear (size, contiguity, coverage)
MUST_CLEAR = {
    ("size", "above_band"),
    ("size", "below_band"),
    ("contiguity", "detached_group"),
    ("coverage", "practice_in_no_pcn"),
}

#: notebook 02's fix of the demo, found by hand: six moves
NOTEBOOK_02 = {
    "Z00024": "UZ002",
    "Z00035": "UZ008",
    "Z00003": "UZ005",
    "Z00006": "UZ003",
    "Z00048": "UZ011",
    "Z00051": "UZ010",
}


def _errors(report) -> set[tuple[str, str]]:
    return {(f.check, f.kind) for f in report.findings if f.severity.name == "ERROR"}


def _patients_moved(study, before: pd.Series, after: pd.Series) -> int:
    """Registered patients at practices whose PCN changed (practices in no PCN placed
    are not moves), from the practices table."""
    changed = before.index[(before != after.reindex(before.index)) & (before != "")]
    return int(study.practices["list_size"].reindex(changed).fillna(0).sum())


@pytest.fixture(scope="module")
def demo_proposal():
    # a generous limit (the demo is proven in well under a second): no test here needs the
    # solver to be quick, only to finish
    study = demo()
    return study, propose(study, time_limit=600)


def test_demo_proposal_passes_and_is_proven_optimal(demo_proposal):
    study, proposal = demo_proposal
    before = geo_pcn.validate(study)
    assert _errors(before) & MUST_CLEAR  # the demo's planted problems
    after = geo_pcn.validate(study, proposal.configuration)
    assert not _errors(after) & MUST_CLEAR
    s = proposal.summary
    assert s["status"] == "optimal" and s["gap"] == 0 and s["bound"] == s["value"]
    # every practice is in a PCN; the figures agree with the practices table
    assert proposal.configuration.unassigned == ()
    moved = _patients_moved(
        study, study.configuration.assignments, proposal.configuration.assignments
    )
    assert s["patients_moved"] == moved == s["value"]


def test_demo_proposal_is_no_worse_than_the_hand_fix_of_notebook_02(demo_proposal):
    study, proposal = demo_proposal
    config = study.configuration
    for practice, pcn in NOTEBOOK_02.items():
        config = config.move(practice, to=pcn)
    hand = geo_pcn.validate(study, config)
    assert not _errors(hand) & MUST_CLEAR  # the hand fix passes too...
    by_hand = _patients_moved(study, study.configuration.assignments, config.assignments)
    # ...and moves at least as many patients as the proven optimum
    assert proposal.summary["patients_moved"] <= by_hand
    assert proposal.summary["practices_moved"] + proposal.summary["practices_placed"] <= 6


def test_demo_proposal_toml_reproduces_it(demo_proposal):
    study, proposal = demo_proposal
    again = geo_pcn.Scenario.from_toml_text(proposal.toml).apply(study.configuration)
    assert again.assignments.equals(proposal.configuration.assignments)
    assert again.names == proposal.configuration.names


def test_demo_proposal_changes_table(demo_proposal):
    study, proposal = demo_proposal
    changes = proposal.changes
    before = study.configuration.assignments
    after = proposal.configuration.assignments
    assert sorted(changes["practice_code"]) == sorted(before.index[before != after])
    sizes = study.practices["list_size"]
    assert changes.set_index("practice_code")["patients"].equals(
        sizes.reindex(changes["practice_code"]).astype("int64").rename("patients")
        .rename_axis("practice_code")
    )  # fmt: skip


def test_cli_propose_then_scenario_on_the_demo(tmp_path):
    runner = CliRunner()
    out = tmp_path / "proposal"
    slow = ["--time-limit", "600"]  # generous: the answer must not depend on load
    result = runner.invoke(cli, ["propose", str(DEMO), "--out", str(out), "-q", *slow])
    assert result.exit_code == 0, result.output
    assert "PASS after the proposal" in result.output
    for name in ("proposal.toml", "proposal.md", "proposal.json", "changes.csv",
                 "report.md", "compare.md", "compare_map.html", "map.html"):  # fmt: skip
        assert (out / name).is_file(), name
    data = json.loads((out / "proposal.json").read_text())
    assert data["summary"]["status"] == "optimal"
    assert len(data["changes"]) == len(pd.read_csv(out / "changes.csv"))
    # the scenario it wrote is accepted by geo-pcn scenario, and passes
    again = tmp_path / "applied"
    result = runner.invoke(
        cli, ["scenario", str(DEMO), str(out / "proposal.toml"), "--out", str(again), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "PASS after the scenario" in result.output
    # a second run writes the same bytes
    out2 = tmp_path / "proposal2"
    assert runner.invoke(cli, ["propose", str(DEMO), "--out", str(out2), "-q", *slow]).exit_code == 0
    for name in ("proposal.toml", "proposal.md", "proposal.json", "changes.csv"):
        assert (out / name).read_bytes() == (out2 / name).read_bytes(), name


def test_cli_propose_bad_options_are_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        cli, ["propose", str(DEMO), "--out", str(tmp_path / "o"), "--within", "nowhere", "-q"]
    )
    assert result.exit_code == 2
    assert "nowhere" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_parts_solved_in_processes_and_on_dask_agree():
    """Each place of the demo as its own part (``within="place"``): two local processes
    and a Dask LocalCluster give the answer solved in this process."""
    distributed = pytest.importorskip("distributed")
    study = demo()
    here = propose(study, within="place", workers=1)
    assert len(here.parts) > 1
    pool = propose(study, within="place", workers=2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        on_dask = propose(study, within="place", scheduler=client)
        by_address = propose(study, within="place", scheduler=cluster.scheduler_address)
    for other in (pool, on_dask, by_address):
        assert other.configuration.assignments.equals(here.configuration.assignments)
        assert other.summary["value"] == here.summary["value"]
        assert list(other.parts["status"]) == list(here.parts["status"])


def test_within_keeps_every_pcn_inside_one_area():
    study = demo()
    proposal = propose(study, within="place")
    place = geo_pcn.geography.geography_of(study).site_areas["place"]["code"]
    config = proposal.configuration
    for pcn, members in config.members.items():
        areas = set(place.reindex(list(members))) - {""}
        assert len(areas) <= 1, (pcn, areas)
    # practices forced out of their PCN by a place line count once in the objective
    moved = _patients_moved(study, study.configuration.assignments, config.assignments)
    assert proposal.summary["value"] == proposal.summary["patients_moved"] == moved
    assert proposal.summary["bound"] <= moved


@pytest.mark.real_data
@pytest.mark.slow
def test_qnc_proposal_is_valid_and_no_better_than_its_bound(shared_data):
    """The real Staffordshire study: whatever the solver reaches in its time (the machine
    may be loaded), the answer is a configuration (the heuristic gives one without the
    clock) with every PCN inside the band and contiguous, East Staffordshire (155,279) in
    at least 4 PCNs and Mercian (93,616) in at least 2; its patients moved are at least the
    proven bound, which is at least the independent bound (each PCN above the band must
    lose its excess), and within 1% of it whenever the part says it is."""
    study = geo_pcn.Study.from_toml(QNC)
    proposal = propose(study, gap=0.01, time_limit=60)
    s = proposal.summary
    assert s["status"] in ("optimal", "within gap", "time limit"), proposal.parts
    assert proposal.parts["heuristic"].notna().all(), proposal.parts
    after = geo_pcn.validate(study, proposal.configuration)
    assert not _errors(after) & MUST_CLEAR, _errors(after)

    # independent: list sizes summed with pandas from the study's practices and map
    sizes = study.practices["list_size"].fillna(0)
    assign = study.configuration.assignments
    pcn_sizes = sizes.groupby(assign[assign != ""]).sum()
    high = study.rules.band[1]
    assert pcn_sizes["U57641"] == 155_279 and pcn_sizes["U79533"] == 93_616
    excess = int((pcn_sizes[pcn_sizes > high] - high).sum())
    assert s["bound"] >= excess
    assert s["patients_moved"] >= s["bound"]
    assert s["patients_moved"] <= proposal.parts["heuristic"].sum()  # never worse than it
    if s["status"] in ("optimal", "within gap"):
        assert s["patients_moved"] <= s["bound"] / (1 - 0.01)

    after_assign = proposal.configuration.assignments
    east = [p for p in assign.index[assign == "U57641"]]
    mercian = [p for p in assign.index[assign == "U79533"]]
    assert after_assign.reindex(east).nunique() >= 4
    assert after_assign.reindex(mercian).nunique() >= 2
    moved = _patients_moved(study, assign, after_assign)
    assert moved == s["patients_moved"]


def test_an_exempt_pcn_absorbs_no_more_than_the_band_allows():
    """Issue 19 item 7: with ``gap=1`` and ``reach=5`` the demo once "passed" by merging
    all 59 practices into its one exempt PCN (Uplands Rural, UZ009). Every PCN free of the
    band may now hold at most its own size or the band's upper limit, whichever is more;
    checked with pandas on the practices table."""
    study = demo()
    proposal = propose(study, gap=1, reach=5, workers=1, time_limit=600)
    sizes = study.practices["list_size"].fillna(0)
    before = sizes.groupby(study.configuration.assignments).sum()
    after = sizes.groupby(proposal.configuration.assignments).sum()
    high = study.rules.band[1]
    assert "UZ009" in proposal.settings["exempt"]
    for pcn in proposal.settings["exempt"]:
        if pcn in after.index:
            assert after[pcn] <= max(before.get(pcn, 0), high), (pcn, after[pcn])
    assert len(proposal.configuration.pcn_codes) > 1
