"""Contiguity check: a PCN's practices should form one connected group, and its footprint
should have no fragments cut off from its practices (exclaves). It reads the partition's
``contiguity`` and ``exclaves`` metrics (:mod:`geo_pcn.partition`)."""

from __future__ import annotations

import pandas as pd
import shapely

from geo_pcn.findings import Finding, Severity
from geo_pcn.partition.keyed import keyed, parts
from geo_pcn.settings import PRACTICE_CODE

__all__ = ["check_contiguity", "contiguity_findings"]


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def check_contiguity(partition) -> list[Finding]:
    """Detached practice groups (ERROR), practices with no home (WARNING) and footprint
    exclaves (WARNING), judged on the pieces the map draws.

    Practices are connected through their *home pieces* (the practice graph); groups whose
    homes lie in one piece of the PCN's own footprint are joined (its areas between have
    more of the PCN's patients than any other PCN's). A detached group is named with its
    practices, its patients, its distance to the main group (the group with most patients;
    measured between their homes) and the PCNs whose footprints lie between.
    """
    return parts(partition.metric(FINDINGS, contiguity_findings))


#: the name of the contiguity check's findings per PCN among the partition's metrics
FINDINGS = "contiguity_findings"


def contiguity_findings(partition) -> dict:
    """Updater: ``pcn_code -> (inputs, findings)`` for each PCN's practice groups, then
    ``("exclaves", pcn_code) -> (inputs, [finding])`` for each PCN with exclaves; a PCN's
    findings are made from its ``contiguity`` (or ``exclaves``) metric value, its label
    and the labels of the PCNs between; from a parent holding it, only those whose
    inputs changed are made again (:func:`~geo_pcn.partition.keyed`)."""
    metrics = partition.contiguity
    members = partition.configuration.members
    tol = partition.geography.adjacency_tolerance_m

    def entries():
        for code in members:
            value = metrics[code]
            label = partition.pcn_label(code)
            between = tuple(partition.pcn_label(c) for d in value.detached for c in d.pcns_between)
            yield (
                code,
                (value, label, between),
                lambda v=value, c=code, lb=label: _pcn_findings(partition, c, v, lb),
            )
        for code, pieces in partition.exclaves.items():
            if code in members:
                yield (
                    ("exclaves", code),
                    (pieces, partition.pcn_label(code)),
                    lambda c=code, p=pieces: [_exclave_finding(c, p, tol, partition)],
                )

    return keyed(partition, FINDINGS, entries())


def _pcn_findings(partition, code: str, value, label: str) -> list[Finding]:
    """The findings of one PCN's practice groups (its ``contiguity`` metric value): its
    practices with no home, the groups its footprint joins, a footprint drawn apart, the
    detached groups."""
    findings: list[Finding] = []
    if value.unplaced:
        findings.append(_unplaced_finding(partition, code, value.unplaced, label))
    if value.joined:
        findings.append(_joined_finding(code, value.joined, label))
    if value.drawn_apart is not None:
        findings.append(_drawn_apart_finding(code, value.drawn_apart, partition.geography, label))
    findings.extend(
        _detached_group_finding(partition, code, value.main, d, label) for d in value.detached
    )
    return findings


def _unplaced_finding(partition, code: str, unplaced, label: str) -> Finding:
    """WARNING: practices of the PCN with no home (why each), left out of the check."""
    why = partition.study_fact("why_unplaced", lambda: _why_all_unplaced(partition))
    return Finding(
        check="contiguity",
        kind="no_territory",
        severity=Severity.WARNING,
        message=(
            f"{label}: "
            + "; ".join(f"{p} {why[p]}" for p in unplaced)
            + ". Contiguity is checked without "
            + ("it." if len(unplaced) == 1 else "them.")
        ),
        pcn_code=code,
        practice_codes=unplaced,
        details={"reasons": {p: why[p] for p in unplaced}},
    )


def _joined_finding(code: str, joined, label: str) -> Finding:
    """INFO: practice groups whose homes do not touch but the PCN's footprint joins."""
    return Finding(
        check="contiguity",
        kind="joined_by_footprint",
        severity=Severity.INFO,
        message=(
            f"{label}: the home pieces of {' and '.join(', '.join(g) for g in joined)} "
            "do not touch, but the PCN's own footprint joins them or their sites "
            "(the areas between "
            "have more of the PCN's patients than any other PCN's), so it counts as "
            "contiguous."
        ),
        pcn_code=code,
        practice_codes=tuple(sorted(p for g in joined for p in g)),
        details={"groups": [list(g) for g in joined]},
    )


def _detached_group_finding(partition, code: str, main, d, label: str) -> Finding:
    """ERROR (WARNING when it has no registered patients): a practice group ``d`` cut off
    from the PCN's main group ``main``, how far and across which PCNs."""
    guessed = partition.study_fact("guessed_sites", lambda: _guessed_sites(partition.study))
    group = d.practices
    between = [partition.pcn_label(c) for c in d.pcns_between]
    names = ", ".join(between) if between else "no other PCN"
    # a group with no registered patients (a practice closed or not yet reporting)
    # is placed only by its site: worth a look, not a failed configuration
    empty = d.patients == 0 and partition.territories.method == "registrations"
    sited = sorted(p for p in (*group, *main) if p in guessed)
    return Finding(
        check="contiguity",
        kind="detached_group",
        severity=Severity.WARNING if empty else Severity.ERROR,
        message=(
            f"{label} is not contiguous: {', '.join(group)} ({d.patients:,} patients) "
            f"{'is' if len(group) == 1 else 'are'} {_km(d.distance_m)} from the main "
            f"group of {len(main)} practice{'s' * (len(main) != 1)}, across {names}"
            + (
                "; with no registered patients, only "
                f"{'its' if len(group) == 1 else 'their'} site places "
                f"{'it' if len(group) == 1 else 'them'} (closed or not yet reporting?)."
                if empty
                else "."
            )
            + (
                f" (The site of {', '.join(sited)} is guessed from its residents: "
                "the distance is approximate.)"
                if sited
                else ""
            )
        ),
        pcn_code=code,
        practice_codes=group,
        value=round(d.distance_m, 1),
        threshold=partition.geography.adjacency_tolerance_m,
        details={
            "patients": d.patients,
            "distance_m": round(d.distance_m, 1),
            "main_group": list(main),
            "pcns_between": between,
            **({"guessed_sites": sited} if sited else {}),
        },
        geometry=shapely.GeometryCollection([d.geometry, d.line]),
    )


