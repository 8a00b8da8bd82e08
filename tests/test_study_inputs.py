"""No input silently ignored (issue 18, item 4): postcodes and status from any input that
carries them, a practice placed at its residents' centre warned, repeated registration rows
and a PCN code with two names warned with counts, pyarrow installed with the package.

The tiny study of ``tests/tiny.py`` (1 km boxes, sites at the box centres):

    northing (km above 300 000)
     2 +------+------+------+------+
       | T05  | T06  | T07  | T08  |
     1 +------+------+------+------+
       | T01  | T02  | T03  | T04  |
     0 +------+------+------+------+
       0      1      2      3      4   easting (km above 400 000)

    A00001 (T01) A00002 (T02) -> U00001 WEST PCN; A00003 (T03) A00004 = A00005 (T04) -> U00002

Here the practices file has no postcode column; the postcodes come from an ODS epraccur file
given as ``locations``, and a Code-Point Open folder knows AB1 1AA, AB1 2AA and AB1 4AA (at
the centres of T01, T02 and T04) but not A00003's AB1 3AA (terminated).
"""

from __future__ import annotations

import re
import tomllib
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from tiny import TINY_PRACTICES, TINY_REGISTRATIONS, X0, Y0, write_tiny_study

from geo_pcn import Study, validate
from geo_pcn.cli import cli
from geo_pcn.errors import GeoPCNWarning, InputError
from geo_pcn.io import read_registrations
from geo_pcn.render.markdown import report_markdown

#: The tiny practices file without its PRACTICE_POSTCODE column (as the ePCN workbook has none).
NO_POSTCODES = "\n".join(
    ",".join(c for i, c in enumerate(line.split(",")) if i != 2)
    for line in TINY_PRACTICES.strip().splitlines()
)


def _ods_row(code: str, postcode: str, status: str) -> str:
    """A row of the classic header-less epraccur layout (27 columns; 9 postcode, 12 status,
    25 prescribing setting 4 = GP practice)."""
    cells = [""] * 27
    cells[0], cells[1], cells[2], cells[3], cells[9] = code, f"{code} SURGERY", "Y60", "QXX", postcode
    cells[10], cells[12], cells[14], cells[25] = "19740401", status, "01A", "4"
    return ",".join(f'"{c}"' for c in cells)


#: ODS epraccur: A00005 is dormant; A00003's postcode is not in Code-Point.
EPRACCUR = "".join(
    _ods_row(code, postcode, status) + "\n"
    for code, postcode, status in (
        ("A00001", "AB1 1AA", "A"),
        ("A00002", "AB1 2AA", "A"),
        ("A00003", "AB1 3AA", "A"),
        ("A00004", "AB1 4AA", "A"),
        ("A00005", "AB1 4AA", "D"),
    )
)


def _codepoint(folder: Path) -> Path:
    """Code-Point Open as downloaded: Data/CSV/ab.csv, no header, easting/northing in BNG."""
    csv = folder / "codepoint" / "Data" / "CSV"
    csv.mkdir(parents=True)
    rows = {"AB1 1AA": (500, 500), "AB1 2AA": (1500, 500), "AB1 4AA": (3500, 500)}
    (csv / "ab.csv").write_text(
        "".join(f'"{pc}",10,{X0 + x},{Y0 + y},"E92000001","","","","",""\n' for pc, (x, y) in rows.items())
    )
    return folder / "codepoint"


def _study_toml(practices: str) -> str:
    return (
        'name = "Tiny test study"\n'
        f"[practices]\n{practices}\n"
        '[registrations]\nfile = "registrations.csv"\n'
        '[areas]\nfile = "areas.geojson"\npopulation = "population.csv"\n'
        '[boundaries]\nplace = "place.geojson"\n'
        "[rules]\nband = [3000, 5000]\n"
    )


