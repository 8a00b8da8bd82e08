"""One run owns its folder, also against another run (issue 19, item 3).

Two real processes on one ``--out``: the second waits for the first's lock, and the
folder ends holding exactly the files of the manifest; a run that cannot get the lock in
time stops with one line naming the holder's process id and host. No output is written
over an input of the study (``geo-pcn map STUDY --out STUDY``, an input inside ``--out``).
``--by icb``: a part folder that is a symbolic link, or two ICB codes that make one folder
name (``Q/X`` and ``Q_X``), are one-line errors naming them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from tiny import TINY_PRACTICES, write_tiny_study

from geo_pcn.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "boundaries" / "demo"
CLI = "from geo_pcn.cli import main; main()"


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def _manifest_matches(out: Path) -> None:
    """The folder holds exactly the manifest's files (and the manifest): no temporary
    folder, no lock, no file outside it, and each file is the one the manifest hashed."""
    manifest = json.loads((out / ".geo_pcn-manifest.json").read_text())["files"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*manifest, ".geo_pcn-manifest.json"])
    import hashlib

    for name, digest in manifest.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name


def test_two_runs_into_one_folder(tmp_path):
    """Before the mend the second run removed the first one's temporary folder and the
    first then removed the whole folder (or left a file outside the manifest)."""
    out = tmp_path / "out"
    env = _env(GEO_PCN_LOCK_WAIT="600")
    first = subprocess.Popen(
        [sys.executable, "-c", CLI, "demo", "--out", str(out), "--png", "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    second = subprocess.Popen(
        [sys.executable, "-c", CLI, "demo", "--out", str(out), "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results = [p.communicate(timeout=900) for p in (first, second)]
    assert first.returncode == 0, results[0][1]
    assert second.returncode == 0, results[1][1]
    _manifest_matches(out)
    # whichever finished last, its files are the folder's: the second ran without --png
    assert not (out / "map.png").exists()
    again = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    assert again.exit_code == 0, again.output
    _manifest_matches(out)


_HOLD = """
import sys, time
from geo_pcn.render._lock import out_lock
with out_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_held_folder_names_its_holder(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(out)],
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        done = subprocess.run(
            [sys.executable, "-c", CLI, "demo", "--out", str(out), "-q"],
            env=_env(GEO_PCN_LOCK_WAIT="1"),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.wait(timeout=60)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    assert f"process {holder.pid} on {socket.gethostname()}" in line
    assert "another geo-pcn run" in line
    # the holder was killed: its stale lock file holds nothing, the next run goes ahead
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    _manifest_matches(out)


def test_refused_run_leaves_no_folder_and_no_lock(tmp_path):
    """A run refused for its inputs leaves nothing: the lock's folder goes with it."""
    study = tmp_path / "study"
    shutil.copytree(DEMO, study)
    (study / "population.csv").write_text("nothing useful\n")
    out = tmp_path / "deep" / "out"
    result = CliRunner().invoke(cli, ["validate", str(study / "demo.toml"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "deep").exists()


# -- never write over an input ------------------------------------------------------------
@pytest.mark.parametrize("target", ["demo.toml", "gp-reg-pat-prac-map.csv", "areas.geojson"])
def test_map_never_writes_over_an_input(tmp_path, target):
    study = tmp_path / "study"
    shutil.copytree(DEMO, study)
    before = (study / target).read_bytes()
    result = CliRunner().invoke(
        cli, ["map", str(study / "demo.toml"), "--out", str(study / target), "-q"]
    )
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and target in line and "overwrite an input" in line, line
    assert (study / target).read_bytes() == before


def test_map_png_never_writes_over_an_input(tmp_path):
    """--png writes NAME.png beside NAME.html: refused when that is an input (here the
    community sites CSV saved as sites.png, which reads as a CSV)."""
    study = tmp_path / "study"
    shutil.copytree(DEMO, study)
    (study / "community_sites.csv").rename(study / "sites.png")
    text = (study / "demo.toml").read_text()
    (study / "demo.toml").write_text(text.replace('"community_sites.csv"', '"sites.png"'))
    before = (study / "sites.png").read_bytes()
    args = ["map", str(study / "demo.toml"), "-q"]
    assert CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "m.html")]).exit_code == 0
    result = CliRunner().invoke(cli, [*args, "--out", str(study / "sites.html"), "--png"])
    assert result.exit_code == 2, result.output
    assert "sites.png" in result.output and "[community.sites]" in result.output
    assert (study / "sites.png").read_bytes() == before


def test_validate_never_writes_over_an_input_inside_out(tmp_path):
    """An earlier run's practices.csv given as the configuration: the next run into that
    folder would replace its own input."""
    study = tmp_path / "study"
    shutil.copytree(DEMO, study)
    out = study / "out"
    first = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    assert first.exit_code == 0, first.output
    text = (study / "demo.toml").read_text()
    (study / "demo.toml").write_text(
        text.replace('[areas]\n', '[configuration]\nfile = "out/practices.csv"\n\n[areas]\n')
    )
    before = (out / "practices.csv").read_bytes()
    result = CliRunner().invoke(cli, ["validate", str(study / "demo.toml"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "[configuration]" in result.output and "practices.csv" in result.output
    assert (out / "practices.csv").read_bytes() == before


# -- --by icb part folders ----------------------------------------------------------------
def _icbs(tmp_path: Path, west: str, east: str) -> Path:
    practices = TINY_PRACTICES.replace("U00001,WEST PCN,01A,QXX", f"U00001,WEST PCN,01A,{west}")
    practices = practices.replace("U00002,EAST PCN,01A,QXX", f"U00002,EAST PCN,01A,{east}")
    return write_tiny_study(tmp_path / "study", practices_csv=practices)


def test_two_icb_codes_one_folder_name(tmp_path):
    path = _icbs(tmp_path, "Q/X", "Q_X")
    out = tmp_path / "out"
    args = ["validate", str(path), "--out", str(out), "--by", "icb", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "'Q/X' and 'Q_X'" in line and "Q_X/" in line, line
    assert not out.exists()


def test_part_folder_that_is_a_symlink(tmp_path):
    path = _icbs(tmp_path, "QXA", "QXB")
    out = tmp_path / "out"
    args = ["validate", str(path), "--out", str(out), "--by", "icb", "-q"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    shutil.rmtree(out / "QXA")
    (out / "QXA").symlink_to(elsewhere, target_is_directory=True)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "QXA" in line and "symbolic link" in line, line
    assert (elsewhere / "keep.txt").read_text() == "mine"
    assert (out / "QXB" / "report.json").is_file()  # the earlier run's files untouched
