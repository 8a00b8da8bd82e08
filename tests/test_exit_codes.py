"""Exit codes and messages (issue 19, item 4).

Ctrl-C exits 130 with "interrupted; nothing written" (1 means "the configuration has
errors"). A write error (disk full, file too large, no permission) is one line naming the
file, and the previous outputs stay as they were, byte for byte.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_checks import one_line
from click.testing import CliRunner

from geo_pcn.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CLI = "from geo_pcn.cli import main; main()"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A folder holding the outputs of an earlier demo run, and their bytes."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out, _snapshot(out)




def test_ctrl_c_exits_130_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    run = subprocess.Popen(
        [sys.executable, "-c", CLI, "demo", "--out", str(out)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in run.stderr:  # interrupt once the run is under way (progress on stderr)
        if "checking" in line:
            run.send_signal(signal.SIGINT)
            break
    _, err = run.communicate(timeout=300)
    assert run.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted; nothing written"
    assert "Traceback" not in err and "Aborted" not in err
    assert not out.exists()


def test_disk_full_while_writing_the_geopackage(earlier, monkeypatch):
    """GDAL's own error (a pyogrio exception) and a bare ENOSPC both name the file."""
    out, before = earlier
    import pyogrio.errors

    from geo_pcn.render import outputs

    def full(layers, path):
        raise pyogrio.errors.DataSourceError("sqlite3_exec failed: database or disk is full")

    monkeypatch.setattr(outputs, "write_gpkg", full)
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    line = one_line(result, f"{out}/footprints.gpkg: cannot write", "disk is full")
    assert ".geo-pcn-" not in line  # the final name, not the temporary folder's
    assert _snapshot(out) == before

    def enospc(layers, path):
        Path(path).write_bytes(b"part")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no file name, as write() gives

    monkeypatch.setattr(outputs, "write_gpkg", enospc)
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    one_line(result, f"{out}/footprints.gpkg", "No space left on device")
    assert _snapshot(out) == before


def test_file_too_large_while_writing_map_html(earlier, monkeypatch):
    """Before: ``Error: : File too large`` (no path)."""
    out, before = earlier
    real = Path.write_bytes

    def too_large(self, data):
        if self.name.startswith(".map.html"):
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", too_large)
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    one_line(result, f"{out}/map.html: cannot write", "File too large")
    assert _snapshot(out) == before


def test_map_command_write_error_names_the_file(tmp_path, monkeypatch):
    from geo_pcn.datasets import demo_study_file

    target = tmp_path / "map.html"
    target.write_text("the earlier map")
    real = Path.write_bytes

    def full(self, data):
        if self.name.startswith(".map.html"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    result = CliRunner().invoke(cli, ["map", str(demo_study_file()), "--out", str(target), "-q"])
    one_line(result, f"{target}: cannot write", "No space left on device")
    assert target.read_text() == "the earlier map"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]  # no temporary left


def test_read_only_folder(earlier, monkeypatch):
    """A folder the user may not write into (simulated: the tests may run as root, who
    may write anywhere): one line naming the folder, the earlier outputs untouched."""
    out, before = earlier
    from geo_pcn.render import _lock

    def denied(path, flags, mode=0o777):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(_lock.os, "open", denied)
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    one_line(result, str(out), "cannot write into this folder", "Permission denied")
    monkeypatch.undo()
    assert _snapshot(out) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_read_only_folder_for_real(earlier):
    out, before = earlier
    out.chmod(0o555)
    try:
        result = CliRunner().invoke(cli, ["demo", "--out", str(out), "-q"])
    finally:
        out.chmod(0o755)
    one_line(result, str(out), "Permission denied")
    assert _snapshot(out) == before
