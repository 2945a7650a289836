"""Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"):
alpha = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck, with o the coincidence matrix (each
ordered pair of values from different coders in unit u adds 1 / (m_u - 1)), n_c its margins and n the
number of pairable values. Units with fewer than two values are not pairable and are left out. The sums
are taken without building o where a closed form exists (nominal, interval, and ordinal = interval on
mid-ranks of the pairable values), so 100,000 units cost milliseconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from analysis.core.results import Results
from analysis.stats.reliability.common import SHOW, check_columns, factorize

LEVELS = ("nominal", "ordinal", "interval", "ratio")



@dataclass(frozen=True)
class AlphaResult(Results):
    """Krippendorff's alpha with a percentile bootstrap interval over units."""

    alpha: float
    level: str
    ci_low: float
    ci_high: float
    se: float  # standard deviation of the bootstrap replicates
    confidence: float
    n_boot: int
    n_boot_valid: int  # replicates where alpha is defined (some variation in the resample)
    seed: int
    n_units: int  # pairable units (two values or more)
    n_values: int  # pairable values

    title = "Krippendorff's alpha"

    def to_dict(self) -> dict:
        return asdict(self)


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


def _pairable(unit: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of units that have two or more; units renumbered 0..U-1 and sorted, with their counts."""
    ok = ~np.isnan(x)
    unit, x = unit[ok], x[ok]
    if unit.size and np.any(unit[1:] < unit[:-1]):
        order = np.argsort(unit, kind="stable")
        unit, x = unit[order], x[order]
    if unit.size == 0:
        return unit.astype(np.int64), x, np.zeros(0, dtype=np.int64)
    m0 = np.bincount(unit)
    keep = m0[unit] >= 2
    newcode = np.cumsum(m0 >= 2) - 1
    unit, x = newcode[unit[keep]], x[keep]
    return unit, x, m0[m0 >= 2]


def _pairs(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j), i < j, of every pair of values in the same unit (values sorted by unit)."""
    n = int(m.sum())
    start = np.cumsum(m) - m
    pos = np.arange(n) - np.repeat(start, m)
    after = np.repeat(m, m) - 1 - pos  # partners after each value in its unit
    i = np.repeat(np.arange(n), after)
    offs = np.repeat(np.cumsum(after) - after, after)
    j = i + 1 + (np.arange(i.size) - offs)
    return i, j


def _ratio_delta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, ((a - b) / s) ** 2, 0.0)


def _midranks(x: np.ndarray) -> np.ndarray:
    """Ordinal metric as interval on mid-ranks: (sum_{g=c..k} n_g - (n_c + n_k)/2)^2 = (F_k - F_c)^2,
    F_c = (number of pairable values below c) + n_c / 2."""
    _, inv, nc = np.unique(x, return_inverse=True, return_counts=True)
    f = np.cumsum(nc) - nc / 2
    return f[inv]


