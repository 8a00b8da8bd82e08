"""The notebooks run clean in a fresh kernel (nbmake), use no absolute paths, are committed
with their outputs stripped, and show what their text promises: 01 the demo failing with its
planted errors, 02 the six moves making it pass, 03 the template running on the demo, 05 the
proposed repair proven optimal and moving fewer patients than 02's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import geo_pcn
from geo_pcn.datasets import demo, demo_study_file

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_notebooks_exist():
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01_validate_demo.ipynb",
        "02_scenarios.ipynb",
        "03_your_area.ipynb",
        "04_editor.ipynb",
        "05_propose.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_stripped_and_no_absolute_paths(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    for cell in doc["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: strip the outputs"
            assert cell.get("execution_count") is None
        source = "".join(cell["source"])
        assert "/work/" not in source and "/home/" not in source and "C:\\" not in source


@pytest.mark.slow
def test_notebooks_run_in_a_fresh_kernel(tmp_path):
    env = {
        **os.environ,
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbmake",
            "--nbmake-timeout=120",
            "-p",
            "no:cacheprovider",
            "-q",
            *[str(p) for p in NOTEBOOKS],
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


# -- what the notebooks show ------------------------------------------------------------
PROBE = "# probe added by tests/test_notebooks.py"
#: Run after each notebook (in memory only, never saved): the facts its text promises.
PROBES = {
    "01_validate_demo": (
        f"{PROBE}\nimport json\n"
        "print('PROBE ' + json.dumps({'ok': report.ok, 'errors': sorted("
        "f'{f.check}/{f.kind}' for f in report.findings if f.severity.value == 'error')}))"
    ),
    "02_scenarios": (
        f"{PROBE}\nimport json\n"
        "print('PROBE ' + json.dumps({'ok': report4.ok, 'full_ok': full.ok, "
        "'same': final == step4, 'n_changes': len(step4.history), "
        "'in_no_pcn': [p for p in study.configuration.practice_codes "
        "if final.pcn_of(p) == '']}))"
    ),
    "03_your_area": (
        f"{PROBE}\nimport json\n"
        "print('PROBE ' + json.dumps({'moved_to': changed.pcn_of(practice), "
        "'target': target, 'was': config.pcn_of(practice), 'n_changes': len(changed.history)}))"
    ),
    "05_propose": (
        f"{PROBE}\nimport json\n"
        "print('PROBE ' + json.dumps({'status': proposal.summary['status'], "
        "'gap': proposal.summary['gap'], 'ok': after.ok, "
        "'same': geo_pcn.Scenario.from_toml_text(proposal.toml).apply(study.configuration)"
        " == proposal.configuration, "
        "'table': {k: {r: int(v) for r, v in col.items()} "
        "for k, col in side_by_side.to_dict().items()}, "
        "'changes': proposal.changes[['practice_code', 'from_pcn', 'to_pcn']].values.tolist(), "
        "'by_practices': by_practices.changes[['practice_code', 'from_pcn', 'to_pcn']]"
        ".values.tolist()}))"
    ),
}

#: The demo's ERROR findings (the rest of its planted problems are warnings or notes).
DEMO_ERRORS = [
    "contiguity/detached_group",
    "coverage/practice_in_no_pcn",
    "size/above_band",
    "size/below_band",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """``executed(stem)``: the notebook run top to bottom in a fresh kernel (nbclient),
    from a copy in a temporary ``notebooks/`` folder (nothing is written into the project,
    and ``03_your_area`` falls back to the demo: no ``../shared/data`` beside the copy),
    with the probe cell appended. Each notebook runs once per module."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    root = tmp_path_factory.mktemp("nb")
    folder = root / "project" / "notebooks"
    folder.mkdir(parents=True)
    runs: dict[str, object] = {}

    def run(stem: str):
        if stem not in runs:
            nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
            nb.cells.append(nbformat.v4.new_code_cell(PROBES[stem]))
            with pytest.MonkeyPatch.context() as mp:
                for var, sub in (
                    ("IPYTHONDIR", "ipython"),
                    ("MPLCONFIGDIR", "matplotlib"),
                    ("JUPYTER_RUNTIME_DIR", "runtime"),
                ):
                    mp.setenv(var, str(root / sub))
                mp.setenv("JUPYTER_PLATFORM_DIRS", "1")
                mp.setenv("MPLBACKEND", "Agg")
                nbclient.NotebookClient(
                    nb,
                    timeout=300,
                    kernel_name="python3",
                    resources={"metadata": {"path": str(folder)}},
                ).execute()
            runs[stem] = nb
        return runs[stem]

    return run


