"""Small area -> area lookups (CSV / Excel) as community and boundary layers.

The tiny study's small areas are 1 km boxes (tests/tiny.py)::

    northing (km above 300 000)
     2 +------+------+------+------+
       | T05  | T06  | T07  | T08  |
     1 +------+------+------+------+
       | T01  | T02  | T03  | T04  |
     0 +------+------+------+------+
       0      1      2      3      4   easting (km above 400 000)

The neighbourhood lookup below puts them in three neighbourhoods (and names T09, which
the areas layer lacks)::

       | N1   | N2   | N2   | N3   |
       | N1   | N1   | N3   | N3   |

so N1 is an L of 3 km² in the box (0, 0)-(2, 2) km, N2 a 2 km² bar (1, 1)-(3, 2) km and
N3 an L of 3 km² in (2, 0)-(4, 2) km. Expected values are worked out by hand from this
picture (real data: with plain pandas / geopandas in the test).
"""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from tiny import (
    TINY_CELLS,
    TINY_TOML,
    X0,
    Y0,
    box_features,
    feature_collection,
    union_box,
    write_tiny_study,
)

from geo_pcn import Study, validate
from geo_pcn.cli import cli
from geo_pcn.errors import GeoPCNWarning, InputError, SchemaError, StudyFileError

KM2 = 1_000_000.0

NEIGHBOURHOODS = (
    "LSOA21CD,LSOA21NM,NBH_CODE,NBH_NAME\n"
    "T01,Area one,N1,North West\nT02,Area two,N1,North West\nT05,Area five,N1,North West\n"
    "T06,Area six,N2,Middle\nT07,Area seven,N2,Middle\n"
    "T03,Area three,N3,East\nT04,Area four,N3,East\nT08,Area eight,N3,East\n"
    "T09,Not drawn,N3,East\n"
)
NBH_TOML = '\n[community.neighbourhoods]\nfile = "neighbourhoods.csv"\nkind = "areas"\n'

#: (area km², bounds in km above (X0, Y0)) by neighbourhood, from the picture above.
EXPECTED = {
    "N1": (3.0, (0, 0, 2, 2)),
    "N2": (2.0, (1, 1, 3, 2)),
    "N3": (3.0, (2, 0, 4, 2)),
}


def _study(tmp_path, lookup: str = NEIGHBOURHOODS, toml_extra: str = NBH_TOML, **files) -> Study:
    path = write_tiny_study(
        tmp_path, study_toml=TINY_TOML + toml_extra, neighbourhoods_csv=lookup, **files
    )
    return Study.from_toml(path)


def _check_layer(layer: gpd.GeoDataFrame) -> None:
    assert layer.crs.to_epsg() == 27700
    assert sorted(layer.code) == ["N1", "N2", "N3"]
    for _, row in layer.iterrows():
        area, (x1, y1, x2, y2) = EXPECTED[row.code]
        assert row.geometry.area == pytest.approx(area * KM2)
        assert row.geometry.bounds == (
            X0 + 1000 * x1,
            Y0 + 1000 * y1,
            X0 + 1000 * x2,
            Y0 + 1000 * y2,
        )
        assert row.geometry.geom_type == "Polygon"  # the boxes of each one join up


def test_lookup_as_community_areas(tmp_path):
    study = _study(tmp_path)
    layer = study.community["neighbourhoods"].data
    _check_layer(layer)
    assert dict(zip(layer.code, layer.name, strict=True)) == {
        "N1": "North West",
        "N2": "Middle",
        "N3": "East",
    }
    # every small area of the lookup is accounted for: 8 drawn, T09 named as missing
    (note,) = [n for n in study.notes if "neighbourhoods.csv" in n]
    assert "lookup of 9 small areas (column LSOA21CD) -> 3 areas (column NBH_CODE)" in note
    assert "8 small areas found as they are" in note
    assert "1 not in the polygons and in no footprint (T09)" in note