def _write(tmp_path: Path, practices_section: str, **files: str) -> Path:
    _codepoint(tmp_path)
    return write_tiny_study(
        tmp_path,
        practices_csv=NO_POSTCODES + "\n",
        study_toml=_study_toml(practices_section),
        **files,
    )


# -- postcodes from any input that carries them, or a one-line error naming the key ---------


def test_postcodes_with_no_postcode_column_anywhere_is_one_line_naming_the_key(tmp_path):
    """The practices file has no postcode column and no other practice input is given: the
    Code-Point folder would be ignored (every practice put at its residents' centre)."""
    path = _write(tmp_path, 'file = "practices.csv"\npostcodes = "codepoint"')
    with pytest.raises(InputError, match=r"\[practices\] postcodes = .*codepoint") as info:
        Study.from_toml(path)
    message = str(info.value)
    assert "practices.csv has no postcode column" in message
    assert "no practice input carries postcodes" in message
    assert "locations = " in message and "remove [practices] postcodes" in message
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert re.search(r"\[practices\] postcodes", result.output)


def test_top_level_postcodes_with_nothing_to_look_up_names_that_key(tmp_path):
    """The top-level ``postcodes`` (shared with community sites) is named as such, and the
    locations file given without postcodes is said to have none either."""
    toml = 'postcodes = "codepoint"\n' + _study_toml(
        'file = "practices.csv"\nlocations = "locations.csv"'
    )
    path = _write(tmp_path, "")
    path.write_text(toml)
    with pytest.raises(InputError, match=r'postcodes = ".*codepoint" is given') as info:
        Study.from_toml(path)
    assert "[practices] postcodes" not in str(info.value)
    assert "locations.csv has none either" in str(info.value)


def test_top_level_postcodes_used_by_community_sites_is_not_refused(tmp_path):
    """The top-level ``postcodes`` also geocodes ``[community.NAME]`` sites: with a sites
    layer that uses it, the practices need not carry postcodes (they have coordinates)."""
    sites = "code,name,postcode\nS1,T01 PHARMACY,AB1 1AA\n"
    toml = (
        'postcodes = "codepoint"\n'
        + _study_toml('file = "practices.csv"\nlocations = "locations.csv"')
        + '[community.pharmacies]\nfile = "sites.csv"\nkind = "sites"\n'
    )
    path = _write(tmp_path, "", sites_csv=sites)
    path.write_text(toml)
    study = Study.from_toml(path)
    assert study.practices["locate_method"].eq("easting/northing").all()
    site = study.community["pharmacies"].data.geometry.iloc[0]
    assert (site.x, site.y) == (X0 + 500, Y0 + 500)


def test_postcodes_and_status_are_taken_from_epraccur_given_as_locations(tmp_path):
    """The practices file has neither postcodes nor status; epraccur (as ``locations``)
    has both. A00001, A00002, A00004 and A00005 are geocoded at their box centres from
    Code-Point; A00003's AB1 3AA is not there. A00005 is dormant in epraccur (D)."""
    path = _write(
        tmp_path,
        'file = "practices.csv"\nlocations = "epraccur.csv"\npostcodes = "codepoint"',
        epraccur_csv=EPRACCUR,
    )
    study = Study.from_toml(path)
    p = study.practices
    assert p["postcode"].to_dict() == {
        "A00001": "AB1 1AA",
        "A00002": "AB1 2AA",
        "A00003": "AB1 3AA",
        "A00004": "AB1 4AA",
        "A00005": "AB1 4AA",
    }
    assert p.loc[["A00001", "A00002", "A00004", "A00005"], "locate_method"].eq("postcode").all()
    assert (p.geometry["A00002"].x, p.geometry["A00002"].y) == (X0 + 1500, Y0 + 500)
    assert (p.geometry["A00005"].x, p.geometry["A00005"].y) == (X0 + 3500, Y0 + 500)
    # status kept: A00005 is dormant, the others active
    assert p["status"].to_dict() == {
        "A00001": "active",
        "A00002": "active",
        "A00003": "active",
        "A00004": "active",
        "A00005": "dormant",
    }
    assert any("postcodes of 5 practice(s) taken from it" in n for n in study.notes)
    assert any("status of 5 practice(s) taken from it (the practices file gives none for them): 4 active, 1 dormant" in n for n in study.notes)
    # the configuration keeps the dormant practice in EAST, and the coverage check says so
    report = validate(study)
    (dormant,) = [f for f in report.findings if f.kind == "practice_not_active"]
    assert dormant.practice_codes == ("A00005",) and dormant.details["status"] == "dormant"
    assert dormant.value == 850  # A00005's registrations: 400 + 450