def _cell(nb, first_line: str) -> dict[str, str]:
    """The outputs of the one code cell whose source starts with ``first_line``:
    ``stream`` (all printed text), ``text`` and ``html`` (its displayed value)."""
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(first_line)]
    assert len(cells) == 1, f"expected one cell starting {first_line!r}, found {len(cells)}"
    out = {"stream": "", "text": "", "html": ""}
    for o in cells[0].outputs:
        if o.output_type == "stream":
            out["stream"] += o.text
        elif o.output_type in ("execute_result", "display_data"):
            out["text"] += o.data.get("text/plain", "")
            out["html"] += o.data.get("text/html", "")
    return out


def _probe(nb) -> dict:
    (line,) = [
        line for line in _cell(nb, PROBE)["stream"].splitlines() if line.startswith("PROBE ")
    ]
    return json.loads(line.removeprefix("PROBE "))


@pytest.mark.slow
def test_01_the_demo_report_fails_with_its_planted_errors(executed):
    from geo_pcn.datasets import demo_planted

    nb = executed("01_validate_demo")
    study = _cell(nb, "import geo_pcn")
    assert "59 practices, 13 PCNs, 508,614 patients" in study["text"]
    shown = _cell(nb, "report = geo_pcn.validate(study)")
    assert re.search(r"<Report '[^']*synthetic[^']*': FAIL, 4 errors, \d+ warnings", shown["text"])
    assert ">FAIL</span>" in shown["html"] and "Errors (4)" in shown["html"]
    printed = _cell(nb, "for finding in report.findings:")["stream"].splitlines()
    errors = sorted(line.split()[1].rstrip(":") for line in printed if line.startswith("ERROR"))
    assert errors == DEMO_ERRORS
    listed = {line.split()[1].rstrip(":") for line in printed}
    planted = {
        f"{p['finding']['check']}/{p['finding']['kind']}" for p in demo_planted() if p["finding"]
    }
    assert planted <= listed, f"planted but not printed: {sorted(planted - listed)}"
    pcns = _cell(nb, "report.pcns[")["text"]
    assert set(re.findall(r"\bUZ0\d\d\b", pcns)) == {f"UZ{i:03d}" for i in range(1, 14)}
    fmap = _cell(nb, "try:")["html"]
    assert "<iframe" in fmap and "PCN footprints" in fmap and "SYNTHETIC DEMO DATA" in fmap
    assert _probe(nb) == {"ok": False, "errors": DEMO_ERRORS}


@pytest.mark.slow
def test_02_the_six_moves_make_the_demo_pass(executed):
    nb = executed("02_scenarios")
    start = _cell(nb, "import geo_pcn")["stream"].strip().splitlines()
    assert len(start) == 4  # the four error messages
    assert any("is in no PCN" in line for line in start)
    history = _cell(nb, "for change in step4.history:")["stream"].strip().splitlines()
    assert history == [
        "move Z00024 from no PCN to UZ002",
        "move Z00035 from UZ007 to UZ008",
        "move Z00003 from UZ001 to UZ005",
        "move Z00006 from UZ001 to UZ003",
        "move Z00048 from UZ010 to UZ011",
        "move Z00051 from UZ011 to UZ010",
    ]
    step4 = _cell(nb, "step4 = step3.move(")
    assert "errors 1 -> 0" in step4["text"]
    overall = _cell(nb, "scenario = geo_pcn.Scenario.from_toml_text(")
    assert (
        "5 practices moved between PCNs (45,026 patients); 1 practice in no PCN placed (8,616 patients); errors 4 -> 0"
        in overall["text"]
    )
    assert "&rarr; <span style='color:#1a7f37'>PASS</span>" in overall["html"]
    final = _cell(nb, "full = geo_pcn.validate(study, final)")
    assert re.search(r": PASS, 0 errors, \d+ warnings", final["text"])
    assert _probe(nb) == {
        "ok": True,
        "full_ok": True,
        "same": True,
        "n_changes": 6,
        "in_no_pcn": [],
    }


