"""Intraclass correlations: the six forms of Shrout & Fleiss (1979) from the two-way ANOVA of a
complete targets x raters table, with the F-based intervals exactly as R ``psych::ICC`` computes them
(McGraw & Wong 1996 for the approximate df of ICC(2,.)). ICC(1,.) treats every rating of a target as
exchangeable (one-way); ICC(2,.) counts differences in rater severity as error (absolute agreement,
raters random); ICC(3,.) ignores them (consistency, raters fixed). ``k`` forms are the reliability of
the mean of the k raters (Spearman-Brown).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.core.jsonsafe import plain
from analysis.core.results import Results
from analysis.stats.reliability.common import SHOW, check_columns, factorize

FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
DESCRIPTIONS = {
    "ICC(1,1)": "one-way random, single rating",
    "ICC(2,1)": "two-way random, absolute agreement, single rating",
    "ICC(3,1)": "two-way mixed, consistency, single rating",
    "ICC(1,k)": "one-way random, mean of k ratings",
    "ICC(2,k)": "two-way random, absolute agreement, mean of k ratings",
    "ICC(3,k)": "two-way mixed, consistency, mean of k ratings",
}


# --------------------------------------------------------------------------- ICC

@dataclass(frozen=True, eq=False)
class ICCResult(Results):
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

    def to_frame(self) -> pd.DataFrame:
        """The six forms: icc, interval, F test and what each form means."""
        return self.table.copy()

    def summary(self) -> str:
        head = (f"Intraclass correlations: {self.n_targets} targets x {self.n_raters} raters"
                f" ({self.n_dropped} incomplete left out), {1 - self.alpha:.0%} intervals")
        return f"{head}\n{self.table.to_string(index=False, float_format=lambda v: f'{v:.4f}')}"


def _wide(data: pd.DataFrame, targets: str, raters: str, ratings: str) -> pd.DataFrame:
    """targets x raters table of ratings (NaN where a rater did not rate a target); duplicates are an error."""
    check_columns(data, [targets, raters, ratings])
    d = data[[targets, raters, ratings]]
    no_id = d[targets].isna() | d[raters].isna()
    if no_id.any():
        raise ValueError(f"{int(no_id.sum())} row(s) have no {targets!r} or no {raters!r}")
    try:
        x = d[ratings].to_numpy(dtype=float)
    except (TypeError, ValueError) as e:
        raise ValueError(f"ratings column {ratings!r} must be numeric for an ICC") from e
    # targets and raters are taken from every row, so one whose ratings are all missing is named as lacking
    ti, tlab = factorize(d[targets])
    ri, rlab = factorize(d[raters])
    rated = ~np.isnan(x)
    key = ti.astype(np.int64) * len(rlab) + ri
    dup = rated & pd.Series(np.where(rated, key, -1)).duplicated(keep=False).to_numpy()
    if dup.any():
        pairs = d.loc[dup, [targets, raters]].drop_duplicates().head(SHOW)
        shown = ", ".join(f"({t!r}, {r!r})" for t, r in pairs.itertuples(index=False))
        raise ValueError(f"a rater rated a target more than once ({int(dup.sum())} rows), e.g. "
                         f"({targets}, {raters}) = {shown}; aggregate or deduplicate first")
    wide = np.full((len(tlab), len(rlab)), np.nan)
    wide[ti[rated], ri[rated]] = x[rated]
    return pd.DataFrame(wide, index=pd.Index(tlab, name=targets), columns=pd.Index(rlab, name=raters))


def _incomplete_message(wide: pd.DataFrame, bad: np.ndarray) -> str:
    names = wide.index[bad]
    parts = []
    for t in names[:SHOW]:
        lacking = wide.columns[wide.loc[t].isna().to_numpy()]
        shown = ", ".join(repr(plain(r)) for r in lacking[:SHOW]) + (" ..." if len(lacking) > SHOW else "")
        parts.append(f"target {plain(t)!r} lacks rater(s) {shown}")
    more = f"; and {len(names) - SHOW} more target(s)" if len(names) > SHOW else ""
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
            fewest = ", ".join(f"{plain(r)!r} ({c} of {wide.shape[0]})" for r, c in rated.head(SHOW).items())
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
        raise ValueError(f"{bad.size} target row(s) have missing ratings (rows {bad[:SHOW].tolist()}"
                         f"{' ...' if bad.size > SHOW else ''}); ICC needs a complete design")
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
    check_columns(data, by + [targets, raters, ratings])
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
