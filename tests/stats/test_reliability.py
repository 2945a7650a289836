"""Intraclass correlations, Krippendorff's alpha and reliability from variance components."""

import io
from itertools import permutations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.anova import anova_lm

from analysis.stats import reliability as rel
from conftest import REFERENCE as REFERENCES

REFERENCE = REFERENCES / "reliability"


# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges (as in reference/shrout_fleiss_1979.csv).
SHROUT_FLEISS = """target,judge_1,judge_2,judge_3,judge_4
1,9,2,5,8
2,6,1,3,2
3,8,4,6,8
4,7,1,2,6
5,10,5,6,9
6,6,2,4,7
"""
# R psych::ICC on the table above (reference/README.md): value, 95% CI.
SF_EXPECTED = {
    "ICC(1,1)": (0.1657418, -0.13, 0.72),
    "ICC(2,1)": (0.2897638, 0.02, 0.76),
    "ICC(3,1)": (0.7148407, 0.34, 0.95),
    "ICC(1,k)": (0.4427971, -0.88, 0.91),
    "ICC(2,k)": (0.6200505, 0.07, 0.93),
    "ICC(3,k)": (0.9093155, 0.68, 0.99),
}

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers x 12 units, blanks missing.
KRIPPENDORFF = """observer,u1,u2,u3,u4,u5,u6,u7,u8,u9,u10,u11,u12
A,1,2,3,3,2,1,4,1,2,,,
B,1,2,3,3,2,2,4,1,2,5,,3
C,,3,3,3,2,3,4,2,2,5,1,
D,1,2,3,3,2,4,4,1,2,5,1,
"""
K_EXPECTED = {"nominal": 0.743421, "ordinal": 0.815388, "interval": 0.849107, "ratio": 0.797403}


def sf_wide() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(SHROUT_FLEISS)).set_index("target")


def sf_long() -> pd.DataFrame:
    return sf_wide().reset_index().melt(id_vars="target", var_name="judge", value_name="rating")


def k_matrix() -> np.ndarray:
    return pd.read_csv(io.StringIO(KRIPPENDORFF), index_col=0).to_numpy(dtype=float)


def k_long() -> pd.DataFrame:
    w = pd.read_csv(io.StringIO(KRIPPENDORFF), index_col=0)
    return w.reset_index().melt(id_vars="observer", var_name="unit", value_name="value")


