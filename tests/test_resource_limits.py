"""Resource limits (issue 19, item 2): every read is bounded.

A Code-Point zip that inflates without bound is refused in bounded memory (a subprocess
under ``RLIMIT_AS``); a FIFO, ``/dev/zero`` or a folder given where a file is wanted is a
one-line error naming the study file's key (a FIFO in a subprocess with a timeout, so a
hang fails the test instead of hanging it); a study or scenario TOML has a size cap, and
100,000 nested ``[`` are a one-line error, not a ``RecursionError``.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cli_checks import copy_demo, one_line, set_in_study
from click.testing import CliRunner

from geo_pcn.cli import cli
from geo_pcn.errors import InputError
from geo_pcn.io import _limits, tables

ROOT = Path(__file__).resolve().parents[1]
LINE = b'"ST16 2HE",10,392000,323000,"E92000001"\n'


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return copy_demo(tmp_path / "study")






def _run(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", "from geo_pcn.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


# -- a zip that inflates without bound, in bounded memory ---------------------------------
def _bomb(path: Path, megabytes: int) -> Path:
    """A Code-Point zip of ~1.5 MB whose ``st.csv`` inflates to ``megabytes`` MB."""
    block = LINE * (2**20 // len(LINE))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("Data/CSV/st.csv", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(block)
    return path


_BOUNDED = """
import resource, sys
from geo_pcn.io import read_postcode_lookup
from geo_pcn.errors import InputError
size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
limit = size + {headroom} * 2**20  # what is mapped now (imports) plus the headroom
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    read_postcode_lookup(sys.argv[1], postcodes=["ST16 2HE"])
except InputError as exc:
    print("InputError:", exc)
    sys.exit(2)