# -- a practice placed at its residents' centre is a WARNING naming it ------------------------


def test_a_practice_at_its_residents_centre_is_a_warning_that_reaches_the_report(tmp_path):
    """A00003's postcode AB1 3AA is dead: it is placed at the patient-weighted centre of its
    residents, T03 (1,200 at northing 300,500) and T07 (700 at 301,500): northing
    (300,500 x 1,200 + 301,500 x 700) / 1,900 = 300,868.4 -> 300,868, easting 402,500.
    Its list size is 1,200 + 700 + 2 (Wales) = 1,902. A pharmacy at T03's centre
    (402,500 / 300,500) is 368 m from that guessed site: the distance says it is a guess."""
    sites = "code,name,easting,northing\nS1,T03 PHARMACY,402500,300500\n"
    toml = _study_toml(
        'file = "practices.csv"\nlocations = "epraccur.csv"\npostcodes = "codepoint"'
    ) + '[community.pharmacies]\nfile = "sites.csv"\nkind = "sites"\n'
    path = _write(tmp_path, "", epraccur_csv=EPRACCUR, sites_csv=sites)
    path.write_text(toml)
    study = Study.from_toml(path)
    site = study.practices.geometry["A00003"]
    assert (site.x, site.y) == (402_500.0, 300_868.0)
    report = validate(study)
    (finding,) = [f for f in report.findings if f.kind == "site_guessed"]
    assert finding.check == "coverage"
    assert finding.severity.value == "warning"
    assert finding.pcn_code == "U00002"
    assert finding.practice_codes == ("A00003",)
    assert finding.value == 1902
    assert "A00003" in finding.message and "AB1 3AA not found" in finding.message
    assert "guesses" in finding.message
    assert (finding.geometry.x, finding.geometry.y) == (402_500.0, 300_868.0)
    assert finding.details["practices"] == [
        {
            "practice_code": "A00003",
            "postcode": "AB1 3AA",
            "easting": 402_500.0,
            "northing": 300_868.0,
            "patients": 1902,
        }
    ]
    # the distance to the nearest pharmacy is from the guessed site, and says so
    sites_result = report.alignment.layers["pharmacies"]
    row = sites_result.practices.set_index("practice_code").loc["A00003"]
    assert row["distance_m"] == 368.0 and bool(row["site_guessed"])
    assert sites_result.summary["practices_site_guessed"] == ["A00003"]
    text = report_markdown(report)
    assert "A00003" in text and "The site of 1 practice of EAST PCN (U00002) is not known" in text
    assert "from a guessed site, their residents' centre: A00003" in text


def test_no_warning_when_every_site_is_known(tiny_study_file):
    assert not [f for f in validate(Study.from_toml(tiny_study_file)).findings if f.kind == "site_guessed"]


# -- repeated registration rows: summed, with a warning that counts them ----------------------