@pytest.mark.slow
def test_03_the_template_runs_on_the_demo(executed):

    nb = executed("03_your_area")
    assert _cell(nb, "from pathlib import Path")["text"] == repr(demo_study_file())
    assert "59 practices, 13 PCNs" in _cell(nb, "study = geo_pcn.Study.from_toml")["text"]
    assert ": FAIL, 4 errors" in _cell(nb, "report = geo_pcn.validate(study)")["text"]
    tried, line = _cell(nb, "config = study.configuration")["stream"].strip().splitlines()
    assert re.fullmatch(r"\d+ moves tried", tried), tried
    match = re.fullmatch(
        r"(Z\d{5}) \((.+), ([\d,]+) patients\) from (UZ\d{3}|no PCN) to (UZ\d{3}): "
        r"errors (\d+) -> (\d+)",
        line,
    )
    assert match, line
    practice, name, patients, source, target, before, after = match.groups()
    # the text promises a move that leaves fewer errors: worked out again here with a
    # full validation of the moved configuration (not the notebook's re-validation)
    study = geo_pcn.Study.from_toml(demo_study_file())
    assert study.practices.loc[practice, "practice_name"] == name
    assert f"{int(study.practices.loc[practice, 'list_size']):,}" == patients
    assert (study.configuration.pcn_of(practice) or "no PCN") == source
    full = geo_pcn.validate(study, study.configuration.move(practice, to=target))
    errors = sum(f.severity.value == "error" for f in full.findings)
    assert int(before) == 4 and int(after) == errors < 4
    # and no single move of the practices the errors name does better
    start = geo_pcn.validate(study)
    named = {p for f in start.findings if f.severity.value == "error" for p in f.practice_codes}
    assert practice in named
    compared = _cell(nb, "changed = config.move(practice, to=target)")
    assert f"errors 4 -> {errors}" in compared["text"]
    assert f"move {practice} from " in compared["html"]
    probe = _probe(nb)
    assert probe["moved_to"] == probe["target"] == target
    assert probe["was"] != target and probe["n_changes"] == 1


