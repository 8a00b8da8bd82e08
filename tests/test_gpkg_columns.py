"""The GeoPackage holds every column a report gives it, whatever its values' kinds.

A finding's threshold is a number (a band limit, a distance) for most findings and a code
for a recorded-code mismatch (the sub-ICB the practice is recorded in): after a proposal on
the QNC practices with the national files both kinds sat in one column, and the write
through Arrow stopped the CLI with a traceback."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import shapely

from geo_pcn.render.gpkg import write_gpkg


def test_a_column_of_codes_and_numbers_is_written_as_text(tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "kind": ["recorded_code_mismatch", "above_band", "detached_group"],
            "threshold": ["05D", 50000.0, None],
            "value": [1.0, 51000.0, 1147.0],
        },
        geometry=[shapely.Point(0, 0), shapely.Point(1, 1), shapely.Point(2, 2)],
        crs=27700,
    )
    path = write_gpkg({"findings": frame}, tmp_path / "f.gpkg")
    back = pyogrio.read_dataframe(path, layer="findings")
    assert back["threshold"].tolist()[:2] == ["05D", "50000.0"]
    assert back["threshold"].isna().tolist() == [False, False, True]
    assert back["value"].tolist() == [1.0, 51000.0, 1147.0]  # numbers stay numbers
    assert back["kind"].tolist() == frame["kind"].tolist()
