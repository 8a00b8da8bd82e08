"""A scenario step's PCN setting (rural share, IMD) is updated from its parent's: it must
be exactly the full computation's, whatever the order the checks ask for it in."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from geo_pcn import Configuration, validate
from geo_pcn.datasets import demo
from geo_pcn.pipeline import revalidate


def _study_with_setting():
    study = demo()
    rng = np.random.default_rng(0)
    n = len(study.areas)
    study.areas["rural"] = rng.random(n) < 0.4
    study.areas["imd_score"] = np.round(rng.random(n) * 60, 3)
    study.areas["imd_decile"] = rng.integers(1, 11, n).astype(float)
    return study


def _moves(study, report, n: int, seed: int):
    rng = random.Random(seed)
    graph = report.context.graph
    config = study.configuration
    for _ in range(n):
        while True:
            practice = rng.choice(config.practice_codes)
            here = config.pcn_of(practice)
            options = sorted({config.pcn_of(p) for p in graph.neighbors(practice)} - {"", here})
            if options and here:
                break
        config = config.move(practice, to=rng.choice(options))
        yield config


def test_revalidated_setting_is_the_full_one():
    study = _study_with_setting()
    report = validate(study)
    assert {"pct_rural", "imd_score", "imd_decile"} <= set(report.context.pcn_setting.columns)
    for config in _moves(study, report, 8, seed=1):
        report = revalidate(report, config)
        fresh = validate(study, Configuration(config.assignments, config.names))
        pd.testing.assert_frame_equal(
            report.context.pcn_setting, fresh.context.pcn_setting, check_exact=True
        )
        assert report.findings == fresh.findings
        assert report.summary == fresh.summary


def test_setting_asked_before_the_footprints_is_the_full_one():
    study = _study_with_setting()
    report = validate(study)
    for config in _moves(study, report, 4, seed=2):
        # named checks: a full run on a context that still holds its parent's
        step = validate(study, config, checks=["size", "contiguity", "coverage"])
        fresh = validate(study, Configuration(config.assignments, config.names))
        pd.testing.assert_frame_equal(
            step.context.pcn_setting, fresh.context.pcn_setting, check_exact=True
        )
        report = validate(study, config)
