"""The crossed random-effects model: closed forms, invariances, both solvers, errors.

References to R lme4 are in test_crossed_lme4.py; these tests need nothing but the package.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.stats.mixed import CrossedModelError, build_design, connected_components, fit_crossed
from analysis.stats.mixed.system import System, criterion


def crossed_data(na=300, nb=40, n=12000, sa=1.0, sb=0.5, se=0.8, seed=1, aspects=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0, sa, na), rng.normal(0, sb, nb)
    ia, ib = rng.integers(0, na, n), rng.integers(0, nb, n)
    asp = rng.integers(0, aspects, n)
    y = 3 + 0.2 * asp + a[ia] + b[ib] + rng.normal(0, se, n)
    return pd.DataFrame({"score": y, "ratee": [f"E{i:04d}" for i in ia], "rater": [f"R{j:03d}" for j in ib],
                         "aspect": [f"a{k}" for k in asp]})


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return crossed_data()


@pytest.fixture(scope="module")
def fit(data):
    return fit_crossed(data, "score", ["ratee", "rater"], ["aspect"])


def test_balanced_crossed_design_gives_the_anova_estimates():
    """One rating per cell of a full ratee x rater table: REML equals the ANOVA estimators."""
    rng = np.random.default_rng(5)
    na, nb = 30, 12
    a, b = rng.normal(0, 1.2, na), rng.normal(0, 0.6, nb)
    ia, ib = np.repeat(np.arange(na), nb), np.tile(np.arange(nb), na)
    y = 10 + a[ia] + b[ib] + rng.normal(0, 0.9, na * nb)
    df = pd.DataFrame({"y": y, "a": ia, "b": ib})
    fit = fit_crossed(df, "y", ["a", "b"])
    grand = y.mean()
    ma, mb = df.groupby("a")["y"].mean(), df.groupby("b")["y"].mean()
    msa = nb * ((ma - grand) ** 2).sum() / (na - 1)
    msb = na * ((mb - grand) ** 2).sum() / (nb - 1)
    resid = y - ma.to_numpy()[ia] - mb.to_numpy()[ib] + grand
    mse = (resid ** 2).sum() / ((na - 1) * (nb - 1))
    vc = fit.variance_components
    assert vc["residual"] == pytest.approx(mse, rel=1e-6)
    assert vc["a"] == pytest.approx((msa - mse) / nb, rel=1e-6)
    assert vc["b"] == pytest.approx((msb - mse) / na, rel=1e-6)
    assert fit.fixed_effects["Intercept"] == pytest.approx(grand, rel=1e-9)


def test_one_way_balanced_gives_the_anova_estimate():
    rng = np.random.default_rng(6)
    g, m = 50, 8
    u = rng.normal(0, 0.7, g)
    ig = np.repeat(np.arange(g), m)
    y = u[ig] + rng.normal(0, 1.0, g * m)
    fit = fit_crossed(pd.DataFrame({"y": y, "g": ig}), "y", ["g"])
    means = pd.Series(y).groupby(ig).mean()
    msb = m * ((means - y.mean()) ** 2).sum() / (g - 1)
    msw = ((y - means.to_numpy()[ig]) ** 2).sum() / (g * (m - 1))
    assert fit.variance_components["residual"] == pytest.approx(msw, rel=1e-6)
    assert fit.variance_components["g"] == pytest.approx((msb - msw) / m, rel=1e-6)


def test_result_object_has_the_documented_api(fit):
    assert list(fit.variance_components.index) == ["ratee", "rater", "residual"]
    assert list(fit.fixed_effects.index) == ["Intercept", "aspect[T.a1]", "aspect[T.a2]"]
    assert fit.fixed_effects_se.index.equals(fit.fixed_effects.index)
    re = fit.random_effects["rater"]
    assert list(re.columns) == ["estimate", "se", "n", "cond_sd"] and len(re) == 40 and re["n"].sum() == 12000
    assert (re["se"] > 0).all()
    assert "Fixed effects" in fit.summary() and "rater" in fit.summary()
    frame = fit.to_frame()
    assert {"estimate", "se", "z", "p", "ci_low", "ci_high"} <= set(frame.columns)
    assert fit.converged and fit.response == "score"


def test_estimates_recover_the_simulation_truth(fit):
    vc = fit.variance_components
    assert vc["ratee"] == pytest.approx(1.0, rel=0.2)
    assert vc["rater"] == pytest.approx(0.25, rel=0.5)
    assert vc["residual"] == pytest.approx(0.64, rel=0.05)
    assert fit.fixed_effects["aspect[T.a1]"] == pytest.approx(0.2, abs=4 * fit.fixed_effects_se["aspect[T.a1]"])


@pytest.mark.parametrize("reml", [True, False])
def test_analytic_gradient_matches_finite_differences(data, reml):
    sysm = System(build_design(data, "score", ["ratee", "rater"], ["aspect"]))
    theta = np.array([1.1, 0.55])
    _, grad, _ = criterion(sysm, theta, reml)
    eps = 1e-6
    for k in range(2):
        e = np.eye(2)[k] * eps
        fd = (criterion(sysm, theta + e, reml)[0] - criterion(sysm, theta - e, reml)[0]) / (2 * eps)
        assert grad[k] == pytest.approx(fd, rel=1e-5, abs=1e-6)


def test_relabelling_and_reordering_change_nothing(data, fit):
    rng = np.random.default_rng(0)
    mapping = {r: f"X{i}" for i, r in enumerate(rng.permutation(data["rater"].unique()))}
    other = data.assign(rater=data["rater"].map(mapping)).sample(frac=1, random_state=3)
    refit = fit_crossed(other, "score", ["ratee", "rater"], ["aspect"])
    pd.testing.assert_series_equal(refit.variance_components, fit.variance_components, rtol=1e-6)
    pd.testing.assert_series_equal(refit.fixed_effects, fit.fixed_effects, rtol=1e-6)
    back = refit.random_effects["rater"].rename(index={v: k for k, v in mapping.items()}).sort_index()
    np.testing.assert_allclose(back["estimate"], fit.random_effects["rater"]["estimate"], rtol=1e-5, atol=1e-7)


def test_constant_added_to_one_raters_scores_moves_mostly_that_rater(data, fit):
    c = 1.0
    target = "R007"
    shifted = data.assign(score=data["score"] + c * (data["rater"] == target))
    refit = fit_crossed(shifted, "score", ["ratee", "rater"], ["aspect"])
    delta = refit.random_effects["rater"]["estimate"] - fit.random_effects["rater"]["estimate"]
    assert delta[target] > 0.8 * c
    assert delta.drop(target).abs().max() < 0.05 * c
    delta_ratee = refit.random_effects["ratee"]["estimate"] - fit.random_effects["ratee"]["estimate"]
    assert delta_ratee.abs().max() < 0.1 * c


def test_location_and_scale_equivariance(data, fit):
    moved = fit_crossed(data.assign(score=data["score"] * 2 + 5), "score", ["ratee", "rater"], ["aspect"])
    pd.testing.assert_series_equal(moved.variance_components, fit.variance_components * 4, rtol=1e-5)
    assert moved.fixed_effects["Intercept"] == pytest.approx(2 * fit.fixed_effects["Intercept"] + 5, rel=1e-6)
    assert moved.fixed_effects["aspect[T.a2]"] == pytest.approx(2 * fit.fixed_effects["aspect[T.a2]"], rel=1e-5)


def test_ml_variances_are_smaller_than_reml_and_fixed_effects_close(data, fit):
    ml = fit_crossed(data, "score", ["ratee", "rater"], ["aspect"], method="ml")
    assert ml.variance_components["rater"] < fit.variance_components["rater"]
    assert ml.variance_components["ratee"] < fit.variance_components["ratee"]
    np.testing.assert_allclose(ml.fixed_effects, fit.fixed_effects, atol=5e-3)


@pytest.mark.parametrize("shape", [(3000, 400, 150000), (2000, 1500, 80000), (4000, 60, 60000)])
def test_iterative_solver_agrees_with_the_exact_one(shape):
    na, nb, n = shape
    df = crossed_data(na, nb, n, seed=na)
    ex = fit_crossed(df, "score", ["ratee", "rater"], ["aspect"], solver="exact")
    it = fit_crossed(df, "score", ["ratee", "rater"], ["aspect"], solver="iterative")
    assert ((it.variance_components / ex.variance_components) - 1).abs().max() < 0.001  # well inside 0.5%
    assert (it.fixed_effects - ex.fixed_effects).abs().max() < 1e-4
    assert ((it.fixed_effects_se / ex.fixed_effects_se) - 1).abs().max() < 0.001
    for g in ("ratee", "rater"):
        diff = (it.random_effects[g]["estimate"] - ex.random_effects[g]["estimate"]).abs().max()
        assert diff < 1e-3
        ratio = it.random_effects[g]["se"] / ex.random_effects[g]["se"]
        # exact by selected inversion; or probed, within four times the error it reports (the relative
        # error of a standard error is half that of the variance)
        reported = it.info["level_variance_rel_se"][g]["max"] / 2
        assert reported < 0.02
        assert ratio.between(1 - 4 * reported - 1e-3, 1 + 4 * reported + 1e-3).all(), ratio.describe()


@pytest.mark.parametrize("solver", ["iterative", "exact", "hybrid"])
def test_without_level_errors_the_components_and_effects_are_the_same_and_errors_absent(solver):
    df = crossed_data(400, 60, 9000, seed=7)
    full = fit_crossed(df, "score", ["ratee", "rater"], ["aspect"], solver=solver)
    lean = fit_crossed(df, "score", ["ratee", "rater"], ["aspect"], solver=solver, level_se=False)
    pd.testing.assert_series_equal(lean.variance_components, full.variance_components, check_exact=True)
    pd.testing.assert_series_equal(lean.fixed_effects, full.fixed_effects, check_exact=True)
    for g in ("ratee", "rater"):
        pd.testing.assert_series_equal(lean.random_effects[g]["estimate"], full.random_effects[g]["estimate"],
                                       check_exact=True)
        assert lean.random_effects[g]["se"].isna().all() and full.random_effects[g]["se"].notna().all()
    assert lean.info["level_variances"].startswith("not computed")
    if solver != "iterative":  # the errors of an exact or hybrid fit come from its dense factorisation
        assert full.info["level_variances"] == "dense factorisation (exact)"


def team_360(teams=150, size=8, seed=1, cross=1) -> pd.DataFrame:
    """360 feedback within teams (each member rates most teammates), plus ``cross`` raters from the next
    team for every person, so that teams connect; half the teams homogeneous in true level."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 0.6, (teams, size)) * np.where(np.arange(teams) % 2 == 0, 0.3, 1.0)[:, None]
    lenient = rng.normal(0, 0.3, (teams, size))
    rows = []
    for t in range(teams):
        for j in range(size):
            raters = [(t, i) for i in range(size) if i != j and rng.random() < 0.8]
            raters += [((t + 1 + c) % teams, int(rng.integers(size))) for c in range(cross)]
            for tt, i in raters:
                for a in range(3):
                    rows.append((f"T{tt}R{i}", f"T{t}R{j}", f"a{a}",
                                 3 + level[t, j] + lenient[tt, i] + 0.2 * a + rng.normal(0, 0.5)))
    return pd.DataFrame(rows, columns=["rater", "ratee", "aspect", "score"])


