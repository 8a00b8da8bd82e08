"""Scenarios: fast re-validation equals a full one, compare() gives the known diff, scenario
files parse (and bad ones fail in one line), and the `scenario`/`rank` commands fix and rank
configurations of the demo region."""

from __future__ import annotations

import json
import random
import re

import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import write_tiny_study

import geo_pcn
from geo_pcn import Scenario, ScenarioError, Study, UnknownCodeError, compare, revalidate, validate
from geo_pcn.cli import cli
from geo_pcn.datasets import demo, demo_study_file
from geo_pcn.render import to_markdown

FIX_DEMO = """name = "Fix every planted problem of the demo"
[[move]]   # the practice in no PCN
practices = ["Z00024"]
to = "UZ002"
[[move]]   # the PCN below the band
practices = "Z00035"
to = "UZ008"
[[move]]   # the PCN above the band
practices = ["Z00003"]
to = "UZ005"
[[move]]
practices = ["Z00006"]
to = "UZ003"
[[move]]   # the split PCN
practices = ["Z00048"]
to = "UZ011"
[[move]]
practices = ["Z00051"]
to = "UZ010"
"""


@pytest.fixture(scope="module")
def study():
    return demo()


@pytest.fixture(scope="module")
def start(study):
    return validate(study)


def _same(incremental, full):
    assert incremental.findings == full.findings
    assert [f.details for f in incremental.findings] == [f.details for f in full.findings]
    assert incremental.summary == full.summary
    assert incremental.pcns.equals(full.pcns)
    a = incremental.context.footprints
    b = full.context.footprints
    assert list(a.pcns.index) == list(b.pcns.index)
    assert shapely.equals_exact(a.pcns.geometry.to_numpy(), b.pcns.geometry.to_numpy(), 0).all()
    if b.area_pcn is not None:
        assert a.area_pcn.equals(b.area_pcn)


def _full(study, configuration):
    """A validate with nothing to update from (a configuration with no parent): every
    footprint dissolved afresh."""
    fresh = geo_pcn.Configuration(configuration.assignments, configuration.names)
    return validate(study, fresh)


# -- fast re-validation ------------------------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_incremental_equals_full_for_random_changes(study, start, seed):
    rng = random.Random(seed)
    report, config = start, study.configuration
    for i in range(3):
        practice = rng.choice(config.practice_codes)
        roll = rng.random()
        if roll < 0.6:
            config = config.move(practice, to=rng.choice(config.pcn_codes))
        elif roll < 0.75:
            config = config.unassign(practice)
        elif roll < 0.9:
            a, b = rng.sample(config.pcn_codes, 2)
            config = config.merge([a, b], into=a, name=f"MERGED {i}")
        else:
            pcn = rng.choice(config.pcn_codes)
            config = config.split(pcn, {f"NEW{i}": config.members[pcn][:1]})
        report = revalidate(report, config)
    _same(report, _full(study, config))


def test_incremental_equals_full_on_the_tiny_study(tmp_path):
    study = Study.from_toml(write_tiny_study(tmp_path))
    report = validate(study)
    for step in [
        study.configuration.move("A00003", to="U00001"),
        study.configuration.unassign("A00005"),
        study.configuration.add_pcn("U00009", "NEW", ["A00001"]),
    ]:
        _same(revalidate(report, step), _full(study, step))


@pytest.mark.real_data
def test_incremental_equals_full_on_qnc(qnc_study_file):
    study = Study.from_toml(qnc_study_file)
    report = validate(study)
    graph = report.context.graph
    rng = random.Random(3)
    config = study.configuration
    for _ in range(4):  # a practice to the PCN of a neighbouring practice
        options = []
        while not options:
            practice = rng.choice(config.practice_codes)
            here = config.pcn_of(practice)
            options = sorted({config.pcn_of(n) for n in graph.neighbors(practice)} - {"", here})
        config = config.move(practice, to=rng.choice(options))
        report = revalidate(report, config)
    _same(report, _full(study, config))


