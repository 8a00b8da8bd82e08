"""Real data: a region study works on the areas in play, with the same answers.

Each study is validated twice with the CLI: as it loads (the areas in play) and with the
region slicing turned off (every area of the layer, as before the slicing existed). The
tables must agree: ``pcns.csv``, ``practices.csv``, ``findings.csv`` byte for byte, the
findings of ``report.json`` exactly, and every area row of the sliced ``areas.csv`` equal to
the same area's row of the whole one; the areas left out are only those where none of the
study's practices has residents. The residents table's grand total is the registrations
file's total, summed here with plain pandas on the raw file (not with geo_pcn).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geo_pcn.cli import cli

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

REAL = Path(__file__).resolve().parent / "real"

#: study file -> (registrations file under the shared data, its count column)
STUDIES = {
    "qnc_national_2022.toml": ("national_2022/gp-registrations.parquet", "Patient"),
    "sheffield_ccg_national_2022.toml": ("national_2022/gp-registrations.parquet", "Patient"),
    "qnc_oct2025.toml": ("ssot_pcn_boundaries/SSOT_GP_Patients_Oct25.csv", "NUMBER_OF_PATIENTS"),
}


def _validate(path: Path, out: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(path), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output  # 1: the configuration has errors
    assert "Traceback" not in result.output


@pytest.fixture(scope="module", params=sorted(STUDIES))
def runs(request, shared_data, tmp_path_factory):
    name = request.param
    folder = tmp_path_factory.mktemp(name.split(".")[0])
    text = (REAL / name).read_text(encoding="utf-8")
    path = folder / name
    path.write_text(text.replace("../../../shared/data", shared_data.resolve().as_posix()))
    _validate(path, folder / "sliced")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("geo_pcn.study.is_region_study", lambda *args: False)
        _validate(path, folder / "whole")
    return name, folder / "sliced", folder / "whole"


def test_the_tables_and_findings_are_those_of_the_whole_layer(runs):
    name, sliced, whole = runs
    for table in ("pcns.csv", "practices.csv", "findings.csv"):
        assert (sliced / table).read_bytes() == (whole / table).read_bytes(), (name, table)
    a = json.loads((sliced / "report.json").read_text(encoding="utf-8"))
    b = json.loads((whole / "report.json").read_text(encoding="utf-8"))
    assert a["findings"] == b["findings"]
    assert a["pcns"] == b["pcns"]


def test_every_area_row_is_the_whole_layer_s_row(runs):
    name, sliced, whole = runs
    a = pd.read_csv(sliced / "areas.csv", dtype=str, keep_default_na=False)
    b = pd.read_csv(whole / "areas.csv", dtype=str, keep_default_na=False)
    key = a.columns[0]
    assert list(a.columns) == list(b.columns)
    assert len(a) < len(b)  # the slice is smaller than the layer
    same = b.set_index(key).loc[a[key]].reset_index()
    pd.testing.assert_frame_equal(a, same)
    gone = b[~b[key].isin(a[key])]
    assert set(gone["status"]) == {"left out of the region"}
    assert set(gone["why_left_out"]) <= {
        "none of the study's practices has residents there",
        "nobody is registered there",
    }


def test_the_residents_table_adds_up_to_the_file_s_total(runs, shared_data):
    name, sliced, _ = runs
    file, count = STUDIES[name]
    raw = shared_data / file
    if raw.suffix == ".parquet":
        total = int(pd.read_parquet(raw, columns=[count])[count].sum())
    else:
        total = int(pd.read_csv(raw, usecols=[count])[count].sum())
    table = json.loads((sliced / "report.json").read_text(encoding="utf-8"))["summary"]
    table = table["residents"]
    given = table["rows"][-1]
    away = sum(r["at_pcn_practices"] + r["at_practices_in_no_pcn"] for r in table["not_in_areas"])
    if table["basis"] == "registrations":  # every practice of the file is in it
        assert given["all"] + away + table["not_read"]["n_patients"] == total
    else:  # the file holds only the study's practices
        assert "not_read" not in table
        assert given["at_pcn_practices"] + given["at_practices_in_no_pcn"] + away == total
