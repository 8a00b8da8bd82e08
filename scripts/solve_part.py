"""Solve one part of a study's proposal on its own (one process, one worker), to iterate on
the search: ``build`` pickles the parts once, ``solve`` answers one part by name.

    python scripts/solve_part.py build tests/real/national_2022.toml /tmp/gap/parts.pkl
    python scripts/solve_part.py solve /tmp/gap/parts.pkl E54000008 --time-limit 30 --gap 0.01

Prints practices, status, heuristic, best, bound, gap, wall and CPU seconds and the load
average (the machine is shared: CPU seconds are the figure to compare).
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path


def cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def build(study_file: Path, out: Path) -> None:
    from geo_pcn import Study
    from geo_pcn.pipeline import validate
    from geo_pcn.proposal import settings_for
    from geo_pcn.proposal._parts import _parts

    study = Study.from_toml(study_file)
    config = study.configuration
    report = validate(study, config)
    joined = {
        f.pcn_code
        for f in report.findings
        if f.check == "contiguity" and f.pcn_code and f.kind == "joined_by_footprint"
    } - {
        f.pcn_code
        for f in report.findings
        if f.check == "contiguity" and f.pcn_code and f.kind == "detached_group"
    }
    settings = settings_for(study, config)
    parts, _ = _parts(study, config, {**settings, "_joined": joined})
    out.write_bytes(pickle.dumps(parts))
    print(f"{len(parts)} parts -> {out}")


def solve(parts_file: Path, names: list[str], time_limit: float, gap: float) -> None:
    from geo_pcn.proposal.model import solve as solve_part

    parts = {p.name: p for p in pickle.loads(parts_file.read_bytes())}
    print("part | practices | status | heuristic | best | bound | gap | wall s | cpu s | load")
    for name in names:
        part = replace(parts[name], time_limit=time_limit, gap=gap)
        t, c = time.perf_counter(), cpu_seconds()
        r = solve_part(part)
        wall, cpu = time.perf_counter() - t, cpu_seconds() - c
        gap_s = "-" if r.gap is None else f"{100 * r.gap:.2f}%"
        load = "/".join(f"{v:.1f}" for v in os.getloadavg())
        print(
            f"{name} | {len(part.practices)} | {r.status} | {r.heuristic} | {r.value} | "
            f"{r.bound} | {gap_s} | {wall:.1f} | {cpu:.1f} | {load}",
            flush=True,
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("study", type=Path)
    b.add_argument("out", type=Path)
    s = sub.add_parser("solve")
    s.add_argument("parts", type=Path)
    s.add_argument("names", nargs="+")
    s.add_argument("--time-limit", type=float, default=30.0)
    s.add_argument("--gap", type=float, default=0.01)
    args = ap.parse_args()
    if args.cmd == "build":
        build(args.study, args.out)
    else:
        solve(args.parts, args.names, args.time_limit, args.gap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
