"""Known answers from the real NHS England / ODS / ONS / OS files in ../shared/data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_pcn.io import (
    Source,
    geocode,
    read_areas,
    read_boundaries,
    read_configuration,
    read_list_sizes,
    read_locations,
    read_population,
    read_practices,
    read_registrations,
    read_sites,
)

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def qnc_practices(shared_data):
    src = Source(
        shared_data / "ssot_pcn_boundaries" / "gp-reg-pat-prac-map.csv", where={"ICB_CODE": "QNC"}
    )
    return read_practices(src)


def test_nhs_map_qnc(qnc_practices):
    assert len(qnc_practices) == 141
    assert qnc_practices.pcn_code.nunique() == 25
    assert qnc_practices.attrs["format"] == "nhs_map"
    assert qnc_practices.sub_icb_code.value_counts().to_dict()["05W"] == 36


def test_nhs_map_national_unallocated(shared_data):
    frame = read_practices(shared_data / "ssot_pcn_boundaries" / "gp-reg-pat-prac-map.csv")
    assert len(frame) == 6202
    assert (frame.pcn_code == "").sum() == 71
    assert frame.loc[frame.pcn_code == "", "pcn_name"].eq("").all()


def test_registrations_qnc(shared_data):
    regs = read_registrations(shared_data / "ssot_pcn_boundaries" / "SSOT_GP_Patients_Oct25.csv")
    assert regs.n_patients.sum() == 1_210_283
    assert regs.practice_code.nunique() == 141
    closed_empty = regs.area_code.isin(["CLOSED", "EMPTY"])
    assert regs.loc[closed_empty, "n_patients"].sum() == 1_381
    assert (regs.loc[closed_empty, "area_kind"] == "unknown").all()
    assert {"wales", "scotland", "northern_ireland", "crown_dependencies"} <= set(regs.area_kind)
    sizes = read_list_sizes(shared_data / "ssot_pcn_boundaries" / "SSOT_GP_Patients_Oct25.csv")
    assert sizes.list_size.sum() == 1_210_283


def test_locations_and_codepoint_agree(shared_data, qnc_practices):
    located = read_locations(shared_data / "ssot_pcn_boundaries" / "SSOT_GP_Practice_Locations.csv")
    assert (located.locate_method == "lat/long").sum() == 141
    coded = geocode(qnc_practices.postcode, shared_data / "codepoint_open_2025")
    coded.index = qnc_practices.practice_code
    ref = located.set_index("practice_code").reindex(coded.index)
    distance = np.hypot(coded.easting - ref.easting, coded.northing - ref.northing)
    assert distance.notna().all()
    assert (distance < 1.0).all()


def test_epraccur_2026(shared_data):
    path = shared_data / "ods_2026_benstanbury" / "epraccur.csv"
    frame = read_practices(path)
    assert frame.attrs["format"] == "epraccur"
    # every GP practice (role RO76) is kept, whatever its status (issue 9)
    assert frame.attrs["status_counts"] == {"active": 6599, "dormant": 50, "inactive": 1534}
    assert len(frame) == 6599 + 50 + 1534
    raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    english = set(raw.loc[raw[2] != "", 0])
    active = frame[frame.status == "active"]
    assert active.practice_code.isin(english).sum() == 6203
    assert frame.attrs["skipped"] == {"not a GP practice": len(raw) - len(frame)}


def test_epraccur_2023_classic(shared_data):
    frame = read_practices(shared_data / "ods_2023_blackwellrd" / "epraccur.csv")
    assert frame.attrs["format"] == "epraccur_classic"
    assert (frame.status == "active").sum() == 6455 + 404
    assert frame.attrs["status_counts"] == {"active": 6859, "dormant": 142, "closed": 1639}


def test_ods_practices_parquet_2022(shared_data):
    """ODS organisations as a Parquet table: GP practices kept with their status."""
    frame = read_practices(shared_data / "national_2022" / "gp-practices.parquet")
    assert frame.attrs["format"] == "table"
    assert frame.attrs["skipped"] == {"not a GP practice": 15_199 - 8_638}
    assert len(frame) == 8_638
    assert set(frame.status) == {"active", "closed", "dormant"}


def test_nhs_map_has_no_status(shared_data):
    frame = read_practices(shared_data / "ssot_pcn_boundaries" / "gp-reg-pat-prac-map.csv")
    assert frame.status.eq("").all()
    assert frame.attrs["status_counts"] == {}


@pytest.mark.parametrize("folder", ["ods_2023_blackwellrd", "west_sussex_pcn_hi_2022_des"])
def test_epcn_workbooks(shared_data, folder):
    frame = read_configuration(shared_data / folder / "ePCN.xlsx")
    assert frame.attrs["format"] == "epcn"
    assert len(frame) > 6000
    assert frame.practice_code.is_unique
    assert frame.pcn_code.str.match(r"^U\d{5}$").all()
    assert frame.attrs["skipped"]["practice-PCN relationship ended"] > 800


def test_edispensary_qnc(shared_data):
    src = Source(shared_data / "ods_pharmacies_2025" / "edispensary.csv", where={"icb_code": "QNC"})
    sites = read_sites(src, postcodes=shared_data / "codepoint_open_2025")
    assert len(sites) == 234
    assert (sites.locate_method == "postcode").sum() == 233
    missing = sites[sites.geometry.isna()]
    assert missing.postcode.tolist() == ["ST16 2HE"]


def test_list_sizes_real(shared_data):
    demo = read_list_sizes(shared_data / "ods_2026_benstanbury" / "practice_demographics.csv")
    assert len(demo) == 6215
    qof = read_list_sizes(shared_data / "west_sussex_pcn_hi_2022_des" / "PREVALENCE_2021_v2.csv.gz")
    assert qof.attrs["format"] == "qof_prevalence"
    assert qof.practice_code.is_unique


def test_derived_sicbl24(shared_data):
    path = shared_data / "geographr" / "derived_sicbl24_england_from_lsoa21_bsc.geojson"
    gdf = read_boundaries(path, level="sub_icb")
    assert len(gdf) == 106
    assert gdf.code.str.startswith("E38").all()
    assert "04Y" in set(gdf.nhs_code)
    assert gdf.crs.to_epsg() == 27700


def test_ltla24(shared_data):
    assert (
        len(read_boundaries(shared_data / "geographr" / "boundaries_ltla24.geojson", level="place"))
        == 361
    )


def test_national_lsoa(shared_data):
    # (no wall-clock assertion: CI machines are loaded; scripts/bench.py measures speed)
    areas = read_areas(shared_data / "geographr" / "boundaries_lsoa21.geojson")
    assert len(areas) == 35_672
    assert areas.crs.to_epsg() == 27700
    assert areas.area_code.is_unique


def test_population_census(shared_data):
    path = (
        shared_data / "demographr" / "census21_usual_residents_lsoa21_from_ethnicity21_lsoa21.csv"
    )
    pop = read_population(path)
    assert len(pop) == 35_672
    assert pop.population.sum() == 59_597_576


@pytest.mark.parametrize("name", ["boundaries_lsoa21.geojson", "boundaries_lsoa11.geojson"])
def test_national_lsoa_layers_are_coverages(shared_data, name):
    """Generalised national files have a few m² slivers between neighbours: not overlaps."""
    from geo_pcn.io._coverage import check_coverage

    areas = read_areas(shared_data / "geographr" / name)  # would raise on an overlap
    geoms = np.asarray(areas.geometry.values, dtype=object)
    check_coverage(geoms, areas.area_code.to_numpy(dtype=object), name)  # raises on overlap


def test_registrations_parquet_national_2022(shared_data):
    """A Parquet table is recognised by its first bytes (PAR1)."""
    regs = read_registrations(shared_data / "national_2022" / "gp-registrations.parquet")
    assert len(regs) == 865_965
    assert regs.n_patients.sum() == 61_768_942
    assert regs.practice_code.nunique() == 6_484
    assert regs.loc[regs.area_code == "NO2011", "n_patients"].sum() == 27_415
