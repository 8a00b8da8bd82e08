"""Benchmark geo_pcn stage by stage, on the real QNC study and at national scale.

    .venv/bin/python scripts/bench.py               # QNC + national (needs ../shared/data)
    .venv/bin/python scripts/bench.py --only qnc
    .venv/bin/python scripts/bench.py --only national --keep /tmp/national

The national-scale study uses the real national LSOA 2021 polygons (England), the real
derived sub-ICB 2024 polygons and local authority 2024 polygons from ../shared/data, with
SYNTHETIC practices (about 6,500, placed in LSOAs weighted by population), PCNs (about
1,250, grouped by k-means on practice sites) and registrations (each LSOA's residents
spread over its three nearest practices). It is written to files and loaded through a
study file, so the load stage is measured as users meet it.

Prints two tables: seconds per stage (load, territories, graph, footprints, checks, report,
map, total)
and peak memory (resident set size, MB) per study; then the scenario loop: 100 single-practice
moves (each practice to the PCN of a neighbouring practice, one after the other), each
re-validated incrementally (`geo_pcn.pipeline.revalidate`), against a full `validate` of a
few of the same configurations.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
QNC = ROOT / "tests" / "real" / "qnc_oct2025.toml"


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_stages(study_file: Path, out_dir: Path) -> dict[str, float]:
    """Time each stage of `geo-pcn validate` on one study file."""
    from geo_pcn import Study
    from geo_pcn.checks import CHECKS, get_context
    from geo_pcn.geography import build_graph, build_territories
    from geo_pcn.render import write_map, write_report
    from geo_pcn.report import Report

    times: dict[str, float] = {}
    t = time.perf_counter()
    study = Study.from_toml(study_file)
    times["load"] = time.perf_counter() - t

    t = time.perf_counter()
    territories = build_territories(study)
    times["territories"] = time.perf_counter() - t

    t = time.perf_counter()
    build_graph(study, territories)
    times["graph"] = time.perf_counter() - t

    context = get_context(study)  # the study's Geography: built again here, not timed
    t = time.perf_counter()
    _ = context.footprints
    times["footprints"] = time.perf_counter() - t

    t = time.perf_counter()
    findings = []
    for check in CHECKS.values():
        findings.extend(check(study, context.configuration, context=context))
    findings.sort(key=lambda f: (f.severity.rank, f.check, f.pcn_code, f.practice_codes, f.kind))
    times["checks"] = time.perf_counter() - t

    report = Report(
        study=study, configuration=context.configuration, findings=findings, context=context
    )
    t = time.perf_counter()
    write_report(report, out_dir, map_html=False)
    times["report"] = time.perf_counter() - t

    t = time.perf_counter()
    write_map(report, out_dir / "map.html")
    times["map"] = time.perf_counter() - t
    times["map_mb"] = (out_dir / "map.html").stat().st_size / 1e6
    times["total"] = sum(v for k, v in times.items() if k != "map_mb" and v == v)
    times["n_practices"] = len(study.practices)
    times["n_pcns"] = study.configuration.n_pcns
    times["n_areas"] = 0 if study.areas is None else len(study.areas)
    times["n_findings"] = len(findings)
    return times


def run_moves(study_file: Path, *, n_moves: int = 100, n_full: int = 5, seed: int = 1) -> dict:
    """Time ``n_moves`` single-practice moves, each re-validated from the previous report."""
    import random

    from geo_pcn import Configuration, Study, validate
    from geo_pcn.pipeline import revalidate

    study = Study.from_toml(study_file)
    report = validate(study)
    rng = random.Random(seed)
    graph = report.context.graph
    configs = []
    times = []
    config = study.configuration
    for _ in range(n_moves):
        # a practice on a PCN edge, moved to the PCN of a neighbouring practice
        while True:
            practice = rng.choice(config.practice_codes)
            here = config.pcn_of(practice)
            options = sorted({config.pcn_of(n) for n in graph.neighbors(practice)} - {"", here})
            if options and here:
                break
        t = time.perf_counter()
        config = config.move(practice, to=rng.choice(options))
        report = revalidate(report, config)
        _ = report.ok, report.summary
        times.append(time.perf_counter() - t)
        configs.append(config)
    full = []
    for config in rng.sample(configs, min(n_full, len(configs))):
        # the same assignment with no parent: nothing to update from, a full validate
        fresh = Configuration(config.assignments, config.names)
        t = time.perf_counter()
        _ = validate(study, fresh).summary
        full.append(time.perf_counter() - t)
    return {
        "n_moves": n_moves,
        "total": sum(times),
        "median_ms": 1000 * float(np.median(times)),
        "max_ms": 1000 * max(times),
        "full_ms": 1000 * float(np.median(full)),
    }


def make_national(
    folder: Path, *, n_practices: int = 6_500, n_pcns: int = 1_250, seed: int = 7
) -> Path:
    """Write a national-scale synthetic study (see module docstring); returns its file."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lsoa = gpd.read_file(SHARED / "geographr" / "boundaries_lsoa21.geojson")
    lsoa = lsoa[lsoa["lsoa21_code"].str.startswith("E")].to_crs(27700).reset_index(drop=True)
    pop = pd.read_csv(
        SHARED / "demographr" / "census21_usual_residents_lsoa21_from_ethnicity21_lsoa21.csv"
    ).set_index("lsoa21_code")["total_residents"]
    population = pop.reindex(lsoa["lsoa21_code"]).fillna(1500).to_numpy()

    # practices: LSOAs drawn by population, site at a point inside the LSOA
    chosen = rng.choice(len(lsoa), size=n_practices, replace=False, p=population / population.sum())
    sites = shapely.point_on_surface(lsoa.geometry.to_numpy()[chosen])
    xy = np.column_stack([shapely.get_x(sites), shapely.get_y(sites)])
    codes = np.array([f"Z{i:05d}" for i in range(n_practices)])

    # PCNs: k-means on sites (a few Lloyd iterations are enough for grouping)
    centres = xy[rng.choice(n_practices, n_pcns, replace=False)]
    for _ in range(8):
        d = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        label = d.argmin(1)
        for k in range(n_pcns):
            if (label == k).any():
                centres[k] = xy[label == k].mean(0)
    pcn_codes = np.array([f"UZ{k:04d}" for k in label])
    pd.DataFrame(
        {
            "practice_code": codes,
            "practice_name": [f"SYNTHETIC PRACTICE {i}" for i in range(n_practices)],
            "pcn_code": pcn_codes,
            "pcn_name": [f"SYNTHETIC PCN {c}" for c in pcn_codes],
            "easting": xy[:, 0].round(1),
            "northing": xy[:, 1].round(1),
        }
    ).to_csv(folder / "practices.csv", index=False)

    # registrations: each LSOA's residents to its 3 nearest practices (60/25/15 %)
    centroids = shapely.point_on_surface(lsoa.geometry.to_numpy())
    cxy = np.column_stack([shapely.get_x(centroids), shapely.get_y(centroids)])
    nearest = np.empty((len(lsoa), 3), dtype=int)
    # nearest 3 by brute force in chunks (vectorised numpy)
    for start in range(0, len(cxy), 2_000):
        block = cxy[start : start + 2_000]
        d = ((block[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
        nearest[start : start + 2_000] = np.argpartition(d, 3, axis=1)[:, :3]
        order = np.take_along_axis(d, nearest[start : start + 2_000], 1).argsort(1)
        nearest[start : start + 2_000] = np.take_along_axis(
            nearest[start : start + 2_000], order, 1
        )
    shares = np.array([0.60, 0.25, 0.15])
    counts = np.floor(population[:, None] * shares[None, :]).astype(int)
    reg = pd.DataFrame(
        {
            "PRACTICE_CODE": codes[nearest.ravel()],
            "LSOA_CODE": np.repeat(lsoa["lsoa21_code"].to_numpy(), 3),
            "NUMBER_OF_PATIENTS": counts.ravel(),
        }
    )
    reg.to_csv(folder / "registrations.csv", index=False)
    lsoa[["lsoa21_code", "lsoa21_name", "geometry"]].to_parquet(folder / "lsoa21.parquet")
    study = folder / "national.toml"
    study.write_text(
        f"""name = "National scale (SYNTHETIC practices on real LSOA 2021 polygons)"
[practices]
file = "practices.csv"
[registrations]
file = "registrations.csv"
[areas]
file = "lsoa21.parquet"
population = "{(SHARED / "demographr" / "census21_usual_residents_lsoa21_from_ethnicity21_lsoa21.csv").as_posix()}"
[boundaries]
sub_icb = "{(SHARED / "geographr" / "derived_sicbl24_england_from_lsoa21_bsc.geojson").as_posix()}"
place = "{(SHARED / "geographr" / "boundaries_ltla24.geojson").as_posix()}"
""",
        encoding="utf-8",
    )
    return study


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["qnc", "national"], help="run one study only")
    parser.add_argument("--keep", type=Path, help="folder for the national study (reused)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"real data not found at {SHARED}; nothing to benchmark", file=sys.stderr)
        return 2
    results: dict[str, dict[str, float]] = {}
    moves: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if args.only in (None, "qnc"):
            results["QNC (real)"] = run_stages(QNC, tmp_path / "qnc")
            results["QNC (real)"]["peak_mb"] = peak_mb()
            moves["QNC (real)"] = run_moves(QNC)
        if args.only in (None, "national"):
            folder = args.keep or tmp_path / "national"
            study = folder / "national.toml"
            if not study.exists():
                t = time.perf_counter()
                make_national(folder)
                print(
                    f"(generated the national study in {time.perf_counter() - t:.1f} s)",
                    file=sys.stderr,
                )
            results["national (synthetic)"] = run_stages(study, tmp_path / "nat")
            results["national (synthetic)"]["peak_mb"] = peak_mb()
            moves["national (synthetic)"] = run_moves(study)
    stages = ["load", "territories", "graph", "footprints", "checks", "report", "map", "total"]
    header = f"| study | practices | PCNs | areas | {' | '.join(stages)} | peak MB | map MB |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, r in results.items():
        cells = [f"{r[s]:.2f}" if r[s] == r[s] else "n/a" for s in stages]
        map_mb = f"{r['map_mb']:.1f}" if "map_mb" in r else "n/a"
        print(
            f"| {name} | {int(r['n_practices']):,} | {int(r['n_pcns']):,} | "
            f"{int(r['n_areas']):,} | {' | '.join(cells)} | {r['peak_mb']:.0f} | {map_mb} |"
        )
    print()
    print(
        "| study | moves | re-validated in (s) | median per move (ms) | max (ms) | "
        "full validate per configuration (ms) |"
    )
    print("|---|---|---|---|---|---|")
    for name, m in moves.items():
        print(
            f"| {name} | {m['n_moves']} | {m['total']:.2f} | {m['median_ms']:.0f} | "
            f"{m['max_ms']:.0f} | {m['full_ms']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
