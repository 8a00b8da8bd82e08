"""Boundary layers and population.

Fixtures are 1 km boxes in British National Grid near Stoke-on-Trent::

    +-----+-----+
    | B   | C   |     A: (400000, 300000) .. (401000, 301000)
    +-----+-----+     B: one row up, C: one up and one right
    | A   |
    +-----+
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
import shapely.affinity

from geo_pcn.errors import CRSError, GeometryError, GeoPCNWarning, InputError, SchemaError
from geo_pcn.io import Source, read_areas, read_boundaries, read_population

X0, Y0, SIZE = 400_000, 300_000, 1_000


def box(i: int, j: int) -> shapely.Polygon:
    return shapely.box(X0 + i * SIZE, Y0 + j * SIZE, X0 + (i + 1) * SIZE, Y0 + (j + 1) * SIZE)


def layer(crs="EPSG:27700", **columns) -> gpd.GeoDataFrame:
    geometry = columns.pop("geometry", [box(0, 0), box(0, 1), box(1, 1)])
    return gpd.GeoDataFrame(columns, geometry=geometry, crs=crs)


def test_ons_columns_and_level(tmp_path):
    path = tmp_path / "sicbl.geojson"
    layer(
        SICBL24CD=["E38000001", "E38000002", "E38000003"],
        SICBL24CDH=["04Y", "05D", "05G"],
        SICBL24NM=["A", "B", "C"],
        ICB24CD=["E54000010", "E54000010", "E54000011"],
        ICB24NM=["Staffs", "Staffs", "Other"],
    ).to_file(path)
    sub = read_boundaries(path, level="sub_icb")
    assert sub.attrs["format"] == "GeoJSON"
    assert list(sub.columns) == ["code", "name", "nhs_code", "geometry"]
    assert list(sub.nhs_code) == ["04Y", "05D", "05G"]
    icb = read_boundaries(path, level="icb")  # same-code features dissolved
    assert list(icb.code) == ["E54000010", "E54000011"]
    assert icb.geometry.iloc[0].area == pytest.approx(2 * SIZE * SIZE)
    assert list(icb.nhs_code) == ["", ""]
    assert icb.crs.to_epsg() == 27700


def test_explicit_columns_and_where(tmp_path):
    path = tmp_path / "teams.gpkg"
    layer(team=["North", "South", "East"], kind=["a", "b", "a"]).to_file(path, layer="teams")
    layer(other=["x", "y", "z"]).to_file(path, layer="second")
    with pytest.raises(SchemaError, match=r"teams\.gpkg: has 2 layers .*layer = "):
        read_boundaries(Source(path, columns={"code": "team"}))
    src = Source(path, columns={"code": "team"}, where={"kind": "a"}, options={"layer": "teams"})
    gdf = read_boundaries(src)
    assert list(gdf.code) == ["North", "East"]
    assert gdf.attrs["skipped"] == {"outside the where filter": 1}
    assert gdf.attrs["format"] == "GPKG"


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_crs(tmp_path):
    path = tmp_path / "nocrs.shp"
    layer(crs=None, LAD24CD=["E1", "E2", "E3"]).to_file(path)
    with pytest.raises(
        CRSError, match=r"nocrs\.shp: the shapefile's \.prj file \(nocrs\.prj\) is missing"
    ):
        read_boundaries(path)
    gdf = read_boundaries(Source(path, options={"crs": "EPSG:27700"}))
    assert gdf.crs.to_epsg() == 27700


def test_wgs84_geoparquet_projected(tmp_path):
    path = tmp_path / "lsoa.parquet"
    layer(lsoa21_code=["E01000001", "E01000002", "E01000003"], lsoa21_name=["a", "b", "c"]).to_crs(
        "EPSG:4326"
    ).to_parquet(path)
    areas = read_areas(path)
    assert list(areas.columns) == ["area_code", "area_name", "geometry"]
    assert areas.attrs["format"] == "GeoParquet"
    assert areas.total_bounds[0] == pytest.approx(X0, abs=1)


def test_invalid_polygon_repaired_with_warning(tmp_path):
    # the bow tie in the cell east of OK1 (it must not overlap OK1: layers are checked)
    bowtie = shapely.affinity.translate(
        shapely.Polygon([(X0, Y0), (X0 + SIZE, Y0 + SIZE), (X0 + SIZE, Y0), (X0, Y0 + SIZE)]),
        2 * SIZE,
    )
    path = tmp_path / "bad.geojson"
    layer(code=["OK1", "BOW", "OK2"], geometry=[box(0, 0), bowtie, box(1, 1)]).to_file(path)
    with pytest.warns(
        GeoPCNWarning,
        match=r"bad\.geojson: repaired 1 invalid .*BOW "
        r"\(Self-intersection",
    ) as record:
        gdf = read_boundaries(path)
    assert record[0].filename == __file__  # points at the caller
    assert gdf.is_valid.all()
    assert gdf.set_index("code").loc["BOW", "geometry"].area == pytest.approx(SIZE * SIZE / 2)


def test_null_geometry(tmp_path):
    path = tmp_path / "null.geojson"
    layer(code=["A", "B", "C"], geometry=[box(0, 0), None, box(1, 1)]).to_file(path)
    with pytest.raises(GeometryError, match=r"null\.geojson: feature\(s\) B have no geometry"):
        read_boundaries(path)


def test_points_are_not_boundaries(tmp_path):
    path = tmp_path / "pts.geojson"
    layer(code=["A", "B"], geometry=[shapely.Point(X0, Y0), box(0, 0)]).to_file(path)
    with pytest.raises(
        GeometryError,
        match=r"pts\.geojson: boundaries must be polygons, but "
        r"feature\(s\) A are Point",
    ):
        read_boundaries(path)


def test_outside_gb(tmp_path):
    path = tmp_path / "far.geojson"
    far = shapely.box(2_000_000, 0, 2_001_000, 1_000)
    layer(code=["A", "FAR"], geometry=[box(0, 0), far]).to_file(path)
    with pytest.raises(GeometryError, match=r"far\.geojson: feature\(s\) FAR lie outside Great"):
        read_boundaries(path)


def test_degrees_labelled_as_bng(tmp_path):
    path = tmp_path / "deg.geojson"
    layer(code=["A"], geometry=[shapely.box(-2.1, 52.7, -2.0, 52.8)]).to_file(path)
    with pytest.raises(GeometryError, match=r"deg\.geojson: coordinates look like degrees"):
        read_boundaries(path)


def test_empty_layer(tmp_path):
    path = tmp_path / "empty.gpkg"
    layer(code=["A"], geometry=[box(0, 0)]).iloc[:0].to_file(path)
    with pytest.raises(InputError, match=r"empty\.gpkg: the boundary layer has no features"):
        read_boundaries(path)


def test_no_code_column(tmp_path):
    path = tmp_path / "anon.geojson"
    layer(colour=["r", "g", "b"]).to_file(path)
    with pytest.raises(
        SchemaError,
        match=r"anon\.geojson: not a recognised boundary file.*"
        r"columns = \{ code =",
    ):
        read_boundaries(path)


def test_missing_and_unreadable(tmp_path):
    with pytest.raises(InputError, match=r"gone\.geojson: boundary file not found"):
        read_boundaries(tmp_path / "gone.geojson")
    junk = tmp_path / "junk.geojson"
    junk.write_text("this is not json")
    with pytest.raises(InputError, match=r"junk\.geojson: not a readable boundary file"):
        read_boundaries(junk)


def test_population(write):
    frame = read_population(write("pop.csv", '"lsoa21_code","total_residents"\n"E01000001",1474\n'))
    assert frame.to_dict("list") == {"area_code": ["E01000001"], "population": [1474]}
    assert frame.population.dtype == "int64"
    with pytest.raises(InputError, match=r"pop2\.csv: column population .*line 3 \('-5'\)"):
        read_population(write("pop2.csv", "area_code,population\nE01000001,5\nE01000002,-5\n"))


# -- areas must be a coverage (issue 10, item 7) --------------------------------------------


def _areas_file(tmp_path, geometry, codes):
    path = tmp_path / "lsoa.geojson"
    layer(geometry=geometry, LSOA21CD=codes).to_file(path)
    return path


@pytest.mark.parametrize(
    ("geometry", "codes", "pattern"),
    [
        # B copied under a new code
        ([box(0, 0), box(0, 1), box(1, 1), box(0, 1)], ["A", "B", "C", "D"], r"B and D \(100%"),
        # B twice under its own code
        (
            [box(0, 0), box(0, 1), box(1, 1), box(0, 1)],
            ["A", "B", "C", "B"],
            r"B \(features 2 and 4\)",
        ),
        # D covers A, B and C
        (
            [box(0, 0), box(0, 1), box(1, 1), shapely.box(X0, Y0, X0 + 2 * SIZE, Y0 + 2 * SIZE)],
            ["A", "B", "C", "D"],
            r"D overlaps 3 areas \(A, B, C\)",
        ),
        # C shifted 300 m onto B
        (
            [box(0, 0), box(0, 1), shapely.affinity.translate(box(1, 1), -300)],
            ["A", "B", "C"],
            r"B and C \(30%",
        ),
    ],
)
def test_overlapping_areas_are_refused(tmp_path, geometry, codes, pattern):
    path = _areas_file(tmp_path, geometry, codes)
    with pytest.raises(
        GeometryError, match=r"lsoa\.geojson: small areas must not overlap.*" + pattern
    ):
        read_areas(path)
    # boundary layers are checked too (issue 19): an overlap between two codes is refused;
    # one code in two features is one polygon (merged)
    if len(set(codes)) < len(codes):
        assert len(read_boundaries(path, level="place")) == len(set(codes))
    else:
        with pytest.raises(GeometryError, match=r"place layer must not overlap.*" + pattern):
            read_boundaries(path, level="place")


def test_slivers_and_parts_are_not_overlaps(tmp_path):
    """A 2 m sliver (generalised files) and a code split over two touching features pass."""
    sliver = shapely.affinity.translate(box(1, 1), -2)
    path = _areas_file(tmp_path, [box(0, 0), box(0, 1), sliver, box(1, 0)], ["A", "B", "C", "A"])
    areas = read_areas(path)
    assert sorted(areas.area_code) == ["A", "B", "C"]