def to_long(x: np.ndarray) -> pd.DataFrame:
    n, k = x.shape
    return pd.DataFrame({"t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n), "y": x.ravel()})


def direct_icc(x: np.ndarray) -> dict:
    """Shrout-Fleiss point values from an OLS two-way ANOVA (statsmodels), written independently."""
    n, k = x.shape
    d = to_long(x)
    a = anova_lm(smf.ols("y ~ C(t) + C(r)", data=d).fit())
    bms = a.loc["C(t)", "mean_sq"]
    jms = a.loc["C(r)", "mean_sq"]
    ems = a.loc["Residual", "mean_sq"]
    wms = (a.loc["C(r)", "sum_sq"] + a.loc["Residual", "sum_sq"]) / (n * (k - 1))
    return {
        "ICC(1,1)": (bms - wms) / (bms + (k - 1) * wms),
        "ICC(2,1)": (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n),
        "ICC(3,1)": (bms - ems) / (bms + (k - 1) * ems),
        "ICC(1,k)": (bms - wms) / bms,
        "ICC(2,k)": (bms - ems) / (bms + (jms - ems) / n),
        "ICC(3,k)": (bms - ems) / bms,
        "ms": (bms, wms, jms, ems),
    }


def brute_alpha(matrix: np.ndarray, level: str) -> float:
    """Krippendorff (2011) step by step: coincidence matrix from every pair, then the metric, in plain loops."""
    units = [[v for v in col if not np.isnan(v)] for col in matrix.T]
    units = [u for u in units if len(u) >= 2]
    values = sorted({v for u in units for v in u})
    o = {(c, k): 0.0 for c in values for k in values}
    for u in units:
        for i, j in permutations(range(len(u)), 2):
            o[u[i], u[j]] += 1 / (len(u) - 1)
    nc = {c: sum(o[c, k] for k in values) for c in values}
    n = sum(nc.values())

    def delta(c, k):
        if level == "nominal":
            return float(c != k)
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return ((c - k) / (c + k)) ** 2 if c + k else 0.0
        lo, hi = min(c, k), max(c, k)
        return (sum(nc[g] for g in values if lo <= g <= hi) - (nc[c] + nc[k]) / 2) ** 2

    do = sum(o[c, k] * delta(c, k) for c in values for k in values)
    de = sum(nc[c] * nc[k] * delta(c, k) for c in values for k in values)
    return 1 - (n - 1) * do / de


# ------------------------------------------------------------------ references

def test_inline_references_equal_the_reference_files():
    sf = pd.read_csv(REFERENCE / "shrout_fleiss_1979.csv").set_index("target")
    pd.testing.assert_frame_equal(sf, sf_wide())
    k = pd.read_csv(REFERENCE / "krippendorff_2011.csv", index_col=0).to_numpy(dtype=float)
    np.testing.assert_array_equal(k, k_matrix())


def test_shrout_fleiss_every_form_value_and_interval():
    res = rel.icc(sf_long(), "target", "judge", "rating")
    t = res.table.set_index("form")
    assert list(t.index) == list(rel.FORMS)
    for form, (value, low, high) in SF_EXPECTED.items():
        assert t.loc[form, "icc"] == pytest.approx(value, abs=1e-6), form
        assert t.loc[form, "ci_low"] == pytest.approx(low, abs=0.01), form
        assert t.loc[form, "ci_high"] == pytest.approx(high, abs=0.01), form
    assert res.n_targets == 6 and res.n_raters == 4 and res.n_dropped == 0


def test_shrout_fleiss_mean_squares_and_f_test():
    res = rel.icc(sf_long(), "target", "judge", "rating")
    ms = res.mean_squares
    assert ms["between_targets"] == pytest.approx(11.2417, abs=5e-5)
    assert ms["within_targets"] == pytest.approx(6.2639, abs=5e-5)
    assert ms["between_raters"] == pytest.approx(32.4861, abs=5e-5)
    assert ms["residual"] == pytest.approx(1.0194, abs=5e-5)
    f = res.f_targets
    assert f["F"] == pytest.approx(11.027, abs=5e-4) and (f["df1"], f["df2"]) == (5, 15)
    assert f["p"] == pytest.approx(0.000135, abs=5e-7)
    t = res.table.set_index("form")
    assert t.loc["ICC(1,1)", "F"] == pytest.approx(ms["between_targets"] / ms["within_targets"])
    assert (t.loc["ICC(1,1)", "df1"], t.loc["ICC(1,1)", "df2"]) == (5, 18)


def test_icc_result_serialises():
    import json

    d = rel.icc(sf_long(), "target", "judge", "rating").to_dict()
    back = json.loads(json.dumps(d))
    assert [r["form"] for r in back["table"]] == list(rel.FORMS)
    assert back["mean_squares"]["residual"] == pytest.approx(1.0194, abs=5e-5)


def test_krippendorff_reference_all_levels():
    for level, expected in K_EXPECTED.items():
        assert rel.krippendorff_alpha_matrix(k_matrix(), level) == pytest.approx(expected, abs=1e-5), level
        long = k_long()
        assert rel.krippendorff_alpha(long, "unit", "observer", "value", level) == pytest.approx(expected, abs=1e-5)


def test_krippendorff_unit_12_is_not_pairable():
    m = k_matrix()
    without = m.copy()
    without[:, 11] = np.nan
    for level in rel.LEVELS:
        assert rel.krippendorff_alpha_matrix(without, level) == pytest.approx(
            rel.krippendorff_alpha_matrix(m, level), abs=1e-12)
    res = rel.krippendorff_alpha_matrix_ci(m, "nominal", n_boot=20)
    assert res.n_units == 11 and res.n_values == 40


def test_coincidence_matrix_of_the_worked_example():
    # Krippendorff (2011), the coincidence matrix of the example: margins 9, 13, 10, 5, 3; n = 40
    o = rel.coincidence_matrix(k_matrix())
    expected = np.array([
        [7, 4 / 3, 1 / 3, 1 / 3, 0],
        [4 / 3, 10, 4 / 3, 1 / 3, 0],
        [1 / 3, 4 / 3, 8, 1 / 3, 0],
        [1 / 3, 1 / 3, 1 / 3, 4, 0],
        [0, 0, 0, 0, 3],
    ])
    np.testing.assert_allclose(o.to_numpy(), expected, atol=1e-12)
    assert o.sum(axis=1).tolist() == pytest.approx([9, 13, 10, 5, 3])


# ------------------------------------------------------------------ ICC properties

def test_relabelling_and_reordering_change_nothing():
    base = rel.icc(sf_long(), "target", "judge", "rating").table
    d = sf_long()
    d["target"] = d["target"].map({1: "z", 2: "b", 3: "y", 4: "a", 5: "m", 6: "c"})
    d["judge"] = d["judge"].map({"judge_1": 40, "judge_2": 3, "judge_3": 17, "judge_4": 1})
    d = d.sample(frac=1, random_state=5)
    other = rel.icc(d, "target", "judge", "rating").table
    num = ["icc", "ci_low", "ci_high", "F", "p"]
    np.testing.assert_allclose(other[num].to_numpy(), base[num].to_numpy(), rtol=1e-12, atol=1e-12)


def test_adding_a_constant_changes_nothing():
    base = rel.icc(sf_long(), "target", "judge", "rating").table
    d = sf_long()
    d["rating"] = d["rating"] + 137.25
    shifted = rel.icc(d, "target", "judge", "rating").table
    num = ["icc", "ci_low", "ci_high", "F", "p"]
    np.testing.assert_allclose(shifted[num].to_numpy(), base[num].to_numpy(), rtol=1e-9, atol=1e-9)


def test_perfect_agreement_is_one():
    x = np.repeat(np.array([[1.0], [4], [2], [5], [3]]), 3, axis=1)
    t = rel.icc_matrix(x).table
    assert t["icc"].tolist() == pytest.approx([1.0] * 6)
    assert t["ci_low"].tolist() == pytest.approx([1.0] * 6) and t["ci_high"].tolist() == pytest.approx([1.0] * 6)
    assert rel.krippendorff_alpha_matrix(x.T, "interval") == pytest.approx(1.0)
    assert rel.krippendorff_alpha_matrix(x.T, "nominal") == pytest.approx(1.0)


def test_a_severe_rater_lowers_agreement_but_not_consistency():
    x = sf_wide().to_numpy(dtype=float)
    y = x.copy()
    y[:, 0] += 3  # judge 1, already the most lenient, gives three points more to every target
    a, b = rel.icc_matrix(x).table.set_index("form"), rel.icc_matrix(y).table.set_index("form")
    for form in ("ICC(3,1)", "ICC(3,k)"):
        assert b.loc[form, "icc"] == pytest.approx(a.loc[form, "icc"], abs=1e-12)
    assert b.loc["ICC(2,1)", "icc"] < a.loc["ICC(2,1)", "icc"] - 0.05


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 9), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_icc_matches_an_independent_ols_anova(n, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=(n, k)).astype(float) + rng.normal(0, 1, size=(n, 1)).round()
    ref = direct_icc(x)
    res = rel.icc_matrix(x)
    t = res.table.set_index("form")
    assert not np.isinf(t["icc"]).any()  # undefined is NaN, never an infinite ICC
    bms, _, jms, ems = ref["ms"]
    poles = (bms + (jms - ems) / n, bms + (k - 1) * ems + k * (jms - ems) / n)
    if (not np.isfinite(ref["ms"]).all() or bms <= 1e-9 or ems <= 1e-9
            or min(abs(d) for d in poles) <= 1e-9 * max(ref["ms"])):
        return  # a degenerate table (no variation, or a formula at its pole): nothing to compare
    for form in rel.FORMS:
        assert t.loc[form, "icc"] == pytest.approx(ref[form], rel=1e-7, abs=1e-9), form
        if form == "ICC(2,k)" and t.loc["ICC(2,1)", "icc"] <= -1 / (k - 1):
            continue  # below the Spearman-Brown pole the (psych) point formula itself is meaningless
        assert t.loc[form, "ci_low"] <= t.loc[form, "icc"] + 1e-12 <= t.loc[form, "ci_high"] + 2e-12, form
    ms = res.mean_squares
    got = (ms["between_targets"], ms["within_targets"], ms["between_raters"], ms["residual"])
    assert got == pytest.approx(ref["ms"], rel=1e-7, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 12), st.integers(2, 5), st.integers(0, 2**31 - 1),
       st.floats(0.1, 50), st.floats(-100, 100))
