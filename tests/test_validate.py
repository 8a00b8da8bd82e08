"""validate() on the tiny hand-drawn study (picture in tests/tiny.py), one planted
problem at a time, with the answers worked out by hand.

Tests that take the ``tiny`` fixture run once per way of writing the study (tiny.TINY_VARIANTS:
codes as drawn, numeric-looking, with leading zeros, as GeoJSON numbers, padded with spaces,
lower case; the rows of every file shuffled) and must give the same answers, the codes read
through ``tiny.code``."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tiny import (
    TINY_CELLS,
    TINY_POPULATION,
    TINY_REGISTRATIONS,
    X0,
    TinyVariant,
    box_features,
    feature_collection,
    union_box,
    write_tiny_study,
)

from geo_pcn import Configuration, Severity, Study, validate

WEST_EAST = {
    "A00001": "U00001",
    "A00002": "U00001",
    "A00003": "U00002",
    "A00004": "U00002",
    "A00005": "U00002",
}


#: ODD = columns 0 and 2, EVEN = columns 1 and 3: both split, each across the other.
ODD_EVEN = {
    "A00001": "U00001",
    "A00003": "U00001",
    "A00002": "U00002",
    "A00004": "U00002",
    "A00005": "U00002",
}


@pytest.fixture
def study(tiny_study_file):
    return Study.from_toml(tiny_study_file)


@pytest.fixture
def tiny_study(tiny, tmp_path):
    """The tiny study written in the variant ``tiny``, loaded."""
    return Study.from_toml(tiny.write(tmp_path))


def kinds(report):
    return sorted((f.check, f.kind, f.pcn_code, f.practice_codes) for f in report.findings)


def test_recorded_configuration_passes(tiny, tiny_study):
    report = validate(tiny_study)
    assert report.findings == []
    assert report.ok
    pcns = report.pcns.set_index("pcn_code")
    assert sorted(pcns.index) == [tiny.code("U00001"), tiny.code("U00002")]
    assert pcns.loc[tiny.code("U00001"), "list_size"] == 1905 + 1903
    assert pcns.loc[tiny.code("U00002"), "list_size"] == 1902 + 1900 + 850
    assert set(pcns["band_status"]) == {"within"}
    assert set(pcns["n_components"]) == {1}


def test_territories_by_registrations(tiny, tiny_study):
    study = tiny_study
    report = validate(study)
    areas = report.areas.set_index("area_code")
    assert areas["practice_code"].to_dict() == tiny.codes_of(
        {
            "T01": "A00001",
            "T05": "A00001",
            "T02": "A00002",
            "T06": "A00002",
            "T03": "A00003",
            "T07": "A00003",
            "T04": "A00004",
            "T08": "A00004",
        }
    )
    # A00005 wins no area: no territory (T04 is A00004's alone); the graph places it by
    # the area its site is in
    a1, a2, a3, a4, a5 = (tiny.code(f"A0000{i}") for i in range(1, 6))
    terr = report.context.territories
    assert terr.practices.loc[a5].geometry.is_empty
    assert terr.practices.loc[a5, "home"] == "site area"
    assert terr.home[a5].equals(study.areas.loc[tiny.code("T04")].geometry)
    assert terr.practices.loc[a4, "home"] == "site"
    edges = report.context.graph.edges
    assert "same site" in edges[a4, a5]["reasons"]
    assert edges[a1, a2]["reasons"] == ("touch",)
    assert not report.context.graph.has_edge(a1, a3)


def test_size_band(tiny, tmp_path):
    path = tiny.write(tmp_path)
    path.write_text(path.read_text().replace("band = [3000, 5000]", "band = [4000, 4500]"))
    report = validate(Study.from_toml(path))
    assert kinds(report) == tiny.codes_of(
        [
            ("size", "above_band", "U00002", ("A00003", "A00004", "A00005")),
            ("size", "below_band", "U00001", ("A00001", "A00002")),
        ]
    )
    above = next(f for f in report.findings if f.kind == "above_band")
    assert above.value == 4652 and above.threshold == 4500
    assert above.severity is Severity.ERROR
    assert "4,652" in above.message and "152 above" in above.message
    assert not report.ok


def test_exempt_pcn_is_info(tmp_path):
    path = write_tiny_study(tmp_path)
    text = path.read_text().replace(
        "band = [3000, 5000]", 'band = [4000, 5000]\nexempt = ["U00001"]'
    )
    path.write_text(text)
    report = validate(Study.from_toml(path))
    (finding,) = report.findings
    assert (finding.kind, finding.severity, finding.pcn_code) == ("exempt", Severity.INFO, "U00001")
    assert report.ok
    assert report.pcns.set_index("pcn_code").loc["U00001", "band_status"] == "exempt"


def test_single_practice_pcn_is_noted(study):
    config = Configuration({**WEST_EAST, "A00001": "U00009", "A00002": "U00001"})
    report = validate(study, config)
    singles = [f for f in report.findings if f.kind == "single_practice"]
    assert [(f.pcn_code, f.practice_codes) for f in singles] == [
        ("U00001", ("A00002",)),
        ("U00009", ("A00001",)),
    ]
    assert all(f.severity is Severity.INFO for f in singles)


def test_split_pcn_names_detached_group_distance_and_pcns_between(tiny, tiny_study):
    config = Configuration(
        tiny.codes_of(ODD_EVEN), tiny.codes_of({"U00001": "ODD PCN", "U00002": "EVEN PCN"})
    )
    report = validate(tiny_study, config)
    detached = {f.pcn_code: f for f in report.findings if f.kind == "detached_group"}
    assert set(detached) == {tiny.code("U00001"), tiny.code("U00002")}
    odd = detached[tiny.code("U00001")]
    # A00001 (1,905 patients) and A00003 (1,902): A00001 is the main group
    assert odd.practice_codes == (tiny.code("A00003"),)
    assert odd.details["patients"] == 1902
    assert odd.details["distance_m"] == 1000.0  # T02/T06 column lies between
    assert odd.details["pcns_between"] == [tiny.code("EVEN PCN (U00002)")]
    assert odd.severity is Severity.ERROR
    even = detached[tiny.code("U00002")]
    assert even.practice_codes == (tiny.code("A00002"),)  # A00004+A00005 (2,750): main group
    pcns = report.pcns.set_index("pcn_code")
    assert pcns.loc[tiny.code("U00001"), "n_components"] == 2


def _shifted_areas(shift: float) -> str:
    """The tiny areas with the east column (T04, T08) moved ``shift`` metres east."""
    doc = json.loads(box_features(TINY_CELLS))
    for feature in doc["features"]:
        if feature["properties"]["code"] in ("T04", "T08"):
            ring = feature["geometry"]["coordinates"][0]
            feature["geometry"]["coordinates"] = [[[x + shift, y] for x, y in ring]]
    return json.dumps(doc)


@pytest.mark.parametrize(("shift", "joined"), [(200, True), (300, False)])
def test_island_practice_joined_only_within_tolerance(tmp_path, shift, joined):
    """A 200 m channel is bridged by the 250 m tolerance; a 300 m one is not.

    T01 T02 T03 |~~channel~~| T04   (A00004 and A00005 share a site in T04)
    """
    path = write_tiny_study(tmp_path, areas_geojson=_shifted_areas(shift))
    (tmp_path / "locations.csv").write_text(
        (tmp_path / "locations.csv").read_text().replace(f"{X0 + 3500},", f"{X0 + 3500 + shift},")
    )
    study = Study.from_toml(path)
    report = validate(study)
    graph = report.context.graph
    assert graph.has_edge("A00003", "A00004") is joined
    if joined:
        assert graph.edges["A00003", "A00004"]["reasons"] == ("within tolerance",)
        assert graph.edges["A00003", "A00004"]["distance_m"] == pytest.approx(shift)
        assert report.findings == []
    else:
        detached = [f for f in report.findings if f.kind == "detached_group"]
        assert [(f.pcn_code, f.practice_codes) for f in detached] == [("U00002", ("A00003",))]
        assert detached[0].details["distance_m"] == pytest.approx(shift)


def test_pcn_crossing_a_place_line(tiny, tiny_study):
    config = Configuration(tiny.codes_of({**WEST_EAST, "A00003": "U00001"}))
    report = validate(tiny_study, config)
    (crossing,) = [f for f in report.findings if f.kind == "crosses_boundary"]
    assert crossing.pcn_code == tiny.code("U00001")
    sides = crossing.details["sides"]
    assert {k: v["patients"] for k, v in sides.items()} == {"WEST": 1905 + 1903, "EAST": 1902}
    pcns = report.pcns.set_index("pcn_code")
    assert pcns.loc[tiny.code("U00001"), "place_codes"] == "EAST;WEST"


def test_recorded_sub_icb_mismatch(tmp_path):
    path = write_tiny_study(
        tmp_path,
        sub_icb_geojson=feature_collection(
            [union_box("E38000001", range(0, 3)), union_box("E38000002", range(3, 4))]
        ),
    )
    doc = json.loads((tmp_path / "sub_icb.geojson").read_text())
    doc["features"][0]["properties"]["nhs_code"] = "01A"
    doc["features"][1]["properties"]["nhs_code"] = "02B"
    (tmp_path / "sub_icb.geojson").write_text(json.dumps(doc))
    path.write_text(
        path.read_text().replace("[boundaries]", '[boundaries]\nsub_icb = "sub_icb.geojson"')
    )
    report = validate(Study.from_toml(path))
    mismatches = [f for f in report.findings if f.kind == "recorded_code_mismatch"]
    # every practice is recorded in 01A, but A00004 and A00005 sit in column 3 = 02B
    assert [f.practice_codes for f in mismatches] == [("A00004",), ("A00005",)]
    assert mismatches[0].details["recorded"] == "01A"
    assert mismatches[0].details["actual_nhs_code"] == "02B"
    crossing = [f for f in report.findings if f.kind == "crosses_boundary"]
    assert [f.pcn_code for f in crossing] == ["U00002"]  # A00003 in 01A, A00004/5 in 02B


def test_practice_in_no_pcn_and_hole(tiny, tmp_path):
    """T09 (east of T04, inside the EAST place) is home only to patients of A00005, which
    the configuration leaves in no PCN: no PCN footprint covers it, and it is named with
    A00005's finding (served by a practice in no PCN), not as a hole.

        T05 T06 T07 T08
        T01 T02 T03 T04 T09
    """
    cells = {**TINY_CELLS, "T09": (4, 0)}
    place = feature_collection([union_box("WEST", range(0, 2)), union_box("EAST", range(2, 5))])
    path = tiny.write(
        tmp_path,
        areas_geojson=box_features(cells),
        place_geojson=place,
        registrations_csv=TINY_REGISTRATIONS + "A00005,T09,300\n",
        population_csv=TINY_POPULATION + "T09,320\n",
    )
    study = Study.from_toml(path)
    config = Configuration(tiny.codes_of({**WEST_EAST, "A00005": ""}))
    report = validate(study, config)
    nopcn = [f for f in report.findings if f.kind == "practice_in_no_pcn"]
    assert [(f.practice_codes, f.value, f.severity) for f in nopcn] == [
        ((tiny.code("A00005"),), 850 + 300, Severity.ERROR)
    ]
    assert nopcn[0].details["adjacent_pcns"] == [tiny.code("U00002")]
    assert nopcn[0].details["areas"] == [tiny.code("T09")]
    assert tiny.code("T09") in nopcn[0].message
    assert [f for f in report.findings if f.kind == "hole"] == []
    assert report.summary["n_patients_in_no_pcn"] == 1150
    areas = report.areas.set_index("area_code")
    assert areas.loc[tiny.code("T04"), "n_registered_no_pcn"] == 400
    assert areas.loc[tiny.code("T09"), "pcn_code"] == ""
    assert areas.loc[tiny.code("T09"), "served_from"] == "study"
    assert areas.loc[tiny.code("T09"), "practice_in_no_pcn"] == tiny.code("A00005")
    assert areas.loc[tiny.code("T04"), "practice_in_no_pcn"] == ""
    # with A00005 back in its PCN, T09 is U00002's; its 20 residents beyond the 300
    # registered there (population 320) are the only ones not registered in the study
    after = validate(study, config.move(tiny.code("A00005"), to=tiny.code("U00002")))
    (note,) = [f for f in after.findings if f.check == "coverage"]
    assert (note.kind, note.severity, note.value) == (
        "residents_registered_outside",
        Severity.INFO,
        20,
    )
    assert note.details["by_pcn"] == tiny.codes_of({"U00001": 0, "U00002": 20})


def test_report_json_has_the_promised_keys(study):
    report = validate(study)
    doc = json.loads(report.to_json())
    assert set(doc["summary"]) >= {"n_practices", "n_pcns", "n_patients", "findings", "ok"}
    assert doc["summary"]["n_patients"] == 8460
    pcn = doc["pcns"][0]
    assert set(pcn) >= {
        "pcn_code",
        "pcn_name",
        "list_size",
        "n_practices",
        "band_status",
        "n_components",
        "crossings",
    }
    assert pcn["crossings"] == {"place": ["WEST"]}


def test_groups_joined_through_the_pcns_own_footprint_are_contiguous(tmp_path):
    """A00001 (column 0) and A00003 (column 2) form PCN X. Column 1 is won by A00002 (PCN Y)
    practice by practice, but X has more residents there in total, so X's footprint is one
    piece: X is contiguous, with a note. (Stafford Town PCN in QNC is a real case.)"""
    reg = (
        "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS\n"
        "A00001,T01,1000\nA00001,T05,900\nA00001,T02,700\nA00001,T06,700\n"
        "A00002,T02,1100\nA00002,T06,1100\n"
        "A00003,T03,1200\nA00003,T07,700\nA00003,T02,700\nA00003,T06,700\n"
        "A00004,T04,1300\nA00004,T08,600\nA00005,T04,400\n"
    )
    study = Study.from_toml(write_tiny_study(tmp_path, registrations_csv=reg))
    config = Configuration(
        {"A00001": "X", "A00003": "X", "A00002": "Y", "A00004": "Y", "A00005": "Y"}
    )
    report = validate(study, config)
    assert not [f for f in report.findings if f.kind == "detached_group" and f.pcn_code == "X"]
    (note,) = [f for f in report.findings if f.kind == "joined_by_footprint"]
    assert note.pcn_code == "X" and note.practice_codes == ("A00001", "A00003")
    assert note.severity is Severity.INFO
    # Y is split for real: A00002 (column 1) is cut off from A00004/A00005 (column 3)
    (split,) = [f for f in report.findings if f.kind == "detached_group"]
    assert split.pcn_code == "Y" and split.practice_codes == ("A00002",)


def test_voronoi_territories_when_asked(tmp_path):
    """Sites on a line at x = 0.5, 1.5, 2.5, 3.5 km (A00004 and A00005 share one site):
    the cells are the four 1 km columns of the 4 x 2 km study area."""
    path = write_tiny_study(tmp_path)
    path.write_text(path.read_text().replace("[rules]", '[rules]\nfootprints = "voronoi"'))
    study = Study.from_toml(path)
    assert study.footprint_method == "voronoi"
    report = validate(study)
    terr = report.context.territories.practices
    assert terr.area.round(0).to_dict() == {
        "A00001": 2e6,
        "A00002": 2e6,
        "A00003": 2e6,
        "A00004": 2e6,
        "A00005": 2e6,
    }
    assert terr.loc["A00005"].geometry.equals(terr.loc["A00004"].geometry)
    assert terr.loc["A00002"].geometry.bounds == (401000.0, 300000.0, 402000.0, 302000.0)
    fp = report.context.footprints.pcns
    assert fp.area.round(0).to_dict() == {"U00001": 4e6, "U00002": 4e6}
    assert report.findings == []
    assert report.areas is None  # per-area coverage needs registrations


def test_voronoi_without_areas_uses_a_buffer_round_the_sites(tmp_path):
    text = (
        'name = "Sites only"\n[practices]\nfile = "practices.csv"\nlocations = "locations.csv"\n'
        "[rules]\nband = [0, 100000]\n"
    )
    path = write_tiny_study(tmp_path, study_toml=text)
    study = Study.from_toml(path)
    assert study.footprint_method == "voronoi"
    report = validate(study)
    assert report.context.graph.has_edge("A00001", "A00002")
    assert not report.context.graph.has_edge("A00001", "A00003")
    # no list sizes anywhere: every PCN is flagged as understated, nothing else
    assert {f.kind for f in report.findings} == {"no_list_size"}


def test_report_markdown_leads_with_errors_and_lists_what_matters(study):
    """report.md: errors first, then the warnings (at most 50, shared between the checks so
    that a noisy one does not crowd out the rest, most patients first), and how many more
    are in findings.csv; nothing is dropped from the CSV/JSON; counts carry their units."""
    from geo_pcn.findings import Finding
    from geo_pcn.render import to_markdown
    from geo_pcn.report import Report

    base = validate(study)
    noisy = [
        Finding(
            "coverage",
            "exclave",
            Severity.WARNING,
            f"exclave {i}",
            "U00001",
            (),
            details={"patients": i},
        )
        for i in range(120)
    ]
    findings = [
        Finding("contiguity", "detached_group", Severity.ERROR, "split in two", "U00002"),
        *noisy,
        Finding("size", "odd", Severity.WARNING, "a size warning", "U00002"),
        Finding("size", "single_practice", Severity.INFO, "one practice", "U00002"),
    ]
    report = Report(
        study=base.study,
        configuration=base.configuration,
        findings=findings,
        partition=base.partition,
    )
    md = to_markdown(report)
    sections = [line for line in md.splitlines() if line.startswith("## ")]
    assert sections[:3] == ["## Errors (1)", "## Warnings (121)", "## Notes (1)"]
    warnings_part = md.split("## Warnings (121)")[1].split("\n## ")[0]
    listed = [line for line in warnings_part.splitlines() if line.startswith("- **")]
    assert len(listed) == 50
    assert warnings_part.index("### size") < warnings_part.index("### coverage")
    assert "a size warning" in warnings_part
    assert "exclave 119" in warnings_part and "exclave 0" not in warnings_part
    assert "71 more warnings (exclave 71) in findings.csv" in warnings_part
    assert len(report.findings_frame()) == 123
    assert len(json.loads(report.to_json())["findings"]) == 123
    assert "**FAIL**: 1 error, 121 warnings, 1 note." in md
    assert "registered patients" in md and "size band 3,000-5,000 patients" in md


# -- the same answers whatever the codes look like and whatever the order of the rows ------
def _facts(report, translate=lambda value: value) -> dict:
    """Everything validate() concludes, as plain values, codes passed through ``translate``."""
    findings = [
        translate(
            (f.check, f.kind, f.severity.value, f.pcn_code, f.practice_codes, f.message)
            + (f.value, f.threshold, json.dumps(f.details, sort_keys=True, default=str))
        )
        for f in report.findings
    ]

    def table(frame, key=None):
        if frame is None:
            return None
        frame = frame.drop(columns="geometry", errors="ignore")
        frame = frame.map(lambda v: translate(v) if isinstance(v, str) else v)
        if key is not None:  # rows in the input file's order: compare them by code
            frame = frame.sort_values(key, ignore_index=True)
        return frame

    return {
        "findings": findings,
        "pcns": table(report.pcns),
        "practices": table(report.practices, "practice_code"),
        # area names are free text (the variants write "Area <code>"): not compared
        "areas": None
        if report.areas is None
        else table(report.areas.drop(columns="area_name"), "area_code"),
    }


@pytest.mark.parametrize("config", [WEST_EAST, ODD_EVEN], ids=["recorded", "odd-even"])
def test_the_same_answers_whatever_the_codes_and_row_order(tiny, tmp_path, config):
    """A run on the variant concludes exactly what a run on the study as drawn does: the
    same findings in the same order, the same PCN table row for row, the same practice and
    area rows (those follow the input files' order, so they are compared by code)."""
    drawn = validate(Study.from_toml(write_tiny_study(tmp_path / "drawn")), Configuration(config))
    variant = validate(
        Study.from_toml(tiny.write(tmp_path / "variant")), Configuration(tiny.codes_of(config))
    )
    want = _facts(drawn, lambda value: tiny.codes_of(value))
    got = _facts(variant)
    assert got["findings"] == want["findings"]
    for name in ("pcns", "practices", "areas"):
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)


