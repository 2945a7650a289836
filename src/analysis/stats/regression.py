"""Least squares with cluster-robust standard errors, optionally absorbing one factor's fixed effects."""

from __future__ import annotations

import pandas as pd
import patsy
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats


def ols_clustered(formula: str, data: pd.DataFrame, cluster: str, absorb: str | None = None):
    """OLS with cluster-robust errors and t-tests on G - 1 degrees of freedom.

    ``absorb`` names a factor whose fixed effects are removed by demeaning every column within
    its levels (Frisch-Waugh-Lovell): the same estimates and standard errors (the small-sample
    factor counts the absorbed levels) as with one dummy per level, without building hundreds of
    dummies.
    """
    groups = pd.factorize(data[cluster])[0]
    if absorb is None:
        return smf.ols(formula, data=data).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    y, x = patsy.dmatrices(formula, data, return_type="dataframe")
    keys = data.loc[y.index, absorb].to_numpy()
    groups = pd.factorize(data.loc[y.index, cluster])[0]
    y = y - y.groupby(keys).transform("mean")
    x = x.drop(columns="Intercept")
    x = x - x.groupby(keys).transform("mean")
    res = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False}, use_t=True)
    # the CRV1 small-sample factor G/(G-1) (N-1)/(N-K), with K counting the absorbed levels as the
    # dummies they replace, so that the errors equal those of the regression with one dummy per level
    n, k, g = len(y), x.shape[1] + pd.unique(keys).size, pd.unique(groups).size
    factor = g / (g - 1) * (n - 1) / (n - k)
    res._results.cov_params_default = res._results.cov_params_default * factor  # before any cached use
    return res


def inference_df(res) -> float:
    """The degrees of freedom of a clustered fit's t tests and intervals: G - 1 clusters."""
    return float(getattr(res, "df_resid_inference", None) or res.df_resid)


def t_critical(res, alpha: float) -> float:
    """The two-sided critical value of a clustered fit's t on G - 1 degrees of freedom."""
    return float(stats.t.ppf(1 - alpha / 2, inference_df(res)))