def test_icc_is_invariant_to_positive_affine_changes_of_the_scale(n, k, seed, scale, shift):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1)) + rng.normal(size=(n, k))
    a = rel.icc_matrix(x).table[["icc", "ci_low", "ci_high", "F"]].to_numpy()
    b = rel.icc_matrix(scale * x + shift).table[["icc", "ci_low", "ci_high", "F"]].to_numpy()
    np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-8)


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # pingouin's own pandas deprecation
def test_agrees_with_pingouin_on_random_balanced_data():
    import pingouin as pg  # a test dependency: the cross-check runs in every make test
    rng = np.random.default_rng(11)
    for n, k in [(30, 3), (50, 5), (12, 8)]:
        x = rng.normal(size=(n, 1)) + rng.normal(size=(1, k)) * 0.5 + rng.normal(size=(n, k))
        ours = rel.icc_matrix(x).table.set_index("form")
        theirs = pg.intraclass_corr(to_long(x), targets="t", raters="r", ratings="y")
        theirs = theirs.set_index(pd.Index(rel.FORMS))  # same order; the labels differ between versions
        for form in rel.FORMS:
            name = form
            assert ours.loc[form, "icc"] == pytest.approx(theirs.loc[name, "ICC"], abs=1e-10)
            assert ours.loc[form, "F"] == pytest.approx(theirs.loc[name, "F"], rel=1e-10)
            assert ours.loc[form, "p"] == pytest.approx(theirs.loc[name, "pval"], rel=1e-6, abs=1e-300)
            lo, hi = theirs.loc[name, "CI95" if "CI95" in theirs else "CI95%"]
            assert ours.loc[form, "ci_low"] == pytest.approx(lo, abs=0.006)  # pingouin may round to 2 places
            assert ours.loc[form, "ci_high"] == pytest.approx(hi, abs=0.006)