def test_lookup_as_boundary_layer_gives_the_drawn_places(tmp_path):
    """``[boundaries] place`` as an LSOA -> LAD lookup whose line cuts WEST PCN::

        | P1 | P2   P2   P2 |        WEST PCN = A00001 (T01, in P1) + A00002 (T02, in P2)
        | P1 | P2   P2   P2 |

    gives the places drawn by hand, and the same boundary findings as those places drawn
    as polygons (one: WEST PCN crosses the place line)."""
    lookup = "lsoa21_code,lad24_code,lad24_name\n" + "".join(
        f"T0{i},{'P1' if i in (1, 5) else 'P2'},{'Place one' if i in (1, 5) else 'Place two'}\n"
        for i in range(1, 9)
    )
    toml = TINY_TOML.replace('place = "place.geojson"', 'place = "place.csv"')
    study = Study.from_toml(
        write_tiny_study(tmp_path / "lookup", study_toml=toml, place_csv=lookup)
    )
    place = study.boundaries["place"].set_index("code")
    assert place.loc["P1"].geometry.bounds == (X0, Y0, X0 + 1000, Y0 + 2000)
    assert place.loc["P2"].geometry.bounds == (X0 + 1000, Y0, X0 + 4000, Y0 + 2000)
    assert place.area.to_dict() == {"P1": 2 * KM2, "P2": 6 * KM2}
    assert place.loc["P1", "name"] == "Place one"
    drawn = feature_collection([union_box("P1", range(0, 1)), union_box("P2", range(1, 4))])
    by_hand = Study.from_toml(write_tiny_study(tmp_path / "drawn", place_geojson=drawn))

    def boundary_findings(s):
        return sorted(
            (f.kind, f.pcn_code, f.practice_codes, f.value)
            for f in validate(s).findings
            if f.check == "boundaries"
        )

    found = boundary_findings(study)
    assert [(kind, pcn) for kind, pcn, _, _ in found if pcn] == [("crosses_boundary", "U00001")]
    assert found == boundary_findings(by_hand)


def test_team_lookup_aligns_like_team_polygons(tmp_path):
    """A lookup of the two halves of the grid aligns perfectly with the two PCNs."""
    lookup = "lsoa_code,team\n" + "".join(
        f"T0{i},{'TW' if i in (1, 2, 5, 6) else 'TE'}\n" for i in range(1, 9)
    )
    study = _study(tmp_path, lookup=lookup)
    result = validate(study).alignment.layers["neighbourhoods"]
    assert result.summary["coterminosity"] == 1.0
    assert result.docking.to_dict() == {"U00001": "TW", "U00002": "TE"}


def test_excel_lookup_and_polygons_key(tmp_path):
    """An .xlsx lookup dissolving polygons named in the entry (not the [areas] layer)."""
    folder = tmp_path / "study"
    toml = (
        '\n[community.neighbourhoods]\nfile = "neighbourhoods.xlsx"\nkind = "areas"\n'
        'polygons = "areas.geojson"\n'
    )
    path = write_tiny_study(
        folder,
        study_toml=TINY_TOML.replace(
            '[areas]\nfile = "areas.geojson"\npopulation = "population.csv"\n', ""
        ).replace('[registrations]\nfile = "registrations.csv"\n', "")
        + toml,
    )
    rows = [line.split(",") for line in NEIGHBOURHOODS.strip().splitlines()]
    pd.DataFrame(rows[1:], columns=rows[0]).to_excel(folder / "neighbourhoods.xlsx", index=False)
    study = Study.from_toml(path)
    assert study.areas is None
    _check_layer(study.community["neighbourhoods"].data)


def test_wrong_vintage_stops_with_one_line(tmp_path):
    lookup = "LSOA11CD,PCN_Code\nE01031386,U04748\nE01031387,U04748\nT01,U00001\n"
    with pytest.raises(
        InputError,
        match=r"neighbourhoods\.csv: 2 of the lookup's 3 small areas \(column LSOA11CD: "
        r"E01031386, E01031387\) are not in the \[areas\] layer .*areas\.geojson.*different census "
        r"vintages.*give a lookup of the polygons' vintage, or the ONS lookup between the "
        r"vintages as \[areas\] lookup",
    ) as err:
        _study(tmp_path, lookup=lookup)
    assert "\n" not in str(err.value)


