"""File order does not matter (issue 19, item 8): the demo's inputs with the rows of every
CSV and the features of every GeoJSON shuffled give byte-identical outputs, every file
compared byte for byte (before the mend 8 of 12 followed the input order)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo_pcn.cli import cli

DEMO = Path(__file__).resolve().parents[1] / "boundaries" / "demo"


def _shuffle(folder: Path, seed: int) -> None:
    """Put the CSV rows (the header kept first) and GeoJSON features of ``folder`` in a
    random order; nothing else changes."""
    rng = random.Random(seed)
    for path in sorted(folder.iterdir()):
        if path.suffix == ".csv":
            header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
            rng.shuffle(rows)
            path.write_text(header + "".join(rows), encoding="utf-8")
        elif path.suffix == ".geojson":
            doc = json.loads(path.read_text(encoding="utf-8"))
            rng.shuffle(doc["features"])
            path.write_text(json.dumps(doc), encoding="utf-8")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffled_inputs_give_identical_outputs(tmp_path, seed):
    study = tmp_path / "input"
    shutil.copytree(DEMO, study)  # one path for both runs: the notes name the files
    runs = []
    for name in ("as_given", "shuffled"):
        if name == "shuffled":
            _shuffle(study, seed)
        out = tmp_path / name
        args = ["validate", str(study / "demo.toml"), "--out", str(out), "-q"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, result.output  # the demo fails on purpose
        runs.append(_files(out))
    assert len(runs[0]) == 13 and sorted(runs[0]) == sorted(runs[1])  # 12 and the manifest
    differ = [name for name in runs[0] if runs[0][name] != runs[1][name]]
    assert differ == [], f"follow the input order: {differ}"