@pytest.mark.slow
def test_05_the_proposal_is_optimal_and_beats_the_hand_fix(executed):
    nb = executed("05_propose")
    printed = _cell(nb, "import pandas as pd")["stream"].splitlines()
    assert sorted(line.split()[1].rstrip(":") for line in printed) == DEMO_ERRORS
    shown = _cell(nb, "proposal = geo_pcn.propose(study)")["text"]
    assert shown.startswith("<Proposal: optimal, ")
    assert "proven optimal" in _cell(nb, "saved = ")["stream"]
    fmap = _cell(nb, "from geo_pcn import render")["html"]
    assert "<iframe" in fmap and "SYNTHETIC DEMO DATA" in fmap and "What changed" in fmap
    probe = _probe(nb)
    assert probe["status"] == "optimal" and probe["gap"] == 0.0
    assert probe["ok"] and probe["same"]
    hand, proposed = probe["table"]["by hand (notebook 02)"], probe["table"]["proposed"]
    assert hand["errors after"] == proposed["errors after"] == 0
    assert hand["practices moved"] == 5 and hand["practices placed"] == 1
    assert proposed["patients moved"] < hand["patients moved"]
    # what the text says, each figure worked out from the study's practices with pandas
    practices = demo().practices
    size = practices["list_size"]
    changes = {code: (src, to) for code, src, to in probe["changes"]}
    assert changes["Z00024"] == ("", "UZ005")  # "places Foxholes Surgery in Brackenford East"
    assert "FOXHOLES" in practices.loc["Z00024", "practice_name"]
    assert "BRACKENFORD EAST" in demo().configuration.names["UZ005"]
    moved = sorted(code for code, (src, _) in changes.items() if src)
    assert len(moved) == hand["practices moved"] == proposed["practices moved"] == 5
    assert int(size[moved].sum()) == proposed["patients moved"] == 35_889
    # objective="practices": "the same count, five practices and 35,889 patients"
    by_practices = _cell(nb, "by_practices = geo_pcn.propose(")
    assert "5 practices moved between PCNs (35,889 patients)" in by_practices["stream"]
    assert sorted(code for code, src, _ in probe["by_practices"] if src) == moved
    # "Thornmere East (UZ008, 25,001 patients)"
    assert int(size[practices["pcn_code"] == "UZ008"].sum()) == 25_001
    # "Mid Vale PCN (UZ006) ... is closed"
    assert "PCNs closed: ['UZ006']" in _cell(nb, "within_place = geo_pcn.propose(")["stream"]


def test_02_the_figures_its_text_quotes():
    """Notebook 02's text quotes list sizes; here they are summed from practices.csv with
    pandas (no geo_pcn figure), and the text must say the same."""
    doc = json.loads((ROOT / "notebooks" / "02_scenarios.ipynb").read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "markdown")
    practices = demo().practices
    by_pcn = practices.groupby("pcn_code")["list_size"].sum()
    assert f"its {int(practices.loc['Z00024', 'list_size']):,} patients" in text
    assert f"Thornmere East (UZ008) has {int(by_pcn['UZ008']):,} patients" in text
    assert f"Brackenford Central (UZ001) has {int(by_pcn['UZ001']):,} patients" in text


@pytest.mark.slow
@pytest.mark.real_data
def test_03_on_the_real_qnc_study_keeps_a_move_that_helps(shared_data, tmp_path):
    """Issue 24: notebook 03's example move once made the real study worse (errors 8 -> 10,
    into the smallest PCN). Run where it lives (beside ../shared/data it loads QNC), the
    move it keeps must leave fewer errors, as a full validation of the moved configuration
    says (not the notebook's re-validation)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if (ROOT.parent / "shared" / "data").resolve() != shared_data.resolve():
        pytest.skip("notebook 03 looks for ../shared/data beside the project; it is elsewhere")
    nb = nbformat.read(ROOT / "notebooks" / "03_your_area.ipynb", as_version=4)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
            mp.setenv(var, str(tmp_path / var.lower()))
        mp.setenv("JUPYTER_PLATFORM_DIRS", "1")
        nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3",
            resources={"metadata": {"path": str(ROOT / "notebooks")}},
        ).execute()  # fmt: skip
    assert "qnc_oct2025.toml" in _cell(nb, "from pathlib import Path")["text"]
    _, line = _cell(nb, "config = study.configuration")["stream"].strip().splitlines()
    match = re.fullmatch(r"(\w+) \(.+\) from (\w+|no PCN) to (\w+): errors (\d+) -> (\d+)", line)
    assert match, line
    practice, source, target, before, after = match.groups()
    study = geo_pcn.Study.from_toml(ROOT / "tests" / "real" / "qnc_oct2025.toml")
    start = geo_pcn.validate(study)
    assert study.configuration.pcn_of(practice) == source
    moved = geo_pcn.validate(study, study.configuration.move(practice, to=target))

    def n_errors(report):
        return sum(f.severity.value == "error" for f in report.findings)

    assert int(before) == n_errors(start) and int(after) == n_errors(moved) < n_errors(start)
