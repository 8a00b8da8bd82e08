"""A PCN with no footprint (a new PCN whose practices win no area, as a national proposal
makes) is drawn as nothing and warns nothing: geopandas' ``GeoSeries.notna`` warns when a
series holds empty geometries, and a planner saw that warning repeated after
``geo-pcn propose`` on all of England."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import shapely

from geo_pcn.render._map_data import footprint_adjacency


def test_an_empty_footprint_is_left_out_without_a_warning():
    """Three PCNs: U1 and U2 are unit squares side by side (touching), U3 is empty, U4
    is missing. Touching pairs, by hand: only U1-U2."""
    frame = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.Polygon(), None],
        index=pd.Index(["U1", "U2", "U3", "U4"], name="pcn_code"),
        crs=27700,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph = footprint_adjacency(frame)
    assert sorted(graph.nodes) == ["U1", "U2", "U3", "U4"]
    assert sorted(map(sorted, graph.edges)) == [["U1", "U2"]]


def test_the_count_of_sites_not_located_is_a_count():
    """The demo's community sites are all placed (each has coordinates in its CSV), so no
    note says some could not be located; counting the missing ones with a negation of the
    wrong thing once said "-12 sites could not be located"."""
    from geo_pcn.datasets import demo

    study = demo()
    assert [n for n in study.notes if "could not be located" in n] == []
    for layer in study.community.values():
        assert layer.n_located == len(layer.data)
