"""The commands that write nothing do not load the libraries of the outputs (issue 21).

``geo-pcn --help``, ``geo-pcn info`` and ``geo-pcn cache info`` must not import folium,
matplotlib or openpyxl (the map, the picture and the workbook), nor geo_pcn.render; plain
``import geo_pcn.cli`` must not import scipy either (only the territories' pieces use it).
Each case runs in a fresh interpreter and reads ``sys.modules`` at the end, so nothing
another test imported counts; no clock is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo_pcn.datasets import demo_study_file

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_LIBRARIES = ("folium", "matplotlib", "openpyxl", "geo_pcn.render")

PROBE = """
import json, sys
{body}
print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))
"""

RUN_CLI = """
from geo_pcn.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    assert exc.code == 0, exc.code
"""


def _loaded(body: str, names: tuple[str, ...], tmp_path: Path) -> list[str]:
    """The modules of ``names`` that a fresh interpreter has loaded after running ``body``
    (the last line of its stdout), with the input cache in ``tmp_path``."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "GEO_PCN_CACHE": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body, names=names)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_probe_sees_the_output_libraries_when_they_are_imported(tmp_path):
    # the control: importing the renderers loads folium and openpyxl (matplotlib only when
    # a picture is drawn), so an empty list below means they were not imported, not that
    # the probe is blind
    loaded = _loaded("import geo_pcn.render", OUTPUT_LIBRARIES, tmp_path)
    assert loaded == ["folium", "geo_pcn.render", "openpyxl"]


def test_importing_the_cli_loads_no_output_library_and_no_scipy(tmp_path):
    assert _loaded("import geo_pcn.cli", (*OUTPUT_LIBRARIES, "scipy"), tmp_path) == []


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["cache", "info"], ["info", str(demo_study_file())]],
    ids=["help", "cache-info", "info"],
)
def test_commands_that_write_nothing_load_no_output_library(argv, tmp_path):
    assert _loaded(RUN_CLI.format(argv=argv), OUTPUT_LIBRARIES, tmp_path) == []
