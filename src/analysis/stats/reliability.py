"""Inter-rater reliability: intraclass correlations, Krippendorff's alpha, reliability from variance components.

ICC: the six forms of Shrout & Fleiss (1979) from the two-way ANOVA of a
complete targets x raters table, with the F-based intervals exactly as R
``psych::ICC`` computes them (McGraw & Wong 1996 for the approximate df of
ICC(2,.)). ICC(1,.) treats every rating of a target as exchangeable (one-way);
ICC(2,.) counts differences in rater severity as error (absolute agreement,
raters random); ICC(3,.) ignores them (consistency, raters fixed). ``k`` forms
are the reliability of the mean of the k raters (Spearman-Brown).

Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's
alpha-reliability"): alpha = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck,
with o the coincidence matrix (each ordered pair of values from different
coders in unit u adds 1 / (m_u - 1)), n_c its margins and n the number of
pairable values. Units with fewer than two values are not pairable and are
left out. The sums are taken without building o where a closed form exists
(nominal, interval, and ordinal = interval on mid-ranks of the pairable
values), so 100,000 units cost milliseconds.

For unbalanced data (every ratee with different raters, as in 360 feedback)
ANOVA ICCs do not apply; fit a crossed mixed model elsewhere and turn its
variance components into reliabilities with ``reliability_from_components``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.core.jsonsafe import plain

FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
DESCRIPTIONS = {
    "ICC(1,1)": "one-way random, single rating",
    "ICC(2,1)": "two-way random, absolute agreement, single rating",
    "ICC(3,1)": "two-way mixed, consistency, single rating",
    "ICC(1,k)": "one-way random, mean of k ratings",
    "ICC(2,k)": "two-way random, absolute agreement, mean of k ratings",
    "ICC(3,k)": "two-way mixed, consistency, mean of k ratings",
}
LEVELS = ("nominal", "ordinal", "interval", "ratio")
_SHOW = 5  # targets or units named in an error message


# --------------------------------------------------------------------------- ICC

@dataclass(frozen=True, eq=False)
class ICCResult:
    """The six Shrout-Fleiss ICCs with intervals, and the ANOVA they come from.

    ``table``: one row per form (form, icc, ci_low, ci_high, F, df1, df2, p,
    description). ``mean_squares``: between_targets, within_targets,
    between_raters, residual. ``f_targets``: the two-way F test of targets.
    ``variance_components``: target, rater and residual variances implied by
    the expected mean squares (target = (MS_t - MS_e) / k, rater =
    (MS_r - MS_e) / n, residual = MS_e; may be negative).
    """

    table: pd.DataFrame
    mean_squares: dict[str, float]
    f_targets: dict[str, float]
    variance_components: dict[str, float]
    n_targets: int
    n_raters: int
    n_dropped: int = 0  # incomplete targets left out (complete_only=True)
    alpha: float = 0.05
    dropped_targets: tuple = field(default=())

    def value(self, form: str) -> float:
        """The ICC of one form, e.g. ``value("ICC(2,1)")``."""
        return float(self.table.set_index("form").loc[form, "icc"])

    def to_dict(self) -> dict:
        d = asdict(self)
        d["table"] = [{k: (v if isinstance(v, str) else float(v)) for k, v in row.items()}
                      for row in self.table.to_dict(orient="records")]
        d["dropped_targets"] = [plain(t) for t in self.dropped_targets]
        return d


def _check_columns(data: pd.DataFrame, cols: list[str]) -> None:
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the data (columns: {list(data.columns)})")


def _factorize(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and labels, sorted where the labels can be sorted (mixed types keep first-seen order)."""
    try:
        return pd.factorize(s, sort=True)
    except TypeError:
        return pd.factorize(s)