def test_only_touched_pcns_are_recomputed(study, start):
    moved = study.configuration.move("Z00040", to="UZ007")
    after = revalidate(start, moved)
    recomputed = set(after.context.footprints.recomputed)
    assert {"UZ007", "UZ008"} <= recomputed
    assert len(recomputed) < study.configuration.n_pcns // 2
    untouched = start.context.footprints.pcns.geometry["UZ001"]
    assert after.context.footprints.pcns.geometry["UZ001"] is untouched  # reused, not rebuilt


# -- compare ------------------------------------------------------------------------------


def test_compare_gives_the_known_diff(study, start):
    after = revalidate(start, study.configuration.move("Z00040", to="UZ007"))
    c = compare(start, after)
    assert c.moves[["practice_code", "from_pcn_code", "to_pcn_code"]].to_dict("records") == [
        {"practice_code": "Z00040", "from_pcn_code": "UZ008", "to_pcn_code": "UZ007"}
    ]
    assert c.n_practices_moved == 1 and c.n_patients_moved == 3_225
    pcns = c.pcns.set_index("pcn_code")
    assert pcns.loc["UZ008", ["list_size_before", "list_size_after"]].tolist() == [25_001, 21_776]
    assert pcns.loc["UZ007", ["list_size_before", "list_size_after"]].tolist() == [48_002, 51_227]
    bands = c.band_changes.set_index("pcn_code")
    assert bands.loc["UZ007", ["band_status_before", "band_status_after"]].tolist() == [
        "within",
        "above",
    ]
    assert "UZ008" not in bands.index  # below before and after
    introduced = {(f.check, f.kind, f.pcn_code) for f in c.introduced}
    assert ("size", "above_band", "UZ007") in introduced
    resolved = {(f.check, f.kind, f.pcn_code) for f in c.resolved}
    # UZ008 is below the band before and after, with other practices: changed (issue 13)
    assert ("size", "below_band", "UZ008") not in introduced | resolved
    changed = {(ch.check, ch.kind, ch.pcn_code): ch for ch in c.changed}
    below = changed["size", "below_band", "UZ008"]
    assert (below.before.value, below.after.value) == (25_001, 21_776)
    assert {"practices", "value"} <= set(below.what)
    assert c.crossings["place"] == {"before": ["UZ006"], "after": ["UZ006"]}
    assert set(c.alignment) == {"teams", "sites"}
    assert c.changes == ["move Z00040 from UZ008 to UZ007"]
    data = json.loads(c.to_json())
    assert data["summary"]["n_patients_moved"] == 3_225
    assert "# Scenario comparison" in to_markdown(c)


def test_comparison_and_report_html_escape_inputs(study, start):
    config = study.configuration.rename("UZ002", "<script>alert(1)</script>")
    after = revalidate(start, config.move("Z00024", to="UZ002"))
    for text in (compare(start, after)._repr_html_(), after._repr_html_()):
        assert "<script>" not in text
        assert "&lt;script&gt;" in text
        assert "<details" in text
    assert "<details" in study._repr_html_()


# -- scenario files -----------------------------------------------------------------------


def test_toml_scenario_keeps_file_order_and_fixes_the_demo(study, start, tmp_path):
    path = tmp_path / "fix.toml"
    path.write_text(FIX_DEMO + '[[add_pcn]]\ncode = "UZ099"\nname = "SPARE"\n')
    scenario = Scenario.from_file(path)
    assert [op.op for op in scenario.operations] == ["move"] * 6 + ["add_pcn"]
    final = scenario.apply(study.configuration)
    report = revalidate(start, final)
    assert report.ok
    assert not [f for f in report.findings if f.severity.value == "error"]