# ------------------------------------------------------------------ ICC errors

def test_incomplete_design_names_targets_and_raters():
    d = sf_long()
    gone = ((d["target"] == 3) & (d["judge"] == "judge_2")) | ((d["target"] == 5) & d["judge"].isin(["judge_1", "judge_4"]))
    d = d[~gone]
    with pytest.raises(ValueError) as e:
        rel.icc(d, "target", "judge", "rating")
    msg = str(e.value)
    assert "2 of 6 targets" in msg and "target 3 lacks rater(s) 'judge_2'" in msg
    assert "target 5 lacks rater(s) 'judge_1', 'judge_4'" in msg and "complete_only=True" in msg


def test_missing_rating_values_count_as_missing_and_complete_only_drops_them():
    d = sf_long()
    d.loc[(d["target"] == 2) & (d["judge"] == "judge_3"), "rating"] = np.nan
    with pytest.raises(ValueError, match="target 2 lacks rater"):
        rel.icc(d, "target", "judge", "rating")
    res = rel.icc(d, "target", "judge", "rating", complete_only=True)
    assert res.n_dropped == 1 and res.dropped_targets == (2,) and res.n_targets == 5
    expected = rel.icc_matrix(sf_wide().drop(index=2).to_numpy()).value("ICC(2,1)")
    assert res.value("ICC(2,1)") == pytest.approx(expected)


