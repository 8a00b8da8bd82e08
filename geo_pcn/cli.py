"""The ``geo-pcn`` command line: thin wrappers over the public API.

Exit codes: 0 success (the configuration passes), 1 the configuration has ERROR findings,
2 bad input or usage (one line on stderr, never a traceback).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from geo_pcn import __version__
from geo_pcn.errors import GeoPCNError, GeoPCNWarning

__all__ = ["main", "cli"]


class UserError(click.ClickException):
    """A mistake in the inputs: one line, exit code 2."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message


class _Group(click.Group):
    """Turns every geo_pcn input error into a one-line message and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", GeoPCNWarning)
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except GeoPCNError as exc:
            raise UserError(" ".join(str(exc).split("\n"))) from None
        except OSError as exc:  # disk full, permission denied on --out...
            raise UserError(f"{exc.filename or ''}: {exc.strerror or exc}") from None


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    click.echo(f"warning: {message}", err=True)


# -- shared options (defined once) ---------------------------------------------------------
study_argument = click.argument(
    "study_file", metavar="STUDY.toml", type=click.Path(dir_okay=False, path_type=Path)
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress messages on stderr.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
tiles_option = click.option(
    "--tiles",
    default=None,
    metavar="NAME|URL",
    help="Basemap for map.html (e.g. OpenStreetMap); off by default so the map works offline.",
)
png_option = click.option(
    "--png", is_flag=True, help="Also write map.png, a static picture for board papers."
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="geo-pcn")
def cli() -> None:
    """Check Primary Care Network configurations against their geography.

    Start with `geo-pcn demo --out demo-results`, then write a study file for your own
    area (see the README) and run `geo-pcn info STUDY.toml`.
    """


@cli.command()
@study_argument
@json_option
def info(study_file: Path, as_json: bool) -> None:
    """Print what a study file loads: practices, PCNs, patients, areas, layers."""
    from geo_pcn.study import Study

    study = Study.from_toml(study_file)
    summary = study.summary()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(format_summary(summary))


out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write report.json, report.md, CSVs, footprints.gpkg and map.html into: "
    "new, empty, or written by an earlier run (whose files this run replaces).",
)


@cli.command()
@study_argument
@out_option
@tiles_option
@png_option
@quiet_option
def validate(study_file: Path, out_dir: Path, tiles: str | None, png: bool, quiet: bool) -> None:
    """Check the configuration of STUDY.toml and write the report to --out.

    Exit code 0 when the configuration passes, 1 when it has ERROR findings.
    """
    from geo_pcn._outputs import check_out_dir
    from geo_pcn.study import Study

    check_out_dir(out_dir)  # a folder holding someone else's files fails before the slow part
    _progress(f"Loading {study_file}...", quiet)
    study = Study.from_toml(study_file)
    _run_and_write(study, out_dir, quiet, tiles=tiles, png=png)


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-results"),
    show_default=True,
    help="Folder to write the results into.",
)
@tiles_option
@png_option
@quiet_option
def demo(out_dir: Path, tiles: str | None, png: bool, quiet: bool) -> None:
    """Validate the embedded SYNTHETIC demo region and write the results to --out.

    The demo has one of every problem planted, so the report fails on purpose; the command
    exits 0 when it ran.
    """
    from geo_pcn._outputs import check_out_dir
    from geo_pcn.datasets import demo as load_demo

    check_out_dir(out_dir)
    _progress("Loading the synthetic demo region (geo_pcn.datasets.demo)...", quiet)
    study = load_demo()
    _run_and_write(study, out_dir, quiet, tiles=tiles, png=png, exit_on_errors=False)


def _run_and_write(
    study,
    out_dir: Path,
    quiet: bool,
    *,
    tiles: str | None = None,
    png: bool = False,
    exit_on_errors: bool = True,
) -> None:
    from geo_pcn.pipeline import validate as run_checks

    _progress(
        f"Checking {len(study.practices):,} practices in {study.configuration.n_pcns:,} PCNs "
        f"(territories from {study.footprint_method})...",
        quiet,
    )
    report = run_checks(study)
    _progress(f"Writing outputs to {out_dir}...", quiet)
    written = report.write(out_dir, tiles=tiles, png=png)
    sev = report.summary["findings"]
    click.echo(
        f"{study.name}: {'PASS' if report.ok else 'FAIL'} - {sev['error']} errors, "
        f"{sev['warning']} warnings, {sev['info']} notes. "
        f"Wrote {', '.join(p.name for p in written)} to {out_dir}"
    )
    if exit_on_errors and not report.ok:
        click.get_current_context().exit(1)


def _progress(message: str, quiet: bool) -> None:
    if not quiet:
        click.echo(message, err=True)


def format_summary(s: dict[str, Any]) -> str:
    """Render :meth:`Study.summary` as the text ``geo-pcn info`` prints."""
    lines = [f"Study: {s['name']}"]
    if s.get("source"):
        lines.append(f"  file: {s['source']}")
    located_by = ", ".join(f"{n:,} by {how}" for how, n in s["located_by"].items())
    lines.append(f"Practices: {s['n_practices']:,} ({s['n_located']:,} located; {located_by})")
    if s["not_located"]:
        lines.append(f"  not located: {', '.join(s['not_located'])}")
    lines.append(
        f"  sharing a site with another practice: {s['n_sharing_site']:,} "
        f"(at {s['n_shared_sites']:,} sites)"
    )
    if s["no_list_size"]:
        lines.append(f"  no list size: {', '.join(s['no_list_size'])}")
    lines.append(f"PCNs: {s['n_pcns']:,}")
    if s["unassigned"]:
        lines.append(f"  practices in no PCN: {', '.join(s['unassigned'])}")
    lines.append(f"Registered patients: {s['n_patients']:,}")
    reg = s.get("registrations")
    if reg:
        kinds = reg["by_area_kind"]
        pseudo = {k: v for k, v in kinds.items() if k != "small_area"}
        detail = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in pseudo.items())
        lines.append(
            f"  by small area: {kinds.get('small_area', 0):,}; not in a small area: "
            f"{sum(pseudo.values()):,} ({reg['pct_pseudo']:.2f}%: {detail or 'none'})"
        )
    if s["areas"] is None:
        lines.append("Small areas: none")
    else:
        lines.append(
            f"Small areas: {s['areas']:,} ({s.get('areas_with_population', 0):,} with population)"
        )
    layers = ", ".join(f"{k} ({v:,} areas)" for k, v in s["boundaries"].items())
    lines.append(f"Boundary layers: {layers or 'none'}")
    community = ", ".join(
        f"{k} ({v['kind']}: {v['n']:,}, {v['n_located']:,} located)"
        for k, v in s["community"].items()
    )
    lines.append(f"Community layers: {community or 'none'}")
    rules = s["rules"]
    lines.append(
        f"Rules: band {rules['band'][0]:,}-{rules['band'][1]:,}; exempt: "
        f"{', '.join(rules['exempt']) or 'none'}; footprints: {rules['footprints']}"
    )
    for note in s["notes"]:
        lines.append(f"Note: {note}")
    return "\n".join(lines)


# Commands that live in their own modules register themselves on `cli` when imported.
from geo_pcn import _cli_maps, _cli_scenario  # noqa: E402, F401


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``geo-pcn`` console script."""
    cli.main(args=argv, prog_name="geo-pcn")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