def test_on_team_structured_360_the_iterative_errors_and_flags_are_the_exact_ones():
    """The Jacobi approximation this replaced was off by 0.87-1.16 here and changed flags."""
    from analysis.raters import flags

    df = team_360()
    ex = fit_crossed(df, "score", ["ratee", "rater"], ["aspect"], solver="exact")
    it = fit_crossed(df, "score", ["ratee", "rater"], ["aspect"], solver="iterative")
    assert it.info["level_variances"] == "selected inversion (exact)"
    for g in ("ratee", "rater"):
        ratio = it.random_effects[g]["se"] / ex.random_effects[g]["se"]
        assert ratio.between(0.999, 1.001).all(), ratio.describe()
    counts = df.groupby("rater")["ratee"].nunique().rename("n_ratees").to_frame()
    f_ex = flags.leniency(ex, counts, min_ratees=5, min_effect=0.0, rater="rater")["flag"].sort_index()
    f_it = flags.leniency(it, counts, min_ratees=5, min_effect=0.0, rater="rater")["flag"].sort_index()
    assert (f_ex != "").sum() > 20  # the design has lenient and severe raters to find
    pd.testing.assert_series_equal(f_it, f_ex)


def test_probing_estimates_are_unbiased_and_report_their_error():
    """Where the factor fills in (raters spread over the whole organisation), the variances are
    probed: within the reported error of the exact ones, the error below 1% (0.5% on the SE)."""
    df = crossed_data(8000, 1200, 48000, seed=7)
    ex = fit_crossed(df, "score", ["ratee", "rater"], ["aspect"], solver="exact")
    it = fit_crossed(df, "score", ["ratee", "rater"], ["aspect"], solver="iterative")
    assert it.info["level_variances"].startswith("probing")
    for g in ("ratee", "rater"):
        reported = it.info["level_variance_rel_se"][g]["max"]
        assert reported < 0.01
        ratio = (it.random_effects[g]["se"] / ex.random_effects[g]["se"]) ** 2
        assert abs(ratio.mean() - 1) < 0.002  # no bias
        err = float(np.sqrt(np.mean((ratio - 1) ** 2)))
        assert 0.5 < err / reported < 2  # the reported error is the error made


