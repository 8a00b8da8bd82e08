"""Shared table reading: encodings, header guessing, column names, missing/empty files."""

from __future__ import annotations

import pandas as pd
import pytest

from geo_pcn.errors import InputError, SchemaError
from geo_pcn.io import Source, read_practices, read_registrations, tables
from geo_pcn.io.tables import _looks_like_header, normalise_name, read_table


def test_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError, match=r"nope\.csv: practices file not found"):
        read_practices(missing)


def test_empty_file_names_the_file(write):
    path = write("empty.csv", "")
    with pytest.raises(InputError, match=r"empty\.csv: practices file is empty"):
        read_practices(path)


def test_header_only_file(write):
    path = write("header.csv", "practice_code,pcn_code\n")
    with pytest.raises(InputError, match=r"header\.csv: .*header but no rows"):
        read_practices(path)


def test_cp1252_csv_loads(write):
    text = "practice_code,practice_name,pcn_code\nM83001,Caf\u00e9 Surgery \u2013 St Mary,U1\n"
    path = write("cp1252.csv", text.encode("cp1252"))
    frame = read_practices(path)
    assert frame.loc[0, "practice_name"] == "Caf\u00e9 Surgery \u2013 St Mary"


def test_utf8_bom_csv_loads(write):
    path = write("bom.csv", "\ufeffpractice_code,pcn_code\nM83001,U1\n".encode())
    frame = read_practices(path)
    assert list(frame.columns) == ["practice_code", "pcn_code", "status"]
    assert frame.loc[0, "practice_code"] == "M83001"
    assert frame.loc[0, "status"] == ""  # the file says nothing about status


def test_r_style_column_names(write):
    path = write(
        "regs.csv",
        """
Practice.Code,LSOA.Code,Number.of.Patients
M83001,E01000001,10
""",
    )
    frame = read_registrations(path)
    assert frame.loc[0, "n_patients"] == 10
    assert normalise_name("Number.of.Patients") == normalise_name("NUMBER_OF_PATIENTS")


@pytest.mark.parametrize(
    ("first_lines", "expected"),
    [
        ('"ST1 1AF",10,388405,347542,"E92000001"\n"ST1 1AG",10,1,2,"E9"', False),
        ('"A81001","THE DENSHAM SURGERY","Y63","QHM","19740401"', False),
        ("practice_code,pcn_code\nA81001,U1", True),
        ("lsoa11_code,total_population,0,1,2\nE01000001,1500,10,12,14", True),
        ("code,n\nx,1", True),
    ],
)
def test_header_guess(first_lines, expected):
    assert _looks_like_header(first_lines) is expected


def test_unparseable_csv_is_one_line(write):
    path = write("ragged.csv", "a,b\n1,2\n1,2,3,4\n")
    with pytest.raises(InputError, match=r"ragged\.csv: not a readable CSV") as info:
        read_table(path)
    assert "\n" not in str(info.value)


def test_where_on_unknown_column(write):
    path = write("p.csv", "practice_code,pcn_code\nM83001,U1\n")
    with pytest.raises(SchemaError, match=r"p\.csv: 'where' names column\(s\) 'ICB_CODE'"):
        read_practices(Source(path, where={"ICB_CODE": "QNC"}))


def test_where_matching_nothing(write):
    path = write("p.csv", "practice_code,icb_code\nM83001,QNC\n")
    with pytest.raises(InputError, match=r"p\.csv: no rows match where"):
        read_practices(Source(path, where={"icb_code": "QOC"}))


def test_parquet_columns_as_text_of_every_kind(tmp_path):
    """A Parquet table is read as text, each kind spelt as Python writes it (worked out by
    hand): text as is, whole numbers without ``.0``, floats with it, missing values blank,
    booleans ``True``/``False``, timestamps ``YYYY-MM-DD HH:MM:SS``; a named index becomes
    a column and header names are stripped."""
    import numpy as np

    frame = pd.DataFrame(
        {
            "code": ["A81001", None, "A81003"],
            "n": [1, 2, 30],
            "share": [1.0, np.nan, 2.5],
            "open": [True, False, True],
            "since": pd.to_datetime(["2022-07-01", None, "2020-01-02"]),
            "size": pd.array([1, None, 3], dtype="Int64"),
            " ccg ": ["05W", "05W", "04Y"],
        }
    ).set_index(pd.Index(["i", "j", "k"], name="row"))
    path = tmp_path / "practices.parquet"
    frame.to_parquet(path)
    got = tables._read_parquet(path, "practices")
    assert list(got.columns) == ["row", "code", "n", "share", "open", "since", "size", "ccg"]
    assert got.to_dict("list") == {
        "row": ["i", "j", "k"],
        "code": ["A81001", "", "A81003"],
        "n": ["1", "2", "30"],
        "share": ["1.0", "", "2.5"],
        "open": ["True", "False", "True"],
        "since": ["2022-07-01 00:00:00", "", "2020-01-02 00:00:00"],
        "size": ["1", "", "3"],
        "ccg": ["05W", "05W", "04Y"],
    }


