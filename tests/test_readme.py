"""The README's Quick start and CI must stay true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, "README.md has no '## Quick start' section"
    return [b.strip() for b in re.findall(r"^```[a-z]*\n(.*?)^```", section.group(1), re.M | re.S)]


def test_quick_start_has_two_one_line_commands():
    blocks = _quick_start_blocks()
    assert len(blocks) == 2
    assert all("\n" not in b for b in blocks)
    assert "geo-pcn demo --out demo-results" in blocks[0]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in ci.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))
    ]
    assert commands == [_quick_start_blocks()[1]]