def test_selected_inversion_matches_the_dense_inverse():
    import scipy.sparse as sp

    from analysis.stats.mixed.selinv import SelectedInverse, envelope_size

    rng = np.random.default_rng(3)
    a = sp.random(500, 500, density=0.01, random_state=4)
    b = sp.random(150, 500, density=0.01, random_state=5).tocsr()
    s = (a @ a.T + b.T @ b + 2 * sp.eye(500)).tocsc()
    dense = np.linalg.inv(s.toarray())
    si = SelectedInverse(s)
    np.testing.assert_allclose(si.diagonal(), np.diag(dense), rtol=1e-10)
    ref = np.einsum("ij,jk,ik->i", b.toarray(), dense, b.toarray())
    np.testing.assert_allclose(si.row_quadratic(b), ref, rtol=1e-10, atol=1e-14)
    assert 0 < envelope_size(s) <= 500 * 499 // 2
    with pytest.raises(np.linalg.LinAlgError):
        SelectedInverse((s - 10 * sp.eye(500)).tocsc())  # not positive definite
    del rng


def test_three_crossed_factors(data):
    df = data.assign(unit=data["ratee"].str[-1])
    fit = fit_crossed(df, "score", ["ratee", "rater", "unit"], ["aspect"])
    assert set(fit.variance_components.index) == {"ratee", "rater", "unit", "residual"}
    it = fit_crossed(df, "score", ["ratee", "rater", "unit"], ["aspect"], solver="iterative")
    assert ((it.variance_components / fit.variance_components) - 1).abs()[["ratee", "rater", "residual"]].max() < 0.01


