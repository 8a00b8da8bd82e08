"""NHS England / ODS practice, registration, list-size, configuration and site readers."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_pcn.errors import InputError, SchemaError
from geo_pcn.io import (
    Source,
    read_configuration,
    read_list_sizes,
    read_practices,
    read_registrations,
    read_sites,
)

MAP = (
    "PUBLICATION,PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME,"
    "ONS_SUB_ICB_LOCATION_CODE,SUB_ICB_LOCATION_CODE,ONS_ICB_CODE,ICB_CODE\n"
    "GP_PRAC_PAT_LIST,M83001,HORSEFAIR,ws15  2fh,U16318,RUGELEY PCN,E38000028,04Y,E54000010,QNC\n"
    "GP_PRAC_PAT_LIST,M83016,HIGH STREET,WS6 7AB,U88414,CANNOCK PCN,E38000028,04Y,E54000010,QNC\n"
    "GP_PRAC_PAT_LIST,M83016,HIGH STREET,WS6 7AB,U88414,CANNOCK PCN,E38000028,04Y,E54000010,QNC\n"
    "GP_PRAC_PAT_LIST,m99999,LONE,WS6 7AB,U,Unallocated,E38000028,04Y,E54000010,QNC\n"
    "GP_PRAC_PAT_LIST,B82001,ELSEWHERE,TS18 1HU,U00001,OTHER PCN,E38000247,16C,E54000050,QHM\n"
)


def _ods_row(code, name, icb, postcode, status, setting, region="Y60", sub_icb="04Y"):
    cells = [""] * 27
    cells[0], cells[1], cells[2], cells[3], cells[9] = code, name, region, icb, postcode
    cells[10], cells[12], cells[14], cells[25] = "19740401", status, sub_icb, setting
    return ",".join(f'"{c}"' for c in cells)


def test_nhs_map_detected_and_normalised(write):
    frame = read_practices(write("map.csv", MAP))
    assert frame.attrs["format"] == "nhs_map"
    assert frame.attrs["skipped"] == {"duplicate row": 1}
    assert list(frame.practice_code) == ["M83001", "M83016", "M99999", "B82001"]
    assert frame.loc[0, "postcode"] == "WS15 2FH"
    assert {"sub_icb_code", "ons_sub_icb_code", "icb_code", "ons_icb_code"} <= set(frame.columns)
    lone = frame.set_index("practice_code").loc["M99999"]
    assert (lone.pcn_code, lone.pcn_name) == ("", "")


def test_where_on_raw_column_counts_skipped(write):
    frame = read_practices(Source(write("map.csv", MAP), where={"ICB_CODE": "QNC"}))
    assert len(frame) == 3
    assert frame.attrs["skipped"]["outside the where filter"] == 1


def test_same_practice_two_pcns_is_an_error(write):
    path = write(
        "cfg.csv",
        """
