"""The parsed-input cache (issue 21 item 2): a file is parsed once, a changed or truncated
file is never served from the cache, a cache that cannot be written is a warning, and
every output is byte-identical with and without it, cold and warm."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geo_pcn.cli import cli
from geo_pcn.datasets import demo_study_file
from geo_pcn.errors import GeoPCNWarning
from geo_pcn.io import _cache, read_registrations
from geo_pcn.io import tables as tables_module
from geo_pcn.io.tables import read_table

# practice, area, patients: M83001 has 10 + 20 = 30 patients, M83002 has 5
REGS = (
    "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n"
    "M83001,E01000001,10\n"
    "M83001,E01000002,20\n"
    "M83002,E01000001,5\n"
)


@pytest.fixture
def cache_folder(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("GEO_PCN_CACHE", str(folder))
    return folder


def _totals(path: Path) -> dict[str, int]:
    frame = read_registrations(path)
    return frame.groupby("practice_code")["n_patients"].sum().to_dict()


def test_second_read_is_served_from_the_cache(tmp_path, cache_folder, monkeypatch):
    path = tmp_path / "regs.csv"
    path.write_text(REGS)
    first = read_table(path)
    assert _cache.cache_entries(cache_folder)["table"][0] == 1

    def refuse(*args, **kwargs):
        raise AssertionError("parsed again although cached")

    monkeypatch.setattr(tables_module, "_read_table", refuse)
    again = read_table(path)
    assert again.equals(first)
    assert again["NUMBER_OF_PATIENTS"].tolist() == ["10", "20", "5"]
    assert again.attrs == first.attrs


def test_a_changed_file_is_never_served_from_the_cache(tmp_path, cache_folder):
    """Same name, same size, same modification time: only the bytes differ."""
    path = tmp_path / "regs.csv"
    path.write_text(REGS)
    assert _totals(path) == {"M83001": 30, "M83002": 5}
    stamp = os.stat(path)
    path.write_text(REGS.replace("M83002,E01000001,5", "M83002,E01000001,7"))
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert os.stat(path).st_size == stamp.st_size
    assert _totals(path) == {"M83001": 30, "M83002": 7}


def test_a_truncated_file_is_never_served_from_the_cache(tmp_path, cache_folder):
    path = tmp_path / "regs.csv"
    path.write_text(REGS)
    assert _totals(path) == {"M83001": 30, "M83002": 5}
    path.write_text(REGS[: REGS.index("M83002")])  # the last line lost
    assert _totals(path) == {"M83001": 30}


def test_a_truncated_gzip_is_refused_after_a_good_one_was_cached(tmp_path, cache_folder):
    import gzip

    path = tmp_path / "regs.csv.gz"
    path.write_bytes(gzip.compress(REGS.encode()))
    assert _totals(path) == {"M83001": 30, "M83002": 5}
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(Exception, match="truncated or corrupt"):
        read_registrations(path)


def test_a_cache_that_cannot_be_written_is_a_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("GEO_PCN_CACHE", str(blocker / "cache"))
    monkeypatch.setitem(_cache._STATE, "warned", set())
    path = tmp_path / "regs.csv"
    path.write_text(REGS)
    with pytest.warns(GeoPCNWarning, match=r"the input cache cannot be written .*running without"):
        assert _totals(path) == {"M83001": 30, "M83002": 5}


def test_reader_warnings_are_given_again_on_a_hit(tmp_path, cache_folder):
    path = tmp_path / "regs.xlsx"  # a CSV named .xlsx: read as CSV, with a warning
    path.write_text(REGS)
    for _ in range(2):
        with pytest.warns(GeoPCNWarning, match="is a CSV file named .xlsx"):
            assert len(read_table(path)) == 3


def test_cache_off_writes_nothing(tmp_path, cache_folder):
    path = tmp_path / "regs.csv"
    path.write_text(REGS)
    with _cache.caching(False):
        read_table(path)
    assert not cache_folder.exists()


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".geo_pcn-")
    }


def test_demo_outputs_identical_without_cache_cold_and_warm(tmp_path, cache_folder):
    runner = CliRunner()
    study = str(demo_study_file())
    outs = {}
    for run, extra in (("none", ["--no-cache"]), ("cold", []), ("warm", [])):
        out = tmp_path / run
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = runner.invoke(cli, [*extra, "validate", study, "--out", str(out), "-q"])
        assert result.exit_code in (0, 1), result.output
        outs[run] = _files(out)
        if run == "none":
            assert not cache_folder.exists()  # --no-cache wrote nothing
    assert set(outs["none"]) >= {"report.json", "report.xlsx", "footprints.gpkg", "map.html"}
    assert outs["cold"] == outs["none"]
    assert outs["warm"] == outs["none"]
    assert sum(n for n, _ in _cache.cache_entries(cache_folder).values()) > 0


def test_cache_info_and_clear(tmp_path, cache_folder):
    path = tmp_path / "regs.csv"
    path.write_text(REGS)
    read_table(path)
    runner = CliRunner()
    shown = runner.invoke(cli, ["cache", "info"])
    assert shown.exit_code == 0
    assert str(cache_folder) in shown.output
    assert "1 entry" in shown.output and "table: 1" in shown.output
    cleared = runner.invoke(cli, ["cache", "clear"])
    assert cleared.exit_code == 0 and "removed 1 entry" in cleared.output
    assert _cache.cache_entries(cache_folder) == {}
    assert cache_folder.is_dir()  # the folder itself stays


def test_cache_clear_removes_only_its_own_entries(tmp_path, monkeypatch):
    """GEO_PCN_CACHE pointed at a folder holding other files: clear leaves them."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    monkeypatch.setenv("GEO_PCN_CACHE", str(folder))
    path = tmp_path / "regs.csv"
    path.write_text(REGS)
    read_table(path)
    removed, size = _cache.clear_cache()
    assert removed == 1 and size > 0
    assert (folder / "notes.txt").read_text() == "keep me"


