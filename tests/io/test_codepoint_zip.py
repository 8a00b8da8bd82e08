"""OS Code-Point Open read straight from the downloaded ``codepo_gb.zip`` (no unzipping).

The expected coordinates are written by hand (tiny zips) or read with plain pandas from
the real area CSVs (real data), never from geo_pcn's own reader.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tiny import write_tiny_study

from geo_pcn import Study
from geo_pcn.errors import InputError, SchemaError
from geo_pcn.io import geocode, read_postcode_lookup, read_sites

ST = (
    '"ST1 1AF",10,388405,347542,"E92000001","E19000001","E18000005","","E06000021","E05"\n'
    '"ST10 1AA",10,400000,340000,"E92000001","E19000001","E18000005","","E06000021","E05"\n'
)
WS = '"WS15 2FH",10,403625,318845,"E92000001","","","","",""\n'
AB = '"AB1 1AA",10,394000,806000,"S92000003","","","","",""\n'


def _zip(path: Path, members: dict[str, str], *, stored: bool = False) -> Path:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


@pytest.fixture
def codepo_zip(tmp_path: Path) -> Path:
    """A hand-written miniature of the OS download: Data/CSV/<area>.csv and Doc/."""
    return _zip(
        tmp_path / "codepo_gb.zip",
        {
            "Doc/readme.txt": "Code-Point Open\n",
            "Data/CSV/ab.csv": AB,
            "Data/CSV/st.csv": ST,
            "Data/CSV/ws.csv": WS,
        },
    )


def test_geocode_from_zip(codepo_zip):
    postcodes = pd.Series(["st10 1aa", "WS152FH", "ST1  1AF", "XX1 1XX", ""], index=list("abcde"))
    out = geocode(postcodes, codepo_zip)
    xy = ["easting", "northing"]
    assert out.loc["a", xy].tolist() == [400000.0, 340000.0]
    assert out.loc["b", xy].tolist() == [403625.0, 318845.0]
    assert out.loc["c", xy].tolist() == [388405.0, 347542.0]
    assert out.loc[["d", "e"], xy].isna().all().all()


def test_zip_reads_only_the_areas_asked_for(codepo_zip):
    frame = read_postcode_lookup(codepo_zip, postcodes=["WS15 2FH"])
    assert frame.index.tolist() == ["WS152FH"]
    everything = read_postcode_lookup(codepo_zip)
    assert sorted(everything.index) == ["AB11AA", "ST101AA", "ST11AF", "WS152FH"]


def test_zip_under_a_top_folder_and_named_anything(tmp_path):
    # a re-zipped download (codepo_gb/Data/CSV/...) with another name still reads
    path = _zip(tmp_path / "postcodes.bin", {"codepo_gb/Data/CSV/ST.csv": ST})
    out = read_postcode_lookup(path, postcodes=["ST1 1AF"])
    assert out.loc["ST11AF", ["easting", "northing"]].tolist() == [388405.0, 347542.0]


def test_damaged_member_not_needed_is_not_read(tmp_path):
    """Only the members needed are read: a damaged ab.csv does not stop a lookup in ST,
    and stops one in AB with one line naming the member and the fix."""
    path = _zip(
        tmp_path / "codepo_gb.zip", {"Data/CSV/ab.csv": AB, "Data/CSV/st.csv": ST}, stored=True
    )
    raw = bytearray(path.read_bytes())
    at = raw.find(b"394000")  # inside ab.csv's stored bytes: the CRC no longer matches
    raw[at : at + 6] = b"999999"
    path.write_bytes(bytes(raw))
    found = geocode(pd.Series(["ST1 1AF"]), path).iloc[0]
    assert found[["easting", "northing"]].tolist() == [388405.0, 347542.0]
    with pytest.raises(
        InputError, match=r"codepo_gb\.zip: Data/CSV/ab\.csv inside the zip is damaged"
    ) as err:
        geocode(pd.Series(["AB1 1AA"]), path)
    assert "download codepo_gb.zip again" in str(err.value)
    assert "\n" not in str(err.value)


def test_zip_that_is_not_codepoint(tmp_path):
    path = _zip(tmp_path / "onspd.zip", {"Data/ONSPD_FEB_2024_UK.csv": "pcds,lat,long\n"})
    with pytest.raises(
        SchemaError,
        match=r"onspd\.zip: not an OS Code-Point Open zip \(no Data/CSV/<area>\.csv files in it; "
        r"it holds Data/ONSPD_FEB_2024_UK\.csv\); give codepo_gb\.zip as downloaded",
    ):
        read_postcode_lookup(path, postcodes=["ST1 1AF"])


def test_truncated_zip(codepo_zip):
    data = codepo_zip.read_bytes()
    codepo_zip.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        InputError, match=r"codepo_gb\.zip: the zip file is truncated or corrupt .*download"
    ) as err:
        read_postcode_lookup(codepo_zip, postcodes=["ST1 1AF"])
    assert "\n" not in str(err.value)


def test_file_named_zip_that_is_not_a_zip(tmp_path):
    path = tmp_path / "codepo_gb.zip"
    path.write_text("<html><body>Sign in to download</body></html>")
    with pytest.raises(
        InputError, match=r"codepo_gb\.zip: the file is named \.zip but is not a zip"
    ):
        read_postcode_lookup(path)


def test_study_file_postcodes_zip(tmp_path):
    """``[practices] postcodes = "codepo_gb.zip"`` geocodes practices without locations,
    and a community sites layer takes the same zip."""
    practices = (
        "PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,PCN_CODE,PCN_NAME\n"
        "A00001,ONE,ST10 1AA,U00001,ONE PCN\nA00002,TWO,WS15 2FH,U00001,ONE PCN\n"
    )
    toml = 'name = "zip"\n[practices]\nfile = "practices.csv"\npostcodes = "cp/codepo_gb.zip"\n'
    path = write_tiny_study(tmp_path, practices_csv=practices, study_toml=toml)
    (tmp_path / "cp").mkdir()
    _zip(tmp_path / "cp" / "codepo_gb.zip", {"Data/CSV/st.csv": ST, "Data/CSV/ws.csv": WS})
    study = Study.from_toml(path)
    pts = study.practices.geometry
    assert (pts.x.tolist(), pts.y.tolist()) == ([400000.0, 403625.0], [340000.0, 318845.0])
    assert study.practices.locate_method.tolist() == ["postcode", "postcode"]
    sites = tmp_path / "sites.csv"
    sites.write_text("code,name,postcode\nFA001,CHEMIST,ST1 1AF\n")
    located = read_sites(sites, postcodes=tmp_path / "cp" / "codepo_gb.zip")
    assert (located.geometry.x.iloc[0], located.geometry.y.iloc[0]) == (388405.0, 347542.0)


# -- real OS Code-Point Open --------------------------------------------------------------


def _plain(csv: Path) -> pd.DataFrame:
    """A Code-Point area file read with plain pandas: key without spaces -> easting, northing."""
    raw = pd.read_csv(csv, header=None, usecols=[0, 2, 3], names=["pc", "e", "n"])
    raw.index = raw.pop("pc").str.replace(" ", "").str.upper()
    return raw


@pytest.mark.real_data
def test_real_zip_equals_folder(shared_data, tmp_path):
    folder = shared_data / "codepoint_open_2025" / "Data" / "CSV"
    qnc = pd.read_csv(shared_data / "ssot_pcn_boundaries" / "gp-reg-pat-prac-map.csv", dtype=str)
    postcodes = qnc.loc[qnc.ICB_CODE == "QNC", "PRACTICE_POSTCODE"].reset_index(drop=True)
    path = tmp_path / "codepo_gb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for area in ("st", "ws", "de"):
            archive.write(folder / f"{area}.csv", f"Data/CSV/{area}.csv")
        archive.write(folder.parent.parent / "Doc" / "licence.txt", "Doc/licence.txt")
    plain = pd.concat([_plain(folder / f"{a}.csv") for a in ("st", "ws", "de")])
    keys = postcodes.str.replace(" ", "").str.upper()
    expected = plain.reindex(keys)
    in_zip = keys.str.match(r"^(ST|WS|DE)\d").to_numpy()
    assert in_zip.sum() > 100  # most QNC practices are in ST, WS or DE

    out = geocode(postcodes, path)
    assert np.array_equal(out.easting.to_numpy()[in_zip], expected.e.to_numpy(float)[in_zip])
    assert np.array_equal(out.northing.to_numpy()[in_zip], expected.n.to_numpy(float)[in_zip])
    # postcodes of areas the zip lacks (e.g. a TF or B practice) are simply not found
    assert out.easting[~in_zip].isna().all()
    # and the whole folder gives the same for the postcodes the zip holds
    from_folder = geocode(postcodes, shared_data / "codepoint_open_2025")
    assert from_folder[in_zip].equals(out[in_zip])
