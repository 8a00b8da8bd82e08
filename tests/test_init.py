"""``geo-pcn init``: a study file from a folder of downloads (issue 25).

Tiny folders, drawn by hand::

    +-----------+-----------+      two LSOAs 2021, 1 km squares (EPSG:27700):
    | E01000001 | E01000002 |      P1 has 100 patients in E01000001,
    |    P1     |    P2     |      P2 has 100 in E01000002; both in PCN U1,
    +-----------+-----------+      sub-ICB 04Y, ICB QNC (P3 is in ICB QOC)

Known answers: with two registrations files that hold the same practices, init must ask
(summary and a '# ?' comment naming both), never choose silently; a lookup with two
sub-ICB columns (sicbl24_code, ccg21_code) is a question naming both; an existing study
file is never overwritten; ``--where`` names a column of the practice file or fails in one
line listing its columns; a file name cannot add a key to the study file.

Real data (marked ``real_data``): folders of symlinks into ``../shared/data`` (never copies)
laid out as a planner's downloads; the study init writes validates to the same findings
(check, kind, PCN, how many) as the hand-written ``tests/real/`` study for that data.
"""

from __future__ import annotations

import json
import tomllib
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from cli_checks import one_line
from click.testing import CliRunner

from geo_pcn.cli import cli
from geo_pcn.studyfile import parse_study_file

MAP = (
    "PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,"
    "SUB_ICB_LOCATION_CODE,ICB_CODE\n"
    "P1,ONE,ST1 1AA,U1,PCN ONE,04Y,QNC\n"
    "P2,TWO,ST1 1AB,U1,PCN ONE,04Y,QNC\n"
    "P3,THREE,SY1 1AA,U2,PCN TWO,M2L0M,QOC\n"
)
REGS = "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\nP1,E01000001,100\nP2,E01000002,100\n"


def _square(code: str, x0: int) -> dict:
    ring = [[x0, 0], [x0 + 1000, 0], [x0 + 1000, 1000], [x0, 1000], [x0, 0]]
    return {
        "type": "Feature",
        "properties": {"lsoa21_code": code, "lsoa21_name": code},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def _folder(root: Path, *, regs: int = 1, lookup: bool = False) -> Path:
    folder = root / "downloads"
    folder.mkdir()
    (folder / "gp-reg-pat-prac-map.csv").write_text(MAP)
    for i in range(regs):
        (folder / f"regs_{'ab'[i]}.csv").write_text(REGS)
    polygons = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
        "features": [_square("E01000001", 0), _square("E01000002", 1000)],
    }
    (folder / "lsoa21.geojson").write_text(json.dumps(polygons))
    if lookup:
        (folder / "lookup.csv").write_text(
            "lsoa21_code,sicbl24_code,ccg21_code\n"
            "E01000001,E38000028,E38000053\nE01000002,E38000028,E38000126\n"
        )
    return folder


def _init(*args: str):
    return CliRunner().invoke(cli, ["init", *args])


