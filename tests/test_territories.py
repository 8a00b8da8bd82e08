"""Territories from where patients live, counting every registered resident (issue 9).

Tiny hand-drawn cases on the grid of ``tests/tiny.py``; every answer is worked out by hand:

    northing (km)
     2 +------+------+------+------+
       | T05  | T06  | T07  | T08  |      place WEST = T01 T02 T05 T06
     1 +------+------+------+------+      place EAST = T03 T04 T07 T08
       | T01  | T02  | T03  | T04  |
     0 +------+------+------+------+
       0      1      2      3      4   easting (km)

    A00001 (T01) A00002 (T02) -> U00001 WEST;  A00003 (T03) A00004 = A00005 (T04) -> U00002 EAST

Tests that take the ``tiny`` fixture run once per way of writing the study (codes of other
shapes, rows shuffled: tiny.TINY_VARIANTS) and state their answers through ``tiny.code``.
"""

from __future__ import annotations

import pytest
from tiny import TINY_PRACTICES, TINY_REGISTRATIONS, X0, Y0, write_tiny_study

from geo_pcn import Configuration, Severity, Study, revalidate, validate
from geo_pcn.geography import build_territories
from geo_pcn.geography.graph import build_graph


def kinds(report):
    return sorted((f.check, f.kind) for f in report.findings)


# -- an area won by a practice outside the configuration ----------------------------------


def test_an_area_won_by_an_outside_practice_is_served_from_outside(tiny, tmp_path):
    """B00001 is not in the study but the registrations (a national file) hold it: it has
    2,000 residents in T08 against the study's 1,050 (A00004 600 + A00005 450), and 100 in
    T07 against A00003's 700."""
    reg = TINY_REGISTRATIONS + "B00001,T08,2000\nB00001,T07,100\n"
    study = Study.from_toml(tiny.write(tmp_path, registrations_csv=reg))
    assert study.outside_registrations[["practice_code", "n_patients"]].sum()["n_patients"] == 2100
    report = validate(study)
    t08 = tiny.code("T08")
    terr = report.context.territories
    assert terr.basis == "registrations"
    assert t08 not in terr.study_areas.index
    assert terr.areas.loc[t08, "served_from"] == "outside"
    assert (terr.areas.loc[t08, "n_study"], terr.areas.loc[t08, "n_outside"]) == (1050, 2000)
    assert t08 not in report.context.footprints.area_pcn.index
    # A00004's territory is T04 alone now; EAST is still one piece: no exclave, no hole
    assert terr.practices.geometry[tiny.code("A00004")].equals(
        study.areas.geometry[tiny.code("T04")]
    )
    (served,) = [f for f in report.findings if f.kind == "area_served_from_outside"]
    assert served.details["areas"] == [t08]
    assert served.details["top_outside_practices"] == [
        {"practice_code": tiny.code("B00001"), "patients": 2000}
    ]
    (outside,) = [f for f in report.findings if f.kind == "residents_registered_outside"]
    assert outside.value == 100  # B00001's residents of T07, in EAST's footprint
    assert outside.details["by_pcn"] == tiny.codes_of({"U00001": 0, "U00002": 100})
    assert kinds(report) == [
        ("coverage", "area_served_from_outside"),
        ("coverage", "residents_registered_outside"),
    ]
    areas = report.areas.set_index("area_code")
    assert areas.loc[t08, "n_registered_outside"] == 2000
    assert areas.loc[t08, "pcn_code"] == ""


def test_study_only_registrations_compete_with_the_population(tiny, tmp_path):
    """Only the study's practices are in the file; T03 has 2,700 residents of whom 1,200
    are registered at A00003, so 1,500 are registered elsewhere (or nowhere): more than the
    study's, so T03 is served from outside. T07 (700 of 700) stays A00003's."""
    pop = "area_code,population\n" + "".join(
        f"{a},{n}\n"
        for a, n in {
            "T01": 1000,
            "T02": 1100,
            "T03": 2700,
            "T04": 1700,
            "T05": 900,
            "T06": 800,
            "T07": 700,
            "T08": 1050,
        }.items()
    )
    report = validate(Study.from_toml(tiny.write(tmp_path, population_csv=pop)))
    terr = report.context.territories
    assert terr.basis == "population"
    assert terr.areas.loc[tiny.code("T03"), ["n_study", "n_outside", "served_from"]].tolist() == [
        1200,
        1500,
        "outside",
    ]
    assert sorted(terr.study_areas.index) == tiny.codes_of(
        ["T01", "T02", "T04", "T05", "T06", "T07", "T08"]
    )
    assert terr.area_winner[tiny.code("T07")] == tiny.code("A00003")
    (served,) = [f for f in report.findings if f.kind == "area_served_from_outside"]
    assert (served.details["areas"], served.value) == ([tiny.code("T03")], 2700)
    assert not [f for f in report.findings if f.kind in ("hole", "exclave")]


