"""Plain Python values from numpy and pandas ones: the one conversion every results file, results
object (``to_dict``), workbook cell and generated truth file uses.
"""

from __future__ import annotations

import math
from dataclasses import asdict, is_dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd


def plain(value):
    """A numpy scalar as the Python scalar it holds; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def scalar(value):
    """A plain scalar, with every kind of missing or non-finite number (NaN, NA, NaT, ±inf) as None."""
    value = plain(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def number(value) -> float | None:
    """A float, or None where the value is missing or not finite."""
    return scalar(float(value))


def json_default(value):
    """``json.dumps(default=json_default)``: numpy scalars and arrays, tuples and sets as plain values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, tuple, set)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json_safe(value):
    """Plain-JSON version of numbers, arrays, frames, dataclasses and results objects (NaN -> None)."""
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