def test_other_vintage_recoded_through_areas_lookup(tmp_path):
    """A lookup in old codes against polygons of the new vintage, through ``[areas]
    lookup``. The grid's boxes carry ONS-like codes here (E0100010n for Tn)::

        | E..105 | E..106 | E..107 | E..108 |
        | E..101 | E..102 | E..103 | E..104 |

    Old E01000001 split into 101 + 105; E01000002 is 102; 106 was merged from E01000003,
    E01000004 (area X) and part of E01000005 (area Y), so it goes to X (2 pieces to 1);
    107 is the rest of E01000005 (Y). 103, 104, 108 are named as they are (Y).
    """
    new = {f"T0{i}": f"E0100010{i}" for i in range(1, 9)}
    lookup = (
        "LSOA11CD,PCN_Code\n"
        "E01000001,X\nE01000002,X\nE01000003,X\nE01000004,X\nE01000005,Y\n"
        "E01000103,Y\nE01000104,Y\nE01000108,Y\n"
    )
    vintage = (
        "lsoa11_code,lsoa21_code\n"
        "E01000001,E01000101\nE01000001,E01000105\nE01000002,E01000102\n"
        "E01000003,E01000106\nE01000004,E01000106\nE01000005,E01000106\n"
        "E01000005,E01000107\n"
    )
    toml = (
        'name = "vintage"\n[practices]\nfile = "practices.csv"\nlocations = "locations.csv"\n'
        '[areas]\nfile = "new_areas.geojson"\nlookup = "vintage.csv"\n' + NBH_TOML
    )
    path = write_tiny_study(
        tmp_path,
        study_toml=toml,
        neighbourhoods_csv=lookup,
        vintage_csv=vintage,
        new_areas_geojson=box_features({new[k]: cell for k, cell in TINY_CELLS.items()}),
    )
    study = Study.from_toml(path)
    layer = study.community["neighbourhoods"].data.set_index("code")
    # X: boxes 101 102 105 106 (the west half); Y: 103 104 107 108 (the east half)
    assert layer.area.to_dict() == {"X": 4 * KM2, "Y": 4 * KM2}
    assert layer.loc["X"].geometry.bounds == (X0, Y0, X0 + 2000, Y0 + 2000)
    assert layer.loc["Y"].geometry.bounds == (X0 + 2000, Y0, X0 + 4000, Y0 + 2000)
    (note,) = [n for n in study.notes if "neighbourhoods.csv" in n]
    assert "lookup of 8 small areas" in note
    assert "3 small areas found as they are" in note
    assert "5 of another census vintage re-coded through" in note
    assert "to 5 small areas (1 merged from small areas in different areas" in note


def test_small_area_in_two_areas(tmp_path):
    lookup = NEIGHBOURHOODS + "T01,Area one,N2,Middle\n"
    with pytest.raises(
        InputError,
        match=r"neighbourhoods\.csv: 1 small area\(s\) are put in more than one area "
        r"\(T01 \(N1/N2\)\) in columns LSOA21CD and NBH_CODE; give each small area one area",
    ):
        _study(tmp_path, lookup=lookup)


def test_small_area_with_no_area_is_counted(tmp_path):
    study = _study(
        tmp_path, lookup=NEIGHBOURHOODS.replace("T09,Not drawn,N3,East", "T09,Not drawn,,")
    )
    (note,) = [n for n in study.notes if "neighbourhoods.csv" in n]
    assert "1 given no area (T09)" in note
    assert "not in the polygons" not in note
    _check_layer(study.community["neighbourhoods"].data)


def test_lookup_needs_polygons(tmp_path):
    toml = TINY_TOML.replace('[areas]\nfile = "areas.geojson"\npopulation = "population.csv"\n', "")
    toml = toml.replace('[registrations]\nfile = "registrations.csv"\n', "")
    path = write_tiny_study(tmp_path, study_toml=toml + NBH_TOML, neighbourhoods_csv=NEIGHBOURHOODS)
    with pytest.raises(
        InputError,
        match=r"neighbourhoods\.csv: \[community\.neighbourhoods\] is a table .*give \[areas\] "
        r'file = "<LSOA polygons>" or polygons = "<LSOA polygons>" in this entry',
    ):
        Study.from_toml(path)


def test_table_that_is_not_a_lookup(tmp_path):
    lookup = "team,manager\nNORTH,Ann\nSOUTH,Bob\n"
    with pytest.raises(
        SchemaError,
        match=r"neighbourhoods\.csv: is a table with no geometry and no column of small-area "
        r"codes \(columns team, manager\), but a polygon layer is needed \(GeoJSON",
    ):
        _study(tmp_path, lookup=lookup)


def test_lookup_with_no_area_column(tmp_path):
    """A population table given as a layer: small areas, but numbers, not areas."""
    lookup = "area_code,population\nT01,1000\nT02,1100\nT03,1000\n"
    with pytest.raises(
        SchemaError,
        match=r"neighbourhoods\.csv: a lookup of small area -> area needs a column of area codes "
        r"beside the small-area codes \(area_code\).*columns = \{ code = \"<column>\" \}",
    ):
        _study(tmp_path, lookup=lookup)