def test_a_rater_whose_ratings_are_all_missing_is_named():
    d = sf_long()
    d.loc[d["judge"] == "judge_3", "rating"] = np.nan
    with pytest.raises(ValueError, match="6 of 6 targets.*target 1 lacks rater\\(s\\) 'judge_3'"):
        rel.icc(d, "target", "judge", "rating")


def test_complete_only_with_nothing_left_says_which_raters_are_sparse():
    d = sf_long()
    d = d[~((d["judge"] == "judge_4") & (d["target"] != 1))]
    with pytest.raises(ValueError, match="only 1 complete target.*'judge_4' \\(1 of 6\\)"):
        rel.icc(d, "target", "judge", "rating", complete_only=True)


@pytest.mark.parametrize("shape", [(1, 4), (6, 1), (0, 3)])
def test_too_few_targets_or_raters(shape):
    with pytest.raises(ValueError, match="at least 2 targets and 2 raters"):
        rel.icc_matrix(np.ones(shape))


def test_one_rater_in_long_data_is_a_clear_error():
    d = sf_long()
    with pytest.raises(ValueError, match="at least 2 targets and 2 raters; got 6 target\\(s\\) and 1 rater"):
        rel.icc(d[d["judge"] == "judge_1"], "target", "judge", "rating")


def test_duplicate_ratings_and_missing_columns_are_errors():
    d = pd.concat([sf_long(), sf_long().head(1)])
    with pytest.raises(ValueError, match="more than once.*\\(1, 'judge_1'\\)"):
        rel.icc(d, "target", "judge", "rating")
    with pytest.raises(ValueError, match="'score'"):
        rel.icc(sf_long(), "target", "judge", "score")


# ------------------------------------------------------------------ by group, components

def test_icc_by_group_computes_or_says_why_not():
    a = sf_long().assign(unit="U1")
    b = sf_long().assign(unit="U2")
    b = b[b["target"] <= 3]  # only 3 targets
    c = sf_long().assign(unit="U3")
    c = c[c["judge"] == "judge_1"]  # one rater
    d = sf_long().assign(unit="U4")
    d = d[~((d["target"] == 6) & (d["judge"] == "judge_2"))]  # one incomplete target
    out = rel.icc_by_group(pd.concat([a, b, c, d]), "unit", "target", "judge", "rating", min_targets=5)
    out = out.set_index("unit")
    assert out.loc["U1", "icc_2_1"] == pytest.approx(SF_EXPECTED["ICC(2,1)"][0], abs=1e-6)
    assert out.loc["U1", "icc_2_k"] == pytest.approx(SF_EXPECTED["ICC(2,k)"][0], abs=1e-6)
    assert pd.isna(out.loc["U1", "skipped"]) and out.loc["U1", "n_targets"] == 6
    assert "fewer than 5" in out.loc["U2", "skipped"] and np.isnan(out.loc["U2", "icc_2_1"])
    assert "1 rater(s)" in out.loc["U3", "skipped"]
    assert out.loc["U4", "n_dropped"] == 1 and out.loc["U4", "n_targets"] == 5
    expected = rel.icc_matrix(sf_wide().drop(index=6).to_numpy()).value("ICC(2,1)")
    assert out.loc["U4", "icc_2_1"] == pytest.approx(expected)


