"""Hostile input files (issue 10): each mutation of the demo inputs is either read correctly
or refused with ONE line naming the file, the rows/columns/codes and the fix; exit code 2,
no traceback, nothing written to --out.

Every test copies the synthetic demo (``boundaries/demo``) to ``tmp_path`` and breaks one
file the way a reviewer (or a real download) did.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geo_pcn.cli import cli

DEMO = Path(__file__).resolve().parents[1] / "boundaries" / "demo"
DEMO_PATIENTS = 508_614
REGISTRATIONS = "gp-reg-pat-prac-lsoa-all.csv"
PRACTICES = "gp-reg-pat-prac-map.csv"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the demo study; returns the folder (``demo.toml`` is inside)."""
    folder = tmp_path / "study"
    shutil.copytree(DEMO, folder)
    return folder


def set_entry(folder: Path, old: str, new: str) -> None:
    """Replace text in the copied ``demo.toml``."""
    toml = folder / "demo.toml"
    text = toml.read_text()
    assert old in text, old
    toml.write_text(text.replace(old, new))


def info(folder: Path):
    return CliRunner().invoke(cli, ["info", str(folder / "demo.toml")])


def validate(folder: Path, out: Path):
    return CliRunner().invoke(cli, ["validate", str(folder / "demo.toml"), "--out", str(out), "-q"])