def _drawn_apart_finding(code, apart, geography, label) -> Finding:
    """WARNING: the practices join up but the footprint is drawn in pieces holding them."""
    groups, patients, main = apart.groups, apart.patients, apart.main
    others = [i for i in range(len(groups)) if i != main]
    text = "; ".join(
        f"{', '.join(groups[i])} ({patients[i]:,} patients) {_km(apart.distance_m[i])} away"
        for i in others
    )
    return Finding(
        check="contiguity",
        kind="footprint_in_pieces",
        severity=Severity.WARNING,
        message=(
            f"{label}: its practices' home pieces join up, but its footprint is drawn in "
            f"{len(groups)} pieces holding practices (the areas between have more of other "
            f"PCNs' patients): {text} from the piece of {', '.join(groups[main])}."
        ),
        pcn_code=code,
        practice_codes=tuple(sorted(p for i in others for p in groups[i])),
        value=round(max(apart.distance_m), 1),
        threshold=geography.adjacency_tolerance_m,
        details={
            "groups": [list(g) for g in groups],
            "patients": list(patients),
            "main_group": list(groups[main]),
            "distance_m": {", ".join(groups[i]): round(apart.distance_m[i], 1) for i in others},
        },
        geometry=apart.geometry,
    )


def _guessed_sites(study) -> frozenset:
    """Practices whose site was placed at their residents' centre (not a real address)."""
    method = study.practices.get("locate_method")
    if method is None:
        return frozenset()
    text = method.fillna("").astype(str)
    return frozenset(text.index[text.str.contains("resident", case=False)])


def _registered(study) -> frozenset:
    """Codes of the practices with registered residents in any small area."""
    reg = study.registrations
    if reg is None:
        return frozenset()
    codes = reg[PRACTICE_CODE].to_numpy(dtype=object)[(reg["area_kind"] == "small_area").to_numpy()]
    return frozenset(pd.unique(codes))


def _why_all_unplaced(partition) -> dict[str, str]:
    """Why each practice of the study with no home has none (the same for every
    configuration)."""
    graph = partition.graph
    unplaced = [p for p in graph.nodes if not graph.nodes[p]["has_home"]]
    study = partition.study
    return _why_unplaced(study, partition, unplaced, _registered(study))


def _why_unplaced(study, partition, practices, registered: frozenset) -> dict[str, str]:
    """Why each practice has no home (no territory and no located site in a small area),
    exactly."""
    geometry = study.practices.geometry
    terr = partition.territories
    out = {}
    for p in practices:
        located = geometry.get(p) is not None and not shapely.is_missing(geometry.get(p))
        if terr.method == "voronoi":
            out[p] = (
                "is not located (no coordinates or postcode match)"
                if not located
                else ("has a site outside the study boundary")
            )
            continue
        parts = []
        if p not in registered:
            parts.append("has no registered residents in any small area of the areas layer")
        else:
            parts.append(
                "wins no small area of the study (other practices have more of the registered "
                "residents wherever its patients live)"
            )
        if not located:
            parts.append("is not located (no coordinates or postcode match)")
        else:
            parts.append("its site lies outside every small area of the areas layer")
        out[p] = " and ".join(parts)
    return out


def _exclave_finding(code, pieces, tol, partition) -> Finding:
    # many fragments of one PCN are one finding: the count, the patients, the worst
    n = sum(x.patients for x in pieces)
    areas = sorted(a for x in pieces for a in x.areas)
    far = max(pieces, key=lambda x: (x.distance_m, x.patients))
    what = (
        f"a footprint fragment of {len(areas)} small area{'s' * (len(areas) != 1)} "
        f"({n:,} of its patients live there) {_km(far.distance_m)} from the rest of its "
        "footprint"
        if len(pieces) == 1
        else f"{len(pieces)} footprint fragments ({len(areas)} small areas, {n:,} of its "
        f"patients) away from the rest of its footprint, the farthest {_km(far.distance_m)}"
    )
    return Finding(
        check="contiguity",
        kind="exclave",
        severity=Severity.WARNING,
        message=(
            f"{partition.pcn_label(code)} has {what}, with none of its practices' sites or home "
            f"pieces in {'it' if len(pieces) == 1 else 'them'}."
        ),
        pcn_code=code,
        practice_codes=(),
        value=n,
        threshold=tol,
        details={
            "areas": areas,
            "patients": n,
            "n_fragments": len(pieces),
            "distance_m": round(far.distance_m, 1),
            "fragments": [
                {
                    "areas": list(x.areas),
                    "patients": x.patients,
                    "distance_m": round(x.distance_m, 1),
                }
                for x in pieces
            ],
        },
        geometry=shapely.union_all([x.geometry for x in pieces]),
    )