practice_code,pcn_code
M83001,U1
M83002,U1
M83001,U2
""",
    )
    with pytest.raises(
        InputError, match=r"cfg\.csv: .*M83001 in U1 \(line 2\), U2 \(line 4\); keep one row"
    ):
        read_practices(path)


def test_unrecognised_practices_file(write):
    path = write("junk.csv", "colour,size\nred,1\n")
    with pytest.raises(SchemaError, match=r"junk\.csv: not a recognised practices file.*columns ="):
        read_practices(path)


def test_explicit_columns_mapping(write):
    path = write("own.csv", "Org,Network\nM83001,U1\nM83002,\n")
    src = Source(path, columns={"practice_code": "Org", "pcn_code": "Network"})
    frame = read_practices(src)
    assert list(frame.pcn_code) == ["U1", ""]


def test_explicit_column_not_in_file(write):
    path = write("own.csv", "Org,Network\nM83001,U1\n")
    with pytest.raises(SchemaError, match=r"own\.csv: column\(s\) named .*pcn_code = 'PCN'"):
        read_practices(Source(path, columns={"practice_code": "Org", "pcn_code": "PCN"}))


def test_pcn_names_only_become_codes(write):
    path = write("names.csv", "Code,PCN\nM83001, North PCN \nM83002,unallocated\n")
    frame = read_practices(path)
    assert list(frame.pcn_code) == ["North PCN", ""]
    assert list(frame.pcn_name) == ["North PCN", ""]


def test_blank_practice_code_names_line(write):
    path = write("blank.csv", "practice_code,pcn_code\nM83001,U1\n,U2\n")
    with pytest.raises(
        InputError,
        match=r"blank\.csv: 1 row\(s\) have no practice code \(line"
        r"\(s\) 3\)",
    ):
        read_practices(path)


@pytest.mark.parametrize(
    ("active", "inactive", "gp", "other", "fmt"),
    [("ACTIVE", "INACTIVE", "RO76", "RO177", "epraccur"), ("A", "C", "4", "0", "epraccur_classic")],
)
def test_epraccur_layouts(write, active, inactive, gp, other, fmt):
    rows = [
        _ods_row("M83001", "HORSEFAIR", "QNC", "WS15 2FH", active, gp),
        _ods_row("M83002", "CLOSED ONE", "QNC", "WS15 2FH", inactive, gp),
        _ods_row("Y01234", "OOH CENTRE", "QNC", "WS15 2FH", active, other),
        _ods_row("W00001", "WELSH", "7A1", "CF10 1AA", active, gp, region=""),
    ]
    path = write("epraccur.csv", "\n".join(rows) + "\n")
    frame = read_practices(path)
    assert frame.attrs["format"] == fmt
    # every GP practice is kept with its status (issue 9); the OOH centre is not a practice
    assert list(frame.practice_code) == ["M83001", "M83002", "W00001"]
    closed = "inactive" if inactive == "INACTIVE" else "closed"
    assert list(frame.status) == ["active", closed, "active"]
    assert frame.attrs["status_counts"] == {"active": 2, closed: 1}
    assert frame.attrs["skipped"] == {"not a GP practice": 1}
    assert "pcn_code" not in frame.columns
    qnc = read_practices(Source(path, where={"icb_code": "QNC"}))
    assert list(qnc.practice_code) == ["M83001", "M83002"]
    assert qnc.attrs["skipped"]["outside the where filter"] == 1


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["A", "D", "C", "P"], ["active", "dormant", "closed", "proposed"]),
        (["Active", "Dormant", "Closed", "Proposed"], ["active", "dormant", "closed", "proposed"]),
        (["ACTIVE", "INACTIVE", "", "open"], ["active", "inactive", "", "active"]),
    ],
)
def test_status_column_is_normalised(write, given, expected):
    rows = [f"M8300{i},{status}" for i, status in enumerate(given)]
    frame = read_practices(write("p.csv", "practice_code,Status\n" + "\n".join(rows) + "\n"))
    assert list(frame.status) == expected
    assert sum(frame.attrs["status_counts"].values()) == sum(bool(e) for e in expected)


def test_unknown_status_is_refused(write):
    path = write("p.csv", "practice_code,status\nM83001,active\nM83002,retired\n")
    with pytest.raises(
        InputError, match=r"p\.csv: practice status not recognised at line 3 \('RETIRED'\)"
    ):
        read_practices(path)


def test_ods_table_keeps_gp_practices_only(write):
    text = (
        "OrganisationCode,OrganisationName,Status,PrescribingSetting\n"
        "A81001,ONE,Active,GP Practice\nA81002,TWO,Closed,GP Practice\nY00001,OOH,Active,OOH Practice\n"
    )
    frame = read_practices(write("ods.csv", text))
    assert list(frame.practice_code) == ["A81001", "A81002"]
    assert list(frame.status) == ["active", "closed"]
    assert frame.attrs["skipped"] == {"not a GP practice": 1}


def test_epcn_workbook(tmp_path):
    sheet = pd.DataFrame(
        {
            "Partner\nOrganisation\nCode": ["M83001", "M83002", "M83002"],
            "Partner\nName": ["A", "B", "B"],
            "Practice\nParent\nCCG Code": ["04Y", "04Y", "04Y"],
            "PCN Code": ["U1", "U1", "U2"],
            "PCN Name": ["ONE PCN", "ONE PCN", "TWO PCN"],
            "Practice to PCN\nRelationship\nStart Date": ["20191001"] * 3,
            "Practice to PCN\nRelationship\nEnd Date": [None, "20200831", None],
        }
    )
    path = tmp_path / "ePCN.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"PCN Code": ["U1"]}).to_excel(xl, sheet_name="PCNDetails", index=False)
        sheet.to_excel(xl, sheet_name="PCN Core Partner Details", index=False)
    frame = read_practices(path)
    assert frame.attrs["format"] == "epcn"
    assert frame.attrs["skipped"] == {"practice-PCN relationship ended": 1}
    assert dict(zip(frame.practice_code, frame.pcn_code, strict=True)) == {
        "M83001": "U1",
        "M83002": "U2",
    }
    assert set(frame.sub_icb_code) == {"04Y"}


REGS = """
LSOA_CODE,PRACTICE_CODE,PRACTICE_NAME.x,NUMBER_OF_PATIENTS,,,
CLOSED,M83001,A,3,,,
E01000001,M83001,A,10,,Row Labels,Sum of NUMBER_OF_PATIENTS
E01000001,M83001,A,5,,,
W01000001,M83001,A,1,,,
S01000001,M83001,A,1,,,
N21000001,M83002,B,1,,,
95AA01S1,M83002,B,1,,,
L99999999,M83002,B,1,,,
EMPTY,M83002,B,2,,,
"""


def test_registrations_pseudo_areas_kept_and_summed(write):
    frame = read_registrations(write("regs.csv", REGS))
    assert frame.attrs["format"] == "nhs_lsoa"
    assert frame["n_patients"].dtype == "int64"
    assert frame["n_patients"].sum() == 25
    kinds = dict(zip(frame.area_code, frame.area_kind, strict=True))
    assert kinds == {
        "CLOSED": "unknown",
        "E01000001": "small_area",
        "W01000001": "wales",
        "S01000001": "scotland",
        "N21000001": "northern_ireland",
        "95AA01S1": "northern_ireland",
        "L99999999": "crown_dependencies",
        "EMPTY": "unknown",
    }
    summed = frame.set_index(["practice_code", "area_code"]).n_patients
    assert summed["M83001", "E01000001"] == 15


def test_registrations_sex_all_mixed_with_male_female_is_refused(write):
    text = (
        "PRACTICE_CODE,SEX,LSOA_CODE,NUMBER_OF_PATIENTS\nA1,ALL,E01000001,5\nA1,MALE,E01000001,2\n"
        "A1,ALL,E01000002,3\n"
    )
    with pytest.raises(
        InputError,
        match=r"regs\.csv: column SEX mixes ALL .*MALE.*A1 in area E01000001 \(lines 2, 3",
    ):
        read_registrations(write("regs.csv", text))


def test_registrations_male_female_summed(write):
    text = (
        "PRACTICE_CODE,SEX,LSOA_CODE,NUMBER_OF_PATIENTS\n"
        "A1,MALE,E01000001,2\nA1,FEMALE,E01000001,3\nA1,FEMALE,E01000002,4\n"
        "A2,ALL,E01000001,7\n"
    )
    frame = read_registrations(write("regs.csv", text))
    assert frame.n_patients.tolist() == [5, 4, 7]
    assert frame.attrs["skipped"] == {}
    assert list(frame.attrs["summed"].values()) == [3]


@pytest.mark.parametrize("bad", ["many", "-3", "2.5"])
def test_registrations_bad_counts_name_lines(write, bad):
    text = f"LSOA_CODE,PRACTICE_CODE,NUMBER_OF_PATIENTS\nE01000001,A1,4\nE01000002,A1,{bad}\n"
    with pytest.raises(
        InputError, match=rf"regs\.csv: column NUMBER_OF_PATIENTS .*line 3 \('{bad}'\)"
    ):
        read_registrations(write("regs.csv", text))


def test_registrations_blank_area_names_line(write):
    text = "LSOA_CODE,PRACTICE_CODE,NUMBER_OF_PATIENTS\nE01000001,A1,4\n,A1,2\n"
    with pytest.raises(
        InputError, match=r"regs\.csv: practice or area code missing at line\(s\) 3"
    ):
        read_registrations(write("regs.csv", text))


def test_registrations_missing_column(write):
    text = "LSOA_CODE,PRACTICE_CODE\nE01000001,A1\n"
    with pytest.raises(SchemaError, match=r"regs\.csv: .*missing required column\(s\) n_patients"):
        read_registrations(write("regs.csv", text))


def test_list_sizes_nhs_layout(write):
    text = """
