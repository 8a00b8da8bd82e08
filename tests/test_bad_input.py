"""Every kind of bad input gives ONE line naming the file, the rows/codes and the fix, and
`geo-pcn` exits 2 with no traceback. One test per case (issue: foundation, item 7)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from tiny import TINY_CELLS, TINY_PRACTICES, X0, Y0, box_features, write_tiny_study

from geo_pcn.cli import cli
from geo_pcn.errors import GeoPCNWarning


def run_info(study_file):
    result = CliRunner().invoke(cli, ["info", str(study_file)])
    return result


def assert_one_line_error(result, *patterns):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.output.strip()
    assert "\n" not in message, message
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    return message


def test_missing_file(tmp_path):
    path = write_tiny_study(tmp_path)
    (tmp_path / "registrations.csv").unlink()
    assert_one_line_error(run_info(path), r"registrations\.csv", "not found", "path")


def test_missing_study_file(tmp_path):
    assert_one_line_error(run_info(tmp_path / "nope.toml"), r"nope\.toml", "not found")


def test_unrecognised_format(tmp_path):
    path = write_tiny_study(tmp_path, registrations_csv="colour,shape\nred,round\nblue,square\n")
    assert_one_line_error(
        run_info(path), r"registrations\.csv", "(not a recognised|missing)", "columns"
    )


def test_missing_required_column(tmp_path):
    path = write_tiny_study(tmp_path, registrations_csv="PRACTICE_CODE,LSOA_CODE\nA00001,T01\n")
    assert_one_line_error(
        run_info(path),
        r"registrations\.csv",
        "(?i)number_of_patients|n_patients|patients",
        "columns =",
    )


def test_same_practice_twice_with_different_pcns(tmp_path):
    practices = TINY_PRACTICES + "A00002,WEST TWO SURGERY,AB1 2AA,U00002,EAST PCN,01A,QXX\n"
    path = write_tiny_study(tmp_path, practices_csv=practices)
    assert_one_line_error(run_info(path), r"practices\.csv", "A00002", "U00001", "U00002")


def test_configuration_names_practice_not_in_practices_file(tmp_path):
    path = write_tiny_study(tmp_path)
    (tmp_path / "proposed.csv").write_text("practice_code,pcn_code\nA00001,N1\nZ12345,N1\n")
    path.write_text(path.read_text() + '[configuration]\nfile = "proposed.csv"\n')
    assert_one_line_error(run_info(path), r"proposed\.csv", "Z12345", "practices file")


@pytest.mark.parametrize("count", ["lots", "-5", "2.5"])
def test_bad_patient_counts(tmp_path, count):
    reg = "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\nA00001,T01,10\nA00002,T02," + count + "\n"
    path = write_tiny_study(tmp_path, registrations_csv=reg)
    assert_one_line_error(run_info(path), r"registrations\.csv", "line 3", re.escape(count))


def test_coordinates_outside_great_britain(tmp_path):
    locations = "PRACTICE_CODE,LATITUDE,LONGITUDE\nA00001,52.5,-1.9\nA00002,40.4,-3.7\n"
    path = write_tiny_study(tmp_path, locations_csv=locations)
    assert_one_line_error(run_info(path), r"locations\.csv", "A00002|line 3", "Great Britain")


def test_latitude_longitude_swapped(tmp_path):
    locations = "PRACTICE_CODE,LATITUDE,LONGITUDE\nA00001,-1.9,52.5\nA00002,-1.8,52.4\n"
    path = write_tiny_study(tmp_path, locations_csv=locations)
    assert_one_line_error(run_info(path), r"locations\.csv", "swapped")


def test_boundary_without_crs(tmp_path):
    doc = json.loads(box_features(TINY_CELLS))
    del doc["crs"]
    # coordinates in metres without a CRS: GeoJSON would be read as WGS84 degrees
    path = write_tiny_study(tmp_path, place_geojson=json.dumps(doc))
    (tmp_path / "place.gpkg").unlink(missing_ok=True)
    import geopandas as gpd

    frame = gpd.read_file(tmp_path / "place.geojson").set_crs(None, allow_override=True)
    frame.to_file(tmp_path / "place.gpkg", driver="GPKG")
    path.write_text(path.read_text().replace("place.geojson", "place.gpkg"))
    assert_one_line_error(
        run_info(path), r"place\.gpkg", "(?i)coordinate reference system|CRS", "crs ="
    )


def test_invalid_polygon_is_repaired_with_a_warning(tmp_path):
    doc = json.loads(box_features(TINY_CELLS))
    # turn T03 into a bow-tie (self-intersection)
    x, y = X0 + 2000, Y0
    doc["features"][2]["geometry"]["coordinates"] = [
        [[x, y], [x + 1000, y + 1000], [x + 1000, y], [x, y + 1000], [x, y]]
    ]
    path = write_tiny_study(tmp_path, areas_geojson=json.dumps(doc))
    from geo_pcn.study import Study

    with pytest.warns(GeoPCNWarning, match="T03"):
        study = Study.from_toml(path)
    assert study.areas.is_valid.all()
    result = run_info(path)
    assert result.exit_code == 0
    assert "T03" in result.output  # the warning reaches the user on stderr


def test_empty_file(tmp_path):
    path = write_tiny_study(tmp_path, practices_csv="")
    assert_one_line_error(run_info(path), r"practices\.csv", "empty")


def test_toml_syntax_error(tmp_path):
    path = write_tiny_study(tmp_path, study_toml='name = "broken\n[practices]\nfile = "p.csv"\n')
    assert_one_line_error(run_info(path), r"study\.toml", "TOML", "line")


def test_toml_unknown_key(tmp_path):
    path = write_tiny_study(tmp_path)
    path.write_text(path.read_text().replace("[registrations]", "[registrashuns]"))
    assert_one_line_error(run_info(path), r"study\.toml", "registrashuns", "allowed")


def test_toml_bad_band(tmp_path):
    path = write_tiny_study(tmp_path)
    path.write_text(path.read_text().replace("band = [3000, 5000]", "band = [5000, 3000]"))
    assert_one_line_error(run_info(path), r"study\.toml", "band")


def test_validate_with_bad_input_writes_nothing(tmp_path):
    path = write_tiny_study(
        tmp_path / "study",
        registrations_csv="PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\nA00001,T01,-3\n",
    )
    out = tmp_path / "results"
    result = CliRunner().invoke(cli, ["validate", str(path), "--out", str(out), "-q"])
    assert_one_line_error(result, r"registrations\.csv", "line 2")
    assert not out.exists()


def test_csv_outputs_are_safe_to_open_in_excel(tmp_path):
    practices = TINY_PRACTICES.replace("WEST ONE SURGERY", '=HYPERLINK("http://x.example";"click")')
    path = write_tiny_study(tmp_path / "study", practices_csv=practices)
    out = tmp_path / "results"
    result = CliRunner().invoke(cli, ["validate", str(path), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    import pandas as pd

    names = pd.read_csv(out / "practices.csv")["practice_name"].tolist()
    assert names[0] == '\'=HYPERLINK("http://x.example";"click")'
    assert not any(str(n).startswith(("=", "+", "-", "@")) for n in names)