def test_components_reproduce_the_anova_iccs():
    res = rel.icc(sf_long(), "target", "judge", "rating")
    vc = res.variance_components
    r = rel.reliability_from_components(vc["target"], vc["rater"], vc["residual"], k=4)
    assert r["single_agreement"] == pytest.approx(res.value("ICC(2,1)"), abs=1e-12)
    assert r["average_agreement"] == pytest.approx(res.value("ICC(2,k)"), abs=1e-12)
    assert r["single_consistency"] == pytest.approx(res.value("ICC(3,1)"), abs=1e-12)
    assert r["average_consistency"] == pytest.approx(res.value("ICC(3,k)"), abs=1e-12)


def test_components_formulas_and_errors():
    r = rel.reliability_from_components(2.0, 1.0, 1.0, k=2.5)
    assert r["single_agreement"] == pytest.approx(0.5)
    assert r["average_agreement"] == pytest.approx(2 / (2 + 2 / 2.5))
    assert r["single_consistency"] == pytest.approx(2 / 3)
    assert r["average_consistency"] == pytest.approx(2 / (2 + 1 / 2.5))
    assert np.isnan(rel.reliability_from_components(0, 0, 0, 3)["single_agreement"])
    with pytest.raises(ValueError, match="var_rater"):
        rel.reliability_from_components(1.0, -0.1, 1.0, 3)
    with pytest.raises(ValueError, match="k"):
        rel.reliability_from_components(1.0, 0.1, 1.0, 0)


# ------------------------------------------------------------------ Krippendorff properties

def test_ordinal_is_invariant_under_monotone_relabelling_and_nominal_under_any():
    m = k_matrix()
    monotone = np.where(np.isnan(m), np.nan, np.exp(m) + 10)
    assert rel.krippendorff_alpha_matrix(monotone, "ordinal") == pytest.approx(K_EXPECTED["ordinal"], abs=1e-5)
    assert rel.krippendorff_alpha_matrix(monotone, "interval") != pytest.approx(K_EXPECTED["interval"], abs=1e-3)
    shuffle = {1: 40, 2: -3, 3: 7, 4: 0.5, 5: 2}
    relabelled = pd.DataFrame(m).apply(lambda col: col.map(shuffle)).to_numpy(dtype=float)
    assert rel.krippendorff_alpha_matrix(relabelled, "nominal") == pytest.approx(K_EXPECTED["nominal"], abs=1e-5)


def test_alpha_long_format_accepts_labels_and_ordered_categories():
    d = k_long().dropna()
    labels = {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
    d["label"] = d["value"].map(labels)
    nominal = rel.krippendorff_alpha(d, "unit", "observer", "label", "nominal")
    assert nominal == pytest.approx(K_EXPECTED["nominal"], abs=1e-5)
    d["cat"] = pd.Categorical(d["label"], categories=list("abcde"), ordered=True)
    ordinal = rel.krippendorff_alpha(d, "unit", "observer", "cat", "ordinal")
    assert ordinal == pytest.approx(K_EXPECTED["ordinal"], abs=1e-5)
    with pytest.raises(ValueError, match="numeric"):
        rel.krippendorff_alpha(d, "unit", "observer", "label", "interval")
    # relabelling units and coders and permuting rows changes nothing
    d2 = d.sample(frac=1, random_state=1)
    d2 = d2.assign(unit="x" + d2["unit"], observer=d2["observer"].str.lower())
    base = rel.krippendorff_alpha(d, "unit", "observer", "value", "interval")
    assert rel.krippendorff_alpha(d2, "unit", "observer", "value", "interval") == pytest.approx(base, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 5), st.integers(1, 10), st.integers(2, 6), st.integers(0, 2**31 - 1),
       st.sampled_from(rel.LEVELS))
