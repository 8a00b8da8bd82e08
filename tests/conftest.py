"""Shared fixtures: where the real data lives, and a skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Real NHS England / ONS / OS open data, kept beside the project (never copied into it).
SHARED_DATA = Path(os.environ.get("GEO_PCN_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real data; skips the test when it is absent."""
    if not (SHARED_DATA / "ssot_pcn_boundaries").is_dir():
        pytest.skip(
            f"real NHS/ONS data not found at {SHARED_DATA} (set GEO_PCN_SHARED_DATA to the "
            "folder that holds ssot_pcn_boundaries/, geographr/, codepoint_open_2025/ ...)"
        )
    return SHARED_DATA