def _wide(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> pd.DataFrame:
    """targets x raters table of ratings (NaN where a rater did not rate a target); duplicates are an error."""
    _check_columns(data, [targets, raters, ratings])
    d = data[[targets, raters, ratings]]
    no_id = d[targets].isna() | d[raters].isna()
    if no_id.any():
        raise ValueError(f"{int(no_id.sum())} row(s) have no {targets!r} or no {raters!r}")
    try:
        x = d[ratings].to_numpy(dtype=float)
    except (TypeError, ValueError) as e:
        raise ValueError(f"ratings column {ratings!r} must be numeric for an ICC") from e
    # targets and raters are taken from every row, so one whose ratings are all missing is named as lacking
    ti, tlab = _factorize(d[targets])
    ri, rlab = _factorize(d[raters])
    rated = ~np.isnan(x)
    key = ti.astype(np.int64) * len(rlab) + ri
    dup = rated & pd.Series(np.where(rated, key, -1)).duplicated(keep=False).to_numpy()
    if dup.any():
        pairs = d.loc[dup, [targets, raters]].drop_duplicates().head(_SHOW)
        shown = ", ".join(f"({t!r}, {r!r})" for t, r in pairs.itertuples(index=False))
        raise ValueError(f"a rater rated a target more than once ({int(dup.sum())} rows), e.g. "
                         f"({targets}, {raters}) = {shown}; aggregate or deduplicate first")
    wide = np.full((len(tlab), len(rlab)), np.nan)
    wide[ti[rated], ri[rated]] = x[rated]
    return pd.DataFrame(wide, index=pd.Index(tlab, name=targets), columns=pd.Index(rlab, name=raters))


def _incomplete_message(wide: pd.DataFrame, bad: np.ndarray) -> str:
    names = wide.index[bad]
    parts = []
    for t in names[:_SHOW]:
        lacking = wide.columns[wide.loc[t].isna().to_numpy()]
        shown = ", ".join(repr(plain(r)) for r in lacking[:_SHOW]) + (" ..." if len(lacking) > _SHOW else "")
        parts.append(f"target {plain(t)!r} lacks rater(s) {shown}")
    more = f"; and {len(names) - _SHOW} more target(s)" if len(names) > _SHOW else ""
    return (f"ICC needs a complete design (every target rated once by each of the {wide.shape[1]} raters), "
            f"but {len(names)} of {wide.shape[0]} targets lack ratings: {'; '.join(parts)}{more}. "
            "Pass complete_only=True to drop incomplete targets, or use a mixed model and "
            "reliability_from_components for unbalanced data.")


def icc(data: pd.DataFrame, targets: str, raters: str, ratings: str, alpha: float = 0.05,
        complete_only: bool = False) -> ICCResult:
    """The six Shrout-Fleiss ICCs of long data (one row per target and rater).

    The ANOVA needs every target rated by every rater; an incomplete target is
    an error naming what it lacks, or, with ``complete_only=True``, left out
    (counted in ``n_dropped`` and listed in ``dropped_targets``).
    """
    wide = _wide(data, targets, raters, ratings)
    bad = wide.isna().any(axis=1).to_numpy()
    dropped: tuple = ()
    if bad.any():
        if not complete_only:
            raise ValueError(_incomplete_message(wide, bad))
        dropped = tuple(plain(t) for t in wide.index[bad])
        if (~bad).sum() < 2:
            rated = wide.notna().sum(axis=0).sort_values()
            fewest = ", ".join(f"{plain(r)!r} ({c} of {wide.shape[0]})" for r, c in rated.head(_SHOW).items())
            raise ValueError(f"after dropping {len(dropped)} incomplete target(s) only {int((~bad).sum())} "
                             f"complete target(s) remain; ICC needs at least 2. Raters with the fewest "
                             f"targets: {fewest}")
        wide = wide[~bad]
    return icc_matrix(wide.to_numpy(), alpha=alpha, _dropped=dropped)


def _anova(x: np.ndarray) -> dict[str, float]:
    """Two-way ANOVA (targets x raters, one rating per cell): sums of squares and mean squares."""
    n, k = x.shape
    gm = x.mean()
    rm, cm = x.mean(axis=1), x.mean(axis=0)
    ss_t = k * np.sum((rm - gm) ** 2)
    ss_r = n * np.sum((cm - gm) ** 2)
    ss_e = np.sum((x - rm[:, None] - cm[None, :] + gm) ** 2)  # directly, not by subtraction
    ss_w = np.sum((x - rm[:, None]) ** 2)
    return {
        "between_targets": ss_t / (n - 1),
        "within_targets": ss_w / (n * (k - 1)),
        "between_raters": ss_r / (k - 1),
        "residual": ss_e / ((n - 1) * (k - 1)),
    }


def _sb(f: float, k: int) -> float:
    """(F - 1) / (F + k - 1): an F bound to a single-rating ICC bound (1 when F is infinite)."""
    return 1.0 if np.isinf(f) else (f - 1) / (f + k - 1)


def icc_matrix(x: np.ndarray | pd.DataFrame, alpha: float = 0.05, _dropped: tuple = ()) -> ICCResult:
    """The six Shrout-Fleiss ICCs of a complete targets x raters array (no missing values).

    Point values: ICC(1,1) = (MSB - MSW) / (MSB + (k-1) MSW);
    ICC(2,1) = (MSB - MSE) / (MSB + (k-1) MSE + k (MSJ - MSE) / n);
    ICC(3,1) = (MSB - MSE) / (MSB + (k-1) MSE); ICC(1,k) = (MSB - MSW) / MSB;
    ICC(2,k) = (MSB - MSE) / (MSB + (MSJ - MSE) / n); ICC(3,k) = (MSB - MSE) / MSB.
    Intervals as psych::ICC (see ``_intervals``).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d targets x raters array, got {x.ndim} dimension(s)")
    n, k = x.shape
    if n < 2 or k < 2:
        raise ValueError(f"ICC needs at least 2 targets and 2 raters; got {n} target(s) and {k} rater(s)")
    if np.isnan(x).any():
        bad = np.flatnonzero(np.isnan(x).any(axis=1))
        raise ValueError(f"{bad.size} target row(s) have missing ratings (rows {bad[:_SHOW].tolist()}"
                         f"{' ...' if bad.size > _SHOW else ''}); ICC needs a complete design")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    ms = _anova(x)
    msb, msw, msj, mse = ms["between_targets"], ms["within_targets"], ms["between_raters"], ms["residual"]
    num = np.array([msb - msw, msb - mse, msb - mse, msb - msw, msb - mse, msb - mse])
    den = np.array([msb + (k - 1) * msw, msb + (k - 1) * mse + k * (msj - mse) / n, msb + (k - 1) * mse,
                    msb, msb + (msj - mse) / n, msb])
    # a denominator that cancels to (almost) zero is a pole of the formula, not a huge ICC: undefined
    tiny = 1e-12 * max(abs(msb), abs(msw), abs(msj), abs(mse), np.finfo(float).tiny)
    with np.errstate(divide="ignore", invalid="ignore"):
        vals = np.where(np.abs(den) > tiny, num / np.where(den == 0, 1.0, den), np.nan)
        f1 = msb / msw if msw > 0 else (np.inf if msb > 0 else np.nan)
        f2 = msb / mse if mse > 0 else (np.inf if msb > 0 else np.nan)
    df1, df_w, df_e = n - 1, n * (k - 1), (n - 1) * (k - 1)
    p1, p2 = float(stats.f.sf(f1, df1, df_w)), float(stats.f.sf(f2, df1, df_e))
    lo, hi = _intervals(ms, n, k, vals[1], f1, f2, alpha)
    table = pd.DataFrame({
        "form": list(FORMS), "icc": vals, "ci_low": lo, "ci_high": hi,
        "F": [f1, f2, f2, f1, f2, f2], "df1": [df1] * 6, "df2": [df_w, df_e, df_e, df_w, df_e, df_e],
        "p": [p1, p2, p2, p1, p2, p2], "description": [DESCRIPTIONS[f] for f in FORMS],
    })
    return ICCResult(
        table=table,
        mean_squares={key: float(v) for key, v in ms.items()},
        f_targets={"F": float(f2), "df1": df1, "df2": df_e, "p": p2},
        variance_components={"target": float((msb - mse) / k), "rater": float((msj - mse) / n),
                             "residual": float(mse)},
        n_targets=n, n_raters=k, n_dropped=len(_dropped), alpha=alpha, dropped_targets=_dropped,
    )


def _intervals(ms: dict, n: int, k: int, icc2: float, f1: float, f2: float,
               alpha: float) -> tuple[list[float], list[float]]:
    """Lower and upper bounds of the six forms, as psych::ICC (and Shrout & Fleiss 1979).

    ICC(1,.), ICC(3,.): FL = F / F_{1-a/2}(df1, df2), FU = F * F_{1-a/2}(df2, df1)
    with F = MSB/MSW on (n-1, n(k-1)) or MSB/MSE on (n-1, (n-1)(k-1));
    single bounds (FL - 1) / (FL + k - 1), mean-of-k bounds 1 - 1/FL (likewise FU).
    ICC(2,1): v = (k-1)(n-1) (k r Fj + c)^2 / ((n-1) k^2 r^2 Fj^2 + c^2), with
    r = ICC(2,1), Fj = MSJ/MSE, c = n (1 + (k-1) r) - k r; F* = F_{1-a/2}(n-1, v),
    F_* = F_{1-a/2}(v, n-1); low = n (MSB - F* MSE) / (F* (k MSJ + (kn-k-n) MSE) + n MSB),
    high = n (F_* MSB - MSE) / (k MSJ + (kn-k-n) MSE + n F_* MSB).
    ICC(2,k): the ICC(2,1) bounds stepped up by Spearman-Brown, b k / (1 + (k-1) b)
    (-inf where b <= -1/(k-1), see ``_step_up``).
    """
    msb, msj, mse = ms["between_targets"], ms["between_raters"], ms["residual"]
    q = 1 - alpha / 2
    df1, df_w, df_e = n - 1, n * (k - 1), (n - 1) * (k - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1l, f1u = f1 / stats.f.ppf(q, df1, df_w), f1 * stats.f.ppf(q, df_w, df1)
        f3l, f3u = f2 / stats.f.ppf(q, df1, df_e), f2 * stats.f.ppf(q, df_e, df1)
        # v with numerator and denominator multiplied by MSE^2, so MSE = 0 needs no Fj
        a = k * icc2 * msj
        b = (n * (1 + (k - 1) * icc2) - k * icc2) * mse
        den = (n - 1) * a ** 2 + b ** 2
        if den > 0 and np.isfinite(icc2):
            v = (k - 1) * (n - 1) * (a + b) ** 2 / den
            fu, fl = stats.f.ppf(q, n - 1, v), stats.f.ppf(q, v, n - 1)
            base = k * msj + (k * n - k - n) * mse
            l2 = n * (msb - fu * mse) / (fu * base + n * msb)
            u2 = n * (fl * msb - mse) / (base + n * fl * msb)
        elif msb > 0 and msj == 0 and mse == 0:  # identical ratings from every rater: the limit is 1
            l2 = u2 = 1.0
        else:
            l2 = u2 = np.nan
        lo = [_sb(f1l, k), l2, _sb(f3l, k), 1 - 1 / f1l, _step_up(l2, k), 1 - 1 / f3l]
        hi = [_sb(f1u, k), u2, _sb(f3u, k), 1 - 1 / f1u, _step_up(u2, k), 1 - 1 / f3u]
    return [float(v) for v in lo], [float(v) for v in hi]


def _step_up(b: float, k: int) -> float:
    """Spearman-Brown, k b / (1 + (k-1) b), for an ICC(2,1) bound; -inf at or below its pole b = -1/(k-1).

    psych::ICC applies the formula regardless, which in tiny samples turns a lower
    bound below -1/(k-1) into a value above the estimate; the limit from above is -inf.
    """
    return k * b / (1 + (k - 1) * b) if 1 + (k - 1) * b > 0 else (-np.inf if np.isfinite(b) else np.nan)


def icc_by_group(data: pd.DataFrame, group: str | list[str], targets: str, raters: str, ratings: str,
                 min_targets: int = 5, min_raters: int = 2, alpha: float = 0.05) -> pd.DataFrame:
    """ICC(2,1) and ICC(2,k) per group, on the complete part of each group.

    The complete part: the targets rated by every rater who appears in the
    group. A group with fewer than ``min_raters`` raters or ``min_targets``
    complete targets, or without variation between targets, gets a row with
    the reason in ``skipped`` and no values, so no group disappears unseen.
    """
    by = [group] if isinstance(group, str) else list(group)
    _check_columns(data, by + [targets, raters, ratings])
    rows = []
    for key, sub in data.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = {c: plain(v) for c, v in zip(by, key)}
        wide = _wide(sub, targets, raters, ratings)
        complete = wide[wide.notna().all(axis=1)]
        row.update(n_targets=int(complete.shape[0]), n_raters=int(wide.shape[1]),
                   n_dropped=int(wide.shape[0] - complete.shape[0]))
        skip = None
        if wide.shape[1] < min_raters:
            skip = f"{wide.shape[1]} rater(s), fewer than {min_raters}"
        elif complete.shape[0] < max(min_targets, 2):
            skip = (f"{complete.shape[0]} of {wide.shape[0]} targets rated by all {wide.shape[1]} raters, "
                    f"fewer than {max(min_targets, 2)}")
        res = None
        if skip is None:
            res = icc_matrix(complete.to_numpy(), alpha=alpha)
            if not np.isfinite(res.value("ICC(2,1)")):
                skip, res = "no variation in the ratings", None
        t = res.table.set_index("form") if res is not None else None
        for form, tag in (("ICC(2,1)", "2_1"), ("ICC(2,k)", "2_k")):
            for col in ("icc", "ci_low", "ci_high"):
                row[f"{col}_{tag}"] = float(t.loc[form, col]) if t is not None else np.nan
        row["F"] = res.f_targets["F"] if res is not None else np.nan
        row["p"] = res.f_targets["p"] if res is not None else np.nan
        row["skipped"] = skip
        rows.append(row)
    cols = by + ["n_targets", "n_raters", "n_dropped", "icc_2_1", "ci_low_2_1", "ci_high_2_1",
                 "icc_2_k", "ci_low_2_k", "ci_high_2_k", "F", "p", "skipped"]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------ variance components

def reliability_from_components(var_target: float, var_rater: float, var_residual: float,
                                k: float) -> dict[str, float]:
    """Reliability of one rating and of the mean of k ratings, from variance components.

    For unbalanced data, where a crossed mixed model (targets and raters as
    random effects) has been fitted elsewhere:
      agreement (rater severity is error, like ICC(2,.)):
        single = s2_t / (s2_t + s2_r + s2_e),  average = s2_t / (s2_t + (s2_r + s2_e) / k)
      consistency (rater severity ignored, like ICC(3,.)):
        single = s2_t / (s2_t + s2_e),         average = s2_t / (s2_t + s2_e / k)
    With the ANOVA components of a balanced table (``ICCResult.variance_components``)
    these are exactly ICC(2,1), ICC(2,k), ICC(3,1), ICC(3,k). ``k`` need not be a
    whole number (e.g. the typical number of raters per target in unbalanced data).
    """
    comps = {"var_target": var_target, "var_rater": var_rater, "var_residual": var_residual}
    for name, v in comps.items():
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite variance >= 0, got {v}")
    if not np.isfinite(k) or k <= 0:
        raise ValueError(f"k (number of ratings averaged) must be > 0, got {k}")
    t, r, e = float(var_target), float(var_rater), float(var_residual)

    def ratio(err: float) -> float:
        return t / (t + err) if t + err > 0 else float("nan")

    return {
        "k": float(k),
        "single_agreement": ratio(r + e),
        "average_agreement": ratio((r + e) / k),
        "single_consistency": ratio(e),
        "average_consistency": ratio(e / k),
    }


# -------------------------------------------------------------- Krippendorff's alpha

@dataclass(frozen=True)
class AlphaResult:
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
    _check_columns(data, [units, coders, values])
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
    ui, _ = _factorize(d[units])
    ci, clab = pd.factorize(d[coders])
    dup = pd.Series(ui.astype(np.int64) * len(clab) + ci).duplicated(keep=False).to_numpy()
    if dup.any():
        pairs = d.loc[dup, [units, coders]].drop_duplicates().head(_SHOW)
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
