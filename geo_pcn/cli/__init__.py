"""The ``geo-pcn`` command line: thin wrappers over the public API.

The group :data:`cli` attaches every command explicitly (one module per command or pair
of commands: :mod:`~geo_pcn.cli.info`, :mod:`~geo_pcn.cli.validate`,
:mod:`~geo_pcn.cli.maps`, :mod:`~geo_pcn.cli.scenario`, :mod:`~geo_pcn.cli.propose`,
:mod:`~geo_pcn.cli.cache`, :mod:`~geo_pcn.cli.diff`, :mod:`~geo_pcn.cli.history`;
shared options in :mod:`~geo_pcn.cli.options`). Each command parses its arguments, calls the
public API and
writes through :mod:`geo_pcn.render` (imported inside the commands that write, so that
``--help`` and ``geo-pcn info`` do not load folium and matplotlib).

Exit codes: 0 success (the configuration passes), 1 the configuration has ERROR findings,
2 bad input or usage, or an output that cannot be written (one line on stderr naming the
file, never a traceback), 130 interrupted (Ctrl-C; nothing written).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import click

from geo_pcn import __version__
from geo_pcn.cli.cache import cache
from geo_pcn.cli.diff import diff_command
from geo_pcn.cli.history import history_command
from geo_pcn.cli.info import info
from geo_pcn.cli.init import init_command
from geo_pcn.cli.maps import map_command
from geo_pcn.cli.propose import propose_command
from geo_pcn.cli.scenario import rank, scenario
from geo_pcn.cli.validate import demo, validate
from geo_pcn.errors import GeoPCNError, GeoPCNWarning
from geo_pcn.io._cache import caching

__all__ = ["main", "cli", "UserError"]


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
        except OSError as exc:  # permission denied on an input, a folder that vanished...
            where = exc.filename or "geo-pcn"
            raise UserError(f"{where}: {exc.strerror or exc}") from None
        except KeyboardInterrupt:
            # Ctrl-C: not 1 (that means "the configuration has errors"); the outputs are
            # written to a temporary folder and moved only when all are done
            click.echo("interrupted; nothing written", err=True)
            ctx.exit(130)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    click.echo(f"warning: {message}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="geo-pcn")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Parse every input file afresh; neither read nor write the input cache "
    "(see `geo-pcn cache info`).",
)
@click.pass_context
def cli(ctx: click.Context, no_cache: bool) -> None:
    """Check Primary Care Network configurations against their geography.

    Start with `geo-pcn demo --out demo-results`, then write a study file for your own
    area with `geo-pcn init FOLDER` (see the README) and run `geo-pcn info STUDY.toml`.
    """
    if no_cache:
        ctx.with_resource(caching(False))


cli.add_command(info)
cli.add_command(validate)
cli.add_command(demo)
cli.add_command(map_command, name="map")
cli.add_command(scenario)
cli.add_command(rank)
cli.add_command(propose_command, name="propose")
cli.add_command(cache)
cli.add_command(diff_command, name="diff")
cli.add_command(history_command, name="history")
cli.add_command(init_command, name="init")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``geo-pcn`` console script."""
    cli.main(args=argv, prog_name="geo-pcn")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
