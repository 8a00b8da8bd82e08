"""Real data: one CCG read from the national files (``tests/real/sheffield_ccg_national_2022.toml``).

NHS Sheffield CCG (``CCG_CODE`` 03N) of July 2022: the practices filtered with ``where`` from
the national practice map (xlsx), every practice in England competing through the national
registrations (Parquet), the LSOA 2011 polygons of England and Wales. The case
``scripts/bench.py`` times as "a CCG from the national files".

Known answers are worked out here with plain pandas on the raw files (not with geo_pcn):

* the 79 practices of 03N, 4 of them with no registrations (C88024, C88068, C88643,
  C88656); C88656 is in no PCN (``PCN_CODE`` ``U``), the rest in 15 PCNs;
* their 619,135 registered patients, 416 of them at ``NO2011`` (residence unknown);
* the rows of every other practice, counted in the study's note: 855,969 rows, 61,149,807
  patients, 6,409 practices; those in the areas in play listed, the rest counted once;
* the study's small areas: the LSOAs where 03N practices have residents (799) and residents
  registered elsewhere do not outnumber them: 345, holding 6,301 residents registered at
  practices outside the CCG.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geo_pcn import Study, validate

pytestmark = pytest.mark.real_data

REAL = Path(__file__).resolve().parent / "real"
NAME = "sheffield_ccg_national_2022.toml"


@pytest.fixture(scope="module")
def raw(shared_data):
    data = shared_data / "national_2022"
    reg = pd.read_parquet(data / "gp-registrations.parquet")
    practices = pd.read_excel(data / "gp-reg-pat-prac-map-jul22.xlsx", engine="openpyxl")
    practices = practices[practices["CCG_CODE"] == "03N"]
    return reg, practices


@pytest.fixture(scope="module")
def study(shared_data, tmp_path_factory):
    text = (REAL / NAME).read_text(encoding="utf-8")
    path = tmp_path_factory.mktemp("ccg") / NAME
    path.write_text(text.replace("../../../shared/data", shared_data.resolve().as_posix()))
    with pytest.warns(Warning):  # two LSOA 2011 polygons are repaired with make_valid
        return Study.from_toml(path)


def test_the_ccg_s_practices_pcns_and_patients(study, raw):
    reg, practices = raw
    codes = set(practices["PRACTICE_CODE"])
    assert len(codes) == 79
    assert set(study.practices.index) == codes
    assert study.practices.geometry.notna().all()
    pcns = set(practices.loc[practices["PCN_CODE"] != "U", "PCN_CODE"])
    assert len(pcns) == 15
    assert set(study.configuration.pcn_codes) == pcns
    unallocated = practices.loc[practices["PCN_CODE"] == "U", "PRACTICE_CODE"]
    assert list(unallocated) == ["C88656"]

    mine = reg["OrganisationCode"].isin(codes)
    assert sorted(codes - set(reg.loc[mine, "OrganisationCode"])) == [
        "C88024", "C88068", "C88643", "C88656",
    ]  # fmt: skip
    no_size = study.practices.index[study.practices["list_size"].isna()]
    assert sorted(no_size) == ["C88024", "C88068", "C88643", "C88656"]
    assert int(reg.loc[mine, "Patient"].sum()) == 619_135
    assert int(study.registrations["n_patients"].sum()) == 619_135
    unknown = study.registrations.loc[study.registrations["area_kind"] == "unknown"]
    assert int(unknown["n_patients"].sum()) == 416
    assert int(reg.loc[mine & (reg["LSOA11CD"] == "NO2011"), "Patient"].sum()) == 416


def test_every_other_practice_competes_and_is_counted(study, raw):
    reg, practices = raw
    other = reg[~reg["OrganisationCode"].isin(set(practices["PRACTICE_CODE"]))]
    assert (len(other), int(other["Patient"].sum()), other["OrganisationCode"].nunique()) == (
        855_969,
        61_149_807,
        6_409,
    )
    note = [n for n in study.notes if "practices outside the study" in n]
    assert note and "855,969 rows (61,149,807 patients) for 6,409 practices" in note[0]
    # a region study (where = CCG_CODE): the other practices' rows in the areas in play are
    # listed, the rest counted once; together they are every other row (small areas: LSOA
    # 2011 codes of England and Wales, both in the areas layer)
    mine = reg["OrganisationCode"].isin(set(practices["PRACTICE_CODE"]))
    served = set(reg.loc[mine & reg["LSOA11CD"].str.startswith("E01"), "LSOA11CD"])
    assert len(served) == 799 and served <= set(study.areas.index)
    in_play = other["LSOA11CD"].isin(set(study.areas.index))
    outside = study.outside_registrations
    assert len(outside) == int(in_play.sum())
    assert int(outside["n_patients"].sum()) == int(other.loc[in_play, "Patient"].sum())
    rest = other[~in_play]
    assert study.registrations_not_read == {
        "n_rows": len(rest),
        "n_patients": int(rest["Patient"].sum()),
        "n_practices": rest["OrganisationCode"].nunique(),
        "n_areas": rest.loc[rest["LSOA11CD"].str.match(r"^[EW]01\d{6}$"), "LSOA11CD"].nunique(),
    }
    assert len(outside) + len(rest) == 855_969


@pytest.mark.slow
def test_the_study_areas_are_where_the_ccg_serves_most(study, raw):
    reg, practices = raw
    mine = reg["OrganisationCode"].isin(set(practices["PRACTICE_CODE"]))
    small = reg["LSOA11CD"].str.startswith("E01") & (reg["Patient"] > 0)
    n_in = reg[mine & small].groupby("LSOA11CD")["Patient"].sum()
    n_out = reg[~mine & small].groupby("LSOA11CD")["Patient"].sum()
    both = pd.DataFrame({"i": n_in, "o": n_out}).fillna(0)
    expected = both[(both["i"] > 0) & ~(both["o"] > both["i"])]
    report = validate(study)
    terr = report.context.territories
    assert terr.basis == "registrations"
    assert sorted(terr.study_areas.index) == sorted(expected.index)
    assert len(expected) == 345
    (outside,) = [f for f in report.findings if f.kind == "residents_registered_outside"]
    assert outside.value == int(expected["o"].sum()) == 6_301
