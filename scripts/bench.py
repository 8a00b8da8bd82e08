"""Benchmark geo_pcn stage by stage on the real national study and the real QNC study.

    .venv/bin/python scripts/bench.py                 # every study (needs ../shared/data)
    .venv/bin/python scripts/bench.py --only national
    .venv/bin/python scripts/bench.py --only qnc --moves 200

The studies are the test ones: ``tests/real/national_2022.toml`` (every practice of the NHS
practice -> PCN map of July 2022, the national registrations, LSOA 2011 polygons, lines from
the ONS LSOA lookup, rural-urban classes and IMD), ``tests/real/qnc_national_2022.toml``
(one ICB's practices with the national files, as a planner runs it),
``tests/real/sheffield_ccg_national_2022.toml`` (one CCG of 79 practices with the national
files) and ``tests/real/qnc_oct2025.toml`` (one ICB, October 2025). Each run is its own process, so
each peak memory (resident set size) is its own; files are in the OS cache (the floor reads
them first). Each study runs **cold** (an empty input cache in a temporary folder: every
file parsed and stored) and then **warm** (the same folder: every file's bytes hashed,
the parsed tables read back).

For each study it prints:

* seconds per stage of ``geo-pcn validate`` (as its progress lines time them): load (the
  study file and every input), territories, graph, footprints, checks (the rest of
  ``validate``), report (every output file but the map), map (``map.html``), total; the
  CPU seconds (user + system) of the load and of the whole run, which other work on a
  shared machine hardly moves (wall seconds double when the load average is 4 on 2
  cores); peak MB;
* ``geo-pcn info`` warm: the wall and CPU seconds of the whole command in its own process
  (Python started, geo_pcn imported, the study loaded from the warm cache, its residents
  table worked out and printed), once as this checkout runs (with
  ``PYTHONDONTWRITEBYTECODE`` set every geo_pcn module is compiled at each start, about
  0.2 CPU s) and once with its bytecode compiled, as an installed package runs; beside the
  seconds of ``import geo_pcn.cli`` alone;
* the load average of the machine before and after (it is shared: figures move with it);
* **the read floor**: the seconds to merely read the same input files with plain pandas /
  pyogrio (each file named in the study file, by its extension; a Code-Point folder as the
  area CSVs the practices' postcodes need), and the ratio total / floor;
* seconds per output file;
* with ``--propose qnc|national|both``: ``geo_pcn.propose`` (the least disruptive repair) per
  study, wall seconds and per part its status, gap and seconds (``--speedup``: national
  with 1 and with 2 local workers; ``--moves 0 --propose ...`` runs the proposals only);
* the scenario loop, in one process: one full ``validate`` of the study (its geography
  built), then single-practice moves (each practice on a PCN edge moved to the PCN of a
  neighbouring practice, one after the other), each re-validated from the previous report
  (``geo_pcn.revalidate``: the report's partition flipped), then the same moves through
  ``Editor.move`` (the move alone: the editor makes its tables when read), and the first
  read of the editor's findings and PCN sizes tables after each move: median, p90 and max
  milliseconds.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
STUDIES = {
    "national": ROOT / "tests" / "real" / "national_2022.toml",
    "qnc_national": ROOT / "tests" / "real" / "qnc_national_2022.toml",
    "ccg_national": ROOT / "tests" / "real" / "sheffield_ccg_national_2022.toml",
    "qnc": ROOT / "tests" / "real" / "qnc_oct2025.toml",
}
NAMES = {
    "national": "England, July 2022 (real)",
    "qnc_national": "QNC from the national files, July 2022 (real)",
    "ccg_national": "Sheffield CCG from the national files, July 2022 (real)",
    "qnc": "QNC, October 2025 (real)",
}
_POSTCODE = re.compile(r"^[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}$")
STAGES = ["load", "territories", "graph", "footprints", "checks", "report", "map", "total"]


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (unlike wall seconds, hardly moved
    by other work on a shared machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the workers (each in its own process) ----------------------------------------------------
def run_stages(study_file: Path, out_dir: Path) -> dict:
    """Time each stage of ``geo-pcn validate`` on one study file (every output written),
    with the garbage collector set as the ``geo-pcn`` command sets it."""
    import gc

    from geo_pcn import Study, validate
    from geo_pcn.cli import GC_THRESHOLDS
    from geo_pcn.progress import reporting
    from geo_pcn.render import write_report

    gc.set_threshold(*GC_THRESHOLDS)
    timings: dict[str, float] = {}
    with reporting(True, stream=io.StringIO(), timings=timings):
        start, cpu_start = time.perf_counter(), cpu_seconds()
        study = Study.from_toml(study_file)
        loaded, cpu_loaded = time.perf_counter(), cpu_seconds()
        report = validate(study)
        _ = report.summary
        checked = time.perf_counter()
        write_report(report, out_dir)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the forked output writer
        written, cpu_written = time.perf_counter(), cpu_seconds() + kids.ru_utime + kids.ru_stime
    steps = ("territories", "graph", "footprints")
    files = {k: v for k, v in timings.items() if k not in steps and not k.startswith("check ")}
    out = {
        "load": loaded - start,
        "territories": timings.get("territories", 0.0),
        "graph": timings.get("graph", 0.0),
        "footprints": timings.get("footprints", 0.0),
        "map": timings.get("map.html", 0.0),
        "total": written - start,
    }
    out["cpu_load"] = cpu_loaded - cpu_start
    out["cpu_total"] = cpu_written - cpu_start
    out["checks"] = checked - loaded - out["territories"] - out["graph"] - out["footprints"]
    out["report"] = written - checked - out["map"]
    out["files"] = files
    out["map_mb"] = (out_dir / "map.html").stat().st_size / 1e6
    out["n_practices"] = len(study.practices)
    out["n_pcns"] = study.configuration.n_pcns
    out["n_areas"] = 0 if study.areas is None else len(study.areas)
    out["n_findings"] = len(report.findings)
    out["peak_mb"] = peak_mb()
    return out


def _moves(config, graph, n_moves: int, seed: int) -> list[tuple[str, str]]:
    """``n_moves`` single-practice moves, one after the other: each a practice on a PCN
    edge moved to the PCN of a neighbouring practice."""
    rng = random.Random(seed)
    out = []
    for _ in range(n_moves):
        while True:
            practice = rng.choice(config.practice_codes)
            here = config.pcn_of(practice)
            options = sorted({config.pcn_of(n) for n in graph.neighbors(practice)} - {"", here})
            if options and here:
                break
        to = rng.choice(options)
        config = config.move(practice, to=to)
        out.append((practice, to))
    return out


def _stats(times: list[float]) -> dict:
    return {
        "median_ms": 1000 * float(np.median(times)),
        "p90_ms": 1000 * float(np.percentile(times, 90)),
        "max_ms": 1000 * max(times),
    }


def run_moves(study_file: Path, *, n_moves: int, seed: int = 1) -> dict:
    """In one process: a full ``validate`` of the study (timed after a first, untimed one
    has built the geography, as the moves are timed with it built), then ``n_moves``
    single-practice moves re-validated from the previous report (``revalidate``), then the
    same moves through ``Editor.move``."""
    from geo_pcn import Configuration, Study, validate
    from geo_pcn.editor import Editor
    from geo_pcn.pipeline import revalidate

    study = Study.from_toml(study_file)
    report = validate(study)  # builds the geography (territories, graph) once
    _ = report.ok, report.summary
    t = time.perf_counter()
    start = study.configuration
    fresh = validate(study, Configuration(start.assignments, start.names))
    _ = fresh.ok, fresh.summary
    full = time.perf_counter() - t
    moves = _moves(study.configuration, report.partition.graph, n_moves, seed)
    times = []
    config = study.configuration
    for practice, to in moves:
        t = time.perf_counter()
        config = config.move(practice, to=to)
        report = revalidate(report, config)
        _ = report.ok, report.summary
        times.append(time.perf_counter() - t)
    editor = Editor(study)
    editor_times, table_times = [], []
    for practice, to in moves:
        t = time.perf_counter()
        step = editor.move(practice, to=to)
        _ = step.ok, step.summary
        editor_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        _ = editor.findings, editor.pcn_sizes
        table_times.append(time.perf_counter() - t)
    return {
        "n_moves": n_moves,
        **_stats(times),
        "editor": _stats(editor_times),
        "editor_tables": _stats(table_times),
        "full_ms": 1000 * full,
    }


def run_propose(study_file: Path, *, workers: int, limit: float, gap: float) -> dict:
    """Time ``geo_pcn.propose`` (the geography built first, as ``validate`` leaves it):
    wall seconds, and per part its practices, status, gap and solver seconds."""
    from geo_pcn import Study
    from geo_pcn.geography import geography_of
    from geo_pcn.proposal import propose

    study = Study.from_toml(study_file)
    geography_of(study)
    t = time.perf_counter()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu_seconds() + kids.ru_utime + kids.ru_stime
    proposal = propose(study, gap=gap, time_limit=limit, workers=workers)
    wall = time.perf_counter() - t
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu_seconds() + kids.ru_utime + kids.ru_stime - cpu  # the worker processes too
    parts = proposal.parts
    return {
        "workers": workers,
        "cpu": cpu,
        "wall": wall,
        "summary": proposal.summary,
        "parts": json.loads(parts.to_json(orient="records")),
        "peak_mb": peak_mb(),
    }


def _inputs(study_file: Path) -> list[tuple[str, Path]]:
    """Every input file the study file names: (what, path)."""
    spec = tomllib.loads(study_file.read_text(encoding="utf-8"))
    base = study_file.parent
    found: list[tuple[str, Path]] = []

    def visit(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key != "where":
                    visit(f"{prefix}.{key}" if prefix else key, inner)
        elif isinstance(value, str) and ("/" in value or "." in Path(value).name):
            path = (base / value).resolve()
            if path.exists():
                found.append((prefix, path))

    visit("", spec)
    return found


def _read_plain(what: str, path: Path, postcodes: list[str]) -> int:
    """Read one input with plain pandas / pyogrio; returns its rows."""
    import pandas as pd
    import pyogrio

    name = path.name.lower()
    if path.is_dir():  # Code-Point Open: the area CSVs the practices' postcodes need
        folder = path / "Data" / "CSV" if (path / "Data" / "CSV").is_dir() else path
        areas = set(pd.Series(postcodes).str.extract(r"^([A-Z]{1,2})\d", expand=False).dropna())
        rows = 0
        for area in sorted(areas):
            csv = folder / f"{area.lower()}.csv"
            if csv.is_file():
                rows += len(pd.read_csv(csv, header=None))
        return rows
    if name.endswith(".parquet"):
        return len(pd.read_parquet(path))
    if name.endswith((".xlsx", ".xls")):  # the fastest plain read: calamine when installed
        return len(pd.read_excel(path, engine=_excel_engine()))
    if name.endswith((".geojson", ".gpkg", ".shp", ".json")):
        return len(pyogrio.read_dataframe(path))
    return len(pd.read_csv(path, low_memory=False))


def _excel_engine() -> str:
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return "openpyxl"
    return "calamine"


def _postcodes_needed(study_file: Path) -> list[str]:
    """The postcodes a Code-Point folder is read for: those of each section's file (its
    ``where`` applied) that names ``postcodes``, read with plain pandas."""
    import pandas as pd

    spec = tomllib.loads(study_file.read_text(encoding="utf-8"))
    sections = [spec.get("practices", {}), *spec.get("community", {}).values()]
    out: list[str] = []
    for section in sections:
        if not isinstance(section, dict) or "postcodes" not in section or "file" not in section:
            continue
        path = (study_file.parent / section["file"]).resolve()
        frame = (
            pd.read_excel(path, engine=_excel_engine())
            if path.suffix == ".xlsx"
            else pd.read_csv(path, dtype=str)
        )
        if not any(_POSTCODE.match(str(c)) is None and "POSTCODE" in str(c).upper() for c in frame):
            frame = pd.read_csv(path, header=None, dtype=str)  # a header-less ODS file
        upper = {str(c).upper(): c for c in frame.columns}
        for column, value in section.get("where", {}).items():
            if str(column).upper() in upper:
                frame = frame[frame[upper[str(column).upper()]].astype(str) == str(value)]
            else:  # no such column (a header-less file): rows holding the value anywhere
                frame = frame[(frame.astype(str) == str(value)).any(axis=1)]
        # the postcode column: the one whose values look most like postcodes
        looks = {c: frame[c].astype(str).str.match(_POSTCODE.pattern).mean() for c in frame}
        column = max(looks, key=looks.get) if looks else None
        if column is not None and looks[column] > 0.5:
            out += frame[column].dropna().astype(str).str.upper().tolist()
    return out


def run_floor(study_file: Path) -> dict:
    """Seconds to merely read the study's input files with plain pandas / pyogrio (warm:
    each is read once first)."""

    inputs = _inputs(study_file)
    postcodes = _postcodes_needed(study_file)
    per_file = {}
    for what, path in inputs:
        _read_plain(what, path, postcodes)  # warm
        t = time.perf_counter()
        rows = _read_plain(what, path, postcodes)
        per_file[f"{what}: {path.name}"] = (time.perf_counter() - t, rows)
    return {"floor": sum(s for s, _ in per_file.values()), "files": per_file}


def _worker(args) -> int:
    warnings.simplefilter("ignore")
    study_file = STUDIES[args.worker]
    if args.task == "floor":
        result = run_floor(study_file)
    elif args.task == "stages":
        with tempfile.TemporaryDirectory() as tmp:
            result = run_stages(study_file, Path(tmp) / "out")
    elif args.task == "propose":
        result = run_propose(
            study_file, workers=args.workers, limit=args.propose_limit, gap=args.propose_gap
        )
    else:
        result = run_moves(study_file, n_moves=args.moves)
    json.dump(result, sys.stdout)
    return 0


def _spawn(name: str, task: str, moves: int, *extra: str, cache: str | None = None) -> dict:
    """Run one task in its own process; ``cache``: the input cache folder it uses (a
    fresh one is cold, the same one again warm), ``None``: no cache."""
    env = dict(os.environ, GEO_PCN_CACHE=cache or "off")
    done = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--task", task, "--moves", str(moves)]
        + list(extra),
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(done.stdout)


def _timed_command(
    argv: list[str], cache: str | None, *, pycache: str | None = None
) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one command in its own process
    (everything: start, imports, work). ``pycache``: a folder for compiled bytecode
    (``PYTHONPYCACHEPREFIX``), so that the command runs as an installed package does
    (pip compiles the modules once); without it, with ``PYTHONDONTWRITEBYTECODE`` set (as
    on the shared machine), every module of a source checkout is compiled on each start."""
    env = dict(os.environ, GEO_PCN_CACHE=cache or "off", PYTHONWARNINGS="ignore")
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, check=False, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def time_info(name: str, cache: str) -> dict:
    """``geo-pcn info`` on the study with the warm cache ``cache`` (as the shared machine
    runs a checkout, and with its bytecode compiled, as installed: the second of two runs
    with a fresh ``PYTHONPYCACHEPREFIX``), and ``import geo_pcn.cli`` alone, each the wall
    (and CPU) seconds of its own process."""
    cli = [sys.executable, "-c", "import sys; from geo_pcn.cli import main; sys.exit(main())"]
    argv = cli + ["info", str(STUDIES[name])]
    out = {}
    out["info"], out["info_cpu"] = _timed_command(argv, cache)
    with tempfile.TemporaryDirectory() as pycache:
        _timed_command(argv, cache, pycache=pycache)  # compiles every module once
        out["info_pyc"], out["info_pyc_cpu"] = _timed_command(argv, cache, pycache=pycache)
    out["import"], _ = _timed_command([sys.executable, "-c", "import geo_pcn.cli"], None)
    return out


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# -- the tables --------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(STUDIES), help="run one study only")
    parser.add_argument("--moves", type=int, default=100, help="moves in the scenario loop")
    parser.add_argument("--worker", choices=sorted(STUDIES), help=argparse.SUPPRESS)
    parser.add_argument(
        "--task", choices=["floor", "stages", "moves", "propose"], help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--propose",
        choices=["qnc", "national", "both"],
        help="also time geo_pcn.propose (national: 42 ICBs, minutes; with --speedup once "
        "with 1 worker and once with 2)",
    )
    parser.add_argument("--propose-limit", type=float, default=30.0, help="seconds per part")
    parser.add_argument("--propose-gap", type=float, default=0.01, help="relative gap")
    parser.add_argument("--speedup", action="store_true", help="propose with 1 and 2 workers")
    parser.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)
    if not SHARED.is_dir():
        print(f"real data not found at {SHARED}; nothing to benchmark", file=sys.stderr)
        return 2
    names = [args.only] if args.only else ["national", "qnc_national", "ccg_national", "qnc"]
    if args.propose and args.only is None and args.moves == 0:
        names = []
    results = {}
    proposals = _propose_rows(args)
    warm_runs = {}
    info_runs = {}
    load_before = _load()
    for name in names:
        print(f"({NAMES[name]}: floor, stages cold and warm, moves...)", file=sys.stderr)
        floor = _spawn(name, "floor", args.moves)
        with tempfile.TemporaryDirectory() as cache:
            stages = _spawn(name, "stages", args.moves, cache=cache)  # cold: an empty cache
            warm_runs[name] = _spawn(name, "stages", args.moves, cache=cache)  # warm
            info_runs[name] = time_info(name, cache)
        moves = _spawn(name, "moves", args.moves) if args.moves else None
        results[name] = (floor, stages, moves)

    if results:
        print(f"load average (1 / 5 / 15 min) before: {load_before}; after: {_load()}")
        print()
        header = (
            f"| study | cache | practices | PCNs | areas | {' | '.join(STAGES)} | CPU load | "
            "CPU total | peak MB | read floor | total / floor | map.html MB |"
        )
        print(header)
        print("|" + "---|" * (header.count("|") - 1))
        for name, (floor, cold, _) in results.items():
            for how, r in (("cold", cold), ("warm", warm_runs[name])):
                cells = [f"{r[s]:.2f}" for s in STAGES]
                print(
                    f"| {NAMES[name]} | {how} | {r['n_practices']:,} | {r['n_pcns']:,} | "
                    f"{r['n_areas']:,} | {' | '.join(cells)} | {r['cpu_load']:.2f} | "
                    f"{r['cpu_total']:.2f} | {r['peak_mb']:.0f} | "
                    f"{floor['floor']:.2f} | {r['total'] / floor['floor']:.1f} | "
                    f"{r['map_mb']:.1f} |"
                )
        print()
        print(
            "| study | geo-pcn info, warm (s, whole process) | its CPU s | with bytecode "
            "compiled, as installed (s) | its CPU s | import geo_pcn.cli (s) |"
        )
        print("|---|---|---|---|---|---|")
        for name, r in info_runs.items():
            print(
                f"| {NAMES[name]} | {r['info']:.2f} | {r['info_cpu']:.2f} | "
                f"{r['info_pyc']:.2f} | {r['info_pyc_cpu']:.2f} | {r['import']:.2f} |"
            )
        print()
        print(
            "| study | full validate (ms) | moves | revalidate median (ms) | p90 | max "
            "| Editor.move median (ms) | p90 | max | its tables read, median (ms) | p90 "
            "| median / full |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for name, (_, _, m) in results.items():
            if m is None:
                continue
            e, tables = m["editor"], m["editor_tables"]
            print(
                f"| {NAMES[name]} | {m['full_ms']:.0f} | {m['n_moves']} | {m['median_ms']:.0f} "
                f"| {m['p90_ms']:.0f} | {m['max_ms']:.0f} | {e['median_ms']:.0f} "
                f"| {e['p90_ms']:.0f} | {e['max_ms']:.0f} | {tables['median_ms']:.0f} "
                f"| {tables['p90_ms']:.0f} | {m['median_ms'] / m['full_ms']:.2f} |"
            )
    if proposals:
        _print_proposals(proposals, args)
    for name, (floor, r, _) in results.items():
        print()
        print(f"{NAMES[name]}: the read floor, file by file (plain pandas / pyogrio, warm)")
        print()
        print("| input | rows | seconds |")
        print("|---|---|---|")
        for what, (seconds, rows) in floor["files"].items():
            print(f"| {what} | {rows:,} | {seconds:.2f} |")
        print()
        print(f"{NAMES[name]}: seconds per output file")
        print()
        print("| file | seconds |")
        print("|---|---|")
        for what, seconds in r["files"].items():
            print(f"| {what} | {seconds:.2f} |")
    return 0


def _propose_rows(args) -> list[tuple[str, dict]]:
    if not args.propose:
        return []
    names = ["qnc", "national"] if args.propose == "both" else [args.propose]
    rows = []
    for name in names:
        counts = (
            [1, 2] if (args.speedup and name == "national") else [2 if name == "national" else 1]
        )
        for workers in counts:
            print(f"({NAMES[name]}: propose, {workers} worker(s)...)", file=sys.stderr)
            extra = ["--propose-limit", str(args.propose_limit)]
            extra += ["--propose-gap", str(args.propose_gap), "--workers", str(workers)]
            rows.append((name, _spawn(name, "propose", 0, *extra)))
    return rows


def _print_proposals(rows: list[tuple[str, dict]], args) -> None:
    print()
    print(
        f"propose (gap {args.propose_gap:.0%}, at most {args.propose_limit:.0f} s per part): "
        "wall seconds, parts by status, patients moved, proven bound"
    )
    print()
    print(
        "| study | workers | wall s | parts | optimal / within gap | time limit | infeasible "
        "| band not met | no solution | patients moved | bound | gap | PCNs left outside the "
        "band | crossings added | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        s = r["summary"]
        status = [p["status"] for p in r["parts"]]
        good = sum(x in ("optimal", "within gap") for x in status)
        gap = "-" if s["gap"] is None else f"{s['gap']:.2%}"
        bound = "-" if s["bound"] is None else f"{s['bound']:,}"
        print(
            f"| {NAMES[name]} | {r['workers']} | {r['wall']:.1f} | {len(status)} | {good} "
            f"| {status.count('time limit')} | {status.count('infeasible')} "
            f"| {status.count('band not met')} | {status.count('no solution')} "
            f"| {s['patients_moved']:,} | {bound} | {gap} "
            f"| {s['n_outside_band']} | {s.get('n_crossings_added', '-')} | {r['peak_mb']:.0f} |"
        )
    for name, r in rows:
        print()
        cpu = f", {r['cpu']:.0f} CPU s in all" if "cpu" in r else ""
        print(f"{NAMES[name]}, {r['workers']} worker(s){cpu}: per part")
        print()
        print("| part | practices | PCNs | status | heuristic | best | bound | gap | seconds |")
        print("|---|---|---|---|---|---|---|---|---|")
        for p in r["parts"]:
            num = lambda v: "-" if v is None else f"{int(v):,}"  # noqa: E731
            gap = "-" if p["gap"] is None else f"{p['gap']:.2%}"
            print(
                f"| {p['part']} | {p['practices']} | {p['pcns']} | {p['status']} "
                f"| {num(p.get('heuristic'))} | {num(p['objective'])} | {num(p['bound'])} "
                f"| {gap} | {p['seconds']:.1f} |"
            )


if __name__ == "__main__":
    sys.exit(main())
