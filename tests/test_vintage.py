"""Registrations of another census vintage put on the areas layer's small areas (issue 11).

Hand-made lookup on the tiny grid: old area ``E01000001`` became T01 and T02 (a split;
Census populations 1,000 and 1,100), old ``E01000002`` and ``E01000003`` merged into T03,
and T04..T08 kept their codes (unchanged)::

    old E01000001 (A00001: 1,000 + A00002: 101)  ->  T01 (pop 1,000) | T02 (pop 1,100)
    old E01000002 + E01000003 (A00003: 700 + 500) ->  T03

A00001's 1,000 patients split 1,000 x 1,000/2,100 = 476.19 -> 476 and 523.81 -> 524;
A00002's 101 split 48.10 -> 48 and 52.90 -> 53 (largest remainder; whole patients).
"""

from __future__ import annotations

import pandas as pd
import pytest
from tiny import TINY_REGISTRATIONS, write_tiny_study

from geo_pcn import Study
from geo_pcn.errors import InputError
from geo_pcn.io.vintage import convert_registrations

LOOKUP = (
    "lsoa11_code,change_code,lsoa21_code\n"
    "E01000001,S,E01100001\nE01000001,S,E01100002\n"
    "E01000002,M,E01100003\nE01000003,M,E01100003\n"
)


def test_split_merged_and_unchanged_areas_conserve_patients():
    reg = pd.DataFrame(
        {
            "practice_code": ["A00001", "A00002", "A00003", "A00003", "A00004"],
            "area_code": ["E01000001", "E01000001", "E01000002", "E01000003", "E01100004"],
            "n_patients": [1000, 101, 700, 500, 42],
        }
    )
    lookup = pd.read_csv(__import__("io").StringIO(LOOKUP))[["lsoa11_code", "lsoa21_code"]]
    target = pd.Index(["E01100001", "E01100002", "E01100003", "E01100004"])
    population = pd.Series({"E01100001": 1000, "E01100002": 1100, "E01100003": 900})
    out, info = convert_registrations(reg, lookup, target, population=population)
    got = out.set_index(["practice_code", "area_code"])["n_patients"].to_dict()
    assert got == {
        ("A00001", "E01100001"): 476,
        ("A00001", "E01100002"): 524,
        ("A00002", "E01100001"): 48,
        ("A00002", "E01100002"): 53,
        ("A00003", "E01100003"): 1200,
        ("A00004", "E01100004"): 42,  # already a code of the layer: kept
    }
    assert out["n_patients"].sum() == reg["n_patients"].sum()
    assert (info["from"], info["to"]) == ("lsoa11_code", "lsoa21_code")
    assert info["n_patients_converted"] == 1000 + 101 + 700 + 500
    assert info["n_patients_split"] == 1000 + 101
    # without a population the pieces share equally: 500 / 500, 51 / 50
    equal, _ = convert_registrations(reg, lookup, target)
    got = equal.set_index(["practice_code", "area_code"])["n_patients"].to_dict()
    assert got[("A00001", "E01100001")] == 500 and got[("A00002", "E01100001")] == 51


def test_a_study_with_registrations_of_another_vintage(tmp_path):
    """The tiny study's T01 is called E01000001 in the registrations (an old code the
    lookup maps to T01 alone): its patients land in T01 and the note says so."""
    reg = TINY_REGISTRATIONS.replace("A00001,T01,1000", "A00001,E01000001,1000")
    toml = (
        "name = 'Tiny, registrations of another vintage'\n[practices]\n"
        'file = "practices.csv"\nlocations = "locations.csv"\n[registrations]\n'
        'file = "registrations.csv"\n[areas]\nfile = "areas.geojson"\n'
        'population = "population.csv"\nlookup = "lookup.csv"\n[boundaries]\n'
        'place = "place.geojson"\n[rules]\nband = [3000, 5000]\n'
    )
    lookup = "lsoa11_code,lsoa21_code\nE01000001,T01\n" + "".join(
        f"E0100000{i},T0{i}\n" for i in range(2, 9)
    )
    path = write_tiny_study(tmp_path, registrations_csv=reg, study_toml=toml, lookup_csv=lookup)
    with pytest.raises(InputError):  # T01..T08 are not ONS codes: the lookup is refused
        Study.from_toml(path)
    ons = lookup.replace("T0", "E0110000")
    areas = (tmp_path / "areas.geojson").read_text().replace('"T0', '"E0110000')
    pop = (tmp_path / "population.csv").read_text().replace("T0", "E0110000")
    regs = reg.replace(",T0", ",E0110000")
    path = write_tiny_study(
        tmp_path,
        registrations_csv=regs,
        study_toml=toml,
        lookup_csv=ons,
        areas_geojson=areas,
        population_csv=pop,
    )
    study = Study.from_toml(path)
    by_area = study.registrations.groupby("area_code")["n_patients"].sum()
    assert by_area["E01100001"] == 1000
    assert study.n_patients == 8460
    assert any("1,000 patients in 1 small areas of the other vintage" in n for n in study.notes)


@pytest.mark.real_data
@pytest.mark.slow
def test_national_2022_registrations_on_lsoa_2021_conserve_every_patient(shared_data, tmp_path):
    """The July 2022 national registrations (LSOA 2011) put on the LSOA 2021 polygons with
    the ONS lookup: every one of the file's patients is still there (pandas on the raw
    file: 61,768,942), for the QNC practices and for everyone else."""
    from pathlib import Path

    text = (Path(__file__).parent / "real" / "qnc_2022_on_lsoa21.toml").read_text()
    path = tmp_path / "study.toml"
    path.write_text(text.replace("../../../shared/data", shared_data.resolve().as_posix()))
    study = Study.from_toml(path)  # (its warnings were openpyxl's, gone with calamine)
    raw = pd.read_parquet(shared_data / "national_2022" / "gp-registrations.parquet")
    total = int(raw["Patient"].sum())
    assert total == 61_768_942
    # a region study keeps the rows in its areas in play and counts the rest once
    not_read = (study.registrations_not_read or {}).get("n_patients", 0)
    assert not_read > 0
    after = (
        int(study.registrations["n_patients"].sum())
        + int(study.outside_registrations["n_patients"].sum())
        + int(not_read)
    )
    assert after == total
    qnc = pd.read_excel(shared_data / "national_2022" / "gp-reg-pat-prac-map-jul22.xlsx")
    qnc = set(qnc.loc[qnc["ICB22"] == "QNC", "PRACTICE_CODE"])
    assert int(study.registrations["n_patients"].sum()) == int(
        raw.loc[raw["OrganisationCode"].isin(qnc), "Patient"].sum()
    )
    assert any("registrations converted from lsoa11_code to lsoa21_code" in n for n in study.notes)