def test_columns_named_in_the_study_file(tmp_path):
    lookup = "Small,Hood\nT01,A\nT02,A\nT03,B\nT04,B\n"
    toml = NBH_TOML + 'columns = { area_code = "Small", code = "Hood" }\n'
    layer = _study(tmp_path, lookup=lookup, toml_extra=toml).community["neighbourhoods"].data
    assert layer.set_index("code").area.to_dict() == {"A": 2 * KM2, "B": 2 * KM2}


def test_polygons_key_must_be_a_path(tmp_path):
    toml = NBH_TOML + "polygons = 3\n"
    with pytest.raises(
        StudyFileError, match=r"\[community\.neighbourhoods\] polygons must be a path"
    ):
        _study(tmp_path, toml_extra=toml)


def test_cli_info_reads_a_lookup(tmp_path):
    path = write_tiny_study(
        tmp_path, study_toml=TINY_TOML + NBH_TOML, neighbourhoods_csv=NEIGHBOURHOODS
    )
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert re.search(r"neighbourhoods \(areas: 3, 3 located\)", result.output)


# -- real data: West Sussex PCN footprints (LSOA 2011 -> PCN, Feb 2022) ------------------


WS = "west_sussex_pcn_hi_2022_des/lsoa_pcn_lookup_Feb_22.csv"


def _real_study(shared_data, tmp_path, polygons: str, extra: str = "") -> Study:
    toml = (
        'name = "West Sussex PCN footprints"\n[practices]\n'
        f'file = "{shared_data / "ssot_pcn_boundaries" / "gp-reg-pat-prac-map.csv"}"\n'
        'where = { ICB_CODE = "QNX" }\n'
        f'[areas]\nfile = "{shared_data / "geographr" / polygons}"\n{extra}'
        f'[community.pcn_footprints]\nfile = "{shared_data / WS}"\nkind = "areas"\n'
    )
    path = tmp_path / "ws.toml"
    path.write_text(toml)
    with warnings.catch_warnings():  # LSOA 2011 has 2 self-intersections (repaired)
        warnings.simplefilter("ignore", GeoPCNWarning)
        return Study.from_toml(path)


def _plain_dissolve(shared_data, polygons: str, code: str):
    """The footprints with plain pandas / geopandas: join, dissolve, measure in BNG."""
    lookup = pd.read_csv(shared_data / WS)
    lsoa = gpd.read_file(shared_data / "geographr" / polygons).to_crs(27700)
    lsoa["geometry"] = lsoa.geometry.make_valid()
    joined = lsoa.merge(lookup, left_on=code, right_on="LSOA11CD")
    areas = joined.dissolve(by="PCN_Code").area
    missing = sorted(set(lookup.LSOA11CD) - set(lsoa[code]))
    return lookup, areas, missing


@pytest.mark.real_data
def test_real_west_sussex_on_lsoa11(shared_data, tmp_path):
    study = _real_study(shared_data, tmp_path, "boundaries_lsoa11.geojson")
    layer = study.community["pcn_footprints"].data.set_index("code")
    lookup, areas, missing = _plain_dissolve(
        shared_data, "boundaries_lsoa11.geojson", "lsoa11_code"
    )
    assert missing == []
    assert len(layer) == lookup.PCN_Code.nunique() == 20
    ratio = layer.area / areas.reindex(layer.index)
    assert ((ratio - 1).abs() < 0.001).all(), ratio.sort_values()
    names = lookup.drop_duplicates("PCN_Code").set_index("PCN_Code").PCN_Name
    assert layer.name.to_dict() == names.reindex(layer.index).to_dict()
    (note,) = [n for n in study.notes if "lsoa_pcn_lookup_Feb_22.csv" in n]
    assert "lookup of 507 small areas (column LSOA11CD) -> 20 areas (column PCN_Code)" in note
    assert "507 small areas found as they are" in note and "not in the polygons" not in note


@pytest.mark.real_data
def test_real_west_sussex_on_lsoa21_names_the_missing(shared_data, tmp_path):
    """On LSOA 2021 polygons the 2011 codes of split or merged areas are missing (24 of
    507): named in the one note, and left out of the footprints."""
    study = _real_study(shared_data, tmp_path, "boundaries_lsoa21.geojson")
    layer = study.community["pcn_footprints"].data.set_index("code")
    lookup, areas, missing = _plain_dissolve(
        shared_data, "boundaries_lsoa21.geojson", "lsoa21_code"
    )
    assert len(missing) == 24
    ratio = layer.area / areas.reindex(layer.index)
    assert len(layer) == len(areas) and ((ratio - 1).abs() < 0.001).all()
    (note,) = [n for n in study.notes if "lsoa_pcn_lookup_Feb_22.csv" in n]
    first = ", ".join(missing[:5])
    assert f"{len(lookup) - 24} small areas found as they are" in note
    assert f"24 not in the polygons and in no footprint ({first} and 19 more)" in note


