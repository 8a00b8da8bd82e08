"""Put ``scripts/`` on ``sys.path`` so the tests can import the dev-only demo generator
(:mod:`demo_gen`), which is not part of the geo_pcn package or its wheel."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
