"""Locating rows: lat/long, easting/northing and postcodes, with GB checks."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_pcn.errors import GeometryError, InputError, SchemaError
from geo_pcn.io import geocode, locate, read_locations, read_postcode_lookup

CODEPOINT_ST = (
    '"ST1 1AF",10,388405,347542,"E92000001","E19000001","E18000005","","E06000021","E05"\n'
    '"ST10 1AA",10,400000,340000,"E92000001","E19000001","E18000005","","E06000021","E05"\n'
)
CODEPOINT_WS = '"WS15 2FH",10,403625,318845,"E92000001","","","","",""\n'


@pytest.fixture
def codepoint(tmp_path):
    """A two-area Code-Point Open folder (Data/CSV/st.csv, ws.csv)."""
    folder = tmp_path / "codepoint" / "Data" / "CSV"
    folder.mkdir(parents=True)
    (folder / "st.csv").write_text(CODEPOINT_ST)
    (folder / "ws.csv").write_text(CODEPOINT_WS)
    return tmp_path / "codepoint"


def test_lat_long_to_bng(write):
    path = write(
        "loc.csv", "PRACTICE_CODE,Latitude_1m,Longitude_1m\nM83001,52.76718868,-1.947714316\n"
    )
    frame = read_locations(path)
    assert frame.loc[0, "locate_method"] == "lat/long"
    assert frame.loc[0, "easting"] == pytest.approx(403625, abs=1)
    assert frame.loc[0, "northing"] == pytest.approx(318845, abs=1)


def test_lat_long_outside_gb(write):
    path = write("loc.csv", "practice_code,lat,long\nM83001,52.7,-1.9\nM83002,40.4,-3.7\n")
    with pytest.raises(
        GeometryError,
        match=r"loc\.csv: latitude/longitude outside Great Britain"
        r".* line 3 \(M83002\)",
    ):
        read_locations(path)


def test_lat_long_swapped(write):
    path = write("loc.csv", "practice_code,lat,long\nM83001,-1.9,52.7\nM83002,52.7,-1.9\n")
    with pytest.raises(
        GeometryError,
        match=r"loc\.csv: latitude and longitude appear to be "
        r"swapped in line 2 \(M83001\); swap the columns",
    ):
        read_locations(path)


def test_easting_northing_in_degrees(write):
    path = write("loc.csv", "practice_code,easting,northing\nM83001,403625,3188450\n")
    frame = read_locations(write("ok.csv", "practice_code,X,Y\nM83001,403625,318845\n"))
    assert frame.loc[0, "locate_method"] == "easting/northing"
    with pytest.raises(GeometryError, match=r"loc\.csv: easting/northing outside Great Britain"):
        read_locations(path)
    degrees = write("deg.csv", "practice_code,easting,northing\nM83001,-1.9,52.7\n")
    with pytest.raises(GeometryError, match=r"line 2 \(M83001\); the values look like degrees"):
        read_locations(degrees)


def test_non_numeric_coordinates(write):
    path = write("loc.csv", "practice_code,lat,long\nM83001,52.7,west\n")
    with pytest.raises(InputError, match=r"loc\.csv: column longitude .*line 2 \('west'\)"):
        read_locations(path)


def test_half_coordinates(write):
    path = write("loc.csv", "practice_code,lat,long\nM83001,52.7,\n")
    with pytest.raises(InputError, match=r"only one is given in line 2 \(M83001\)"):
        read_locations(path)


def test_postcodes_need_a_lookup(write):
    path = write("p.csv", "practice_code,postcode\nM83001,ST1 1AF\n")
    with pytest.raises(SchemaError, match=r"p\.csv: no coordinates .*give a postcode lookup"):
        read_locations(path)


def test_postcodes_geocoded_coordinates_win(write, codepoint):
    path = write(
        "p.csv",
        "practice_code,postcode,lat,long\nM83001,st11af,,\nM83002,WS15 2FH,52.8,-2.1\n"
        "M83003,ZZ1 1ZZ,,\n",
    )
    frame = read_locations(path, postcodes=codepoint)
    assert list(frame.locate_method) == ["postcode", "lat/long", ""]
    assert frame.loc[0, "easting"] == 388405
    assert frame.loc[2, ["easting", "northing"]].isna().all()


def test_postcode_lookup_reads_only_needed_areas(codepoint):
    lookup = read_postcode_lookup(codepoint, postcodes=["ws15 2fh"])
    assert list(lookup.index) == ["WS152FH"]
    whole = read_postcode_lookup(codepoint / "Data" / "CSV")
    assert len(whole) == 3
    single = read_postcode_lookup(codepoint / "Data" / "CSV" / "st.csv")
    assert single.loc["ST101AA", "easting"] == 400000


def test_postcode_lookup_onspd_and_latlong(write):
    onspd = write(
        "onspd.csv",
        "pcd,pcd2,pcds,oseast1m,osnrth1m,lat,long\nST1 1AF,ST1  1AF,ST1 1AF,"
        "388405,347542,53.02,-2.17\nZZ991ZZ,ZZ99 1ZZ,ZZ99 1ZZ,,,99.999999,0\n",
    )
    lookup = read_postcode_lookup(onspd)
    assert list(lookup.index) == ["ST11AF"]
    latlong = write("ll.csv", "postcode,latitude,longitude\nWS15 2FH,52.76718868,-1.947714316\n")
    lookup = read_postcode_lookup(latlong)
    assert lookup.loc["WS152FH", "easting"] == pytest.approx(403625, abs=1)


def test_postcode_lookup_unrecognised(write):
    with pytest.raises(SchemaError, match=r"x\.csv: not a recognised postcode lookup"):
        read_postcode_lookup(write("x.csv", "a,b\n1,2\n"))


def test_geocode_keeps_index(codepoint):
    postcodes = pd.Series(["ST1 1AF", "", "nowhere"], index=[10, 11, 12])
    found = geocode(postcodes, codepoint)
    assert list(found.index) == [10, 11, 12]
    assert found.loc[10, "easting"] == 388405
    assert found.loc[[11, 12], "easting"].isna().all()


def test_locate_does_not_mutate():
    frame = pd.DataFrame({"code": ["A"], "latitude": ["52.7"], "longitude": ["-1.9"]})
    before = frame.copy()
    out = locate(frame, source="x")
    pd.testing.assert_frame_equal(frame, before)
    assert out.loc[0, "locate_method"] == "lat/long"


# -- hostile postcode lookups (issue 10, items 1, 2, 11) ---------------------------------------

ONSPD = "pcds,oseast1m,osnrth1m\nST1 1AF,388405,347542\nWS15 2FH,403625,318845\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_postcode_lookup_utf16(write, encoding):
    lookup = read_postcode_lookup(write("onspd.csv", ONSPD.encode(encoding)))
    assert list(lookup.index) == ["ST11AF", "WS152FH"]


def test_postcode_lookup_gzip_truncated_or_not_gzip(write):
    import gzip

    whole = gzip.compress((ONSPD * 2000).encode())
    lookup = read_postcode_lookup(write("ok.csv.gz", whole))
    assert len(lookup) == 2
    with pytest.raises(InputError, match=r"cut\.csv\.gz: the file is truncated or corrupt"):
        read_postcode_lookup(write("cut.csv.gz", whole[: len(whole) // 2]))
    with pytest.raises(InputError, match=r"plain\.csv\.gz: .*not gzip"):
        read_postcode_lookup(write("plain.csv.gz", ONSPD))


def test_postcode_lookup_repeated_column(write):
    path = write("two.csv", "pcds,oseast1m,oseast1m,osnrth1m\nST1 1AF,1,388405,347542\n")
    with pytest.raises(
        SchemaError, match=r"two\.csv: column oseast1m appears 2 times \(columns 2 and 3\)"
    ):
        read_postcode_lookup(path)
