"""Practices within the site tolerance of each other, transitively, share one ``site_id``
named by the smallest practice code at it (issue 21: worked out in numpy, without networkx)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo_pcn.io.study_practices import _mark_sites
from geo_pcn.settings import BNG


def test_sites_are_joined_transitively_and_named_by_their_smallest_code():
    """Tolerance 40 m, points in metres (x along one line; E has no location)::

        C(0)--30--A(30)--30--D(60)        B(500)     F(1000) G(1010)     E: none

    C-A and A-D are within 40 m but C-D (60 m) is not: one site of three, named A (the
    smallest of A, C, D). B is alone; F and G (10 m) share site F; E has no site."""
    x = {"P000A": 30, "P000B": 500, "P000C": 0, "P000D": 60, "P000F": 1000, "P000G": 1010}
    codes = ["P000D", "P000B", "P000E", "P000C", "P000G", "P000A", "P000F"]
    geoms = [shapely.Point(x[c], 0) if c in x else None for c in codes]
    practices = gpd.GeoDataFrame(
        {"name": codes}, geometry=geoms, crs=BNG, index=pd.Index(codes, name="practice_code")
    )
    out = _mark_sites(practices, 40.0)
    expected = {
        "P000A": "P000A",
        "P000C": "P000A",
        "P000D": "P000A",
        "P000B": "P000B",
        "P000F": "P000F",
        "P000G": "P000F",
    }
    assert out["site_id"].dropna().to_dict() == expected
    assert pd.isna(out.loc["P000E", "site_id"])
    assert list(out.index) == codes  # the practices' order kept, nothing dropped
    assert "site_id" not in practices.columns  # the input is not changed
