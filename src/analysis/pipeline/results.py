"""Results files: the key numbers of each notebook, the brief's only input.

``results/<notebook>.json`` holds ``{"notebook", "status", "reason",
"sections", "values"}``. Values are plain JSON (numbers, strings, lists,
mappings); NaN becomes null. No timestamps: the same inputs and params give
the same file.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd


def to_json_safe(value):
    """Plain-JSON version of numbers, arrays, frames, dataclasses (NaN -> None)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return to_json_safe(asdict(value))
    if hasattr(value, "to_dict") and not isinstance(value, (pd.DataFrame, pd.Series)):
        return to_json_safe(value.to_dict())
    if isinstance(value, pd.DataFrame):
        return [to_json_safe(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [to_json_safe(v) for v in value]
    return str(value)


def write_results(path: Path, notebook: str, values: dict, status: str = "ok",
                  reason: str | None = None, sections: dict | None = None) -> Path:
    doc = {
        "notebook": notebook,
        "status": status,
        "reason": reason,
        "sections": sections or {},
        "values": to_json_safe(values),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    return path


def read_results(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