def assert_one_line_error(result, *patterns: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    message = result.output.strip()
    assert "\n" not in message, message
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    return message


def assert_reads_demo(result) -> None:
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"Registered patients: {DEMO_PATIENTS:,}" in result.output


def assert_refused_and_nothing_written(folder: Path, tmp_path: Path, *patterns: str) -> str:
    out = tmp_path / "results"
    message = assert_one_line_error(validate(folder, out), *patterns)
    assert not out.exists()
    return message


# -- 1. UTF-16 ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_csv_is_read(demo, encoding):
    """Excel's "Unicode text" and PowerShell write UTF-16 (with or without a BOM)."""
    for name in (REGISTRATIONS, PRACTICES):
        path = demo / name
        path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    assert_reads_demo(info(demo))


def test_excel_unicode_text_is_read(demo):
    """Excel's "Unicode Text (*.txt)" export: UTF-16 with a BOM, tab-separated."""
    for name in (REGISTRATIONS, PRACTICES):
        path = demo / name
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        path.write_bytes(frame.to_csv(index=False, sep="\t").encode("utf-16"))
    assert_reads_demo(info(demo))


# -- 2. duplicated column names ------------------------------------------------------------


def _duplicate_column(path: Path, column: str, value_from: str | None = None) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    extra = frame[value_from or column]
    text = frame.to_csv(index=False).splitlines()
    lines = [text[0] + f",{column}"] + [
        f"{line},{v}" for line, v in zip(text[1:], extra.tolist(), strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_two_number_of_patients_columns(demo, tmp_path):
    _duplicate_column(demo / REGISTRATIONS, "NUMBER_OF_PATIENTS")
    assert_refused_and_nothing_written(
        demo,
        tmp_path,
        REGISTRATIONS,
        "NUMBER_OF_PATIENTS",
        r"columns? 7 and 8",
        "(?i)rename|delete",
    )


def test_two_pcn_code_columns(demo, tmp_path):
    _duplicate_column(demo / PRACTICES, "PCN_CODE", value_from="PRACTICE_CODE")
    assert_refused_and_nothing_written(demo, tmp_path, PRACTICES, "PCN_CODE", r"6 and 18")


def test_two_pcn_code_columns_in_a_workbook(demo, tmp_path):
    frame = pd.read_csv(demo / PRACTICES, dtype=str, keep_default_na=False)
    frame.insert(2, "PCN_CODE ", frame["PRACTICE_CODE"], allow_duplicates=True)
    frame.to_excel(demo / "map.xlsx", index=False)
    set_entry(demo, f'file = "{PRACTICES}"', 'file = "map.xlsx"')
    assert_refused_and_nothing_written(demo, tmp_path, r"map\.xlsx", "PCN_CODE", r"3 and 7")


# -- 4. SEX other than ALL -------------------------------------------------------------------


def _male_female(frame: pd.DataFrame) -> pd.DataFrame:
    n = frame["NUMBER_OF_PATIENTS"].astype(int)
    male = frame.assign(SEX="MALE", NUMBER_OF_PATIENTS=(n // 2).astype(str))
    female = frame.assign(SEX="FEMALE", NUMBER_OF_PATIENTS=(n - n // 2).astype(str))
    return pd.concat([male, female]).sort_index(kind="stable")


def test_male_female_file_is_summed(demo):
    path = demo / REGISTRATIONS
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    _male_female(frame).to_csv(path, index=False)
    assert_reads_demo(info(demo))


def test_all_mixed_with_male_female_is_refused(demo, tmp_path):
    path = demo / REGISTRATIONS
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    # the NHS zip holds both files; a user concatenated them
    pd.concat([frame, _male_female(frame.iloc[:3])]).to_csv(path, index=False)
    first = frame.iloc[0]
    assert_refused_and_nothing_written(
        demo, tmp_path, REGISTRATIONS, "SEX", "ALL", "MALE", first["PRACTICE_CODE"]
    )


def test_skipped_registration_rows_reach_the_notes(demo):
    path = demo / REGISTRATIONS
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace("GP_PRAC_PAT_LIST", "OTHER_PUBLICATION")
    path.write_text("\n".join(lines) + "\n")
    set_entry(
        demo,
        f'file = "{REGISTRATIONS}"',
        f'file = "{REGISTRATIONS}"\nwhere = {{ PUBLICATION = "GP_PRAC_PAT_LIST" }}',
    )
    result = info(demo)
    assert result.exit_code == 0, result.output
    assert re.search(
        rf"Note: .*{REGISTRATIONS}: 1 rows not used \(outside the where filter\)", result.output
    )


# -- 5. counts no practice can have ---------------------------------------------------------


@pytest.mark.parametrize("value", ["1e19", "2000000", "inf", "nan", "1e400"])
def test_impossible_patient_count(demo, tmp_path, value):
    path = demo / REGISTRATIONS
    lines = path.read_text().splitlines()
    cells = lines[5].split(",")
    cells[-1] = value
    lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    assert_refused_and_nothing_written(
        demo, tmp_path, REGISTRATIONS, "NUMBER_OF_PATIENTS|n_patients", "line 6", re.escape(value)
    )


def test_impossible_population(demo, tmp_path):
    path = demo / "population.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].split(",")[0] + ",9e18"
    path.write_text("\n".join(lines) + "\n")
    assert_refused_and_nothing_written(demo, tmp_path, r"population\.csv", "line 4", "9e18")


# -- 7. overlapping / duplicated areas --------------------------------------------------------


def _areas(demo: Path) -> dict:
    return json.loads((demo / "areas.geojson").read_text())


def _code_key(feature: dict) -> str:
    return next(k for k in feature["properties"] if k.lower().endswith(("cd", "code")))


def test_area_copied_under_a_new_code(demo, tmp_path):
    doc = _areas(demo)
    copy = json.loads(json.dumps(doc["features"][10]))
    key = _code_key(copy)
    original = copy["properties"][key]
    copy["properties"][key] = "DM0199999"
    doc["features"].append(copy)
    (demo / "areas.geojson").write_text(json.dumps(doc))
    assert_refused_and_nothing_written(
        demo, tmp_path, r"areas\.geojson", original, "DM0199999", "(?i)overlap"
    )


def test_area_twice_under_the_same_code(demo, tmp_path):
    doc = _areas(demo)
    doc["features"].append(doc["features"][7])
    code = doc["features"][7]["properties"][_code_key(doc["features"][7])]
    (demo / "areas.geojson").write_text(json.dumps(doc))
    assert_refused_and_nothing_written(demo, tmp_path, r"areas\.geojson", code, "(?i)twice|more")


def test_one_area_covering_the_others(demo, tmp_path):
    doc = _areas(demo)
    big = json.loads(json.dumps(doc["features"][0]))
    xs = [p[0] for f in doc["features"][:40] for p in _ring(f)]
    ys = [p[1] for f in doc["features"][:40] for p in _ring(f)]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    big["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }
    big["properties"][_code_key(big)] = "DM0188888"
    doc["features"].append(big)
    (demo / "areas.geojson").write_text(json.dumps(doc))
    assert_refused_and_nothing_written(
        demo, tmp_path, r"areas\.geojson", "DM0188888", "(?i)overlap"
    )


def _ring(feature: dict) -> list:
    geom = feature["geometry"]
    return geom["coordinates"][0] if geom["type"] == "Polygon" else geom["coordinates"][0][0]


# -- 10. shapefile without its sidecar files ----------------------------------------------


@pytest.mark.parametrize(("suffix", "pattern"), [(".dbf", r"\.dbf"), (".shx", r"\.shx")])
def test_shapefile_without_sidecar(demo, tmp_path, suffix, pattern):
    import geopandas as gpd

    gpd.read_file(demo / "areas.geojson").to_file(demo / "areas.shp")
    (demo / "areas.shp").with_suffix(suffix).unlink()
    set_entry(demo, 'file = "areas.geojson"', 'file = "areas.shp"')
    assert_refused_and_nothing_written(demo, tmp_path, r"areas\.shp", pattern, "(?i)missing")


def test_shapefile_without_prj(demo, tmp_path):
    import geopandas as gpd

    gpd.read_file(demo / "areas.geojson").to_file(demo / "areas.shp")
    (demo / "areas.prj").unlink()
    set_entry(demo, 'file = "areas.geojson"', 'file = "areas.shp"')
    assert_refused_and_nothing_written(demo, tmp_path, r"areas\.shp", r"\.prj", "crs =")


# -- 11. misnamed and broken compressed files -------------------------------------------------


@pytest.mark.parametrize("name", [REGISTRATIONS, "population.csv"])
def test_csv_named_xlsx_is_read_as_csv(demo, name):
    path = demo / name
    renamed = path.with_suffix(".xlsx")
    path.rename(renamed)
    set_entry(demo, name, renamed.name)
    result = info(demo)
    assert_reads_demo(result)
    assert "300 with population" in result.output
    assert "is a CSV file named .xlsx" in result.output


def test_csv_gz_that_is_not_gzip(demo, tmp_path):
    path = demo / REGISTRATIONS
    shutil.copy(path, demo / "regs.csv.gz")
    set_entry(demo, f'file = "{REGISTRATIONS}"', 'file = "regs.csv.gz"')
    assert_refused_and_nothing_written(demo, tmp_path, r"regs\.csv\.gz", "(?i)not gzip")


def test_truncated_gz(demo, tmp_path):
    data = gzip.compress((demo / REGISTRATIONS).read_bytes())
    (demo / "regs.csv.gz").write_bytes(data[: len(data) // 2])
    set_entry(demo, f'file = "{REGISTRATIONS}"', 'file = "regs.csv.gz"')
    assert_refused_and_nothing_written(
        demo, tmp_path, r"regs\.csv\.gz", "(?i)truncated|corrupt", "download it again"
    )


# -- 12. a table where a polygon layer is needed ---------------------------------------------


def test_csv_given_as_areas(demo, tmp_path):
    set_entry(demo, 'file = "areas.geojson"', 'file = "population.csv"')
    assert_refused_and_nothing_written(demo, tmp_path, r"population\.csv", "(?i)polygon", "GeoJSON")


def test_csv_given_as_community_areas(demo, tmp_path):
    # a small area -> team lookup is read as the layer (tests/test_lookup_areas.py); a table
    # with no column of small-area codes is not a lookup, and is refused
    (demo / "teams.csv").write_text("team,manager\nNORTH,Ann\nSOUTH,Bob\n")
    set_entry(demo, 'file = "community_teams.geojson"', 'file = "teams.csv"')
    assert_refused_and_nothing_written(
        demo, tmp_path, r"teams\.csv", "(?i)polygon", "GeoJSON", "small-area codes"
    )