def test_without_population_or_other_practices_the_study_area_is_the_boundary_units(tmp_path):
    """No population and no other practices: the study area is the places that hold the
    study's practices (WEST and EAST: all eight areas)."""
    toml = tmp_path / "study.toml"
    write_tiny_study(tmp_path)
    toml.write_text(toml.read_text().replace('population = "population.csv"\n', ""))
    report = validate(Study.from_toml(toml))
    terr = report.context.territories
    assert terr.basis == "none"
    assert "place areas that hold the study's practices" in terr.how
    assert len(terr.study_areas) == 8


# -- practices at one site --------------------------------------------------------------


def test_three_practices_at_one_site_are_all_joined(tiny, tmp_path):
    """A00004, A00005 and A00006 share the site in T04: every pair is joined, so taking
    the middle one out never leaves the other two apart (a chain A4-A5-A6 would)."""
    practices = TINY_PRACTICES + "A00006,EAST SIX SURGERY,AB1 4AA,U00002,EAST PCN,01A,QXX\n"
    locations = "PRACTICE_CODE,EASTING,NORTHING\n" + "".join(
        f"A0000{i},{X0 + 500 + 1000 * col},{Y0 + 500}\n"
        for i, col in ((1, 0), (2, 1), (3, 2), (4, 3), (5, 3), (6, 3))
    )
    reg = TINY_REGISTRATIONS + "A00006,T04,10\n"
    study = Study.from_toml(
        tiny.write(
            tmp_path, practices_csv=practices, locations_csv=locations, registrations_csv=reg
        )
    )
    assert study.colocated == tiny.codes_of({"A00004": ("A00004", "A00005", "A00006")})
    graph = build_graph(study, build_territories(study))
    pairs = (("A00004", "A00005"), ("A00004", "A00006"), ("A00005", "A00006"))
    for a, b in tiny.codes_of(pairs):
        assert "same site" in graph.edges[a, b]["reasons"], (a, b)


# -- practices as they are --------------------------------------------------------------


def test_a_dormant_practice_in_the_configuration_is_kept_and_flagged(tmp_path):
    """A00005 is dormant but in EAST (850 patients): kept, with a warning. A00006 is closed
    and in no PCN: left out, in a note."""
    practices = (
        "PRACTICE_CODE,PRACTICE_NAME,PCN_CODE,PCN_NAME,STATUS\n"
        "A00001,WEST ONE SURGERY,U00001,WEST PCN,Active\n"
        "A00002,WEST TWO SURGERY,U00001,WEST PCN,Active\n"
        "A00003,EAST THREE SURGERY,U00002,EAST PCN,Active\n"
        "A00004,EAST FOUR SURGERY,U00002,EAST PCN,Active\n"
        "A00005,EAST FIVE SURGERY,U00002,EAST PCN,Dormant\n"
        "A00006,OLD SURGERY,,,Closed\n"
    )
    study = Study.from_toml(write_tiny_study(tmp_path, practices_csv=practices))
    assert "A00006" not in study.practices.index
    assert any("1 closed" in n and "left out" in n for n in study.notes)
    assert study.practices.loc["A00005", "status"] == "dormant"
    report = validate(study)
    (flag,) = [f for f in report.findings if f.kind == "practice_not_active"]
    assert (flag.practice_codes, flag.value, flag.severity) == (("A00005",), 850, Severity.WARNING)
    assert "dormant" in flag.message
    assert report.practices.set_index("practice_code").loc["A00005", "status"] == "dormant"


def test_a_practice_outside_every_area_with_no_registrations_is_said_exactly(tmp_path):
    """A00006 sits 6 km east of the grid, in EAST PCN, with no registrations at all."""
    practices = TINY_PRACTICES + "A00006,FAR SURGERY,AB9 9ZZ,U00002,EAST PCN,01A,QXX\n"
    from tiny import TINY_LOCATIONS

    locations = TINY_LOCATIONS + f"A00006,{X0 + 10_000},{Y0 + 500}\n"
    study = Study.from_toml(
        write_tiny_study(tmp_path, practices_csv=practices, locations_csv=locations)
    )
    assert study.practices["list_size"].isna()["A00006"]  # not a silent 0
    assert study.practices.loc["A00006", "list_size_source"] == ""
    assert any("no registrations for 1 of 6 practices (A00006)" in n for n in study.notes)
    report = validate(study)
    (none,) = [f for f in report.findings if f.kind == "no_territory"]
    assert none.practice_codes == ("A00006",)
    assert "no registered residents in any small area" in none.message
    assert "its site lies outside every small area" in none.message
    (size,) = [f for f in report.findings if f.kind == "no_list_size"]
    assert "no rows in the registrations" in size.message


def test_no2011_is_residence_unknown_not_a_small_area(tmp_path):
    reg = TINY_REGISTRATIONS + "A00001,NO2011,7\nA00002,E01999999,4\n"
    study = Study.from_toml(write_tiny_study(tmp_path, registrations_csv=reg))
    kinds_ = study.registrations.set_index("area_code")["area_kind"]
    assert kinds_["NO2011"] == "unknown"
    assert kinds_["CLOSED"] == "unknown"
    assert kinds_["E01999999"] == "outside_layer"  # an English LSOA the layer does not hold
    assert kinds_["W01000001"] == "wales"
    summary = study.summary()["registrations"]["by_area_kind"]
    assert summary == {
        "outside_layer": 4,
        "small_area": 8460 - 10,
        "unknown": 5 + 3 + 7,
        "wales": 2,
    }
    assert any("residence unknown" in n and ": 15" in n for n in study.notes)