def test_demo_team_lookup_is_read(tmp_path):
    """The lookup tests/test_hostile_inputs.py used to see refused: LSOA -> team."""
    import shutil

    from geo_pcn.datasets import demo_study_file

    folder = tmp_path / "demo"
    shutil.copytree(demo_study_file().parent, folder)
    (folder / "teams.csv").write_text("lsoa21_code,team\nDM0100001,NORTH\nDM0100002,SOUTH\n")
    toml = folder / "demo.toml"
    toml.write_text(toml.read_text().replace("community_teams.geojson", "teams.csv"))
    result = CliRunner().invoke(cli, ["info", str(toml)])
    assert result.exit_code == 0, result.output
    assert "teams (areas: 2, 2 located)" in result.output
    assert "lookup of 2 small areas (column lsoa21_code) -> 2 areas (column team)" in result.output


#: three ways to group the tiny boxes, none named in the study file (issue 18)::
#:
#:     LOCALITY       NETWORK        NEIGHBOURHOOD   (NETWORK_NAME names NETWORK's areas)
#:   | W  W  E  E |  | a  b  c  d |  | x  x  y  z |
#:   | W  W  E  E |  | a  b  c  d |  | x  y  y  z |
THREE_WAYS = "LSOA21CD,LOCALITY,NETWORK,NETWORK_NAME,NEIGHBOURHOOD\n" + "".join(
    f"T0{i},{'W' if col < 2 else 'E'},{'abcd'[col]},Network {'abcd'[col]},{hood}\n"
    for i, col, hood in (
        (1, 0, "x"), (2, 1, "y"), (3, 2, "y"), (4, 3, "z"),
        (5, 0, "x"), (6, 1, "x"), (7, 2, "y"), (8, 3, "z"),
    )
)


def test_lookup_with_three_candidate_columns_is_an_error(tmp_path):
    """Three columns group the small areas differently (2, 4 and 3 areas: counted by hand
    from the picture above THREE_WAYS); NETWORK_NAME groups them as NETWORK does, so it is
    not a fourth choice. Nothing is guessed: one line names the candidates and the fix."""
    with pytest.raises(
        SchemaError,
        match=r"neighbourhoods\.csv: 3 columns could each be the area of the lookup \("
        r"LOCALITY \(2 areas\), NETWORK \(4 areas\), NEIGHBOURHOOD \(3 areas\)\) and the "
        r"study file names none; choose one with columns = \{ code = \"LOCALITY\" \}",
    ) as caught:
        _study(tmp_path, lookup=THREE_WAYS)
    assert "\n" not in str(caught.value)


def test_lookup_column_chosen_in_the_study_file(tmp_path):
    """The same lookup with ``columns = { code = "NETWORK" }``: four 2 km² columns."""
    toml = NBH_TOML + 'columns = { code = "NETWORK" }\n'
    layer = _study(tmp_path, lookup=THREE_WAYS, toml_extra=toml).community["neighbourhoods"].data
    assert layer.set_index("code").area.to_dict() == {k: 2 * KM2 for k in "abcd"}
    assert layer.set_index("code").bounds.loc["c"].tolist() == [
        X0 + 2000, Y0, X0 + 3000, Y0 + 2000
    ]


def test_ons_lookup_of_several_levels_needs_the_level(tmp_path):
    """An ONS lookup with sub-ICB and ICB columns: as the ``icb`` boundary layer the level
    picks ``icb22_code``; as a community layer nothing picks, so it is an error."""
    lookup = "lsoa11_code,sicbl22_code,icb22_code\n" + "".join(
        f"T0{i},{'S1' if i in (1, 5) else 'S2'},I1\n" for i in range(1, 9)
    )
    with pytest.raises(
        SchemaError,
        match=r"2 columns could each be the area of the lookup \(sicbl22_code \(2 areas\), "
        r"icb22_code \(1 area\)\)",
    ):
        _study(tmp_path, lookup=lookup)
    toml = TINY_TOML.replace('place = "place.geojson"', 'icb = "icb.csv"')
    study = Study.from_toml(write_tiny_study(tmp_path / "icb", study_toml=toml, icb_csv=lookup))
    assert study.boundaries["icb"]["code"].tolist() == ["I1"]