def test_toml_order_across_operations(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[[add_pcn]]\ncode = "U9"\n[[move]]\npractices = "A1"\nto = "U9"\n'
        '[[merge]]\npcns = ["U9", "U1"]\ninto = "U1"\n[[split]]\npcn = "U1"\n'
        'parts = { U5 = ["A1"] }\nnames = { U5 = "FIVE" }\n'
    )
    config = geo_pcn.Configuration({"A1": "U1", "A2": "U1"})
    out = Scenario.from_file(path).apply(config)
    assert out.members == {"U1": ("A2",), "U5": ("A1",)}
    assert [c.op for c in out.history] == ["add_pcn", "move", "merge", "split"]


def test_csv_scenario_moves_adds_and_unassigns(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("practice_code,to_pcn_code,to_pcn_name\nA1,U2,\na2,U7,SEVEN\nA3,,\n")
    config = geo_pcn.Configuration({"A1": "U1", "A2": "U1", "A3": "U2"})
    out = Scenario.from_file(path).apply(config)
    assert out.members == {"U2": ("A1",), "U7": ("A2",)}
    assert out.unassigned == ("A3",)
    assert out.name_of("U7") == "SEVEN"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.toml", "[[moove]]\npractices = 'A1'\n", r"unknown operation\(s\) moove"),
        ("a.toml", "[[move]]\npractices = 'A1'\n", r"\[\[move\]\] #1: missing to"),
        ("a.toml", "[[move]]\npractices = 'A1'\nto = 'U1'\nfrom = 'U2'\n", "unknown key"),
        ("a.toml", "[[move\n", "not valid TOML"),
        ("a.csv", "code,pcn\nA1,U1\n", "needs the columns practice_code,to_pcn_code"),
        ("a.csv", "practice_code,to_pcn_code\nA1,U1\nA1,U2\n", "listed more than once"),
        ("a.txt.gz", "x", "unknown scenario file type"),
    ],
)
def test_bad_scenario_files_raise_one_line(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message) as info:
        Scenario.from_file(path)
    assert "\n" not in str(info.value)


def test_unknown_codes_in_a_scenario_name_the_operation(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        "[[move]]\npractices = ['A1']\nto = 'U1'\n[[move]]\npractices = ['Z9']\nto = 'U1'\n"
    )
    config = geo_pcn.Configuration({"A1": "U1"})
    with pytest.raises(ScenarioError, match=r"s\.toml \[\[move\]\] #2: unknown practice Z9"):
        Scenario.from_file(path).apply(config)
    with pytest.raises(UnknownCodeError):
        config.move("Z9", to="U1")


# -- the commands -------------------------------------------------------------------------


def test_scenario_command_fixes_a_planted_problem(tmp_path):
    scenario = tmp_path / "foxholes.csv"
    scenario.write_text("practice_code,to_pcn_code\nZ00024,UZ002\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["scenario", str(demo_study_file()), str(scenario), "--out", str(out), "-q"]
    )
    assert result.exit_code == 1, result.output  # other planted errors remain
    data = json.loads((out / "compare.json").read_text())
    resolved = {(f["check"], f["kind"]) for f in data["resolved"]}
    assert ("coverage", "practice_in_no_pcn") in resolved
    assert data["summary"]["findings"]["before"]["error"] == 4
    assert data["summary"]["findings"]["after"]["error"] == 3
    assert (out / "compare.md").read_text().startswith("# Scenario comparison")
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["n_practices_in_no_pcn"] == 0
    if hasattr(geo_pcn, "maps") or _has_maps():
        html_text = (out / "compare_map.html").read_text()
        assert "What changed" in html_text and "Z00024" in html_text


def _has_maps() -> bool:
    try:
        import geo_pcn.render.map  # noqa: F401
    except ImportError:
        return False
    return True