def test_a_factor_without_variance_is_estimated_at_zero():
    rng = np.random.default_rng(9)
    n = 4000
    a = rng.integers(0, 200, n)
    df = pd.DataFrame({"a": a, "b": rng.integers(0, 30, n)})
    df["y"] = rng.normal(0, 1, 200)[a] + rng.normal(0, 1, n)  # a has variance 1; b has no effect
    fit = fit_crossed(df, "y", ["a", "b"])
    assert fit.variance_components["b"] < 0.01 * fit.variance_components["residual"]
    assert 0.7 < fit.variance_components["a"] < 1.4  # and the factor that has variance is found
    assert fit.converged


def test_incomplete_rows_are_dropped_and_counted(data):
    df = data.copy()
    df.loc[[0, 5, 9], "score"] = np.nan
    df.loc[11, "rater"] = None
    fit = fit_crossed(df, "score", ["ratee", "rater"], ["aspect"])
    assert fit.n_dropped == 4 and fit.n == len(df) - 4


@pytest.mark.parametrize("kwargs, message", [
    (dict(groups=["nope"]), "not in the data"),
    (dict(groups=[]), "at least one grouping factor"),
    (dict(groups=["ratee", "ratee"]), "named twice"),
    (dict(fixed=["constant"]), "single level"),
    (dict(method="bayes"), "reml"),
    (dict(solver="magic"), "solver"),
])
def test_bad_requests_are_clear_errors(data, kwargs, message):
    args = dict(response="score", groups=["ratee", "rater"], fixed=[])
    args.update(kwargs)
    with pytest.raises(CrossedModelError, match=message):
        fit_crossed(data.assign(constant="x"), **args)


def test_connected_components_of_the_rater_ratee_graph():
    # two islands: raters a, b rate x, y; raters c, d rate z only; and one isolated pair
    d = pd.DataFrame({"rater": ["a", "a", "b", "c", "d", "c", "e"], "ratee": ["x", "y", "y", "z", "z", "z", "w"]})
    comp = connected_components(d, "rater", "ratee")
    assert comp.to_dict(orient="list") == {"rater": [2, 2, 1], "ratee": [2, 1, 1], "rows": [3, 3, 1]}
    linked = pd.concat([d, pd.DataFrame({"rater": ["a", "e"], "ratee": ["z", "x"]})])
    assert len(connected_components(linked, "rater", "ratee")) == 1
