"""Recorded sub-ICB codes reconciled across the ODS and ONS code systems (issue 9).

The practice file records ODS codes (``01A``, ``01B``); the sub-ICB layer carries only ONS
codes (``E38000001`` WEST half, ``E38000002`` EAST half of the tiny grid). A practice is
never reported as recorded in the wrong sub-ICB because its code is of another system.
"""

from __future__ import annotations

from tiny import TINY_TOML, feature_collection, union_box, write_tiny_study

from geo_pcn import Study, validate
from geo_pcn.checks.boundaries import CodeCrosswalk, code_system


def _layer(names: bool) -> str:
    west, east = union_box("E38000001", range(0, 2)), union_box("E38000002", range(2, 4))
    west["properties"]["name"] = "NHS Alpha CCG" if names else "E38000001"
    east["properties"]["name"] = "NHS Beta CCG" if names else "E38000002"
    return feature_collection([west, east])


def _practices(recorded: dict[str, tuple[str, str]], with_names: bool) -> str:
    head = "PRACTICE_CODE,PRACTICE_NAME,PCN_CODE,PCN_NAME,SUB_ICB_LOCATION_CODE"
    head += ",SUB_ICB_LOCATION_NAME\n" if with_names else "\n"
    pcn = {"A00001": "U00001", "A00002": "U00001"}
    rows = []
    for code, (sub, name) in recorded.items():
        p = pcn.get(code, "U00002")
        row = f"{code},SURGERY {code},{p},{p} PCN,{sub}"
        rows.append(row + (f",{name}\n" if with_names else "\n"))
    return head + "".join(rows)


RIGHT = {
    "A00001": ("01A", "NHS Alpha CCG"),
    "A00002": ("01A", "NHS Alpha CCG"),
    "A00003": ("01B", "NHS Beta CCG"),
    "A00004": ("01B", "NHS BETA CCG"),
    "A00005": ("01B", "NHS Beta CCG"),
}


def _report(tmp_path, recorded, *, with_names, layer_names=True):
    toml = TINY_TOML.replace("[boundaries]\n", '[boundaries]\nsub_icb = "sub_icb.geojson"\n')
    path = write_tiny_study(
        tmp_path,
        study_toml=toml,
        practices_csv=_practices(recorded, with_names),
        sub_icb_geojson=_layer(layer_names),
    )
    return validate(Study.from_toml(path))


def test_ods_codes_against_an_ons_only_layer_are_never_a_mismatch(tmp_path):
    """No input links the systems. 01B's three practices all sit in E38000002, so 01B is
    matched to it (a note says so); 01A has two practices only, too few to infer from:
    its practices are not compared (a note says so). No mismatch either way."""
    report = _report(tmp_path, RIGHT, with_names=False)
    assert not [f for f in report.findings if f.kind == "recorded_code_mismatch"]
    (info,) = [f for f in report.findings if f.kind == "codes_not_reconciled"]
    assert info.value == 2 and "not compared" in info.message
    assert info.practice_codes == ("A00001", "A00002")
    (inferred,) = [f for f in report.findings if f.kind == "codes_inferred"]
    assert inferred.details["links"] == {"01B": "E38000002"}


def test_a_code_of_another_vintage_is_matched_to_where_most_of_its_practices_are(tmp_path):
    """01B is recorded for four practices; three sit in E38000002 (EAST), A00002 in WEST:
    01B is matched to EAST, and A00002 alone is a mismatch (no names, no crosswalk)."""
    planted = {**RIGHT, "A00002": ("01B", "")}
    report = _report(tmp_path, planted, with_names=False)
    (mismatch,) = [f for f in report.findings if f.kind == "recorded_code_mismatch"]
    assert mismatch.practice_codes == ("A00002",)


def test_names_link_the_code_systems_and_find_the_true_mismatch(tmp_path):
    planted = {**RIGHT, "A00002": ("01B", "NHS Beta CCG")}  # sits in WEST, recorded EAST
    report = _report(tmp_path, planted, with_names=True)
    (mismatch,) = [f for f in report.findings if f.kind == "recorded_code_mismatch"]
    assert mismatch.practice_codes == ("A00002",)
    assert (mismatch.details["recorded"], mismatch.details["actual"]) == ("01B", "E38000001")
    assert not [f for f in report.findings if f.kind == "codes_not_reconciled"]


def test_no_mismatch_when_every_practice_is_where_it_is_recorded(tmp_path):
    report = _report(tmp_path, RIGHT, with_names=True)
    assert not [f for f in report.findings if f.check == "boundaries"]


def test_crosswalk_links_transitively():
    walk = CodeCrosswalk()
    walk.link("05W", "E38000175")
    walk.link("e38000175", "X1")
    assert walk.same("05w", "X1") and not walk.same("05W", "05G")
    assert walk.systems("05W") == {"ods", "ons"} and walk.systems("05G") == {"ods"}
    assert (code_system("E54000010"), code_system("QNC")) == ("ons", "ods")


def test_crosswalk_systems_follow_later_links_and_membership_is_by_normalised_code():
    """``systems`` is cached per set of links: a link made after a read is seen."""
    walk = CodeCrosswalk()
    walk.link("05G", "X2")
    assert walk.systems("05G") == {"ods"}
    walk.link("x2", "E38000100")  # joins 05G's class through X2
    assert walk.systems("05G") == {"ods", "ons"} and walk.same("E38000100", "05g")
    assert " 05g" in walk and "05W" not in walk
