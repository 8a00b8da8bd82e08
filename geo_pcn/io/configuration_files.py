"""Writing a configuration as a CSV that :func:`geo_pcn.io.read_configuration` reads back.

:meth:`geo_pcn.configuration.Configuration.to_csv` is the public face; this module holds
the layouts (plain, and NHS England's ``gp-reg-pat-prac-map.csv``) and the writing.

Examples
--------
>>> import tempfile, pathlib
>>> frame = pd.DataFrame(
...     {"practice_code": ["A1", "A2"], "pcn_code": ["U1", ""], "pcn_name": ["=ONE", ""]}
... )
>>> path = write_configuration(frame, pathlib.Path(tempfile.mkdtemp()) / "c.csv", layout="nhs")
>>> [line.split(",")[2:7] for line in path.read_text().splitlines()][1:]
[['A1', '', '', 'U1', "'=ONE"], ['A2', '', '', 'U', 'Unallocated']]
"""

from __future__ import annotations

import csv
import datetime as _dt
from pathlib import Path
from typing import Literal

import pandas as pd

from geo_pcn._escape import excel_frame
from geo_pcn.errors import InputError
from geo_pcn.settings import PCN_CODE, PCN_NAME, PRACTICE_CODE

__all__ = ["write_configuration", "NHS_MAP_COLUMNS"]


#: Columns of NHS England's ``gp-reg-pat-prac-map.csv`` (``to_csv(layout="nhs")``).
NHS_MAP_COLUMNS = (
    "PUBLICATION",
    "EXTRACT_DATE",
    "PRACTICE_CODE",
    "PRACTICE_NAME",
    "PRACTICE_POSTCODE",
    "PCN_CODE",
    "PCN_NAME",
    "ONS_SUB_ICB_LOCATION_CODE",
    "SUB_ICB_LOCATION_CODE",
    "SUB_ICB_LOCATION_NAME",
    "ONS_ICB_CODE",
    "ICB_CODE",
    "ICB_NAME",
    "ONS_COMM_REGION_CODE",
    "COMM_REGION_CODE",
    "COMM_REGION_NAME",
    "SUPPLIER_NAME",
)
#: NHS map column -> column of ``Study.practices`` that fills it (when given).
_NHS_FROM_PRACTICES = {
    "PRACTICE_NAME": "practice_name",
    "PRACTICE_POSTCODE": "postcode",
    "ONS_SUB_ICB_LOCATION_CODE": "ons_sub_icb_code",
    "SUB_ICB_LOCATION_CODE": "sub_icb_code",
    "SUB_ICB_LOCATION_NAME": "sub_icb_name",
    "ONS_ICB_CODE": "ons_icb_code",
    "ICB_CODE": "icb_code",
    "ICB_NAME": "icb_name",
}


def write_configuration(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    layout: Literal["plain", "nhs"] = "plain",
    practices: pd.DataFrame | None = None,
) -> Path:
    """Write ``frame`` (``practice_code, pcn_code, pcn_name``, blank PCN columns for a
    practice in no PCN: :meth:`Configuration.to_frame
    <geo_pcn.configuration.Configuration.to_frame>`) in ``layout``; the parameters are
    :meth:`Configuration.to_csv <geo_pcn.configuration.Configuration.to_csv>`'s.
    Returns the path written."""
    path = Path(path)
    if layout == "plain":
        out = frame
    elif layout == "nhs":
        n = len(frame)
        assigned = frame[PCN_CODE] != ""
        out = pd.DataFrame({c: [""] * n for c in NHS_MAP_COLUMNS})
        out["PUBLICATION"] = "GP_PRAC_PAT_LIST"
        out["EXTRACT_DATE"] = _dt.date.today().strftime("%d%b%Y")
        out["PRACTICE_CODE"] = frame[PRACTICE_CODE].to_numpy()
        out["PCN_CODE"] = frame[PCN_CODE].where(assigned, "U").to_numpy()
        out["PCN_NAME"] = frame[PCN_NAME].where(assigned, "Unallocated").to_numpy()
        if practices is not None:
            for column, source in _NHS_FROM_PRACTICES.items():
                if source in practices:
                    values = practices[source].reindex(frame[PRACTICE_CODE])
                    out[column] = values.fillna("").astype(str).to_numpy()
    else:
        raise InputError(f"unknown layout {layout!r}; use 'plain' or 'nhs'")
    # formula-safe, and exactly undone by geo_pcn.io.read_configuration
    out = excel_frame(out)
    out.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return path