def test_the_variants_are_written_as_they_say(tmp_path):
    """The writer behind the ``tiny`` fixture: codes restyled in every file, rows shuffled
    (header first, nothing lost), GeoJSON codes as numbers when asked."""
    drawn = write_tiny_study(tmp_path / "drawn").parent
    numeric = TinyVariant("json_numbers", shuffle=7).write(tmp_path / "numeric").parent
    reg = (numeric / "registrations.csv").read_text().splitlines()
    assert reg[0] == "PRACTICE_CODE,LSOA_CODE,NUMBER_OF_PATIENTS"
    assert sorted(reg[1:]) == sorted(
        TinyVariant("numeric").code(line)
        for line in (drawn / "registrations.csv").read_text().splitlines()[1:]
    )
    assert reg[1:] != [
        TinyVariant("numeric").code(line) for line in TINY_REGISTRATIONS.splitlines()[1:]
    ]
    areas = json.loads((numeric / "areas.geojson").read_text())["features"]
    assert sorted(f["properties"]["code"] for f in areas) == list(range(3001, 3009))
    zeros = TinyVariant("zeros").write(tmp_path / "zeros").parent
    assert (zeros / "practices.csv").read_text().splitlines()[1].startswith("00101,")
    padded = TinyVariant("padded").write(tmp_path / "padded").parent
    assert "\n A00001 , T01 ,1000\n" in (padded / "registrations.csv").read_text()
    assert TinyVariant("numeric").codes_of({"A00001": ("U00002", "EAST (T04)")}) == {
        "1001": ("2002", "EAST (3004)")
    }
