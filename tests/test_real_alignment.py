"""Real data: community alignment in Staffordshire and Stoke-on-Trent ICB (QNC), Oct 2025.

Known answers were computed by hand with pandas/geopandas from the raw files, not read back
from geo_pcn:

* pharmacies: ``edispensary.csv`` has 304 rows with ICB code QNC, 234 of them active
  (status ``A``); Code-Point Open cannot place one postcode, ST16 2HE (FWA24, Tesco
  instore pharmacy, Stafford).
* local authority districts (LAD 2024) as an ``areas`` layer: patients of QNC practices
  living in the 683 of QNC's 697 LSOAs that QNC's practices serve (1,174,575: an LSOA is
  served from outside when its Census 2021 population less the residents registered at
  QNC practices outnumbers those; 13 LSOAs with 5,084 QNC patients and E01029651 with none
  are), each LSOA put in the LAD polygon holding its representative point
  (``GeoSeries.representative_point`` + ``sjoin``), crossed with the practice -> PCN map:
  coterminosity 0.8826, 44 % of PCNs with >= 95 % in one LAD, NMI 0.6756, ARI 0.3962,
  VI 1.7068 nats (the same method on all 697 LSOAs gives the figures of the first cut,
  0.8830 / 0.6762 / 0.3971 / 1.7048).
"""

from __future__ import annotations

import pytest

from geo_pcn import Study, validate
from geo_pcn.render import to_markdown

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def qnc_lad_report(qnc_study_file, shared_data, tmp_path_factory):
    """QNC with the LAD 2024 polygons added as a community ``areas`` layer."""
    lad = (shared_data / "geographr" / "boundaries_ltla24.geojson").resolve().as_posix()
    text = qnc_study_file.read_text(encoding="utf-8")
    text = text.replace("[rules]", f'[community.lad]\nfile = "{lad}"\nkind = "areas"\n\n[rules]', 1)
    path = tmp_path_factory.mktemp("qnc_lad") / "qnc_lad.toml"
    path.write_text(text, encoding="utf-8")
    return validate(Study.from_toml(path))


def test_active_pharmacies_are_counted_per_pcn(qnc_lad_report):
    result = qnc_lad_report.alignment.layers["pharmacies"]
    s = result.summary
    assert s["n_sites"] == 234  # active QNC rows of edispensary.csv
    assert s["n_located"] == 233
    # two located pharmacies lie in the QNC LSOAs served from outside, in no footprint
    assert s["n_in_footprints"] == 231
    assert s["pcns_without_sites"] == []
    assert result.pcns["n_sites"].sum() == 231
    assert len(result.pcns) == 25
    assert s["sites_per_10k"] == round(1e4 * 231 / 1_210_283, 2)
    # every practice has a located pharmacy within reach
    assert result.practices["distance_m"].notna().all()
    assert len(result.practices) == 141


def test_the_postcode_code_point_cannot_place_is_reported(qnc_lad_report):
    result = qnc_lad_report.alignment.layers["pharmacies"]
    (row,) = result.not_located.itertuples()
    assert (row.code, row.postcode) == ("FWA24", "ST16 2HE")
    assert result.summary["not_located"] == ["FWA24"]
    assert "[community.pharmacies]: 1 site could not be located" in qnc_lad_report.study.notes
    assert "FWA24 (ST16 2HE)" in to_markdown(qnc_lad_report)


def test_qnc_pcns_against_local_authority_districts(qnc_lad_report):
    result = qnc_lad_report.alignment.layers["lad"]
    s = result.summary
    assert result.weight == "patients"
    assert s["n"] == 1_174_575  # patients living in the QNC LSOAs QNC's practices serve
    assert s["n_outside_layer"] == 0
    assert s["coterminosity"] == pytest.approx(0.8826, abs=5e-5)
    assert s["pct_pcns_in_one_area"] == pytest.approx(44.0)
    assert s["nmi"] == pytest.approx(0.6756, abs=5e-5)
    assert s["ari"] == pytest.approx(0.3962, abs=5e-5)
    assert s["vi"] == pytest.approx(1.7068, abs=5e-5)
    pcns = result.pcns.set_index("pcn_code")
    # hand-checked dominant LADs and shares of patients
    assert pcns.loc["U57641", ["dominant_area_code", "pct_dominant"]].tolist() == [
        "E07000193",
        91.3,
    ]  # East Staffordshire PCN in East Staffordshire
    assert pcns.loc[
        "U88414", ["dominant_area_code", "pct_dominant", "second_area_code"]
    ].tolist() == [
        "E07000192",
        61.5,
        "E07000196",
    ]  # Cannock Villages: Cannock Chase / South Staffordshire
    assert pcns.loc["U93998", ["dominant_area_code", "pct_dominant"]].tolist() == [
        "E06000021",
        69.4,
    ]  # ABC: Stoke-on-Trent, 29.7 % in Newcastle-under-Lyme
    # the districts of the ICB (and two neighbours holding a few LSOA points)
    assert set(result.areas["area_code"]) >= {f"E0700019{i}" for i in range(2, 10)} | {"E06000021"}
    split = sorted(
        f.pcn_code
        for f in qnc_lad_report.findings
        if (f.check, f.kind) == ("alignment", "split_across_areas")
    )
    assert split == sorted(result.split_pcns["pcn_code"])
    assert "U88414" in split and "U93998" in split and "U57641" in split
    assert "U56729" not in split  # Seisdon: 99.9 % in South Staffordshire
