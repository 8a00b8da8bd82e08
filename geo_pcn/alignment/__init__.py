"""Community services against PCN footprints: how well team areas and sites line up.

Two kinds of community layer (``[community.NAME]`` in the study file):

* **areas** (team, neighbourhood or local-authority footprints, polygons). Each PCN's
  patients are shared out over the service areas they live in, **patient-weighted** when
  the study has registrations (each small area's patients of each PCN go to the service
  area holding the small area's representative point) and **area-weighted** otherwise
  (PCN footprints intersected with the service areas, weighted by km²). From that
  contingency table (PCN x service area) come per-PCN and per-area shares, a suggested
  docking (each PCN to its dominant service area), the pairs that do not fit it, and
  whole-study agreement scores between the two partitions (see :func:`partition_scores`).

  A PCN is **split across areas** when the service-area lines cut its *footprint*: at
  least two service areas each hold :data:`MIN_SHARE` (5 %) or more of the footprint,
  weighted by registered residents (registrations) or by area (voronoi). The footprint,
  not the patient list, decides: patients registering across a line is normal and shows
  up as docking actions, while a line through the PCN's territory is a planning problem.

* **sites** (clinics, bases, pharmacies: points or geocoded postcodes). Sites per PCN
  footprint and per 10,000 patients, PCNs with none, sites outside the footprint of the
  PCN they declare (with the distance), and each practice's distance to its nearest site.
  Sites that could not be located are listed, never dropped.

:func:`build_alignment` runs every community layer of a study and returns an
:class:`Alignment`; results are cached per configuration's footprints.

Examples
--------
>>> from geo_pcn.datasets import demo
>>> alignment = build_alignment(demo())
>>> sorted(alignment.layers)
['sites', 'teams']
>>> round(alignment.layers["teams"].summary["coterminosity"], 3)
0.943
"""

from __future__ import annotations

import pandas as pd

from geo_pcn.alignment.areas import align_areas
from geo_pcn.alignment.results import Alignment, AreaAlignment, SiteAlignment
from geo_pcn.alignment.scores import MIN_SHARE, ONE_AREA_SHARE, partition_scores
from geo_pcn.alignment.sites import align_sites
from geo_pcn.configuration import Configuration
from geo_pcn.geography import Footprints, build_footprints

__all__ = [
    "MIN_SHARE",
    "ONE_AREA_SHARE",
    "Alignment",
    "AreaAlignment",
    "SiteAlignment",
    "build_alignment",
    "align_areas",
    "align_sites",
    "partition_scores",
]


def build_alignment(
    study,
    configuration: Configuration | None = None,
    *,
    footprints: Footprints | None = None,
    fixed: dict | None = None,
    pcn_sizes: pd.Series | None = None,
    before: tuple[Footprints, Alignment] | None = None,
) -> Alignment:
    """Align every community layer of a study with the PCN footprints.

    Parameters
    ----------
    study
        A :class:`~geo_pcn.study.Study`.
    configuration
        Default: the study's own.
    footprints
        The configuration's footprints, when already built (a
        :class:`~geo_pcn.partition.Partition` keeps the result as its ``alignment``
        metric, so the check and the report share one computation).
    fixed
        A dict the caller keeps for the study: the parts of each layer's alignment no
        configuration with the same PCN codes changes are kept in it (see
        :func:`align_sites`).
    pcn_sizes
        ``pcn_code -> list size`` of the configuration's PCNs, when already worked out (a
        partition's ``pcn_list_sizes``); default: summed from the study's practices.
    before
        The footprints ``footprints`` were updated from and the alignment against them
        (a partition's parent's): each sites layer places again only the sites near a
        rebuilt footprint (see :func:`align_sites`).

    Returns
    -------
    Alignment

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> build_alignment(demo())
    <Alignment: teams (areas), sites (sites)>
    """
    configuration = study.configuration if configuration is None else configuration
    if footprints is None:
        footprints = build_footprints(study, configuration)
    layers: dict[str, AreaAlignment | SiteAlignment] = {}
    for name, layer in study.community.items():
        if layer.kind == "areas":
            layers[name] = align_areas(study, layer, footprints)
        else:
            was = None if before is None else before[1].layers.get(name)
            layers[name] = align_sites(
                study,
                layer,
                footprints,
                fixed=fixed,
                pcn_sizes=pcn_sizes,
                before=None if was is None else (before[0], was),
            )
    return Alignment(layers=layers)