def test_scenario_command_makes_the_demo_pass(tmp_path):
    scenario = tmp_path / "fix.toml"
    scenario.write_text(FIX_DEMO)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["scenario", str(demo_study_file()), str(scenario), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output
    assert json.loads((out / "report.json").read_text())["summary"]["ok"] is True


def test_scenario_command_bad_file_is_one_line_exit_2(tmp_path):
    scenario = tmp_path / "bad.toml"
    scenario.write_text("[[move]]\npractices = ['Z99999']\nto = 'UZ001'\n")
    result = CliRunner().invoke(
        cli, ["scenario", str(demo_study_file()), str(scenario), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    last = result.output.strip().splitlines()[-1]
    assert "bad.toml [[move]] #1: unknown practice Z99999" in last
    assert "Traceback" not in result.output


def test_rank_command_orders_proposals(study, tmp_path):
    original = study.configuration.to_csv(tmp_path / "original.csv")
    fixed = Scenario.from_toml_text(FIX_DEMO).apply(study.configuration)
    fixed_csv = fixed.to_csv(tmp_path / "fixed.csv")
    nhs_csv = fixed.to_csv(tmp_path / "fixed_nhs.csv", layout="nhs", practices=study.practices)
    runner = CliRunner()
    args = ["rank", str(demo_study_file()), str(original), str(fixed_csv), str(nhs_csv), "-q"]
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    names = [r["proposal"].rsplit("/", 1)[-1] for r in rows]
    # the current configuration is always there, the baseline, first among its equals
    assert names[-2:] == ["(current configuration)", "original.csv"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["errors"] == 0 and rows[0]["ok"] is True
    # FIX_DEMO moves 5 practices between PCNs and places Z00024 (in no PCN before)
    assert (rows[0]["practices_moved"], rows[0]["practices_placed"]) == (5, 1)
    assert rows[0]["patients_moved"] > 0 and rows[0]["patients_placed"] == 8_616
    worst = rows[-1]
    assert (worst["errors"], worst["pcns_outside_band"], worst["split_pcns"]) == (4, 2, 1)
    text = runner.invoke(cli, args).output
    assert text.splitlines()[0].startswith("| rank | proposal")
    assert "(current configuration)** (baseline)" in text
    assert "Ranked by errors, then warnings, then patients moved" in text


def test_rank_an_unchanged_proposal_equals_the_baseline(study, tmp_path):
    from geo_pcn.cli.scenario import RANK_FIGURES

    same = study.configuration.to_csv(tmp_path / "same.csv")
    result = CliRunner().invoke(cli, ["rank", str(demo_study_file()), str(same), "-q", "--json"])
    assert result.exit_code == 0, result.output
    baseline, row = json.loads(result.output)
    assert baseline["baseline"] is True and row["baseline"] is False
    assert baseline["rank"] == 1 and row["rank"] == 2  # a tie: the baseline first
    assert {k: row[k] for k in RANK_FIGURES} == {k: baseline[k] for k in RANK_FIGURES}
    assert (row["practices_moved"], row["patients_moved"]) == (0, 0)
    text = CliRunner().invoke(cli, ["rank", str(demo_study_file()), str(same), "-q"]).output
    body = [line.split("|")[3:] for line in text.splitlines()[2:4]]
    assert body[0] == body[1]  # the table rows agree after rank and name


def test_rank_orders_by_errors_then_warnings_then_patients_moved():
    from geo_pcn.cli.scenario import rank_rows

    def row(name, errors, warnings, patients, baseline=False):
        return {
            "proposal": name,
            "baseline": baseline,
            "errors": errors,
            "warnings": warnings,
            "patients_moved": patients,
            "pcns_outside_band": 0,
            "split_pcns": 0,
            "crossings": 0,
            "alignment": None,
        }

    rows = rank_rows(
        [
            row("base", 1, 0, 0, baseline=True),
            row("a", 0, 2, 10),
            row("b", 0, 1, 500),
            row("c", 0, 1, 20),
        ]
    )
    assert [r["proposal"] for r in rows] == ["c", "b", "a", "base"]


# -- hostile scenario files (issue 10, item 13) -------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[move]]\npractices = 5\nto = 'UZ002'\n", r"\[\[move\]\] #1: practices must be"),
        ("[[move]]\npractices = ['Z00024', 7]\nto = 'UZ002'\n", r"practices must be"),
        ("[[move]]\npractices = 'Z00024'\nto = 3\n", r"\[\[move\]\] #1: to must be"),
        ("[[merge]]\npcns = 'UZ008'\ninto = 'UZ007'\n", r"pcns must be a list"),
        ("[[split]]\npcn = 'UZ001'\nparts = { UZ014 = 5 }\n", r"parts must be"),
        ("[[rename]]\npcn = 'UZ002'\nname = ['X']\n", r"name must be"),
    ],
)
def test_wrong_types_in_a_scenario_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message) as info:
        Scenario.from_file(path)
    assert "\n" not in str(info.value) and "bad.toml" in str(info.value)
    result = CliRunner().invoke(
        cli, ["scenario", str(demo_study_file()), str(path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("s.csv", "practice_code,to_pcn_code\nz00024,uz002\n"),
        ("s.csv", "practice_code,to_pcn_code\n z00024 , Uz002 \n"),
        ("s.toml", "[[move]]\npractices = 'z00024'\nto = 'uz002'\n"),
        ("s.toml", "move = [{ practices = ['z00024'], to = 'uz002' }]\n"),
    ],
)
def test_codes_in_a_scenario_are_matched_whatever_their_case(study, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    after = Scenario.from_file(path).apply(study.configuration)
    assert after.pcn_of("Z00024") == "UZ002"
    assert set(after.pcn_codes) == set(study.configuration.pcn_codes)
    assert "uz002" not in after.names


def test_toml_inline_arrays_of_tables_keep_their_order(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "inline"\n'
        'add_pcn = [{ code = "U9" }]\n'
        'move = [{ practices = "A1", to = "U9" }, { practices = ["A2"], to = "U9" }]\n'
        '[[merge]]\npcns = ["U9", "U1"]\ninto = "U1"\n'
        '[[split]]\npcn = "U1"\n[split.parts]\nU5 = ["A1"]\n'
        '[[rename]]\npcn = "U5"\nname = """\n[[move]]\nFIVE"""\n'
    )
    scenario = Scenario.from_file(path)
    assert [op.op for op in scenario.operations] == [
        "add_pcn",
        "move",
        "move",
        "merge",
        "split",
        "rename",
    ]
    out = scenario.apply(geo_pcn.Configuration({"A1": "U1", "A2": "U1", "A3": "U1"}))
    assert out.members == {"U1": ("A2", "A3"), "U5": ("A1",)}
    assert out.name_of("U5") == "[[move]]\nFIVE"


@pytest.mark.parametrize("hidden_above, shown", [(300, True), (0, False)])
def test_what_changed_starts_hidden_when_many_practices_moved(
    tmp_path, monkeypatch, hidden_above, shown
):
    """One practice moves (Z00024 to UZ002): the "What changed" layer is drawn on opening
    at the usual threshold; with a threshold of 0 moves (a national proposal moves
    thousands) it starts hidden, is still in the layer control, and the legend says so."""
    import geo_pcn.render._map_layers as layers
    import geo_pcn.render._map_legend as legend

    monkeypatch.setattr(layers, "_CHANGES_HIDDEN_ABOVE", hidden_above)
    monkeypatch.setattr(legend, "_CHANGES_HIDDEN_ABOVE", hidden_above)
    scenario = tmp_path / "move.csv"
    scenario.write_text("practice_code,to_pcn_code\nZ00024,UZ002\n")
    out = tmp_path / "out"
    CliRunner().invoke(
        cli, ["scenario", str(demo_study_file()), str(scenario), "--out", str(out), "-q"]
    )
    html_text = (out / "compare_map.html").read_text()
    (group,) = re.findall(r'"What changed[^"]*" : (feature_group_\w+)', html_text)
    assert (f"{group}.addTo(map_" in html_text) is shown
    assert ("1 practices moved: the layer starts hidden" in html_text) is not shown
