"""Shared helpers for tests of bad input through the CLI: a user mistake is one line, exit 2,
no traceback; and a writable copy of the demo study to break."""

from __future__ import annotations

import shutil
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "boundaries" / "demo"


def one_line(result, *parts: str) -> str:
    """Assert a click result is a one-line error (exit 2, no traceback) holding ``parts``."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line, line
    for part in parts:
        assert part in line, (part, line)
    return line


def copy_demo(folder: Path) -> Path:
    """A copy of the demo study's folder at ``folder`` (its study file is ``demo.toml``)."""
    shutil.copytree(DEMO, folder)
    return folder


def set_in_study(folder: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) by ``new`` in the copy's ``demo.toml``."""
    toml = folder / "demo.toml"
    text = toml.read_text()
    assert old in text, old
    toml.write_text(text.replace(old, new))
