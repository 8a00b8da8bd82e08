"""``geo-pcn info`` imports only what it needs (issue 21 item 3: ``info`` <= 2 s warm): the
command group imports a command's module when the command is run, and ``import geo_pcn``
imports its public names on first use. Checked by the modules a fresh interpreter holds
after ``geo-pcn info`` on the demo, never by a clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from geo_pcn.cli import cli

ROOT = Path(__file__).resolve().parents[1]

# what `info` must not import: the other commands, every output, the solvers, the map
NOT_FOR_INFO = (
    "geo_pcn.proposal",
    "geo_pcn.render",
    "geo_pcn.history",
    "geo_pcn.compare",
    "geo_pcn.scenario",
    "geo_pcn.pipeline",
    "geo_pcn.cli.validate",
    "geo_pcn.cli.propose",
    "geo_pcn.cli.init",
    "folium",
    "branca",
    "jinja2",
    "openpyxl",
    "matplotlib",
    "pyscipopt",
    "ortools",
    "highspy",
)

SCRIPT = """
import json, sys
from geo_pcn.cli import main
from geo_pcn.datasets import demo_study_file
try:
    main(["--no-cache", "info", str(demo_study_file()), "--json"])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def test_info_imports_neither_the_outputs_nor_the_solvers():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, env=env
    )
    result = json.loads(done.stderr.strip().splitlines()[-1])
    assert result["code"] in (0, None)
    assert json.loads(done.stdout)["n_practices"] > 0  # it did load the study
    loaded = set(result["modules"])
    assert "geo_pcn.study" in loaded and "geo_pcn.cli.info" in loaded
    wrong = sorted(m for m in loaded if any(m == n or m.startswith(n + ".") for n in NOT_FOR_INFO))
    assert wrong == []


def test_every_command_is_listed_and_runs_its_own_help():
    """The group names its 11 commands without importing them; each one's help works."""
    runner = CliRunner()
    listed = runner.invoke(cli, ["--help"])
    assert listed.exit_code == 0
    lines = listed.output.split("Commands:")[1].splitlines()
    names = [line.split()[0] for line in lines if line.startswith("  ") and line.split()]
    assert names == [
        "cache", "demo", "diff", "history", "info", "init", "map", "propose", "rank",
        "scenario", "validate",
    ]  # fmt: skip
    for name in names:
        assert runner.invoke(cli, [name, "--help"]).exit_code == 0, name
    assert runner.invoke(cli, ["nonsense"]).exit_code == 2


def test_version_is_printed_as_before():
    out = CliRunner().invoke(cli, ["--version"])
    assert out.exit_code == 0
    assert out.output.startswith("geo-pcn, version ")


def test_public_functions_named_like_their_modules_stay_functions():
    """``geo_pcn.compare`` and ``geo_pcn.history`` are the functions even when their
    modules are imported after ``geo_pcn`` (by a renderer, say), as ``from geo_pcn import
    compare`` gives; the modules themselves are in ``sys.modules``."""
    code = (
        "import geo_pcn, sys, types\n"
        "import geo_pcn.compare, geo_pcn.history\n"
        "from geo_pcn.render.markdown import to_markdown\n"
        "from geo_pcn import compare, history\n"
        "print(callable(geo_pcn.compare), callable(geo_pcn.history), callable(compare),\n"
        "      callable(history), callable(geo_pcn.diff),\n"
        "      isinstance(sys.modules['geo_pcn.compare'], types.ModuleType))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    ).stdout.split()
    assert out == ["True"] * 6