def test_parquet_whole_numbers_kept_as_numbers_only_when_asked(tmp_path):
    """``read_table(..., numbers=True)`` keeps a Parquet int/uint column as numbers (the
    registrations' counts are never written out as text and parsed back); float, text and
    nullable columns are text as always, and without ``numbers`` everything is text."""
    import numpy as np

    frame = pd.DataFrame(
        {
            "code": ["A81001", "A81002"],
            "n": np.array([7, 1200], dtype="int64"),
            "u": np.array([3, 4], dtype="uint32"),
            "share": [1.5, 2.0],
            "size": pd.array([1, None], dtype="Int64"),
        }
    )
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    kept = read_table(path, numbers=True)
    assert kept["n"].tolist() == [7, 1200] and kept["n"].dtype == "int64"
    assert kept["u"].tolist() == [3, 4] and kept["u"].dtype == "uint32"
    assert kept["share"].tolist() == ["1.5", "2.0"]
    assert kept["size"].tolist() == ["1", ""]
    assert kept["code"].tolist() == ["A81001", "A81002"]
    text = read_table(path)
    assert text["n"].tolist() == ["7", "1200"] and text["u"].tolist() == ["3", "4"]


def test_to_number_on_whole_numbers_same_as_on_text():
    """A column of whole numbers gives the numbers of its text and the same error message,
    naming the same lines (worked out by hand: label 1 -> line 3, label 2 -> line 4)."""
    ok = pd.Series([0, 25, 1_000_000])
    assert tables.to_number(ok, source="r", column="n", integer=True).tolist() == [0, 25, 1_000_000]
    bad = pd.Series([5, -4, 2_000_000])
    messages = []
    for values in (bad, bad.astype(str)):
        with pytest.raises(InputError) as caught:
            tables.to_number(values, source="r", column="n", integer=True, maximum=1_000_000)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert messages[0] == (
        "r: column n must hold whole numbers of 0 or more up to 1,000,000; bad value(s) at "
        "line 3 ('-4'), line 4 ('2000000'); correct those rows"
    )
    # a negative number is allowed when asked, and only the maximum is checked
    assert tables.to_number(
        pd.Series([-3, 2]), source="r", column="x", allow_negative=True
    ).tolist() == [-3, 2]


def test_parquet_registrations_with_integer_counts(tmp_path):
    """Registrations in Parquet with an integer count column: the same table as the same rows
    in CSV (hand totals: A81001 2 + 3 = 5 in E01000001, A81002 7), and a negative count is
    refused naming its line (Parquet rows are numbered from line 1)."""
    import numpy as np

    rows = {
        "PRACTICE_CODE": ["A81001", "A81001", "A81002"],
        "LSOA_CODE": ["E01000001", "E01000001", "E01000002"],
        "NUMBER_OF_PATIENTS": np.array([2, 3, 7], dtype="int64"),
    }
    path = tmp_path / "regs.parquet"
    pd.DataFrame(rows).to_parquet(path)
    csv = tmp_path / "regs.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    with pytest.warns(UserWarning, match="1 row"):
        got = read_registrations(path)
    assert got[["practice_code", "area_code", "n_patients"]].values.tolist() == [
        ["A81001", "E01000001", 5],
        ["A81002", "E01000002", 7],
    ]
    assert got["n_patients"].dtype == "int64"
    with pytest.warns(UserWarning, match="1 row"):
        from_csv = read_registrations(csv)
    pd.testing.assert_frame_equal(got, from_csv, check_like=False)
    rows["NUMBER_OF_PATIENTS"] = np.array([2, -3, 7], dtype="int64")
    pd.DataFrame(rows).to_parquet(path)
    with pytest.raises(
        InputError,
        match=r"regs\.parquet: column NUMBER_OF_PATIENTS must hold "
        r"whole numbers .*line 2 \('-3'\)",
    ):
        read_registrations(path)


# Awkward but valid CSV: a quoted separator, a quoted line break, doubled quotes, a quote
# inside an unquoted cell, NA / null / N/A as text, a blank line between rows, blank cells,
# surrounding spaces, a last line without a line break.
AWKWARD = (
    "code,name,n,note\n"
    'M83001,"Smith, Jones & Co",10,"two\nlines"\n'
    "\n"
    'M83002,"The ""Old"" Surgery",NA,null\n'
    'M83003,Dr O"Brien,,N/A\n'
    " M83004 , spaced ,007,"
)


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_arrow_csv_reads_as_pandas_reads(sep):
    """The fast CSV path gives the frame plain pandas gives (the oracle: pd.read_csv with
    every cell as text)."""
    text = AWKWARD.replace(",", sep) if sep != "," else AWKWARD
    if sep != ",":  # the quoted separator is a comma in the text: keep it one
        text = text.replace(f'"Smith{sep} Jones', '"Smith, Jones')
    expected = pd.read_csv(
        pd.io.common.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=None
    ).fillna("")
    got = tables._arrow_csv(text, sep)
    pd.testing.assert_frame_equal(got, expected)


def test_awkward_csv_cells_by_hand(write):
    frame = read_table(write("awkward.csv", AWKWARD))
    assert list(frame.columns) == ["code", "name", "n", "note"]
    assert frame["code"].tolist() == ["M83001", "M83002", "M83003", " M83004 "]
    assert frame["name"].tolist() == [
        "Smith, Jones & Co",
        'The "Old" Surgery',
        'Dr O"Brien',
        " spaced ",
    ]
    assert frame["n"].tolist() == ["10", "NA", "", "007"]
    assert frame["note"].tolist() == ["two\nlines", "null", "N/A", ""]


def test_a_short_row_is_padded_blank_as_before(write):
    """A row with fewer cells than the header: pyarrow will not read the file, pandas does
    (the missing cells blank), as before."""
    frame = read_table(write("short.csv", "a,b,c\n1,2,3\n4,5\n"))
    assert frame.to_dict("list") == {"a": ["1", "4"], "b": ["2", "5"], "c": ["3", ""]}