def test_registrations_of_another_vintage_stop_with_one_line(tmp_path):
    """Every code is an LSOA the layer does not hold (2011 codes against other polygons)."""
    reg = "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n" + "".join(
        f"A0000{i},E0100000{i},1000\n" for i in range(1, 6)
    )
    with pytest.raises(Exception, match=r"only 0 of 5,000 patients .* different small areas"):
        Study.from_toml(write_tiny_study(tmp_path, registrations_csv=reg))


def test_a_moved_practice_revalidates_like_a_full_run_with_outside_competition(tmp_path):
    reg = TINY_REGISTRATIONS + "B00001,T08,2000\nB00001,T07,100\n"
    study = Study.from_toml(write_tiny_study(tmp_path, registrations_csv=reg))
    base = validate(study)
    moved = study.configuration.move("A00003", to="U00001")
    assert revalidate(base, moved).findings == validate(study, moved).findings
    assert isinstance(base.configuration, Configuration)


def test_minimum_share_footprint_keeps_areas_served_from_outside(tiny, tmp_path):
    """T08: EAST has 1,050 of 3,050 registered residents (34.4%); B00001 has 2,000. The
    plurality footprint leaves T08 out, the 5% catchment keeps it, a 50% one does not."""
    from geo_pcn.geography import build_catchments, pcn_shares

    reg = TINY_REGISTRATIONS + "B00001,T08,2000\n"
    study = Study.from_toml(tiny.write(tmp_path, registrations_csv=reg))
    fp = validate(study).context.footprints
    east = tiny.code("U00002")
    shares = pcn_shares(fp).set_index(["area_code", "pcn_code"])
    key = (tiny.code("T08"), east)
    assert shares.loc[key, ["n_patients", "n_area"]].tolist() == [1050, 3050]
    assert shares.loc[key, "share"] == round(1050 / 3050, 4)
    five = build_catchments(fp, min_share=0.05)
    assert five.loc[east, "n_areas"] == 4  # T03 T04 T07 T08
    assert five.loc[east].geometry.area == pytest.approx(4e6)
    assert fp.pcns.loc[east].geometry.area == pytest.approx(3e6)
    half = build_catchments(fp, min_share=0.5)
    assert half.loc[east, "n_areas"] == 3


def test_a_practices_file_wider_than_the_registrations_is_said(tmp_path):
    """Six practices of the file have no registrations at all (a national practices file
    with regional registrations): they have no list size, and the note says why."""
    extra = "".join(
        f"B0000{i},OTHER {i},ZZ1 1ZZ,U0000{i + 2},OTHER PCN {i},01A,QXX\n" for i in range(6)
    )
    study = Study.from_toml(write_tiny_study(tmp_path, practices_csv=TINY_PRACTICES + extra))
    (note,) = [n for n in study.notes if "no registrations for" in n]
    assert "no registrations for 6 of 11 practices" in note
    assert "the practices file is wider than the registrations" in note
    assert study.practices["list_size"].isna().sum() == 6
    report = validate(study)
    assert sum(f.kind == "no_list_size" for f in report.findings) == 6


def test_a_practice_no_postcode_places_sits_at_its_residents_centre(tmp_path):
    """A00003 has no coordinates: it is placed at the patient-weighted centre of its
    residents' areas, T03 (1,200 at 402,500 / 300,500) and T07 (700 at 402,500 / 301,500):
    northing (300,500 x 1,200 + 301,500 x 700) / 1,900 = 300,868.4 -> 300,868."""
    from tiny import TINY_LOCATIONS

    locations = "\n".join(
        line for line in TINY_LOCATIONS.splitlines() if not line.startswith("A00003")
    )
    study = Study.from_toml(write_tiny_study(tmp_path, locations_csv=locations + "\n"))
    site = study.practices.geometry["A00003"]
    assert (site.x, site.y) == (402_500.0, 300_868.0)
    assert study.practices.loc["A00003", "locate_method"] == "residents' centre"
    assert any("A00003" in n and "patient-weighted centre" in n for n in study.notes)


def test_a_practice_in_no_pcn_with_no_list_size_is_not_said_to_have_0_patients(tmp_path):
    """Found in review: a practice in no PCN with no registrations was 'its 0 registered
    patients are uncovered'."""
    practices = TINY_PRACTICES + "A00006,NEW SURGERY,AB1 4AA,,,01A,QXX\n"
    from tiny import TINY_LOCATIONS

    locations = TINY_LOCATIONS + f"A00006,{X0 + 3500},{Y0 + 500}\n"
    study = Study.from_toml(
        write_tiny_study(tmp_path, practices_csv=practices, locations_csv=locations)
    )
    (finding,) = [f for f in validate(study).findings if f.kind == "practice_in_no_pcn"]
    assert finding.value is None
    assert "no list size known" in finding.message and " 0 registered" not in finding.message