def test_alpha_matches_the_step_by_step_computation(coders, units, n_values, seed, level):
    rng = np.random.default_rng(seed)
    m = rng.integers(1, n_values + 1, size=(coders, units)).astype(float)
    m[rng.random(m.shape) < 0.3] = np.nan
    paired = [u for u in m.T if (~np.isnan(u)).sum() >= 2]
    vals = np.concatenate(paired) if paired else np.array([])
    vals = vals[~np.isnan(vals)]
    if vals.size < 2 or np.unique(vals).size < 2:
        assert np.isnan(rel.krippendorff_alpha_matrix(m, level))  # undefined: nothing to pair or no variation
        return
    assert rel.krippendorff_alpha_matrix(m, level) == pytest.approx(brute_alpha(m, level), abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.1, 20), st.floats(-50, 50))
def test_interval_alpha_is_invariant_to_affine_changes(seed, scale, shift):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(1, 15)) + rng.normal(size=(4, 15))
    m[rng.random(m.shape) < 0.25] = np.nan
    a = rel.krippendorff_alpha_matrix(m, "interval")
    assert rel.krippendorff_alpha_matrix(scale * m + shift, "interval") == pytest.approx(a, abs=1e-9)
    assert rel.krippendorff_alpha_matrix(m[::-1, rng.permutation(15)], "interval") == pytest.approx(a, abs=1e-9)


def test_alpha_agrees_with_the_krippendorff_package():
    import krippendorff as kpkg  # a test dependency: the cross-check runs in every make test
    rng = np.random.default_rng(2)
    m = (rng.integers(1, 6, 300) + rng.integers(-1, 2, (6, 300))).clip(1, 5).astype(float)
    m[rng.random(m.shape) < 0.3] = np.nan
    for level in rel.LEVELS:
        assert rel.krippendorff_alpha_matrix(m, level) == pytest.approx(
            kpkg.alpha(reliability_data=m, level_of_measurement=level), abs=1e-10)


def test_alpha_on_100k_units_by_10_coders_rewards_closeness_by_level():
    """Large input runs through the vectorised path (its speed is in benchmarks/), and the levels
    order as they must: coders who disagree by one step agree better on interval than nominal."""
    rng = np.random.default_rng(0)
    m = (rng.integers(1, 6, 100_000) + rng.integers(-1, 2, (10, 100_000))).clip(1, 5).astype(float)
    m[rng.random(m.shape) < 0.2] = np.nan
    alphas = {level: rel.krippendorff_alpha_matrix(m, level) for level in rel.LEVELS}
    assert 0 < alphas["nominal"] < alphas["ordinal"] < 1
    assert alphas["nominal"] < alphas["interval"] < 1


def test_bootstrap_is_deterministic_and_brackets_the_estimate():
    d = k_long()
    a = rel.krippendorff_alpha_ci(d, "unit", "observer", "value", "interval", n_boot=300, seed=7)
    b = rel.krippendorff_alpha_ci(d, "unit", "observer", "value", "interval", n_boot=300, seed=7)
    c = rel.krippendorff_alpha_ci(d, "unit", "observer", "value", "interval", n_boot=300, seed=8)
    assert a == b and a.ci_low != c.ci_low
    assert a.alpha == pytest.approx(K_EXPECTED["interval"], abs=1e-5)
    assert a.ci_low < a.alpha <= a.ci_high <= 1 and a.n_boot_valid <= 300 and a.se > 0
    assert set(a.to_dict()) >= {"alpha", "ci_low", "ci_high", "n_boot", "seed"}


def test_alpha_errors():
    d = k_long()
    with pytest.raises(ValueError, match="level must be one of"):
        rel.krippendorff_alpha(d, "unit", "observer", "value", "likert")
    dup = pd.concat([d.dropna(), d.dropna().head(1)])
    with pytest.raises(ValueError, match="more than one value.*\\('u1', 'A'\\)"):
        rel.krippendorff_alpha(dup, "unit", "observer", "value")
    with pytest.raises(ValueError, match=">= 0"):
        rel.krippendorff_alpha_matrix(-k_matrix(), "ratio")
    assert np.isnan(rel.krippendorff_alpha_matrix(np.array([[1.0, np.nan], [np.nan, 2.0]]), "interval"))
