"""The embedded synthetic demo region, Demo Vale (synthetic).

A made-up NHS region on the British National Grid: 300 small areas around four towns
and a river, 59 practices in 13 PCNs, registrations by area, place / sub-ICB / ICB
boundaries, community team areas and sites. It plants one of every problem the checks
find and lists them in ``planted.json``. **Everything in it is synthetic.**

The files live in ``boundaries/demo/`` of the source tree, shipped inside the wheel as
``geo_pcn/datasets/boundaries/demo/``. This module is only their loader: the generator
(``scripts/demo_gen/``, run by ``scripts/make_demo.py``) is a development tool and is not
in the wheel.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from geo_pcn.study import Study

__all__ = ["demo", "demo_dir", "demo_planted", "demo_study_file"]

_INSTALLED = Path(__file__).resolve().parent / "boundaries" / "demo"
_SOURCE_TREE = Path(__file__).resolve().parents[2] / "boundaries" / "demo"


def demo_dir() -> Path:
    """Folder holding the demo region's files.

    Returns
    -------
    pathlib.Path
        ``geo_pcn/datasets/boundaries/demo`` in an installed wheel, else
        ``<repository>/boundaries/demo`` in a source checkout.

    Raises
    ------
    FileNotFoundError
        When neither folder holds ``demo.toml``.

    Examples
    --------
    >>> (demo_dir() / "demo.toml").is_file()
    True
    """
    for folder in (_INSTALLED, _SOURCE_TREE):
        if (folder / "demo.toml").is_file():
            return folder
    raise FileNotFoundError(
        f"the demo region is missing: neither {_INSTALLED} nor {_SOURCE_TREE} holds demo.toml; "
        "reinstall geo_pcn, or run `python scripts/make_demo.py` in a source checkout"
    )


def demo_study_file() -> Path:
    """The demo's study file (``demo.toml``; its paths are relative to it).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> demo_study_file().name
    'demo.toml'
    """
    return demo_dir() / "demo.toml"


def demo_planted() -> list[dict]:
    """The problems planted in the demo region, as listed in ``planted.json``.

    Returns
    -------
    list of dict
        One dict per problem: ``check``, ``kind``, ``severity``, ``pcn_code`` (or None),
        ``practice_codes``, ``expected`` (the numbers the checks should report) and
        ``description`` (one sentence for a planner).

    Examples
    --------
    >>> sorted({p["check"] for p in demo_planted()})
    ['alignment', 'boundaries', 'contiguity', 'coverage', 'size']
    """
    return json.loads((demo_dir() / "planted.json").read_text(encoding="utf-8"))


def demo() -> Study:
    """Load the synthetic demo region as a :class:`~geo_pcn.study.Study`.

    Returns
    -------
    geo_pcn.study.Study
        The study described by :func:`demo_study_file`.
    """
    from geo_pcn.study import Study

    return Study.from_toml(demo_study_file())