def _section(text: str, name: str) -> list[str]:
    """The lines of ``[name]`` in ``text`` (comments included), up to the next section."""
    lines = text.splitlines()
    start = lines.index(f"[{name}]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    return lines[start + 1 : end]


def test_two_registrations_files_are_a_question_not_a_silent_choice(tmp_path):
    folder = _folder(tmp_path, regs=2)
    out = tmp_path / "study.toml"
    result = _init(str(folder), "--where", "ICB_CODE=QNC", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "1 question(s)" in result.output and "[registrations]: 2 candidate files" in (
        result.output
    )
    section = _section(out.read_text(), "registrations")
    question = [line for line in section if line.startswith("# ? [registrations]")]
    assert len(question) == 1 and "regs_a.csv" in question[0] and "regs_b.csv" in question[0]
    # both hold both practices: the first by name is written, and the question says so
    assert 'file = "downloads/regs_a.csv"' in section
    spec = parse_study_file(out)
    assert spec.registrations.path == folder / "regs_a.csv"
    assert spec.practices.where == {"ICB_CODE": "QNC"}


def test_lookup_with_two_sub_icb_columns_asks_which(tmp_path):
    folder = _folder(tmp_path, lookup=True)
    out = tmp_path / "study.toml"
    result = _init(str(folder), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "[boundaries] sub_icb: 2 candidate columns" in result.output
    section = _section(out.read_text(), "boundaries")
    asked = [line for line in section if line.startswith("# ? [boundaries] sub_icb")]
    assert len(asked) == 1 and "sicbl24_code" in asked[0] and "ccg21_code" in asked[0]
    assert (
        'sub_icb = { file = "downloads/lookup.csv", columns = { code = "sicbl24_code" } }'
        in section
    )
    spec = parse_study_file(out)
    assert spec.boundaries["sub_icb"].columns == {"code": "sicbl24_code"}
    # the lookup holds no ICB or LAD column: those are listed as missing, with where to get them
    assert "icb, place, pharmacies;" in result.output
    assert "# Missing" in out.read_text() and "geoportal.statistics.gov.uk" in out.read_text()


def test_paths_are_relative_to_the_study_file_and_every_key_has_a_comment(tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "sub" / "study.toml"
    result = _init(str(folder), "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("#:schema file://") and text.splitlines()[0].endswith(
        "study.schema.json"
    )
    doc = tomllib.loads(text)
    assert doc["practices"]["file"] == "../downloads/gp-reg-pat-prac-map.csv"
    assert doc["areas"]["file"] == "../downloads/lsoa21.geojson"
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith(("#", "[")) and not line.startswith("name ="):
            assert lines[i - 1].startswith("# "), (line, lines[i - 1])
    spec = parse_study_file(out)
    assert spec.practices.path == folder / "gp-reg-pat-prac-map.csv"


def test_never_overwrites_an_existing_file(tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "study.toml"
    out.write_text("mine\n")
    one_line(_init(str(folder), "--out", str(out)), "study.toml", "already exists")
    assert out.read_text() == "mine\n"


def test_where_names_a_column_of_the_practice_file(tmp_path):
    folder = _folder(tmp_path)
    out = tmp_path / "study.toml"
    one_line(
        _init(str(folder), "--where", "ICB=QNC", "--out", str(out)),
        "--where ICB=QNC",
        "gp-reg-pat-prac-map.csv",
        "ICB_CODE",
        "SUB_ICB_LOCATION_CODE",
    )
    one_line(
        _init(str(folder), "--where", "ICB_CODE=QXX", "--out", str(out)),
        "ICB_CODE=QXX",
        "QNC",
        "QOC",
    )
    assert not out.exists()
    one_line(_init(str(folder), "--where", "ICB_CODE", "--out", str(out)), "COLUMN=VALUE")


def test_zip_is_unpacked_beside_it_and_said(tmp_path):
    folder = _folder(tmp_path)
    with zipfile.ZipFile(folder / "registrations.zip", "w") as archive:
        archive.write(folder / "regs_a.csv", "inside/regs.csv")
    (folder / "regs_a.csv").unlink()
    out = tmp_path / "study.toml"
    result = _init(str(folder), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (folder / "registrations" / "inside" / "regs.csv").read_text() == REGS
    text = out.read_text()
    assert "registrations.zip: unpacked into registrations/ beside it" in text
    assert tomllib.loads(text)["registrations"]["file"] == (
        "downloads/registrations/inside/regs.csv"
    )


def test_a_file_name_cannot_add_keys(tmp_path):
    folder = _folder(tmp_path)
    (folder / 'x"\n[rules]\nband = [0, 1]\n.txt').write_text("nothing")
    out = tmp_path / "study.toml"
    result = _init(str(folder), "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = tomllib.loads(out.read_text())
    assert doc["rules"] == {"band": [30000, 50000]}


# ---------------------------------------------------------------- real data


def _links(folder: Path, shared: Path, names: list[str]) -> Path:
    folder.mkdir()
    for name in names:
        (folder / Path(name).name).symlink_to(shared / name)
    return folder


def _findings(study: Path) -> Counter:
    from geo_pcn import Study, validate

    report = validate(Study.from_toml(study))
    return Counter((f.check, f.kind, f.pcn_code) for f in report.findings)


def _hand_written(name: str, shared: Path, tmp: Path) -> Path:
    text = (Path(__file__).parent / "real" / name).read_text(encoding="utf-8")
    path = tmp / name
    path.write_text(text.replace("../../../shared/data", shared.resolve().as_posix()))
    return path


@pytest.mark.real_data
def test_real_qnc_folder_gives_the_findings_of_the_readme_study(shared_data, tmp_path):
    folder = _links(
        tmp_path / "downloads",
        shared_data,
        [
            "ssot_pcn_boundaries/gp-reg-pat-prac-map.csv",
            "ssot_pcn_boundaries/SSOT_GP_Patients_Oct25.csv",
            "ssot_pcn_boundaries/SSOT_GP_Practice_Locations.csv",
            "geographr/boundaries_lsoa21_subset_ssot_stw.geojson",
            "geographr/derived_sicbl24_england_from_lsoa21_bsc.geojson",
            "geographr/boundaries_ltla24.geojson",
            "demographr/census21_usual_residents_lsoa21_from_ethnicity21_lsoa21.csv",
            "ods_pharmacies_2025/edispensary.csv",
            "codepoint_open_2025",
        ],
    )
    out = tmp_path / "study.toml"
    result = _init(str(folder), "--where", "ICB_CODE=QNC", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "question" not in result.output  # one candidate for every input
    written = _findings(out)
    assert written == _findings(_hand_written("qnc_readme.toml", shared_data, tmp_path))
    # 5 PCNs above 50,000 in QNC, Oct 2025 (shared/data/README.md, worked out with pandas)
    assert sum(n for (check, kind, _), n in written.items() if kind == "above_band") == 5


@pytest.mark.real_data
def test_real_national_2022_folder_where_icb22_gives_the_hand_written_findings(
    shared_data, tmp_path
):
    folder = _links(
        tmp_path / "downloads",
        shared_data,
        [
            "national_2022/gp-reg-pat-prac-map-jul22.xlsx",
            "national_2022/gp-registrations.parquet",
            "national_2022/imd-statistics.parquet",
            "geographr/boundaries_lsoa11.geojson",
            "demographr/population20_lsoa11.csv.gz",
            "geographr/ruc11_lsoa11.csv",
            "geographr/boundaries_ccg21.geojson",
            "geographr/boundaries_ltla24.geojson",
            "codepoint_open_2025",
        ],
    )
    out = tmp_path / "study.toml"
    result = _init(str(folder), "--where", "ICB22=QNC", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = tomllib.loads(out.read_text())
    assert doc["practices"]["where"] == {"ICB22": "QNC"}
    assert doc["practices"]["postcodes"] == "downloads/codepoint_open_2025"
    assert _findings(out) == _findings(
        _hand_written("qnc_national_2022.toml", shared_data, tmp_path)
    )


@pytest.mark.real_data
def test_real_epraccur_and_epcn_folder_narrows_the_workbook_to_the_region(shared_data, tmp_path):
    """Headerless epraccur (Jan 2023) with ``--where icb_code=QNC`` and the national ePCN
    workbook: init writes [configuration] narrowed to the sub-ICBs of those practices, and
    the study loads the practices and PCNs pandas finds in the raw files."""
    import pandas as pd

    from geo_pcn import Study

    folder = _links(
        tmp_path / "downloads",
        shared_data,
        [
            "ods_2023_blackwellrd/epraccur.csv",
            "ods_2023_blackwellrd/ePCN.xlsx",
            "national_2022/gp-registrations.parquet",
            "geographr/boundaries_lsoa11.geojson",
            "codepoint_open_2025",
        ],
    )
    out = tmp_path / "study.toml"
    result = _init(str(folder), "--where", "icb_code=QNC", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = tomllib.loads(out.read_text())
    assert doc["practices"]["where"] == {"icb_code": "QNC"}
    assert doc["configuration"]["file"] == "downloads/ePCN.xlsx"

    raw = pd.read_csv(
        shared_data / "ods_2023_blackwellrd/epraccur.csv", header=None, dtype=str,
        keep_default_na=False,
    )  # fmt: skip
    gp = raw[(raw[3] == "QNC") & (raw[25] == "4")]
    open_gp = gp[gp[12].isin(["A", "D"])]  # active and dormant (closed ones are left out)
    assert sorted(doc["configuration"]["where"]["sub_icb_code"]) == sorted(set(open_gp[14]))
    partners = pd.read_excel(
        shared_data / "ods_2023_blackwellrd/ePCN.xlsx", sheet_name="PCN Core Partner Details"
    )
    partners.columns = [" ".join(str(c).split()) for c in partners.columns]
    current = partners[partners["Practice to PCN Relationship End Date"].isna()]
    pcns = current.loc[current["Partner Organisation Code"].isin(open_gp[0]), "PCN Code"]

    summary = Study.from_toml(out).summary()
    assert summary["n_practices"] == len(open_gp) == 146
    assert summary["n_pcns"] == pcns.nunique() == 25


def test_the_same_folder_gives_the_same_bytes(tmp_path):
    folder = _folder(tmp_path, regs=2, lookup=True)
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    assert _init(str(folder), "--where", "ICB_CODE=QNC", "--out", str(first)).exit_code == 0
    assert _init(str(folder), "--where", "ICB_CODE=QNC", "--out", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.real_data
def test_real_lsoa11_registrations_on_lsoa21_polygons_go_through_the_lookup(shared_data, tmp_path):
    """July 2022 registrations carry LSOA 2011 codes; with only LSOA 2021 polygons in the
    folder, init adds the ONS LSOA 2011 -> 2021 lookup as [areas] lookup, and the study
    gives the findings of the hand-written tests/real/qnc_2022_on_lsoa21.toml."""
    folder = _links(
        tmp_path / "downloads",
        shared_data,
        [
            "national_2022/gp-reg-pat-prac-map-jul22.xlsx",
            "national_2022/gp-registrations.parquet",
            "geographr/boundaries_lsoa21.geojson",
            "geographr/lookup_lsoa11_lsoa21_ltla22.csv.gz",
            "demographr/census21_usual_residents_lsoa21_from_ethnicity21_lsoa21.csv",
            "geographr/derived_sicbl24_england_from_lsoa21_bsc.geojson",
            "geographr/boundaries_ltla24.geojson",
            "codepoint_open_2025",
        ],
    )
    out = tmp_path / "study.toml"
    result = _init(str(folder), "--where", "ICB22=QNC", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = tomllib.loads(out.read_text())
    assert doc["areas"]["lookup"] == "downloads/lookup_lsoa11_lsoa21_ltla22.csv.gz"
    assert _findings(out) == _findings(
        _hand_written("qnc_2022_on_lsoa21.toml", shared_data, tmp_path)
    )


def test_a_folder_without_a_practice_file_is_one_line(tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    out = tmp_path / "study.toml"
    one_line(_init(str(folder), "--out", str(out)), "no files found")
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    one_line(_init(str(folder), "--out", str(out)), "no practice file", "gp-reg-pat-prac-map")
    assert not out.exists()
