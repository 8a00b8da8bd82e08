"""Study.from_toml on the tiny hand-drawn study (see tests/conftest.py for its picture)."""

from __future__ import annotations

import pandas as pd
import pytest
from tiny import write_tiny_study

from geo_pcn.configuration import Configuration
from geo_pcn.errors import InputError
from geo_pcn.study import Study


def test_tiny_study_loads_every_input(tiny_study_file):
    study = Study.from_toml(tiny_study_file)
    assert study.name == "Tiny test study"
    assert list(study.practices.index) == ["A00001", "A00002", "A00003", "A00004", "A00005"]
    assert study.practices.crs.to_epsg() == 27700
    assert study.practices.geometry.notna().all()
    assert study.practices.loc["A00001"].geometry.coords[0] == (400_500.0, 300_500.0)
    # list sizes come from the registrations, pseudo-area rows included
    assert study.practices["list_size"].to_dict() == {
        "A00001": 1905,
        "A00002": 1903,
        "A00003": 1902,
        "A00004": 1900,
        "A00005": 850,
    }
    assert study.n_patients == 1905 + 1903 + 1902 + 1900 + 850
    assert study.configuration.members == {
        "U00001": ("A00001", "A00002"),
        "U00002": ("A00003", "A00004", "A00005"),
    }
    assert study.configuration.names == {"U00001": "WEST PCN", "U00002": "EAST PCN"}
    assert study.areas.crs.to_epsg() == 27700
    assert len(study.areas) == 8
    assert study.areas.loc["T03", "population"] == 1200
    assert set(study.boundaries) == {"place"}
    assert sorted(study.boundaries["place"]["code"]) == ["EAST", "WEST"]
    assert study.rules.band == (3000, 5000)
    assert study.footprint_method == "registrations"


def test_colocated_practices_share_a_site(tiny_study_file):
    study = Study.from_toml(tiny_study_file)
    assert study.colocated == {"A00004": ("A00004", "A00005")}
    assert study.practices.loc["A00005", "site_id"] == "A00004"
    assert study.practices.loc["A00001", "site_id"] == "A00001"


def test_summary_counts_pseudo_areas(tiny_study_file):
    summary = Study.from_toml(tiny_study_file).summary()
    assert summary["n_practices"] == 5
    assert summary["n_located"] == 5
    assert summary["n_sharing_site"] == 2
    reg = summary["registrations"]
    assert reg["n_patients"] == 8460
    assert reg["by_area_kind"] == {"small_area": 8450, "unknown": 8, "wales": 2}


def test_proposed_configuration_replaces_recorded_pcns(tmp_path):
    path = write_tiny_study(
        tmp_path,
        proposed_csv="practice_code,pcn_code,pcn_name\nA00001,N1,North\nA00002,N1,North\n"
        "A00003,N2,South\nA00004,N2,South\n",
    )
    text = path.read_text() + '[configuration]\nfile = "proposed.csv"\n'
    path.write_text(text)
    study = Study.from_toml(path)
    assert study.configuration.members == {"N1": ("A00001", "A00002"), "N2": ("A00003", "A00004")}
    # A00005 is left out of the proposal: in no PCN, not dropped
    assert study.configuration.unassigned == ("A00005",)


def test_pcn_names_without_codes_identify_the_pcn(tmp_path):
    path = write_tiny_study(tmp_path)
    (tmp_path / "proposed.csv").write_text(
        "practice_code,pcn_name\nA00001,Riverside\nA00002,Riverside\nA00003,Hills\n"
        "A00004,Hills\nA00005,Hills\n"
    )
    path.write_text(path.read_text() + '[configuration]\nfile = "proposed.csv"\n')
    config = Study.from_toml(path).configuration
    assert config.members == {
        "Hills": ("A00003", "A00004", "A00005"),
        "Riverside": ("A00001", "A00002"),
    }


def test_with_configuration_rejects_unknown_practices(tiny_study_file):
    study = Study.from_toml(tiny_study_file)
    with pytest.raises(InputError, match="Z99999"):
        study.with_configuration(Configuration({"Z99999": "U00001"}))


def test_configuration_is_immutable():
    config = Configuration({"A00001": "U1"})
    with pytest.raises(AttributeError, match="immutable"):
        config.parent = None


def test_community_area_layer_keeps_its_declared_pcn_column(tmp_path):
    import json

    from tiny import TINY_CELLS, box_features

    doc = json.loads(box_features(TINY_CELLS))
    for feature in doc["features"]:
        feature["properties"]["Aligned PCN"] = (
            "U00001" if feature["properties"]["code"] in ("T01", "T05") else "U00002"
        )
    path = write_tiny_study(tmp_path, teams_geojson=json.dumps(doc))
    path.write_text(
        path.read_text()
        + '[community.teams]\nfile = "teams.geojson"\nkind = "areas"\npcn = "Aligned PCN"\n'
    )
    layer = Study.from_toml(path).community["teams"]
    assert layer.kind == "areas"
    assert layer.data.set_index("code")["pcn_code"].to_dict()["T05"] == "U00001"
    assert layer.data.set_index("code")["pcn_code"].to_dict()["T02"] == "U00002"


# -- a Study made in Python is checked too; its caches die with it and never go stale ------


def test_a_study_built_in_python_from_wgs84_frames_is_refused(tiny_study_file):
    import dataclasses

    study = Study.from_toml(tiny_study_file)
    wgs84 = study.practices.to_crs(4326)
    with pytest.raises(InputError, match=r"practices is in EPSG:4326.*to_crs\(27700\)"):
        dataclasses.replace(study, practices=wgs84)
    with pytest.raises(InputError, match=r"areas is in EPSG:4326"):
        dataclasses.replace(study, areas=study.areas.to_crs(4326))
    twice = pd.concat([study.practices, study.practices.iloc[:1]])
    with pytest.raises(InputError, match=r"A00001 appear more than once"):
        dataclasses.replace(study, practices=twice)


def test_a_validated_study_is_freed_with_its_caches(tiny_study_file):
    import gc
    import weakref

    from geo_pcn import validate

    study = Study.from_toml(tiny_study_file)
    validate(study)
    ref = weakref.ref(study)
    del study
    gc.collect()
    assert ref() is None


def test_editing_practices_after_a_validate_is_not_served_stale(tiny_study_file):
    from geo_pcn import validate

    study = Study.from_toml(tiny_study_file)
    before = validate(study).pcns.set_index("pcn_code")["list_size"]
    assert before["U00001"] == 1905 + 1903
    study.practices.loc["A00001", "list_size"] = 100_000
    after = validate(study).pcns.set_index("pcn_code")["list_size"]
    assert after["U00001"] == 100_000 + 1903
