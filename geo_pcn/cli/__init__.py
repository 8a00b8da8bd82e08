"""The ``geo-pcn`` command line: thin wrappers over the public API.

The group :data:`cli` names every command and imports its module when it is run (one
module per command or pair of commands: :mod:`~geo_pcn.cli.info`, :mod:`~geo_pcn.cli.validate`,
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

import gc
import importlib
import sys
import warnings
from typing import Any

import click

from geo_pcn.errors import GeoPCNError, GeoPCNWarning
from geo_pcn.io._cache import caching

#: command name -> (module, attribute): each command's module is imported when the command
#: is run or listed, so ``geo-pcn info`` does not import what ``validate``, ``propose`` or
#: ``init`` need (issue 21: ``info`` <= 2 s warm)
_COMMANDS = {
    "cache": ("geo_pcn.cli.cache", "cache"),
    "demo": ("geo_pcn.cli.validate", "demo"),
    "diff": ("geo_pcn.cli.diff", "diff_command"),
    "history": ("geo_pcn.cli.history", "history_command"),
    "info": ("geo_pcn.cli.info", "info"),
    "init": ("geo_pcn.cli.init", "init_command"),
    "map": ("geo_pcn.cli.maps", "map_command"),
    "propose": ("geo_pcn.cli.propose", "propose_command"),
    "rank": ("geo_pcn.cli.scenario", "rank"),
    "scenario": ("geo_pcn.cli.scenario", "scenario"),
    "validate": ("geo_pcn.cli.validate", "validate"),
}

__all__ = ["main", "cli", "UserError"]


class UserError(click.ClickException):
    """A mistake in the inputs: one line, exit code 2."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message


class _Group(click.Group):
    """Turns every geo_pcn input error into a one-line message and exit code 2; imports a
    command's module only when the command is wanted."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            module, attribute = _COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, name=cmd_name)
        return self.commands.get(cmd_name)

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
@click.option(
    "-V",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, param, value: _version(ctx, value),
    help="Show the version and exit.",
)
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


def _version(ctx: click.Context, value: bool) -> None:
    """``--version``: as click's ``version_option`` prints it (the package metadata read
    only when asked)."""
    if not value or ctx.resilient_parsing:
        return
    from geo_pcn import __version__

    click.echo(f"geo-pcn, version {__version__}")
    ctx.exit()


#: The cyclic garbage collector's thresholds in a ``geo-pcn`` process (Python's are
#: ``(700, 10, 10)``): a national run makes millions of objects that live to its end (its
#: tables' text, the map's coordinates) and the collector walked them 1,473 times, 0.6 s
#: of a 10 CPU s England run; with these, 43 times, 0.7 CPU s less, the same peak memory
#: (issue 21). Set by :func:`main` only: a notebook's own process keeps its settings.
GC_THRESHOLDS = (20_000, 10, 10)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``geo-pcn`` console script."""
    gc.set_threshold(*GC_THRESHOLDS)
    cli.main(args=argv, prog_name="geo-pcn")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
