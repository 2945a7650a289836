"""Appraisal and reporting periods.

Canonical forms: ``2024`` (year), ``2024S1`` (semester), ``2024Q1`` (quarter),
``2024-03`` (month). Exports also write ``2024 Q1``, ``Q1/2024``, ``03/2024``,
``2024/03`` or a year typed as a number (``2024.0``); those are normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(\d{4})(?:\.0+)?$"), "Y"),
    (re.compile(r"^(\d{4})[\s\-/_]*[Qq](?:uarter|uartal|w|tr)?[\s\-/_]*([1-4])$"), "Q"),
    (re.compile(r"^[Qq](?:uarter|uartal|w|tr)?[\s\-/_]*([1-4])[\s\-/_]+(\d{4})$"), "Qr"),
    (re.compile(r"^(\d{4})[\s\-/_]*[Ss](?:em(?:ester)?)?[\s\-/_]*([12])$"), "S"),
    (re.compile(r"^[Ss](?:em(?:ester)?)?[\s\-/_]*([12])[\s\-/_]+(\d{4})$"), "Sr"),
    (re.compile(r"^(\d{4})[\-/](\d{1,2})$"), "M"),
    (re.compile(r"^(\d{1,2})[\-/](\d{4})$"), "Mr"),
)


_MIN_YEAR, _MAX_YEAR = 1900, 2200


@dataclass(frozen=True, order=True)
class Period:
    """A period as (year, first month, kind); ordered by start, then by length."""

    year: int
    start_month: int
    kind: str  # Y, S, Q or M

    @property
    def months(self) -> int:
        return {"Y": 12, "S": 6, "Q": 3, "M": 1}[self.kind]

    def __str__(self) -> str:
        if self.kind == "Y":
            return f"{self.year}"
        if self.kind == "S":
            return f"{self.year}S{(self.start_month - 1) // 6 + 1}"
        if self.kind == "Q":
            return f"{self.year}Q{(self.start_month - 1) // 3 + 1}"
        return f"{self.year}-{self.start_month:02d}"

    @property
    def index(self) -> int:
        """Months since year 0 at the start of the period (for differences)."""
        return self.year * 12 + self.start_month - 1


def parse_period(text: object) -> Period | None:
    """Parse one period; None when it is not a period in any accepted form."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    s = str(text).strip()
    for pattern, kind in _PATTERNS:
        m = pattern.match(s)
        if not m:
            continue
        if kind == "Y":
            year = int(m.group(1))
            period = Period(year, 1, "Y")
        elif kind in ("Q", "Qr"):
            year, q = (int(m.group(1)), int(m.group(2))) if kind == "Q" else (int(m.group(2)), int(m.group(1)))
            period = Period(year, 3 * (q - 1) + 1, "Q")
        elif kind in ("S", "Sr"):
            year, h = (int(m.group(1)), int(m.group(2))) if kind == "S" else (int(m.group(2)), int(m.group(1)))
            period = Period(year, 6 * (h - 1) + 1, "S")
        else:
            year, month = (int(m.group(1)), int(m.group(2))) if kind == "M" else (int(m.group(2)), int(m.group(1)))
            if not 1 <= month <= 12:
                return None
            period = Period(year, month, "M")
        # the same plausible years for every kind ('0000Q1' and '1024-03' are typos)
        return period if _MIN_YEAR <= period.year <= _MAX_YEAR else None
    return None


def normalise_periods(values: pd.Series) -> pd.Series:
    """Canonical period strings; values that are not periods become None."""
    uniques = pd.unique(values.dropna())
    mapping = {}
    for u in uniques:
        p = parse_period(u)
        mapping[u] = str(p) if p else None
    out = values.map(mapping).astype("object")
    return out.where(out.notna(), None)


def sort_periods(periods) -> list[str]:
    """Canonical period strings in time order (each period once); what is not a period goes last."""
    parsed = {}
    for text in set(periods):
        p = parse_period(text)
        parsed[str(p) if p else str(text)] = p
    return [s for s, p in sorted(parsed.items(), key=lambda x: (x[1] is None, x[1] or Period(0, 0, "Y"), x[0]))]


def quarter_of(date: pd.Timestamp) -> str:
    return f"{date.year}Q{(date.month - 1) // 3 + 1}"


def period_index(values: pd.Series) -> pd.Series:
    """Months since year 0 at the start of each period (for event-time arithmetic)."""
    uniques = pd.unique(values.dropna())
    mapping = {u: parse_period(u).index for u in uniques if parse_period(u)}
    return values.map(mapping)