def _alpha_core(unit: np.ndarray, x: np.ndarray, m: np.ndarray, level: str) -> float:
    """alpha from pairable values sorted by unit (codes 0..U-1, m values each, all m >= 2)."""
    n = x.size
    if n < 2:
        return float("nan")
    if level == "ordinal":
        x, level = _midranks(x), "interval"
    mf = m.astype(float)
    if level == "interval":
        # sum over ordered pairs in a unit of (x_i - x_j)^2 = 2 m sum_i (x_i - mean_u)^2
        mean_u = np.bincount(unit, x) / mf
        ss_u = np.bincount(unit, (x - mean_u[unit]) ** 2)
        observed = np.sum(2 * mf * ss_u / (mf - 1))
        expected = 2 * n * np.sum((x - x.mean()) ** 2)
    elif level == "nominal":
        # ordered pairs in a unit with different values: m^2 - sum_c n_uc^2
        vals, inv, nc = np.unique(x, return_inverse=True, return_counts=True)
        key = unit.astype(np.int64) * vals.size + inv
        cells, cnt = np.unique(key, return_counts=True)
        same = np.bincount(cells // vals.size, cnt.astype(float) ** 2, minlength=m.size)
        observed = np.sum((mf ** 2 - same) / (mf - 1))
        expected = float(n) ** 2 - np.sum(nc.astype(float) ** 2)
    else:  # ratio: no closed form; every within-unit pair, and the value x value sums in blocks
        i, j = _pairs(m)
        observed = 2 * np.sum(_ratio_delta(x[i], x[j]) / (mf[unit[i]] - 1))
        vals, nc = np.unique(x, return_counts=True)
        ncf = nc.astype(float)
        step = max(1, 4_000_000 // vals.size)
        expected = 0.0
        for s in range(0, vals.size, step):  # blocks of rows of the V x V table, not pairs
            expected += ncf[s:s + step] @ _ratio_delta(vals[s:s + step, None], vals[None, :]) @ ncf
    if expected <= 0:
        return float("nan")  # no variation among the pairable values: alpha is undefined
    return float(1 - (n - 1) * observed / expected)


def _prepare_matrix(matrix: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _check_level(level)
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d coders x units array, got {x.ndim} dimension(s)")
    xt = x.T  # units x coders: values come out sorted by unit
    unit, _ = np.nonzero(~np.isnan(xt))
    vals = xt[~np.isnan(xt)]
    if level == "ratio" and np.any(vals < 0):
        raise ValueError("ratio level needs values >= 0")
    return _pairable(unit.astype(np.int64), vals)


def _prepare_long(data: pd.DataFrame, units: str, coders: str, values: str,
                  level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _check_level(level)
    check_columns(data, [units, coders, values])
    d = data[[units, coders, values]]
    d = d[d[values].notna()]
    if (d[units].isna() | d[coders].isna()).any():
        raise ValueError(f"{int((d[units].isna() | d[coders].isna()).sum())} value(s) have no {units!r} "
                         f"or no {coders!r}")
    v = d[values]
    if isinstance(v.dtype, pd.CategoricalDtype):
        if level != "nominal" and not v.cat.ordered:
            raise ValueError(f"{level} level needs numbers or an ordered categorical, {values!r} is unordered")
        x = v.cat.codes.to_numpy(dtype=float)
        if level in ("interval", "ratio"):
            raise ValueError(f"{level} level needs numeric values, {values!r} is categorical")
    elif pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v):
        x = v.to_numpy(dtype=float)
    elif level == "nominal":
        x = pd.factorize(v, sort=True)[0].astype(float)
    else:
        raise ValueError(f"{level} level needs numeric values (or an ordered categorical), "
                         f"{values!r} is {v.dtype}")
    if level == "ratio" and np.any(x < 0):
        raise ValueError("ratio level needs values >= 0")
    ui, _ = factorize(d[units])
    ci, clab = pd.factorize(d[coders])
    dup = pd.Series(ui.astype(np.int64) * len(clab) + ci).duplicated(keep=False).to_numpy()
    if dup.any():
        pairs = d.loc[dup, [units, coders]].drop_duplicates().head(SHOW)
        shown = ", ".join(f"({u!r}, {c!r})" for u, c in pairs.itertuples(index=False))
        raise ValueError(f"a coder gave a unit more than one value ({int(dup.sum())} rows), e.g. "
                         f"({units}, {coders}) = {shown}")
    return _pairable(ui.astype(np.int64), x)


def krippendorff_alpha_matrix(matrix: np.ndarray, level: str = "interval") -> float:
    """Krippendorff's alpha of a coders x units array (NaN = no value); NaN when undefined.

    ``level``: nominal, ordinal, interval or ratio (difference functions of
    Krippendorff 2011; ordinal uses the frequencies of the pairable values,
    ratio ((c - k) / (c + k))^2 needs values >= 0).
    """
    return _alpha_core(*_prepare_matrix(matrix, level), level)


def krippendorff_alpha(data: pd.DataFrame, units: str, coders: str, values: str,
                       level: str = "interval") -> float:
    """Krippendorff's alpha of long data (one row per unit and coder; missing values allowed).

    Nominal values may be any labels; ordinal needs numbers or an ordered
    categorical; interval and ratio need numbers. A coder giving one unit two
    values is an error. NaN when no unit is pairable or the values do not vary.
    """
    return _alpha_core(*_prepare_long(data, units, coders, values, level), level)


def _bootstrap(unit: np.ndarray, x: np.ndarray, m: np.ndarray, level: str, n_boot: int, seed: int,
               confidence: float) -> AlphaResult:
    """Percentile interval from resampling pairable units with replacement (numpy default_rng(seed))."""
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    est = _alpha_core(unit, x, m, level)
    n_units = m.size
    reps = np.full(n_boot, np.nan)
    if n_units > 0:
        rng = np.random.default_rng(seed)
        start = np.cumsum(m) - m
        for b in range(n_boot):
            pick = rng.integers(0, n_units, n_units)
            mb = m[pick]
            first = np.cumsum(mb) - mb
            idx = np.repeat(start[pick] - first, mb) + np.arange(int(mb.sum()))
            reps[b] = _alpha_core(np.repeat(np.arange(n_units), mb), x[idx], mb, level)
    ok = reps[np.isfinite(reps)]
    tail = (1 - confidence) / 2
    lo, hi = (np.quantile(ok, [tail, 1 - tail]) if ok.size else (np.nan, np.nan))
    return AlphaResult(alpha=est, level=level, ci_low=float(lo), ci_high=float(hi),
                       se=float(ok.std(ddof=1)) if ok.size > 1 else float("nan"), confidence=confidence,
                       n_boot=n_boot, n_boot_valid=int(ok.size), seed=seed, n_units=int(n_units),
                       n_values=int(x.size))


def krippendorff_alpha_ci(data: pd.DataFrame, units: str, coders: str, values: str, level: str = "interval",
                          n_boot: int = 1000, seed: int = 0, confidence: float = 0.95) -> AlphaResult:
    """Krippendorff's alpha of long data with a bootstrap interval (units resampled; same seed, same interval).

    This is a plain percentile bootstrap over units, not Krippendorff's own
    bootstrap of pairable values (Hayes & Krippendorff 2007).
    """
    return _bootstrap(*_prepare_long(data, units, coders, values, level), level, n_boot, seed, confidence)


def krippendorff_alpha_matrix_ci(matrix: np.ndarray, level: str = "interval", n_boot: int = 1000,
                                 seed: int = 0, confidence: float = 0.95) -> AlphaResult:
    """``krippendorff_alpha_ci`` for a coders x units array (NaN = no value)."""
    return _bootstrap(*_prepare_matrix(matrix, level), level, n_boot, seed, confidence)


def coincidence_matrix(matrix: np.ndarray) -> pd.DataFrame:
    """The coincidence matrix o_ck of a coders x units array (values x values; for inspection).

    Built from every within-unit pair, so meant for data with a modest number
    of distinct values; alpha itself never needs it.
    """
    unit, x, m = _prepare_matrix(matrix, "nominal")
    vals, inv = np.unique(x, return_inverse=True)
    v = vals.size
    i, j = _pairs(m)
    w = 1 / (m[unit[i]] - 1.0)
    o = np.bincount(inv[i] * v + inv[j], w, minlength=v * v).reshape(v, v)
    o = o + o.T
    return pd.DataFrame(o, index=pd.Index(vals, name="value"), columns=pd.Index(vals, name="value"))
