"""Real data: all of England, July 2022 (tests/real/national_2022.toml).

Known answers worked out here with pandas on the raw files (not by geo_pcn): the PCNs of
the NHS map, their list sizes from the national registrations, how many are below, within
and above the 30,000-50,000 band, the unallocated practices and their patients, and the
patients of the 6 registered practices the map does not hold (served from outside).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geo_pcn import Study, validate

pytestmark = [pytest.mark.real_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def national(shared_data, tmp_path_factory):
    text = (Path(__file__).parent / "real" / "national_2022.toml").read_text(encoding="utf-8")
    path = tmp_path_factory.mktemp("national") / "national_2022.toml"
    path.write_text(text.replace("../../../shared/data", shared_data.resolve().as_posix()))
    with pytest.warns(Warning):  # two LSOA 2011 polygons are repaired with make_valid
        study = Study.from_toml(path)
    return validate(study)


@pytest.fixture(scope="module")
def raw(shared_data):
    data = shared_data / "national_2022"
    reg = pd.read_parquet(data / "gp-registrations.parquet")
    practices = pd.read_excel(data / "gp-reg-pat-prac-map-jul22.xlsx")
    return reg, practices


def test_every_pcn_and_its_band(national, raw):
    reg, practices = raw
    sizes = reg.groupby("OrganisationCode")["Patient"].sum()
    allocated = practices[practices["PCN_CODE"] != "U"]
    pcn = (
        allocated.assign(n=allocated["PRACTICE_CODE"].map(sizes).fillna(0))
        .groupby("PCN_CODE")["n"]
        .sum()
    )
    band = pd.cut(pcn, [-1, 29_999, 50_000, float("inf")], labels=["below", "within", "above"])
    assert national.summary["n_pcns"] == len(pcn) == 1_250
    got = national.pcns.set_index("pcn_code")
    assert got["list_size"].to_dict() == pcn.astype("int64").to_dict()
    assert got["band_status"].value_counts().to_dict() == band.value_counts().to_dict()
    assert sum(f.kind == "above_band" for f in national.findings) == int((band == "above").sum())
    assert sum(f.kind == "below_band" for f in national.findings) == int((band == "below").sum())


def test_every_practice_and_patient_is_accounted_for(national, raw):
    reg, practices = raw
    unallocated = practices.loc[practices["PCN_CODE"] == "U", "PRACTICE_CODE"]
    assert national.summary["n_practices"] == len(practices) == 6_845
    assert national.summary["n_practices_in_no_pcn"] == len(unallocated) == 144
    assert national.summary["n_patients_in_no_pcn"] == int(
        reg.loc[reg["OrganisationCode"].isin(unallocated), "Patient"].sum()
    )
    outside = reg[~reg["OrganisationCode"].isin(practices["PRACTICE_CODE"])]
    assert outside["OrganisationCode"].nunique() == 6 and int(outside["Patient"].sum()) == 70_444
    assert national.summary["n_patients"] + 70_444 == int(reg["Patient"].sum()) == 61_768_942
    registered = national.study.outside_registrations
    assert int(registered["n_patients"].sum()) == 70_444


def test_a_summary_per_icb(national, raw):
    _, practices = raw
    by_icb = national.by_icb
    # ICBs by where the practice sites lie (the ICB 2022 polygons carry ONS codes)
    assert set(by_icb["icb_code"]) == set(practices["ICB22ons"])
    assert len(by_icb) == 42
    assert by_icb["n_pcns"].sum() == 1_250
    # every practice counts: one its site cannot place counts in its recorded ICB
    assert by_icb["n_practices"].sum() == len(practices) == 6_845
    band = national.pcns["band_status"].value_counts()
    for status in ("below", "within", "above"):
        assert by_icb[f"n_{status}_band"].sum() == band.get(status, 0)
    assert by_icb["n_practices_in_no_pcn"].sum() == 144
    # the table counts an ICB's practices as its --by icb folder holds them
    groups = national.icb_practices()
    assert by_icb.set_index("icb_code")["n_practices"].to_dict() == {
        k: len(v) for k, v in groups.items()
    }
    from geo_pcn.render import to_markdown

    md = to_markdown(national)
    assert "## Per ICB (42 ICBs)" in md


#: practices the ICB 2022 BUC polygons put in the wrong ICB (checked by hand against
#: Code-Point Open: each postcode's own district lies wholly in one ICB), e.g. E81006
#: Stopsley Village Practice, LU2 9AU, Luton: the straight BUC line through Luton put it in
#: Hertfordshire and West Essex (E54000025)
ADJUDICATED = ("E81006", "E81026", "L81045", "L81101", "J83629", "M81062", "Y00260")


def test_lines_come_from_the_lookup(national, shared_data, raw):
    """Each adjudicated practice is in the ICB (and place) that its postcode's Code-Point
    district gives through the ONS LSOA -> ICB -> LAD lookup (plain pandas here), and its
    PCN is not reported crossing an ICB line unless its practices' districts say so."""
    _, practices = raw
    postcode = practices.set_index("PRACTICE_CODE")["PRACTICE_POSTCODE"]
    lookup = pd.read_csv(
        shared_data / "geographr" / "lookup_lsoa11_sicbl22_icb22_ltla22.csv.gz", dtype=str
    )
    icbs_of_district = lookup.groupby("ltla22_code")["icb22_code"].agg(lambda s: set(s))
    keys = {p: postcode[p].replace(" ", "") for p in ADJUDICATED}
    areas = {k[:2].rstrip("0123456789").lower() for k in keys.values()}
    codepoint = pd.concat(
        pd.read_csv(
            shared_data / "codepoint_open_2025" / "Data" / "CSV" / f"{a}.csv",
            header=None,
            usecols=[0, 8],
            names=["postcode", "district"],
            dtype=str,
        )
        for a in sorted(areas)
    )
    district = dict(zip(codepoint["postcode"].str.replace(" ", ""), codepoint["district"]))
    from geo_pcn.geography import geography_of

    where = geography_of(national.study).site_areas
    for practice, key in keys.items():
        (icb,) = icbs_of_district[district[key]]  # each district lies in one ICB
        assert where["icb"].at[practice, "code"] == icb, practice
        assert where["icb"].at[practice, "placed_by"] == "lookup"
        assert where["place"].at[practice, "code"] == district[key], practice
        assert where["place"].at[practice, "placed_by"] == "district code"
    assert where["icb"].at["E81006", "code"] == "E54000024"  # Bedfordshire, Luton and MK
    pcn = national.configuration.assignments["E81006"]
    assert not [
        f
        for f in national.findings
        if f.kind == "crosses_boundary" and f.pcn_code == pcn and f.details["layer"] == "icb"
    ]
