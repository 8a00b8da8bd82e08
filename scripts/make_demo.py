"""Regenerate the synthetic demo region into boundaries/demo/ and boundaries/manifest.json.

Usage: python scripts/make_demo.py [--out BOUNDARIES_DIR]

Deterministic (fixed seed), offline, a few seconds. The generator is the dev-only package
scripts/demo_gen/ (not in the wheel). The generator checks its own output
against the planning rules and writes nothing if a planted problem is missing or an
unplanned one appears.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from demo_gen.generate import generate, write_manifest  # scripts/ is on sys.path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "boundaries",
        help="boundaries folder (default: the repository's boundaries/)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    planted = generate(args.out / "demo")
    manifest = write_manifest(args.out)
    print(
        f"wrote {args.out / 'demo'} ({len(planted)} planted problems) and {manifest} "
        f"in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
