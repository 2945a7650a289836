"""The public satisfaction index (IKM) of PermenPANRB 14/2017, in one place.

The Survei Kepuasan Masyarakat (SKM) asks every respondent about nine elements of the service
(unsur U1-U9: requirements; system, mechanism and procedure; completion time; cost; product;
competence of staff; conduct of staff; handling of complaints; facilities), each answered on a
1-4 scale. The regulation's annex computes:

- the NRR (nilai rata-rata) of an unsur: the sum of its answers over the number of respondents
  who answered it (a blank answer is left out of both);
- the index on the 1-4 scale: the weighted sum of the nine NRRs, each weighted 1/9;
- the IKM on the 25-100 scale: that index x 25 (the conversion value);
- the quality band (mutu pelayanan) of the IKM, below.

Weights. The regulation prints the weight as 0.111 (1/9 rounded to three decimals). With 0.111 the
index of a service whose every answer is 4 is 0.999 x 4 x 25 = 99.9, not 100, and every IKM is 0.1%
lower than with 1/9 -- enough to move a value near a band edge across it (88.31 becomes 88.22). We
weight 1/9 exactly, as the issue asks and as the regulation means (equal weights summing to one);
``UNSUR_WEIGHT`` is the one place to change it.

Bands (the annex's table of nilai persepsi, nilai interval and nilai interval konversi):

    1-4 scale        25-100 scale     mutu  kinerja unit pelayanan
    3.5324-4.00      88.31-100.00     A     Sangat Baik
    3.0644-3.532     76.61-88.30      B     Baik
    2.60-3.064       65.00-76.60      C     Kurang Baik
    1.00-2.5996      25.00-64.99      D     Tidak Baik

The printed bounds leave gaps (88.30 to 88.31, 76.60 to 76.61, 64.99 to 65.00). We band the IKM as
the regulation prints it: rounded half up to two decimals, then placed by the printed lower bounds
(A from 88.31, B from 76.61, C from 65.00, D from 25.00). So 88.305 is printed 88.31 and is A, and
88.3049 is printed 88.30 and is B: a printed value and its band always agree, and no value falls in
a gap. (The older KEP/25/M.PAN/2/2004 had four other bands, 25-43.75 D ... 81.26-100 A: IKM
reported under it is not comparable band for band.)

Sample size. The annex sets the minimum number of respondents by the population served, from the
table of Krejcie & Morgan (1970) (95% confidence, 5% margin, P = 0.5): ``krejcie_morgan``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

N_UNSUR = 9
UNSUR = tuple(f"u{i}" for i in range(1, N_UNSUR + 1))
# 1/9 exactly; the regulation prints 0.111 (see the module docstring for what that changes)
UNSUR_WEIGHT = 1 / N_UNSUR
CONVERSION = 25  # the 1-4 index times 25 gives the 25-100 IKM
SCALE = (1.0, 4.0)  # the answers' scale
IKM_RANGE = (25.0, 100.0)

# (band, lower bound on the 25-100 scale as printed, label): highest first
BANDS = (
    ("A", 88.31, "Sangat Baik"),
    ("B", 76.61, "Baik"),
    ("C", 65.00, "Kurang Baik"),
    ("D", 25.00, "Tidak Baik"),
)
BAND_LABELS = {band: label for band, _, label in BANDS}

# Krejcie & Morgan (1970): chi-square of one degree of freedom at 95%, the margin, the proportion
KM_CHI2, KM_MARGIN, KM_P = 3.841, 0.05, 0.5


def nrr(answers: pd.DataFrame) -> pd.Series:
    """NRR of each unsur (columns u1..u9 of 1-4 answers, NaN = not answered): the mean of the answers
    given. An unsur nobody answered has no NRR (NaN)."""
    return answers.reindex(columns=list(UNSUR)).astype(float).mean(axis=0, skipna=True)


def ikm_from_nrr(values: pd.Series | pd.DataFrame, weight: float = UNSUR_WEIGHT) -> float | pd.Series:
    """IKM (25-100) = 25 x sum(NRR_i x weight) over the nine unsur.

    ``values``: the nine NRRs (a Series indexed u1..u9), or a frame with one column per unsur (one IKM
    per row). An unsur without an NRR leaves the IKM undefined (NaN): the regulation's index needs all
    nine, and a mean over fewer would not be the same index."""
    if isinstance(values, pd.DataFrame):
        m = values.reindex(columns=list(UNSUR)).astype(float)
        return (CONVERSION * weight * m.sum(axis=1, skipna=False)).rename("ikm")
    v = values.reindex(list(UNSUR)).astype(float)
    return float(CONVERSION * weight * v.sum(skipna=False))


def printed(value: float | None) -> float | None:
    """The IKM as the regulation prints it: rounded half up to two decimals (88.305 -> 88.31).

    Rounded from the shortest decimal text of the float, so 88.305 (stored as 88.30499999…) is 88.31."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def band(value: float | None) -> str | None:
    """The mutu pelayanan band (A, B, C, D) of an IKM on the 25-100 scale; None when it is missing or
    outside 25-100. Banded as printed (two decimals, half up), by the printed lower bounds."""
    p = printed(value)
    if p is None or not IKM_RANGE[0] <= p <= IKM_RANGE[1]:
        return None
    return next(b for b, lower, _ in BANDS if p >= lower)


def bands(values: pd.Series) -> pd.Series:
    """``band`` of each value (None where missing or out of range)."""
    return pd.Series([band(v) for v in values], index=values.index, dtype=object)


def band_label(code: str | None) -> str | None:
    """The regulation's name of a band: A -> "Sangat Baik" (the same words in either language)."""
    return BAND_LABELS.get(code) if code else None


def krejcie_morgan(population: int) -> int:
    """Minimum respondents for a population served of ``population`` (Krejcie & Morgan 1970, the table
    of the regulation's annex): s = X^2 N P(1-P) / (d^2 (N-1) + X^2 P(1-P)), rounded as the table is
    (100 -> 80, 1,000 -> 278, 1,000,000 -> 384)."""
    if population < 1:
        raise ValueError(f"population must be at least 1, not {population}")
    n = float(population)
    s = KM_CHI2 * n * KM_P * (1 - KM_P) / (KM_MARGIN ** 2 * (n - 1) + KM_CHI2 * KM_P * (1 - KM_P))
    return int(np.floor(s + 0.5))


# The default minimum when the population served is not known: the table's sample for its largest
# population (1,000,000 and more). A smaller default could pass a survey too small for a large
# population; an agency that knows a unit's population gives krejcie_morgan(population) instead.
DEFAULT_MIN_RESPONDENTS = krejcie_morgan(1_000_000)