print("read")
"""


def test_zip_bomb_is_refused_in_bounded_memory(tmp_path):
    """512 MB of postcodes deflated into ~1.5 MB: before the mend ``archive.read`` asked
    for all of it (MemoryError under a 200 MB headroom); now one line, memory bounded."""
    bomb = _bomb(tmp_path / "codepo_gb.zip", 512)
    assert bomb.stat().st_size < 4 * 2**20
    script = _BOUNDED.format(headroom=200)
    done = subprocess.run(
        [sys.executable, "-c", script, str(bomb)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "MemoryError" not in done.stderr
    out = done.stdout.strip()
    assert out.startswith("InputError:") and "\n" not in out, out
    assert "codepo_gb.zip" in out and "Data/CSV/st.csv" in out and "inflates to" in out


def test_zip_member_read_in_chunks_up_to_the_cap(tmp_path, monkeypatch):
    """A member whose stated size passes the cap but that inflates past it while read
    (the cap lowered to 1 MB, a 3 MB member stating 3 MB): stopped by the chunked read."""
    from geo_pcn.io import postcodes

    bomb = _bomb(tmp_path / "codepo_gb.zip", 3)
    monkeypatch.setattr(postcodes, "MAX_MEMBER_BYTES", 2**20)
    with pytest.raises(InputError, match=r"st\.csv inside the zip inflates to 3 MB"):
        postcodes.read_postcode_lookup(bomb, postcodes=["ST16 2HE"])
    # the stated size checked first; a member that lies about it is stopped while read
    with zipfile.ZipFile(bomb) as archive, archive.open("Data/CSV/st.csv") as handle:
        with pytest.raises(InputError, match="inflates to more than 1 MB"):
            _limits.read_capped(handle, 2**20, "st.csv", "fix")


def test_gzip_table_read_up_to_the_cap(demo, monkeypatch):
    """A .csv.gz is read in chunks: past the cap (lowered to 1 kB here) one line."""
    raw = (demo / "gp-reg-pat-prac-map.csv").read_bytes()
    assert len(raw) > 1024
    (demo / "map.csv.gz").write_bytes(gzip.compress(raw))
    monkeypatch.setattr(tables, "MAX_INFLATED_BYTES", 1024)
    with pytest.raises(InputError, match=r"map\.csv\.gz: the gzip file: inflates to more than"):
        tables.read_table(demo / "map.csv.gz", role="practice")


# -- only regular files -------------------------------------------------------------------
def test_study_file_that_is_a_fifo(tmp_path):
    fifo = tmp_path / "study.toml"
    os.mkfifo(fifo)
    done = _run(["info", str(fifo)], timeout=120)  # hung forever before the mend
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and "named pipe (FIFO)" in line and "study.toml" in line


def test_registrations_that_are_a_fifo(demo):
    os.mkfifo(demo / "pipe.csv")
    set_in_study(demo, 'file = "gp-reg-pat-prac-lsoa-all.csv"', 'file = "pipe.csv"')
    done = _run(["info", str(demo / "demo.toml")], timeout=120)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and "[registrations]" in line and "FIFO" in line


def test_study_file_that_is_dev_zero():
    result = CliRunner().invoke(cli, ["info", "/dev/zero"])
    one_line(result, "/dev/zero", "device, not a regular file")


@pytest.mark.parametrize(
    ("old", "key"),
    [
        ('file = "gp-reg-pat-prac-lsoa-all.csv"', "[registrations]"),
        ('population = "population.csv"', "[areas] population"),
        ('file = "community_teams.geojson"', "[community.teams]"),
        ('locations = "practice_locations.csv"', "[practices] locations"),
    ],
)
def test_device_given_as_an_input_names_the_key(demo, old, key):
    set_in_study(demo, old, old.split("=")[0] + '= "/dev/zero"')
    result = CliRunner().invoke(cli, ["info", str(demo / "demo.toml")])
    one_line(result, key, "/dev/zero", "device, not a regular file")


def test_folder_given_where_a_file_is_wanted_names_the_key(demo):
    (demo / "regs").mkdir()
    set_in_study(demo, 'file = "gp-reg-pat-prac-lsoa-all.csv"', 'file = "regs"')
    result = CliRunner().invoke(cli, ["info", str(demo / "demo.toml")])
    one_line(result, "[registrations]", "regs", "is a folder, not a file")


def test_reader_refuses_a_device_from_python():
    with pytest.raises(InputError, match="device, not a regular file"):
        tables.read_table(Path("/dev/zero"), role="registrations")


def test_scenario_that_is_a_device(demo, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["scenario", str(demo / "demo.toml"), "/dev/zero", "--out", str(tmp_path / "o"), "-q"],
    )
    one_line(result, "/dev/zero", "scenario file", "device")
    assert not (tmp_path / "o").exists()


# -- TOML size and nesting ----------------------------------------------------------------
def test_study_file_over_the_size_cap(demo, monkeypatch):
    toml = demo / "demo.toml"
    text = toml.read_text()
    toml.write_text(text + "# padding\n" * ((_limits.MAX_TOML_BYTES // 10) + 10))
    result = CliRunner().invoke(cli, ["info", str(toml)])
    one_line(result, "demo.toml", "larger than 16 MB")


@pytest.mark.parametrize("where", ["study", "scenario"])
def test_deeply_nested_toml(demo, tmp_path, where):
    """100,000 nested ``[``: a RecursionError traceback before the mend."""
    nested = "x = " + "[" * 100_000 + "]" * 100_000 + "\n"
    if where == "study":
        (demo / "demo.toml").write_text(nested)
        result = CliRunner().invoke(cli, ["info", str(demo / "demo.toml")])
        one_line(result, "demo.toml", "nested too deeply")
    else:
        (tmp_path / "s.toml").write_text(nested)
        args = ["scenario", str(demo / "demo.toml"), str(tmp_path / "s.toml")]
        result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "o"), "-q"])
        one_line(result, "s.toml", "nested too deeply")


def test_scenario_over_the_size_cap(demo, tmp_path):
    big = tmp_path / "s.toml"
    big.write_text("# padding\n" * ((_limits.MAX_TOML_BYTES // 10) + 10))
    args = ["scenario", str(demo / "demo.toml"), str(big), "--out", str(tmp_path / "o"), "-q"]
    one_line(CliRunner().invoke(cli, args), "s.toml", "larger than 16 MB")