def test_repeated_registration_rows_are_warned_with_counts(tmp_path):
    """Three rows repeat a practice and area already listed: A00001 in T01 (a copy of line
    2, 1,000 patients, at line 15) and A00003 in T07 twice (50 and 20 at lines 16 and 17;
    first at line 8): 3 rows, 2 practices, 1,070 patients. They are summed, as before."""
    regs = TINY_REGISTRATIONS + "A00001,T01,1000\nA00003,T07,50\nA00003,T07,20\n"
    path = write_tiny_study(tmp_path, registrations_csv=regs)
    with pytest.warns(GeoPCNWarning) as caught:
        study = Study.from_toml(path)
    (said,) = [str(w.message) for w in caught if "repeat a practice and area" in str(w.message)]
    assert "3 row(s) repeat a practice and area already listed" in said
    assert "(2 practice(s), 1,070 patients in the repeated rows" in said
    assert "e.g. A00001 in T01, lines 2 and 15" in said
    (note,) = [n for n in study.notes if "repeat a practice and area" in n]
    assert note.startswith("Warning: ") and "1,070 patients" in note
    assert study.practices.loc["A00001", "list_size"] == 1905 + 1000
    assert study.practices.loc["A00003", "list_size"] == 1902 + 70


def test_rows_by_sex_are_not_repeats_but_a_sex_row_twice_is(write_file):
    """MALE and FEMALE rows of one practice and area are the two halves (summed, no
    warning); a second MALE row for A1 in E01000001 is a repeat (1 row, 1 practice, 2)."""
    text = (
        "PRACTICE_CODE,SEX,LSOA_CODE,NUMBER_OF_PATIENTS\n"
        "A1,MALE,E01000001,2\nA1,FEMALE,E01000001,3\nA2,ALL,E01000001,7\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoPCNWarning)
        clean = read_registrations(write_file("sex.csv", text))
    assert "repeated" not in clean.attrs
    with pytest.warns(GeoPCNWarning, match=r"1 row\(s\) repeat a practice and area \(and sex\)"):
        frame = read_registrations(write_file("twice.csv", text + "A1,MALE,E01000001,2\n"))
    assert frame.attrs["repeated"] == {
        "rows": 1,
        "practices": 1,
        "patients": 2,
        "example": "A1 in E01000001, lines 2 and 5",
    }
    assert frame.n_patients.tolist() == [7, 7]


# -- a PCN code with two names ---------------------------------------------------------------


def test_a_pcn_code_with_two_names_is_warned_and_takes_its_most_common_name(tmp_path):
    """U00002 is 'EAST PCN' on A00003 and A00004 but 'EAST PCN LTD' on A00005, the last
    row (the name a last-one-wins reading would have kept): 1 code, 3 practices."""
    practices = TINY_PRACTICES.replace(
        "A00005,EAST FIVE SURGERY,AB1 4AA,U00002,EAST PCN,", "A00005,EAST FIVE SURGERY,AB1 4AA,U00002,EAST PCN LTD,"
    )
    assert "EAST PCN LTD" in practices
    path = write_tiny_study(tmp_path, practices_csv=practices)
    with pytest.warns(GeoPCNWarning, match="PCN code") as caught:
        study = Study.from_toml(path)
    (said,) = [str(w.message) for w in caught if "two or more names" in str(w.message)]
    assert "practices.csv: 1 PCN code(s) have two or more names (3 practices)" in said
    assert "U00002: 'EAST PCN' (2 practices), 'EAST PCN LTD' (1 practice)" in said
    assert study.configuration.names == {"U00001": "WEST PCN", "U00002": "EAST PCN"}
    assert any(n.startswith("Warning: ") and "two or more names" in n for n in study.notes)


def test_one_name_per_pcn_code_gives_no_warning(tiny_study_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoPCNWarning)
        study = Study.from_toml(tiny_study_file)
    assert not [n for n in study.notes if n.startswith("Warning: ")]


# -- Parquet registrations after the Quick start install -------------------------------------


def test_pyarrow_is_installed_with_the_package():
    """``pip install -e .`` must bring pyarrow: Parquet registrations and GeoParquet
    boundaries need it (it used to be a test extra only)."""
    meta = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    core = [d.split(">")[0].split("=")[0].strip() for d in meta["project"]["dependencies"]]
    assert "pyarrow" in core


@pytest.fixture
def write_file(tmp_path):
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write
