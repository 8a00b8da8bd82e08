"""The notebooks run clean in a fresh kernel (nbmake), use no absolute paths, and are
committed with their outputs stripped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_exist():
    names = [p.name for p in NOTEBOOKS]
    assert names == ["01_validate_demo.ipynb", "02_scenarios.ipynb", "03_your_area.ipynb"]


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