def test_cache_off_by_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_PCN_CACHE", "off")
    assert _cache.cache_dir() is None
    result = CliRunner().invoke(cli, ["cache", "info"])
    assert result.exit_code == 0 and "off" in result.output


def test_a_parser_s_resource_warning_is_not_replayed(tmp_path, cache_folder):
    """A file a parser left open (openpyxl, collected during the read) is a warning about
    that process: given on the run that parsed, never again from the cache as a
    UserWarning."""
    path = tmp_path / "regs.csv"
    path.write_text(REGS)

    def parse():
        warnings.warn("unclosed file <_io.BufferedReader name='regs.xlsx'>", ResourceWarning, stacklevel=1)
        return pd.DataFrame({"n": [1, 2]})

    with pytest.warns(ResourceWarning):
        _cache.cached("test", [path], {}, parse)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        frame = _cache.cached("test", [path], {}, parse_never)
    assert frame["n"].tolist() == [1, 2]
    assert [str(w.message) for w in record] == []


def parse_never():
    raise AssertionError("served from the cache, never parsed")


def test_a_frame_read_back_from_the_cache_has_the_same_fingerprint(tmp_path, cache_folder):
    """Two 1 km boxes in EPSG:27700, stored by ``cached`` and read back (the entry keeps
    the CRS as WKT): the fingerprint is the same, so a result keyed on it (a lookup layer
    dissolved from the areas) is found on the next run rather than worked out again (the
    national study's second run dissolved its three lookup layers again, ~4.6 CPU s)."""
    import geopandas as gpd
    import shapely

    source = tmp_path / "areas.txt"
    source.write_text("two boxes\n")
    areas = gpd.GeoDataFrame(
        geometry=shapely.box([0, 1000], 0, [1000, 2000], 1000),
        index=pd.Index(["E01000001", "E01000002"], name="area_code"),
        crs="EPSG:27700",
    )
    first = _cache.cached("test areas", [source], {}, lambda: areas)
    again = _cache.cached("test areas", [source], {}, lambda: pytest.fail("parsed again"))
    assert str(again.crs) != str(first.crs)  # the WKT back, not the code it was given as
    assert _cache.frame_fingerprint(again) == _cache.frame_fingerprint(first)
    moved = areas.set_geometry(shapely.box([0, 1000], 0, [1000, 2000], 999), crs="EPSG:27700")
    assert _cache.frame_fingerprint(moved) != _cache.frame_fingerprint(first)


# Two Code-Point Open area files (header-less: postcode, quality, easting, northing,
# country, region, health authority, ward... and the district code in column 9)
CP_ST = (
    '"ST16 2HE",10,392000,323000,"E92000001","E19000001","E18000005","","E07000197"\n'
    '"ST17 4AA",10,393500,321250,"E92000001","E19000001","E18000005","","E07000197"\n'
)
CP_WS = '"WS11 1AA",10,397000,310000,"E92000001","E19000001","E18000005","","E07000192"\n'


