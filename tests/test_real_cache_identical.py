"""Real data: one ICB from the national files writes the same bytes whichever way its
inputs are read: without the cache, cold (every file parsed and stored), warm (read back
from the cache), and with every small-area polygon projected and checked (the read before
a region study took only the polygons near its residents).

QNC of July 2022 with the national registrations and the 34,753 LSOA 2011 polygons of
England and Wales (``tests/real/qnc_national_2022.toml``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo_pcn.cli import cli
from geo_pcn.io import _cache

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

STUDY = Path(__file__).resolve().parent / "real" / "qnc_national_2022.toml"


def _validate(study: Path, out: Path, *extra: str) -> dict[str, bytes]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = CliRunner().invoke(cli, [*extra, "validate", str(study), "--out", str(out), "-q"])
    assert result.exit_code in (0, 1), result.output  # 1: the configuration has errors
    assert "Traceback" not in result.output
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def test_qnc_national_outputs_are_the_same_bytes_off_cold_warm_and_whole(
    shared_data, tmp_path, monkeypatch
):
    study = tmp_path / STUDY.name
    text = STUDY.read_text(encoding="utf-8")
    study.write_text(text.replace("../../../shared/data", shared_data.resolve().as_posix()))
    cache = tmp_path / "cache"
    monkeypatch.setenv("GEO_PCN_CACHE", str(cache))
    off = _validate(study, tmp_path / "off", "--no-cache")
    assert not cache.exists()
    cold = _validate(study, tmp_path / "cold")
    entries = _cache.cache_entries(cache)
    assert entries["area features"][0] == 1  # the LSOA features as read: one entry
    warm = _validate(study, tmp_path / "warm")
    assert _cache.cache_entries(cache) == entries  # warm stored nothing new
    with monkeypatch.context() as mp:
        mp.setattr("geo_pcn.study.region_polygons", lambda *args: None)
        whole = _validate(study, tmp_path / "whole", "--no-cache")
    assert {"report.json", "areas.csv", "footprints.gpkg", "map.html"} <= set(off)
    for name, runs in (("cold", cold), ("warm", warm), ("whole", whole)):
        assert set(runs) == set(off), name
        differ = sorted(f for f in off if runs[f] != off[f])
        assert differ == [], (name, differ)
