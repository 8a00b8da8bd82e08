"""Size check: PCN list size against the band (default 30,000-50,000)."""

from __future__ import annotations

import pandas as pd

from geo_pcn.findings import Finding, Severity
from geo_pcn.partition.keyed import keyed, parts

__all__ = ["check_size", "size_findings", "band_status"]


def band_status(list_size: int, band: tuple[int, int], *, exempt: bool = False) -> str:
    """``below``, ``within`` or ``above`` the inclusive band; ``exempt`` when outside it
    with an agreed exception."""
    low, high = band
    status = "below" if list_size < low else "above" if list_size > high else "within"
    return "exempt" if exempt and status != "within" else status


#: a PCN with at least this share of its patients in rural areas is called mostly rural
RURAL_SHARE = 50.0


def _setting(table: dict, code: str) -> tuple[str, dict]:
    """The rural share and deprivation of a PCN's patients (a row of the partition's
    ``pcn_setting``), as words and as details (the context planners cite for an
    exception); empty without rural or deprivation data."""
    row = table.get(code)
    if not row:
        return "", {}
    parts, extra = [], {}
    if "pct_rural" in row and pd.notna(row["pct_rural"]):
        pct = float(row["pct_rural"])
        extra["pct_rural"] = pct
        parts.append(
            f"{pct:.0f}% of its patients live in rural areas"
            + (" (mostly rural: the usual agreed exception)" if pct >= RURAL_SHARE else "")
        )
    if "imd_score" in row and pd.notna(row["imd_score"]):
        extra["imd_score"] = float(row["imd_score"])
        extra["imd_decile"] = None if pd.isna(row["imd_decile"]) else int(row["imd_decile"])
        if extra["imd_decile"] is not None:
            parts.append(
                f"deprivation decile {extra['imd_decile']} (1 = most deprived; IMD score "
                f"{extra['imd_score']:.1f})"
            )
    return ("; " + "; ".join(parts)) if parts else "", extra


def check_size(partition) -> list[Finding]:
    """PCNs outside the band (ERROR, or INFO when exempt) and single-practice PCNs (INFO),
    from the partition's ``pcn_list_sizes`` and ``pcn_setting``.

    Examples
    --------
    >>> from geo_pcn.datasets import demo
    >>> from geo_pcn.partition import Partition
    >>> findings = check_size(Partition(demo()))
    >>> sorted({f.kind for f in findings})
    ['above_band', 'below_band', 'exempt', 'single_practice']
    """
    return parts(partition.metric(FINDINGS, size_findings))


#: the name of the size check's findings per PCN among the partition's metrics
FINDINGS = "size_findings"


def size_findings(partition) -> dict:
    """Updater: ``pcn_code -> (inputs, findings)``, a PCN's size findings (its setting
    too) made from its practices, size and label; from a parent holding it, only the PCNs
    whose inputs changed are made again (:func:`~geo_pcn.partition.keyed`)."""
    study, configuration = partition.study, partition.configuration
    band = study.rules.band
    exempt = set(study.rules.exempt)
    sizes = partition.pcn_list_sizes
    sizes = dict(zip(sizes.index, sizes.to_numpy().tolist(), strict=True))
    no_size = partition.study_fact(
        "no_list_size", lambda: set(study.practices.index[study.practices["list_size"].isna()])
    )

    rows = _SettingRows(partition)

    def entries():
        for code, members in configuration.members.items():
            size, label = int(sizes[code]), partition.pcn_label(code)
            yield (
                code,
                (members, size, label),
                lambda c=code, m=members, n=size, lb=label: _pcn_findings(
                    partition, c, m, n, lb, band, exempt, no_size, rows
                ),
            )

    return keyed(partition, FINDINGS, entries())


class _SettingRows:
    """A PCN's row of the partition's ``pcn_setting`` as ``{code: {column: value}}``: the
    row alone while few PCNs ask (a move remakes a few), the whole table at once after
    :attr:`FEW` (a whole study: one ``to_dict`` of 1,250 rows takes ~8 ms, 1,250 one-row
    ones ~1 s); the values are the same either way."""

    FEW = 32

    def __init__(self, partition) -> None:
        self.partition, self.asked, self.whole = partition, 0, None

    def __call__(self, code: str) -> dict:
        table = self.partition.pcn_setting
        if self.whole is None:
            self.asked += 1
            if self.asked <= self.FEW:
                return table.loc[[code]].to_dict("index")
            self.whole = table.to_dict("index")
        return {code: self.whole[code]}


def _pcn_findings(partition, code, members, size, label, band, exempt, no_size, rows) -> list:
    """The size findings of one PCN."""
    study = partition.study
    low, high = band
    findings: list[Finding] = []
    status = band_status(size, (low, high), exempt=code in exempt)
    raw = band_status(size, (low, high))
    if status in ("below", "above") or status == "exempt":
        limit = low if raw == "below" else high
        gap = abs(size - limit)
        side = "below the lower" if raw == "below" else "above the upper"
        message = (
            f"{label} has {size:,} registered patients, {gap:,} {side} limit of "
            f"{limit:,} ({len(members)} practice{'s' * (len(members) != 1)})"
        )
        row = rows(code)
        setting, extra = _setting(row, code)
        message += setting
        if status == "exempt":
            message += "; it has an agreed exception, so this is noted, not failed"
        findings.append(
            Finding(
                check="size",
                kind="exempt" if status == "exempt" else f"{raw}_band",
                severity=Severity.INFO if status == "exempt" else Severity.ERROR,
                message=message + ".",
                pcn_code=code,
                practice_codes=members,
                value=size,
                threshold=limit,
                details={"band": [low, high], "band_status": raw, **extra},
            )
        )
    if len(members) == 1:
        findings.append(
            Finding(
                check="size",
                kind="single_practice",
                severity=Severity.INFO,
                message=(
                    f"{label} is a single practice ({members[0]}, {size:,} patients); "
                    "allowed where agreed, worth confirming."
                ),
                pcn_code=code,
                practice_codes=members,
                value=1,
                threshold=2,
            )
        )
    missing = [p for p in members if p in no_size]
    if missing:
        findings.append(
            Finding(
                check="size",
                kind="no_list_size",
                severity=Severity.WARNING,
                message=(
                    f"{label}: no list size for {', '.join(missing)} ("
                    + (
                        "no rows in the registrations"
                        if study.registrations is not None
                        else "none in the practices file"
                    )
                    + "); counted as 0, so the PCN's size may be understated. Add "
                    "registrations or a [list_sizes] file for them, or check they still "
                    "exist."
                ),
                pcn_code=code,
                practice_codes=tuple(missing),
                value=len(missing),
            )
        )
    return findings
