"""Shared fixtures: where the real data lives, and a skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Real NHS England / ONS / OS open data, kept beside the project (never copied into it).
SHARED_DATA = Path(os.environ.get("GEO_PCN_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real data; skips the test when it is absent."""
    if not (SHARED_DATA / "ssot_pcn_boundaries").is_dir():
        pytest.skip(
            f"real NHS/ONS data not found at {SHARED_DATA} (set GEO_PCN_SHARED_DATA to the "
            "folder that holds ssot_pcn_boundaries/, geographr/, codepoint_open_2025/ ...)"
        )
    return SHARED_DATA


QNC_STUDY = ROOT / "tests" / "real" / "qnc_oct2025.toml"


@pytest.fixture(scope="session")
def qnc_study_file(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The QNC October 2025 study file, pointed at wherever the real data is."""
    text = QNC_STUDY.read_text(encoding="utf-8").replace(
        "../../../shared/data", shared_data.resolve().as_posix()
    )
    path = tmp_path_factory.mktemp("qnc") / "qnc_oct2025.toml"
    path.write_text(text, encoding="utf-8")
    return path


from tiny import tiny, write_tiny_study  # noqa: E402, F401  (tiny: a fixture)


@pytest.fixture
def tiny_study_file(tmp_path: Path) -> Path:
    """The tiny study (see tests/tiny.py for its picture) written to a temporary folder."""
    return write_tiny_study(tmp_path)


@pytest.fixture(scope="session")
def demo_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``geo-pcn validate <demo study> --out DIR --png`` run once through click's CliRunner;
    the folder it wrote (the demo fails on purpose: exit code 1)."""
    from click.testing import CliRunner

    from geo_pcn.cli import cli
    from geo_pcn.datasets import demo_study_file

    out = tmp_path_factory.mktemp("demo") / "results"
    result = CliRunner().invoke(
        cli, ["validate", str(demo_study_file()), "--out", str(out), "--png", "-q"]
    )
    assert result.exit_code == 1, (result.output, result.exception)
    assert (out / "map.html").is_file() and (out / "map.png").is_file(), result.output
    return out


@pytest.fixture(autouse=True, scope="session")
def _input_cache_in_tmp(tmp_path_factory):
    """Every test's parsed-input cache in a temporary folder, never the user's own."""
    import os

    before = os.environ.get("GEO_PCN_CACHE")
    os.environ["GEO_PCN_CACHE"] = str(tmp_path_factory.mktemp("geo_pcn_cache"))
    yield
    if before is None:
        os.environ.pop("GEO_PCN_CACHE", None)
    else:
        os.environ["GEO_PCN_CACHE"] = before