PUBLICATION,EXTRACT_DATE,TYPE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS
GP_PRAC_PAT_LIST,01Oct2025,Comm Region,Y56,,ALL,ALL,9999999
GP_PRAC_PAT_LIST,01Oct2025,GP,M83001,WS15 2FH,ALL,ALL,"12,345"
GP_PRAC_PAT_LIST,01Oct2025,GP,M83001,WS15 2FH,MALE,ALL,6000
GP_PRAC_PAT_LIST,01Oct2025,GP,M83001,WS15 2FH,ALL,0,100
"""
    frame = read_list_sizes(write("all.csv", text))
    assert frame.attrs["format"] == "nhs_list_sizes"
    assert frame.to_dict("list") == {"practice_code": ["M83001"], "list_size": [12345]}
    assert sum(frame.attrs["skipped"].values()) == 3


def test_list_sizes_qof_layout(write):
    text = """
PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE
A81001,AF,95,TOTAL,4098
A81001,AST,333,06OV,3852
A81001,CAN,149,TOTAL,4098
"""
    frame = read_list_sizes(write("qof.csv", text))
    assert frame.attrs["format"] == "qof_prevalence"
    assert frame.list_size.tolist() == [4098]


def test_list_sizes_plain_and_conflict(write):
    ok = read_list_sizes(write("ls.csv", "practice_code,list_size\nA1,100\nA2,200\n"))
    assert ok.list_size.dtype == "int64"
    with pytest.raises(
        InputError,
        match=r"ls2\.csv: 1 practice\(s\) have different list sizes: "
        r"A1 \(100 at line 2, 150 at line 3\)",
    ):
        read_list_sizes(write("ls2.csv", "practice_code,Patients\nA1,100\nA1,150\n"))


def test_list_sizes_without_size_column(write):
    with pytest.raises(SchemaError, match=r"p\.csv: not a recognised list sizes file"):
        read_list_sizes(write("p.csv", "practice_code,pcn_code\nA1,U1\n"))


def test_configuration_plain(write):
    frame = read_configuration(write("cfg.csv", "practice_code,pcn_code\nm83001,u1\nM83002,U\n"))
    assert frame.to_dict("list") == {
        "practice_code": ["M83001", "M83002"],
        "pcn_code": ["U1", ""],
        "pcn_name": ["", ""],
    }


def test_configuration_needs_a_pcn_column(write):
    with pytest.raises(SchemaError, match=r"cfg\.csv: configuration file has no PCN column"):
        read_configuration(write("cfg.csv", "practice_code,practice_name\nA1,X\n"))


def test_sites_edispensary_layout(write, tmp_path):
    rows = [
        _ods_row("FA001", "BOOTS", "QNC", "ST1 1AF", "A", ""),
        _ods_row("FA002", "GONE", "QNC", "ST1 1AF", "C", ""),
        _ods_row("FA003", "NEW", "QNC", "ST99 9ZZ", "A", ""),
        _ods_row("FA004", "FAR", "QHM", "ST1 1AF", "A", ""),
    ]
    path = write("edispensary.csv", "\n".join(rows) + "\n")
    (tmp_path / "cp" / "Data" / "CSV").mkdir(parents=True)
    (tmp_path / "cp" / "Data" / "CSV" / "st.csv").write_text(
        '"ST1 1AF",10,388405,347542,"E92000001","E19000001","E18000005","","E06000021","E05"\n'
    )
    with pytest.raises(InputError, match="practices"):  # not a practices file
        read_practices(path)
    sites = read_sites(Source(path, where={"icb_code": "QNC"}), postcodes=tmp_path / "cp")
    assert sites.attrs["format"] == "edispensary"
    assert list(sites.code) == ["FA001", "FA003"]
    assert list(sites.locate_method) == ["postcode", ""]
    assert sites.geometry.iloc[1] is None
    assert sites.crs.to_epsg() == 27700
    assert sites.geometry.iloc[0].x == 388405
    assert sites.attrs["skipped"] == {
        "outside the where filter": 1,
        "not active (closed or proposed)": 1,
    }


def test_sites_plain_with_pcn_option(write):
    text = "site,Team,lat,long\nBase 1,U1,52.8,-2.1\nBase 2,,52.9,-2.0\n"
    sites = read_sites(
        Source(write("s.csv", text), columns={"name": "site"}, options={"pcn": "Team"})
    )
    assert list(sites.columns) == [
        "code",
        "name",
        "postcode",
        "pcn_code",
        "status",
        "locate_method",
        "geometry",
    ]
    assert list(sites.pcn_code) == ["U1", ""]
    assert list(sites.locate_method) == ["lat/long", "lat/long"]
