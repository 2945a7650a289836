"""Fairness regressions: absorbed fixed effects, a recovered gap, small-unit inference."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.raters import fairness
from analysis.stats.regression import ols_clustered
from analysis.synth.controls import achievement_ratings, threshold_driven


def test_absorbed_unit_effects_give_the_dummy_variable_estimate():
    d = achievement_ratings()
    formula = "rating_score ~ C(gender, Treatment('L')) + skp_score + C(period)"
    absorbed = ols_clustered(formula, d, "rater_id", absorb="unit_id")
    dummies = ols_clustered(formula + " + C(unit_id)", d, "rater_id")
    term = "C(gender, Treatment('L'))[T.P]"
    assert absorbed.params[term] == pytest.approx(dummies.params[term], rel=1e-9)
    # the same CR2 sandwich: the absorbed levels' share of the hat matrix enters each cluster's block
    assert absorbed.bse[term] == pytest.approx(dummies.bse[term], rel=1e-8)
    assert absorbed.pvalues[term] == pytest.approx(dummies.pvalues[term], rel=1e-6)
    assert absorbed._results.cov_type_note == "CR2"


def test_cr2_with_one_observation_per_cluster_is_statsmodels_hc2():
    d = achievement_ratings().reset_index(drop=True).assign(row=lambda x: np.arange(len(x)))
    formula = "rating_score ~ C(gender, Treatment('L')) + skp_score + C(period) + C(unit_id)"
    ours = ols_clustered(formula, d, "row")
    hc2 = smf.ols(formula, d).fit(cov_type="HC2")
    np.testing.assert_allclose(ours.bse, hc2.bse, rtol=1e-10)


def test_cr2_holds_the_level_where_crv1_did_not():
    """Raters who rate only women or only men, units absorbed, no gap: CRV1 rejected 6.7% at 5% (1,000
    data sets); here 150 data sets, nominal within their simulation error."""
    p = [fairness.group_differences(threshold_driven(0.0, seed)).set_index("factor").loc["gender", "p"]
         for seed in range(150)]
    assert 0.01 <= float(np.mean(np.asarray(p) < 0.05)) <= 0.085


def test_group_differences_recover_a_planted_gap():
    d = achievement_ratings(gap=-0.3)
    g = fairness.group_differences(d)
    row = g[g["factor"] == "gender"].iloc[0]
    assert row["ci_low"] < -0.3 < row["ci_high"] and row["p"] < 0.001


def test_unit_gaps_find_the_units_with_a_gap_and_leave_the_others():
    d = pd.concat([achievement_ratings(gap=-0.6, units=3, seed=1).assign(unit_id=lambda x: "G" + x["unit_id"]),
                   achievement_ratings(gap=0.0, units=9, seed=2)])
    out = fairness.unit_gender_gaps(d, min_each=8)
    flagged = set(out.loc[out["flag"], "unit_id"])
    assert {"GU0", "GU1", "GU2"} <= flagged and len(flagged) <= 4


def test_small_units_are_not_tested():
    d = achievement_ratings(units=2, per_unit=10)
    out = fairness.unit_gender_gaps(d, min_each=8)
    assert not out["tested"].any() and not out["flag"].any()


def test_unit_gaps_count_each_person_once_and_fit_what_a_unit_frame_fits():
    """Units are taken by position from arrays: the counts are those of each unit's people (a person
    appraised in several periods counted once), and a unit's gap is the fit of its own frame."""
    d = pd.concat([achievement_ratings(gap=-0.4, units=4, seed=3).assign(period="2023"),
                   achievement_ratings(gap=-0.4, units=4, seed=3).assign(period="2024")])
    d = d.sample(frac=1.0, random_state=1).reset_index(drop=True)  # units interleaved, rows in any order
    d.loc[::7, "gender"] = None  # rows without a gender are left out
    out = fairness.unit_gender_gaps(d, min_each=8).set_index("unit_id")
    kept = d.dropna(subset=["rating_score", "skp_score", "gender"])
    people = kept.drop_duplicates(["unit_id", "employee_id"]).groupby("unit_id")["gender"].value_counts().unstack()
    assert out["n_female"].to_dict() == people["P"].to_dict() and out["n_male"].to_dict() == people["L"].to_dict()
    assert out["n"].to_dict() == kept.groupby("unit_id").size().to_dict()
    unit = out.index[out["tested"]][0]
    g = kept[kept["unit_id"] == unit].reset_index(drop=True).assign(female=lambda x: (x["gender"] == "P") * 1.0)
    own = ols_clustered("rating_score ~ female + skp_score + C(period)", g, "employee_id")
    assert out.at[unit, "gap_rating"] == pytest.approx(own.params["female"], rel=1e-12)