def _codepoint_folder(root: Path) -> Path:
    csv = root / "codepo" / "Data" / "CSV"
    csv.mkdir(parents=True)
    (csv / "st.csv").write_text(CP_ST)
    (csv / "ws.csv").write_text(CP_WS)
    (csv / "b.csv").write_text('"B1 1AA",10,406000,286000,"E92000001","","","","E08000025"\n')
    return root / "codepo"


def test_codepoint_files_are_one_entry_per_file_set_and_found_by_another_path(
    tmp_path, cache_folder, monkeypatch
):
    """The postcodes of one study need st.csv and ws.csv (not b.csv): one entry holds both
    files' rows; the same folder reached through a symbolic link is served from it."""
    from geo_pcn.io import postcodes as postcodes_module
    from geo_pcn.io.postcodes import read_postcode_lookup

    folder = _codepoint_folder(tmp_path)
    wanted = ["st16 2he", "WS111AA", "ST17 4AA"]
    first = read_postcode_lookup(folder, postcodes=wanted)
    assert first.loc["ST162HE", ["easting", "northing"]].tolist() == [392000.0, 323000.0]
    assert first.loc["WS111AA", "admin_district_code"] == "E07000192"
    assert sorted(first.index) == ["ST162HE", "ST174AA", "WS111AA"]
    assert _cache.cache_entries(cache_folder) == {
        "codepoint set": (1, _cache.cache_entries(cache_folder)["codepoint set"][1])
    }
    link = tmp_path / "elsewhere"
    link.symlink_to(folder)
    monkeypatch.setattr(postcodes_module, "_parse_codepoint_file", lambda path: parse_never())
    again = read_postcode_lookup(link / ".." / "elsewhere", postcodes=wanted)
    pd.testing.assert_frame_equal(again, first)
    assert _cache.cache_entries(cache_folder)["codepoint set"][0] == 1


def test_a_changed_or_truncated_codepoint_file_is_never_served_from_the_set_entry(
    tmp_path, cache_folder
):
    from geo_pcn.io.postcodes import read_postcode_lookup

    folder = _codepoint_folder(tmp_path)
    wanted = ["ST16 2HE", "ST17 4AA", "WS11 1AA"]
    assert read_postcode_lookup(folder, postcodes=wanted).loc["WS111AA", "easting"] == 397000
    ws = folder / "Data" / "CSV" / "ws.csv"
    stamp = os.stat(ws)
    ws.write_text(CP_WS.replace("397000", "397001"))  # same size, same time: other bytes
    os.utime(ws, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert read_postcode_lookup(folder, postcodes=wanted).loc["WS111AA", "easting"] == 397001
    st = folder / "Data" / "CSV" / "st.csv"
    st.write_text(CP_ST.splitlines(keepends=True)[0])  # its second row lost
    assert sorted(read_postcode_lookup(folder, postcodes=wanted).index) == ["ST162HE", "WS111AA"]


def test_a_parquet_of_text_and_whole_numbers_is_read_directly(tmp_path, cache_folder):
    """Reading such a file costs no more than reading an entry of it: no entry is kept,
    and a changed file is read as it now is. A Parquet with a decimal column (written out
    through Python's ``str``) is cached."""
    path = tmp_path / "regs.parquet"
    frame = pd.DataFrame(
        {"PRACTICE_CODE": ["M83001", "M83001", "M83002"],
         "LSOA_CODE": ["E01000001", "E01000002", "E01000001"],
         "NUMBER_OF_PATIENTS": [10, 20, 5]}
    )  # fmt: skip
    frame.to_parquet(path)
    assert _totals(path) == {"M83001": 30, "M83002": 5}
    assert "table" not in _cache.cache_entries(cache_folder)
    frame.loc[2, "NUMBER_OF_PATIENTS"] = 7
    frame.to_parquet(path)
    assert _totals(path) == {"M83001": 30, "M83002": 7}
    scores = tmp_path / "imd.parquet"
    pd.DataFrame({"lsoa11_code": ["E01000001"], "imd_score": [12.5]}).to_parquet(scores)
    assert read_table(scores)["imd_score"].tolist() == ["12.5"]
    assert _cache.cache_entries(cache_folder)["table"][0] == 1
