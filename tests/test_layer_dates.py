"""A boundary layer older than the practice map is said (issue 18, item 3)."""

from __future__ import annotations

from tiny import TINY_PRACTICES, feature_collection, union_box, write_tiny_study

from geo_pcn import Study


def _place(code_column: str) -> str:
    features = [union_box("WEST", range(0, 2)), union_box("EAST", range(2, 4))]
    for f in features:
        f["properties"] = {code_column: f["properties"]["code"], "name": f["properties"]["name"]}
    return feature_collection(features)


def _practices(extract: str) -> str:
    lines = TINY_PRACTICES.strip().splitlines()
    return "\n".join(
        [lines[0] + ",EXTRACT_DATE"] + [f"{row},{extract}" for row in lines[1:]]
    ) + "\n"


def test_a_layer_older_than_the_practice_map_is_noted(tmp_path):
    """The practices are of 01Jul2022 (EXTRACT_DATE); the place layer's codes are in
    LAD21CD: of 2021, older. A layer of 2022 (LAD22CD) is not older: no note."""
    path = write_tiny_study(
        tmp_path / "old", practices_csv=_practices("01Jul2022"), place_geojson=_place("LAD21CD")
    )
    notes = [n for n in Study.from_toml(path).notes if "older than the practices" in n]
    assert len(notes) == 1
    assert "[boundaries] place is of 2021 (its codes are in LAD21CD)" in notes[0]
    assert "01 Jul 2022" in notes[0]
    path = write_tiny_study(
        tmp_path / "same", practices_csv=_practices("01Jul2022"), place_geojson=_place("LAD22CD")
    )
    assert not [n for n in Study.from_toml(path).notes if "older than the practices" in n]


def test_no_note_without_a_date(tmp_path):
    """A practices file with no EXTRACT_DATE: nothing to compare with, nothing said."""
    path = write_tiny_study(tmp_path, place_geojson=_place("LAD21CD"))
    assert not [n for n in Study.from_toml(path).notes if "older than the practices" in n]