def test_interaction_reports_the_gap_under_each_rater_gender():
    d = achievement_ratings()
    inter = fairness.gender_interaction(d)
    assert list(inter["contrast"]) == ["gap with male raters", "gap with female raters",
                                       "difference (female - male raters)"]
    est = inter.set_index("contrast")
    # no interaction planted: both gaps are the planted -0.3, their difference is not significant
    assert est.loc["gap with male raters", "ci_low"] < -0.3 < est.loc["gap with male raters", "ci_high"]
    assert est.loc["difference (female - male raters)", "p"] > 0.05
    planted = fairness.gender_interaction(achievement_ratings(gap=-0.3, female_rater_gap=0.3)).set_index("contrast")
    diff = planted.loc["difference (female - male raters)"]
    assert diff["ci_low"] < 0.6 < diff["ci_high"] and diff["p"] < 0.001
    assert planted.loc["gap with female raters", "ci_low"] < 0.3 < planted.loc["gap with female raters", "ci_high"]


def test_intervals_and_p_values_use_one_convention_t_on_clusters_minus_one():
    d = achievement_ratings(gap=-0.12, units=6, per_unit=24)  # few clusters: t(G-1) and the normal differ
    alpha = 0.05
    tables = [fairness.group_differences(d, alpha=alpha), fairness.gender_interaction(d, alpha=alpha),
              fairness.unit_gender_gaps(d, min_each=8, alpha=alpha).query("tested")]
    for table in tables:
        assert len(table)
        for _, r in table.iterrows():
            outside = r["ci_low"] > 0 or r["ci_high"] < 0
            assert outside == (r["p"] < alpha), r.to_dict()  # the interval leaves out 0 exactly when p < alpha
    g = tables[0].iloc[0]
    ratio = (g["ci_high"] - g["estimate"]) / g["se"]
    assert ratio == pytest.approx(stats.t.ppf(0.975, d["rater_id"].nunique() - 1))


def test_achievement_bands_keep_threshold_driven_ratings_from_showing_a_gender_gap():
    # negative control: no gap, but ratings jump at the thresholds and women achieve more
    def rejects(d):
        g = fairness.group_differences(d)
        return bool(g.loc[g["factor"] == "gender", "p"].iloc[0] < 0.05)

    seeds = range(60)
    with_bands = np.mean([rejects(threshold_driven(0.0, s)) for s in seeds])
    linear_only = np.mean([rejects(threshold_driven(0.0, s).drop(columns="skp_band")) for s in seeds])
    assert with_bands <= 0.12, with_bands  # nominal 5%; 2 SE of 60 draws
    assert linear_only > 0.2, linear_only  # the linear term alone reports a "gap" several times too often
    # positive control: a real gap is still found
    g = fairness.group_differences(threshold_driven(-0.15, 99))
    row = g[g["factor"] == "gender"].iloc[0]
    assert row["ci_low"] < -0.15 < row["ci_high"] and row["p"] < 0.001


def test_unit_gender_gaps_keep_their_level_with_no_gap_and_find_a_real_one():
    # negative control: threshold-driven ratings, women achieve more, no gap in any unit
    null = pd.concat([fairness.unit_gender_gaps(threshold_driven(0.0, seed), min_each=8).query("tested")
                      for seed in range(20)])
    assert len(null) == 300 and abs(float((null["p"] < 0.05).mean()) - 0.05) < 0.038  # 3 binomial SEs
    # positive control: a gap of -0.3 points in every unit
    hit = fairness.unit_gender_gaps(threshold_driven(-0.3, 99), min_each=8).query("tested")
    assert float((hit["p"] < 0.05).mean()) > 0.8 and (hit["estimate"] < 0).all()


def test_clustered_fit_on_rows_with_repeated_labels_and_missing_values():
    # stacked outcomes repeat the row labels; patsy drops the incomplete rows
    d = achievement_ratings()
    twice = pd.concat([d, d.assign(rating_score=d["rating_score"] + 0.1)])
    twice.iloc[3, twice.columns.get_loc("rating_score")] = np.nan
    res = ols_clustered("rating_score ~ skp_score + C(period)", twice, "employee_id")
    assert res.nobs == 2 * len(d) - 1 and np.isfinite(res.bse).all()


