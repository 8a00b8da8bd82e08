"""The demo generator is a development tool: out of the wheel, and its checker independent.

The generator (``scripts/demo_gen``) writes ``boundaries/demo/``; only those files and the
loader :mod:`geo_pcn.datasets` ship. Its checker (:mod:`demo_gen.rules`) must not share
geo_pcn's code, so that ``planted.json`` is a second opinion, and it must agree with what
geo_pcn writes for the demo, small area by small area.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from demo_gen.rules import evaluate

from geo_pcn.datasets import demo_dir, demo_planted

ROOT = Path(__file__).resolve().parents[2]
DEMO_GEN = ROOT / "scripts" / "demo_gen"


def test_wheel_config_ships_the_loader_and_files_not_the_generator():
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"][
        "build"
    ]["targets"]["wheel"]
    assert wheel["packages"] == ["geo_pcn"]
    assert wheel["force-include"] == {"boundaries": "geo_pcn/datasets/boundaries"}
    # the only module of geo_pcn.datasets is the loader; the generator lives outside geo_pcn
    assert sorted(p.name for p in (ROOT / "geo_pcn" / "datasets").glob("*.py")) == ["__init__.py"]
    assert {"generate.py", "rules.py", "design.py", "geometry.py"} <= {
        p.name for p in DEMO_GEN.glob("*.py")
    }


@pytest.mark.slow
def test_built_wheel_lists_no_generator(tmp_path):
    """Build the wheel (a couple of seconds) and list it."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "-w", str(tmp_path), "--no-deps", "-q"],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:  # e.g. offline, and hatchling not cached
        pytest.skip(f"could not build the wheel here: {build.stderr.strip()[-300:]}")
    (whl,) = tmp_path.glob("geo_pcn-*.whl")
    names = zipfile.ZipFile(whl).namelist()
    datasets = sorted(n for n in names if n.startswith("geo_pcn/datasets/"))
    assert [n for n in datasets if n.endswith(".py")] == ["geo_pcn/datasets/__init__.py"]
    assert "geo_pcn/datasets/boundaries/demo/planted.json" in datasets
    assert "geo_pcn/datasets/boundaries/manifest.json" in datasets
    assert not [n for n in names if "demo_gen" in n or "_generate" in n or "_rules" in n]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("module", sorted(p.name for p in DEMO_GEN.glob("*.py")))
def test_generator_and_checker_never_import_geo_pcn(module):
    assert "geo_pcn" not in _imports(DEMO_GEN / module)


@pytest.fixture(scope="module")
def evaluation():
    return evaluate(demo_dir())


@pytest.fixture(scope="module")
def geo_pcn_tables(tmp_path_factory):
    """What ``geo-pcn demo`` writes: the per-area and per-practice tables."""
    from geo_pcn.cli import cli

    out = tmp_path_factory.mktemp("demo-run")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    read = {"dtype": {"area_code": str, "practice_code": str, "pcn_code": str}}
    return (
        pd.read_csv(out / "areas.csv", keep_default_na=False, **read).set_index("area_code"),
        pd.read_csv(out / "practices.csv", keep_default_na=False, **read).set_index(
            "practice_code"
        ),
    )


def test_geo_pcn_agrees_with_the_checker_area_by_area(evaluation, geo_pcn_tables):
    """Territories, footprints, who serves each area and list sizes, computed twice."""
    areas, practices = geo_pcn_tables
    ev = evaluation
    mine = ev.areas.set_index("code")
    assert set(areas.index) == set(mine.index)
    got = areas.reindex(mine.index)
    assert (got["served_from"] == mine["served_from"]).all()
    assert (got["n_registered"] == mine["n_study"]).all()
    assert (got["n_registered_outside"] == mine["n_elsewhere"]).all()
    winner = ev.territory.set_index("area_code")["practice_code"].reindex(mine.index).fillna("")
    assert (got["practice_code"] == winner).all()
    assert (got["pcn_code"] == mine["pcn_code"].fillna("")).all()
    sizes = ev.practices.set_index("practice_code")["list_size"]
    assert practices["list_size"].reindex(sizes.index).astype(int).equals(sizes.astype(int))


def test_checker_reads_the_planted_problems_its_own_way(evaluation):
    ev = evaluation
    kinds = {p["kind"]: p for p in demo_planted()}
    # the hole is served from outside (geo_pcn: area_served_from_outside), not a study hole
    hole = ev.areas.set_index("code").loc[kinds["hole"]["expected"]["area_codes"]]
    assert (hole["served_from"] == "outside").all() and (hole["n_study"] == 0).all()
    # co-located practices: one of them wins no area, and the site joins them in the graph
    a, b = kinds["co_located"]["practice_codes"]
    assert ev.graph.edges[a, b]["reasons"][-1] == "same site"
    assert {a, b} - set(ev.territory["practice_code"])
    # the footprint fragment (planted "exclave") holds the detached practice of the split
    assert kinds["exclave"]["practice_codes"] == kinds["split"]["expected"]["detached_practices"]
    assert kinds["exclave"]["finding"] is None


def test_checker_refuses_a_tie_rather_than_breaking_it(tmp_path):
    """geo_pcn gives a tied area to the smaller code; the checker will not depend on that."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_dir(), folder)
    path = folder / "gp-reg-pat-prac-lsoa-all.csv"
    reg = pd.read_csv(path, dtype=str)
    n = reg["NUMBER_OF_PATIENTS"].astype(int)
    area = reg.loc[reg["LSOA_CODE"].str.startswith("DM01"), "LSOA_CODE"].iloc[0]
    rows = n[reg["LSOA_CODE"] == area].sort_values(ascending=False).index[:2]
    reg.loc[rows[1], "NUMBER_OF_PATIENTS"] = str(n[rows[0]])
    reg.to_csv(path, index=False, lineterminator="\n")
    with pytest.raises(ValueError, match=f"tie for the practice with most residents in.*{area}"):
        evaluate(folder)
