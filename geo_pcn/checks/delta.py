"""What a change touches, and how a check updates from its parent's findings.

This is the updater protocol (after GerryChain's ``Partition`` + updaters): a check is a
function ``check(study, configuration, *, context) -> list[Finding]`` that computes from
scratch; it may also carry an ``update`` attribute,
``update(parent, study, configuration, *, context, delta) -> list[Finding]``, that gives the
same findings from the parent configuration's (``parent``: that check's findings of the
parent) and the :class:`Delta` between them. :func:`geo_pcn.pipeline.revalidate` calls
``update`` when a check has one and the full computation otherwise, so a user's check
works either way. :func:`rerun` runs a check on the touched part only (a configuration and
context seen through views), for the built-in updates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_pcn.configuration import Configuration
from geo_pcn.findings import Finding
from geo_pcn.geography import Footprints
from geo_pcn.settings import PRACTICE_CODE

__all__ = ["Delta", "rerun", "near_footprints", "updates"]


@dataclass
class Delta:
    """What a change touches, relative to the configuration it is re-validated from.

    Attributes
    ----------
    moved
        Practices whose PCN changed.
    touched
        PCNs (old or new) whose findings cannot be reused: their members, name or
        footprint changed, or a detached-group finding of theirs may name a changed one.
    redo
        The touched PCNs that exist in the new configuration.
    near
        PCNs whose footprints the redone PCNs' checks may look at.
    practices
        Practices whose site lookups a re-run needs (the moved ones and the redone PCNs').
    holes_changed
        Whether the small areas no PCN covers changed.
    """

    moved: set[str]
    touched: set[str]
    redo: set[str]
    near: set[str]
    practices: set[str]
    holes_changed: bool

    @classmethod
    def between(cls, parent_context, parent_findings, context) -> Delta:
        """The delta from ``parent_context`` (with its ``parent_findings``) to ``context``."""
        old_cfg, new_cfg = parent_context.configuration, context.configuration
        diff = old_cfg.diff(new_cfg)
        moved = set(diff[PRACTICE_CODE])
        touched = (set(diff["from_pcn_code"]) | set(diff["to_pcn_code"])) - {""}
        old_names, new_names = old_cfg.names, new_cfg.names
        touched |= {c for c in new_names if c in old_names and old_names[c] != new_names[c]}
        old_fp, new_fp = parent_context.footprints.pcns.geometry, context.footprints.pcns.geometry
        touched |= set(old_fp.index) ^ set(new_fp.index)
        common = old_fp.index.intersection(new_fp.index)
        a, b = old_fp.reindex(common).to_numpy(), new_fp.reindex(common).to_numpy()
        differ = np.array([x is not y for x, y in zip(a, b, strict=True)], dtype=bool)
        if differ.any():
            idx = np.flatnonzero(differ)
            same = shapely.equals_exact(a[idx], b[idx], 0.0)
            touched |= set(common[idx[~same]])
        # untouched PCNs whose detached-group message may name a changed footprint
        changed = [g for g in (*old_fp.reindex(list(touched)), *new_fp.reindex(list(touched))) if g]
        if changed:
            boxes = shapely.box(*np.asarray(shapely.bounds(np.asarray(changed, dtype=object))).T)
            tree = shapely.STRtree(boxes)
            for f in parent_findings:
                if (
                    f.check == "contiguity"
                    and f.kind == "detached_group"
                    and f.pcn_code not in touched
                    and f.geometry is not None
                    and len(tree.query(f.geometry, predicate="intersects"))
                ):
                    touched.add(f.pcn_code)
        redo = touched & set(new_cfg.pcn_codes)
        # footprints the redone PCNs' contiguity may look at: those near their territories
        near = set(redo)
        territory = context.territories.practices.geometry
        order = sorted(redo)  # one order for the members and their group labels
        members = [p for c in order for p in new_cfg.members[c]]
        if members:
            bounds = shapely.bounds(territory.reindex(members).to_numpy())
            groups = np.repeat(np.arange(len(order)), [len(new_cfg.members[c]) for c in order])
            frame = pd.DataFrame(bounds, columns=["x0", "y0", "x1", "y1"]).assign(g=groups)
            box = frame.groupby("g").agg({"x0": "min", "y0": "min", "x1": "max", "y1": "max"})
            box = box.dropna()
            if len(box):
                fp = context.footprints.pcns
                _, hit = fp.sindex.query(
                    shapely.box(box.x0, box.y0, box.x1, box.y1), predicate="intersects"
                )
                near |= set(fp.index[hit])
        practices = moved | {p for c in redo for p in new_cfg.members[c]}
        old_holes = parent_context.footprints.uncovered_areas
        new_holes = context.footprints.uncovered_areas
        holes_changed = set(old_cfg.unassigned) != set(new_cfg.unassigned) or (
            old_holes is not None and not old_holes.index.equals(new_holes.index)
        )
        return cls(moved, touched, redo, near, practices, holes_changed)


class ConfigurationView:
    """A configuration as a check sees it, with ``members`` limited to some PCNs."""

    def __init__(self, configuration: Configuration, pcn_codes) -> None:
        self._configuration = configuration
        members = configuration.members
        self.members = {c: members[c] for c in sorted(pcn_codes) if c in members}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._configuration, name)


class View:
    """An object with some attributes replaced; the rest come from ``inner``."""

    def __init__(self, inner: Any, **replaced: Any) -> None:
        self._inner = inner
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def rerun(
    func: Callable[..., list[Finding]],
    study,
    context,
    *,
    members: set[str] | None,
    context_view: dict[str, Any] | None = None,
) -> list[Finding]:
    """``func`` on the configuration limited to the PCNs ``members`` (all when ``None``),
    with some of the context's attributes replaced by ``context_view``."""
    configuration = context.configuration
    view_cfg = configuration if members is None else ConfigurationView(configuration, members)
    view_ctx = View(context, **context_view) if context_view else context
    return func(study, view_cfg, context=view_ctx)


def updates(check: Callable[..., list[Finding]]):
    """Decorator: attach the decorated function as ``check.update``."""

    def attach(update):
        check.update = update
        return update

    return attach


def near_footprints(footprints: Footprints, near: set[str]) -> Footprints:
    """The footprints of the ``near`` PCNs only, on territories cut down to the small areas
    whose representative point lies in them (all the contiguity check looks at)."""
    pcns = footprints.pcns.loc[sorted(near)]
    terr = footprints.territories
    if terr.study_areas is None:
        return dataclasses.replace(footprints, pcns=pcns)
    _, hit = terr.area_point_tree.query(pcns.geometry.to_numpy(), predicate="intersects")
    idx = np.unique(hit)
    areas = terr.study_areas.iloc[idx]
    # the residents of those areas, in their order (through the rows by area: a lookup of
    # every resident row is ~70 ms nationally)
    by_area = terr.resident_rows[1]
    picked = [by_area[a] for a in areas.index if a in by_area]
    rows = np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.intp)
    sub = dataclasses.replace(terr, study_areas=areas, residents=terr.residents.iloc[rows])
    sub.__dict__["area_points"] = terr.area_points[idx]
    return dataclasses.replace(footprints, pcns=pcns, territories=sub)
