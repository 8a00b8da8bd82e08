"""The IMD reader (:func:`geo_pcn.io.context.read_deprivation`) parses only the columns it
may use from a Parquet file: its text columns and its IMD score, not the other domains."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_pcn.errors import InputError
from geo_pcn.io import tables
from geo_pcn.io._cache import caching
from geo_pcn.io.context import read_deprivation


def _imd_parquet(path, *, index: bool) -> None:
    """Three areas, IMD 30 / 10 / 20, with two domains and a count the reader never needs
    (as the national file: the code column its pandas index, or a plain column)."""
    frame = pd.DataFrame(
        {
            "Income": [0.3, 0.1, 0.2],
            "IMD": [30.0, 10.0, 20.0],
            "Crime": [1.5, -0.2, 0.4],
            "Population (Total)": [1500, 1600, 1700],
            "LSOA11CD": ["E01000001", "E01000002", "E01000003"],
        }
    )
    if index:
        frame = frame.set_index("LSOA11CD")
    frame.to_parquet(path)


@pytest.mark.parametrize("index", [True, False])
def test_imd_from_parquet_reads_only_codes_and_score(tmp_path, monkeypatch, index):
    """Deciles by hand: IMD ranks 30 -> 1, 20 -> 2, 10 -> 3 of 3 areas; decile =
    ceil(10 * rank / 3): 4, 7, 10."""
    path = tmp_path / "imd.parquet"
    _imd_parquet(path, index=index)
    asked = []
    real = tables._read_parquet

    def spy(*args, **kwargs):
        asked.append(kwargs.get("columns"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tables, "_read_parquet", spy)
    with caching(False):
        out = read_deprivation(path)
    assert out["imd_score"].to_dict() == {"E01000001": 30.0, "E01000002": 10.0, "E01000003": 20.0}
    assert out["imd_decile"].tolist() == [4, 10, 7]
    assert asked == [["IMD"] if index else ["IMD", "LSOA11CD"]]


def test_imd_parquet_without_a_score_lists_every_column(tmp_path):
    path = tmp_path / "imd.parquet"
    pd.DataFrame({"LSOA11CD": ["E01000001"], "Income": [0.3], "Crime": [1.5]}).to_parquet(path)
    with caching(False), pytest.raises(InputError, match=r"no IMD score column .*Income.*Crime"):
        read_deprivation(path)


@pytest.mark.real_data
def test_national_imd_same_as_plain_pandas(shared_data):
    """The national IMD 2019 file (LSOA 2011): every area's score as plain pandas reads it,
    and the most deprived tenth (by score) is decile 1."""
    path = shared_data / "national_2022" / "imd-statistics.parquet"
    plain = pd.read_parquet(path)["IMD"]
    with caching(False):
        out = read_deprivation(path)
    assert len(out) == len(plain) == 32844
    assert out["imd_score"].to_dict() == plain.to_dict()
    top = plain.sort_values(ascending=False, kind="stable").index[: len(plain) // 10]
    assert (out.loc[top, "imd_decile"] == 1).all()


def test_imd_parquet_without_codes_lists_every_column(tmp_path):
    path = tmp_path / "imd.parquet"
    pd.DataFrame({"area": ["x1"], "IMD": [12.5], "Crime": [1.5]}).to_parquet(path)
    with caching(False), pytest.raises(InputError, match=r"small-area codes.*area.*IMD.*Crime"):
        read_deprivation(path)