# --- the per-unit design is patsy's own --------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(6, 40), st.booleans(), st.booleans())
def test_simple_design_is_the_matrix_patsy_builds(seed, n, stacked, holes):
    import patsy

    from analysis.stats.regression import simple_design

    rng = np.random.default_rng(seed)
    d = pd.DataFrame({
        "y": rng.normal(size=n), "female": rng.integers(0, 2, n).astype(float), "skp_score": rng.normal(80, 10, n),
        "kind": rng.choice(["appraisal", "feedback"], n), "skp_band": rng.choice(["baik", "cukup", "sangat_baik"], n),
        "kind_period": rng.choice(["appraisal_2023", "feedback_2024", "appraisal_2024"], n),
        "period": rng.choice(["2023", "2024S1"], n)}, index=rng.permutation(n) + 7)
    if holes:
        d.loc[d.index[rng.random(n) < 0.2], "skp_band"] = None
        d.loc[d.index[rng.random(n) < 0.1], "skp_score"] = np.nan
    terms = (["female", "C(kind):skp_score", "C(skp_band)", "C(kind_period)"] if stacked
             else ["female", "skp_score", "C(skp_band)", "C(period)"])
    y, x = simple_design(d, "y", terms)
    py, px = patsy.dmatrices("y ~ " + " + ".join(terms), d, return_type="dataframe")
    pd.testing.assert_frame_equal(y, py, check_exact=True)
    pd.testing.assert_frame_equal(x, px, check_exact=True)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(8, 60), st.booleans())
def test_text_columns_as_categories_give_patsy_the_same_matrices(seed, n, holes):
    import patsy

    from analysis.stats.regression import as_categories

    rng = np.random.default_rng(seed)
    d = pd.DataFrame({
        "y": rng.normal(size=n), "skp_score": rng.normal(80, 10, n),
        "gender": pd.array(rng.choice(["P", "L"], n), dtype="str"),
        "age_band": rng.choice(["<30", "30-39", "40-49", "50+"], n).astype(object),
        "skp_band": rng.choice(["baik", "cukup", "sangat_baik"], n),
        "period": rng.choice(["2023", "2024S1", "2024S2"], n), "level": rng.integers(0, 3, n)})
    if holes:
        d.loc[rng.random(n) < 0.2, "skp_band"] = None
        d.loc[rng.random(n) < 0.1, "gender"] = None
    formula = ("y ~ C(gender, Treatment('L')) + C(age_band, Treatment('30-39')) + skp_score + C(skp_band)"
               " + C(period) + C(level) + C(gender):skp_score")
    converted = as_categories(d, formula)
    assert isinstance(converted["gender"].dtype, pd.CategoricalDtype)
    assert converted["level"].dtype == d["level"].dtype  # numbers are left as they are
    for a, b in zip(patsy.dmatrices(formula, converted, return_type="dataframe"),
                    patsy.dmatrices(formula, d, return_type="dataframe")):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_columns_with_their_own_levels_or_pd_na_are_left_to_patsy():
    from analysis.stats.regression import as_categories

    d = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": ["b", "a", "b", "a"], "w": ["u", "v", "u", "v"]})
    d["z"] = pd.Series(["p", pd.NA, "q", "p"], dtype=object)
    assert d["z"].dtype == object and d["z"].iloc[1] is pd.NA
    out = as_categories(d, "y ~ C(x, levels=['b', 'a']) + C(z) + C(w, Treatment('v'))")
    assert out["x"].dtype == d["x"].dtype and out["z"].dtype == d["z"].dtype  # not made categorical
    assert list(out["w"].cat.categories) == ["u", "v"]


def _cr2_one_cluster_at_a_time(x, resid, groups, fe=None):
    """The CR2 covariance as first written: a loop over clusters (the reference for the stacked one)."""
    bread = np.linalg.pinv(x.T @ x)
    fe_size = np.bincount(fe).astype(float) if fe is not None else None
    order = np.argsort(groups, kind="stable")
    cuts = np.flatnonzero(np.r_[True, np.diff(groups[order]) != 0, True])
    meat = np.zeros((x.shape[1], x.shape[1]))
    for a, b in zip(cuts[:-1], cuts[1:]):
        idx = order[a:b]
        xg = x[idx]
        h = xg @ bread @ xg.T
        if fe is not None:
            same = fe[idx][:, None] == fe[idx][None, :]
            h = h + same / fe_size[fe[idx]][None, :]
        w, v = np.linalg.eigh(np.eye(len(idx)) - h)
        inv_sqrt = (v * np.where(w > 1e-10, 1.0 / np.sqrt(np.clip(w, 1e-10, None)), 0.0)) @ v.T
        u = xg.T @ (inv_sqrt @ resid[idx])
        meat += np.outer(u, u)
    return bread @ meat @ bread


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 600), st.integers(1, 7), st.booleans())
def test_cr2_in_stacks_equals_cr2_one_cluster_at_a_time_to_the_last_bit(seed, n, p, absorbed):
    from analysis.stats.regression import cr2_covariance

    rng = np.random.default_rng(seed)
    x, resid = rng.normal(size=(n, p)), rng.normal(size=n)
    groups = rng.integers(0, max(2, n // rng.integers(1, 6)), n)
    fe = rng.integers(0, 12, n) if absorbed else None
    assert np.array_equal(cr2_covariance(x, resid, groups, fe), _cr2_one_cluster_at_a_time(x, resid, groups, fe))
