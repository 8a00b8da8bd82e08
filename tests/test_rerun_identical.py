"""Every output is byte-identical when re-run on the same inputs: `geo-pcn validate` (with
--png) and `geo-pcn scenario`, every file compared byte for byte, in a fresh folder and when
re-run into the same folder."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo_pcn.cli import cli
from geo_pcn.datasets import demo_study_file

pytestmark = pytest.mark.slow

FIX_TWO = """name = "Two moves"
[[move]]
practices = ["Z00024"]
to = "UZ002"
[[move]]
practices = "Z00035"
to = "UZ008"
"""


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _assert_identical(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert differ == [], f"differ between runs: {differ}"


def _twice(tmp_path: Path, args: list[str], expected_files: set[str]) -> None:
    runner = CliRunner()
    runs = []
    for name in ("first", "second"):
        out = tmp_path / name
        result = runner.invoke(cli, [*args, "--out", str(out), "-q"])
        assert result.exit_code in (0, 1), result.output
        runs.append(_files(out))
        time.sleep(1.1)  # timestamps of one-second resolution would differ
    assert expected_files <= set(runs[0])
    _assert_identical(runs[0], runs[1])
    # and re-run into the same folder
    result = runner.invoke(cli, [*args, "--out", str(tmp_path / "first"), "-q"])
    assert result.exit_code in (0, 1), result.output
    _assert_identical(runs[0], _files(tmp_path / "first"))


def test_validate_outputs_are_byte_identical_on_a_rerun(tmp_path):
    _twice(
        tmp_path,
        ["validate", str(demo_study_file()), "--png"],
        {
            "report.md",
            "report.json",
            "report.html",
            "report.xlsx",
            "pcns.csv",
            "practices.csv",
            "findings.csv",
            "areas.csv",
            "alignment_pcns.csv",
            "footprints.gpkg",
            "map.html",
            "map.png",
        },
    )


def test_scenario_outputs_are_byte_identical_on_a_rerun(tmp_path):
    scenario = tmp_path / "fix.toml"
    scenario.write_text(FIX_TWO, encoding="utf-8")
    _twice(
        tmp_path,
        ["scenario", str(demo_study_file()), str(scenario)],
        {
            "report.md",
            "footprints.gpkg",
            "map.html",
            "compare.md",
            "compare.json",
            "compare_map.html",
        },
    )


def test_a_doctored_manifest_never_deletes_outside_the_folder(tmp_path):
    """A manifest naming '..' (or '.', or a path) is ignored: the run removes nothing
    outside its folder (found in review: it removed the parent folder's contents)."""
    from geo_pcn.render.outputs import MANIFEST, write_outputs

    parent = tmp_path / "parent"
    out = parent / "out"
    out.mkdir(parents=True)
    (parent / "sibling.txt").write_text("keep me")
    (out / MANIFEST).write_text('{"files": {"..": "", ".": "", "a/b": "", "ok.csv": ""}}')
    write_outputs(out, lambda folder: (folder / "report.md").write_text("x"))
    assert (parent / "sibling.txt").read_text() == "keep me"
    assert (out / "report.md").is_file()
