"""Rollout evaluation: Callaway–Sant'Anna against R's did, the planted effect, TWFE and Bacon, power.

Reference values: R did 2.5 on mpdta (tests/reference/did/README.md). Tolerances: point estimates
1e-6, standard errors 1e-4, the pre-test p to the 5 decimals R reports.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.stats import did
from analysis.stats.did.panel import prepare
from analysis.stats.did.power import placebo_setup
from analysis.synth import SynthConfig, generate
from analysis.synth.controls import staggered_panel
from conftest import REFERENCE

REF = REFERENCE / "did"
MPDTA_SHA256 = "2283bea1221a152420f98dfa20f633c5d054ea51d881115c8cd702a97bcd3167"
SCENARIOS = {  # scenario -> control, method, covariates
    "mpdta_nev_dr": ("never", "dr", None),
    "mpdta_nyt_dr": ("notyet", "dr", None),
    "mpdta_nev_ipw": ("never", "ipw", None),
    "mpdta_nev_reg_cov": ("never", "reg", ["lpop"]),
}
ATT_TOL, SE_TOL = 1e-6, 1e-4
OUTCOMES = ("ikm", "iku_attainment")


# ------------------------------------------------------------------ data


@lru_cache(maxsize=None)
def mpdta() -> pd.DataFrame:
    return pd.read_csv(REF / "mpdta.csv")


@lru_cache(maxsize=None)
def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"ref_{name}.csv")


@lru_cache(maxsize=None)
def mpdta_fit(scenario: str) -> did.RolloutFit:
    control, method, cov = SCENARIOS[scenario]
    return did.staggered_did(mpdta(), "lemp", "countyreal", "year", "first.treat", control=control,
                                 method=method, covariates=cov, n_boot=199, seed=1)


@lru_cache(maxsize=None)
def sample():
    """The project's generated sample: quarterly service outcomes with adoption quarter and region."""
    tables, truth = generate(SynthConfig(employees=3000, seed=3))
    panel = (tables["service_outcomes"][["unit_id", "period", "ikm", "iku_attainment"]]
             .merge(tables["rollout"][["unit_id", "adopted_period"]], on="unit_id", how="left")
             .merge(tables["units"][["unit_id", "region"]], on="unit_id", how="left"))
    return panel, truth["rollout"]


@lru_cache(maxsize=None)
def sample_fit(outcome: str) -> did.RolloutFit:
    panel, _ = sample()
    return did.staggered_did(panel, outcome, "unit_id", "period", "adopted_period", n_boot=499, seed=7)


# ------------------------------------------------------------------ reference: R did on mpdta


def test_mpdta_copy_is_the_reference_file():
    assert hashlib.sha256((REF / "mpdta.csv").read_bytes()).hexdigest() == MPDTA_SHA256
    assert mpdta().shape == (2500, 6)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_att_gt_matches_r(scenario):
    ref = reference("attgt")
    ref = ref[ref["scenario"] == scenario]
    got = mpdta_fit(scenario).att_gt
    m = ref.merge(got, left_on=["group", "t"], right_on=["group", "time"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all() and len(m) == 12
    np.testing.assert_allclose(m["att_y"], m["att_x"], rtol=0, atol=ATT_TOL)
    np.testing.assert_allclose(m["se_y"], m["se_x"], rtol=0, atol=SE_TOL)
    assert (m["event_time"] == m["time"] - m["group"]).all()


@pytest.mark.parametrize("kind", did.AGGREGATIONS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_aggregations_match_r(scenario, kind):
    ref = reference("aggte")
    ref = ref[(ref["scenario"] == scenario) & (ref["type"] == kind)]
    agg = mpdta_fit(scenario).aggregate(kind)
    assert agg.overall["estimate"] == pytest.approx(ref["overall_att"].iloc[0], abs=ATT_TOL)
    assert agg.overall["se"] == pytest.approx(ref["overall_se"].iloc[0], abs=SE_TOL)
    if kind == "simple":
        return
    table = agg.table
    assert sorted(table.index) == sorted(ref["egt"].astype(int))
    for _, r in ref.iterrows():
        row = table.loc[int(r["egt"])]
        assert row["estimate"] == pytest.approx(r["att_egt"], abs=ATT_TOL)
        assert row["se"] == pytest.approx(r["se_egt"], abs=SE_TOL)
        assert row["cband_low"] <= row["ci_low"] and row["cband_high"] >= row["ci_high"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pretest_matches_r(scenario):
    ref = reference("pretest").set_index("scenario").loc[scenario]
    W, df, p = mpdta_fit(scenario).pretest
    assert W == pytest.approx(ref["W"], abs=ATT_TOL)
    assert df == 5  # (2006, 2004), (2006, 2005), (2007, 2004..2006)
    assert round(p, 5) == pytest.approx(ref["Wpval"], abs=1e-12)


def test_headline_numbers():
    fit = mpdta_fit("mpdta_nev_dr")
    assert fit.aggregate("simple").overall["estimate"] == pytest.approx(-0.0399513, abs=1e-7)
    assert fit.aggregate("simple").overall["se"] == pytest.approx(0.0120340, abs=1e-7)
    assert fit.aggregate("dynamic").overall["estimate"] == pytest.approx(-0.0772398, abs=1e-7)
    assert fit.aggregate("dynamic").overall["se"] == pytest.approx(0.0199650, abs=1e-7)
    assert fit.n_units == 500 and fit.n_never == 309 and fit.cohorts == {2004: 20, 2006: 40, 2007: 131}


# ------------------------------------------------------------------ bootstrap bands and outputs


def test_bands_are_seeded_and_wider_than_pointwise():
    d = mpdta()
    a = did.staggered_did(d, "lemp", "countyreal", "year", "first.treat", n_boot=299, seed=5)
    b = did.staggered_did(d, "lemp", "countyreal", "year", "first.treat", n_boot=299, seed=5)
    c = did.staggered_did(d, "lemp", "countyreal", "year", "first.treat", n_boot=299, seed=5,
                              boot_weights="rademacher")
    for kind in ("dynamic", "group", "calendar"):
        assert a.aggregate(kind).crit == b.aggregate(kind).crit
        assert 1.96 < a.aggregate(kind).crit < 4 and 1.96 < c.aggregate(kind).crit < 4
    assert a.aggregate("dynamic").crit == pytest.approx(c.aggregate("dynamic").crit, abs=0.3)
    none = did.staggered_did(d, "lemp", "countyreal", "year", "first.treat", n_boot=0)
    assert none.aggregate("dynamic").table["cband_low"].isna().all()
    with pytest.raises(ValueError):
        did.staggered_did(d, "lemp", "countyreal", "year", "first.treat", boot_weights="normal")


def test_multiplier_weights_have_mean_zero_and_variance_one():
    for kind, values in (("mammen", {(1 - 5**0.5) / 2, (1 + 5**0.5) / 2}), ("rademacher", {-1.0, 1.0})):
        w = did.multiplier_weights(400, 500, seed=3, kind=kind)
        assert w.shape == (500, 400)
        assert np.allclose(sorted(np.unique(w)), sorted(values))
        assert abs(w.mean()) < 0.01 and abs(w.var() - 1) < 0.01
        assert np.array_equal(w, did.multiplier_weights(400, 500, seed=3, kind=kind))


def test_summary_and_dict():
    fit = mpdta_fit("mpdta_nev_reg_cov")
    text = fit.summary()
    assert "outcome regression with covariates lpop" in text and "-0.0420" in text
    json.dumps(fit.to_dict())
    d = fit.to_dict()
    assert d["pretest"]["df"] == 5 and len(d["att_gt"]) == 12
    assert list(fit.aggregate("calendar").to_frame().columns[:3]) == ["time", "estimate", "se"]


# ------------------------------------------------------------------ periods and panel preparation


def test_quarters_map_to_consecutive_integers_and_back():
    labels = pd.Series(["2023Q3", "2023Q4", "2024Q1", "2024 Q2", "", None])
    n = did.quarter_number(labels)
    assert list(n[:4]) == [8094, 8095, 8096, 8097] and n[4:].isna().all()
    assert list(did.quarter_label(n)[:4]) == ["2023Q3", "2023Q4", "2024Q1", "2024Q2"]
    assert did.quarter_label(pd.Series([8092]))[0] == "2023Q1"


def test_quarter_labels_give_the_same_estimates_as_integers():
    panel, _ = sample()
    fit = sample_fit("ikm")
    p = panel.assign(t=did.quarter_number(panel["period"]),
                     g=did.quarter_number(panel["adopted_period"]).fillna(0).astype(int))
    ints = did.staggered_did(p, "ikm", "unit_id", "t", "g", n_boot=0)
    np.testing.assert_allclose(ints.att_gt["att"], fit.att_gt["att"], atol=1e-12)
    assert list(ints.att_gt["event_time"]) == list(fit.att_gt["event_time"])
    assert fit.att_gt["group"].iloc[0] == "2023Q1" and fit.periods[0] == "2022Q1"
    empty = did.staggered_did(panel.assign(adopted_period=panel["adopted_period"].fillna("")), "ikm", "unit_id",
                                  "period", "adopted_period", n_boot=0)
    np.testing.assert_allclose(empty.att_gt["att"], fit.att_gt["att"], atol=1e-12)


def test_incomplete_units_and_early_adopters_are_left_out_and_said():
    d = mpdta()
    gap = d.drop(index=d.index[(d["countyreal"] == 8001) & (d["year"] == 2005)])
    early = gap.assign(**{"first.treat": np.where(gap["countyreal"] == 8019, 2003, gap["first.treat"])})
    fit = did.staggered_did(early, "lemp", "countyreal", "year", "first.treat", n_boot=0)
    assert fit.n_units == 498
    assert any("not observed in all 5 periods" in n for n in fit.notes)
    assert any("already treated in the first period" in n for n in fit.notes)
    with pytest.raises(ValueError, match="more than one row"):
        did.staggered_did(pd.concat([d, d.head(1)]), "lemp", "countyreal", "year", "first.treat")


# ------------------------------------------------------------------ properties


def test_adding_a_constant_changes_no_att():
    d = mpdta()
    base = mpdta_fit("mpdta_nev_dr")
    for method in ("dr", "reg"):
        shifted = did.staggered_did(d.assign(lemp=d["lemp"] + 7.5), "lemp", "countyreal", "year", "first.treat",
                                        method=method, n_boot=0)
        np.testing.assert_allclose(shifted.att_gt["att"], base.att_gt["att"], atol=1e-10)
        np.testing.assert_allclose(shifted.att_gt["se"], base.att_gt["se"], atol=1e-10)


def test_relabelling_and_reordering_units_changes_nothing():
    d = mpdta()
    rng = np.random.default_rng(0)
    ids = d["countyreal"].unique()
    new = dict(zip(ids, [f"K{x:05d}" for x in rng.permutation(len(ids))]))
    relabelled = d.assign(countyreal=d["countyreal"].map(new)).sample(frac=1, random_state=1)
    fit = did.staggered_did(relabelled, "lemp", "countyreal", "year", "first.treat", method="reg",
                                covariates=["lpop"], n_boot=0)
    base = mpdta_fit("mpdta_nev_reg_cov")
    np.testing.assert_allclose(fit.att_gt["att"], base.att_gt["att"], atol=1e-10)
    np.testing.assert_allclose(fit.att_gt["se"], base.att_gt["se"], atol=1e-10)
    for kind in did.AGGREGATIONS:
        assert fit.aggregate(kind).overall["se"] == pytest.approx(base.aggregate(kind).overall["se"], abs=1e-10)


def test_band_pretest_keeps_near_its_level_when_trends_are_parallel():
    # the full Wald pre-test rejects almost always on this shape (a cohort of 6 units with 11
    # pre-adoption cells); the band pre-test over well-supported event times stays near 5%
    band, wald_all = [], []
    for seed in range(40):
        fit = did.staggered_did(staggered_panel(500 + seed), "y", "unit", "t", "g", n_boot=299, seed=seed)
        band.append(fit.pretest_band.p < 0.05)
        wald_all.append(fit.pretest.p < 0.05)
        assert fit.pretest_band.df == 9  # event times -11 and -10 rest on the cohort of 6 units only
    assert np.mean(band) <= 0.175  # 5% nominal; 40 panels: 0.175 is 2 binomial SDs above 10%
    assert np.mean(wald_all) > 0.5
    assert any("band pre-test leaves out event time(s) -11, -10" in n for n in fit.notes)


def test_band_pretest_rejects_diverging_pre_trends():
    data = staggered_panel(11)
    # adopters drift upwards before adoption: parallel trends fail
    data["y"] = data["y"] + np.where(data["g"] > 0, 1.0 * data["t"], 0.0)
    fit = did.staggered_did(data, "y", "unit", "t", "g", n_boot=499, seed=1)
    assert fit.pretest_band.p < 0.01
    assert "bootstrap p" in fit.summary()
    assert did.staggered_did(data, "y", "unit", "t", "g", n_boot=0).pretest_band.df == 9
    assert np.isnan(did.staggered_did(data, "y", "unit", "t", "g", n_boot=0).pretest_band.p)


def test_no_effect_placebo_is_centred_on_zero():
    z, cover = [], []
    for seed in range(12):
        fit = did.staggered_did(staggered_panel(seed), "y", "unit", "t", "g", n_boot=0)
        o = fit.aggregate("simple").overall
        z.append(o["estimate"] / o["se"])
        dyn = fit.aggregate("dynamic").table
        cover.append(((dyn["ci_low"] <= 0) & (dyn["ci_high"] >= 0)).mean())
    assert abs(np.mean(z)) < 1.0  # mean of 12 z-scores: sd about 0.3
    assert np.mean(cover) > 0.85


# ------------------------------------------------------------------ the project's sample: planted effect


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_planted_effect_lies_in_the_intervals(outcome):
    _, truth = sample()
    fit = sample_fit(outcome)
    true = pd.Series({int(k): v for k, v in truth["outcomes"][outcome]["att_by_event_time"].items()
                      if v is not None}, name="truth")
    dyn = fit.aggregate("dynamic")
    j = dyn.table.join(true, how="inner")
    assert len(j) >= 20  # event times -11 .. 11 (the first quarter has no base period)
    inside = (j["ci_low"] <= j["truth"]) & (j["truth"] <= j["ci_high"])
    assert inside.mean() >= 0.9, j[~inside]
    band = (j["cband_low"] <= j["truth"]) & (j["truth"] <= j["cband_high"])
    assert band.all()
    overall = truth["outcomes"][outcome].get("att_dynamic_overall")
    if overall is not None:
        assert dyn.overall["ci_low"] <= overall <= dyn.overall["ci_high"]
    assert dyn.overall["ci_low"] > 0  # the scheme helped, and the evaluation sees it


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_naive_twfe_is_biased_when_effects_grow(outcome):
    panel, truth = sample()
    cs = sample_fit(outcome).aggregate("simple").overall
    tw = did.twfe(panel, outcome, "unit_id", "period", "adopted_period")
    assert abs(tw.estimate - cs["estimate"]) > tw.se
    assert tw.estimate < cs["estimate"]
    true_overall = truth["outcomes"][outcome]["att_dynamic_overall"]
    assert not tw.ci_low <= true_overall <= tw.ci_high
    bacon = did.bacon_decomposition(panel, outcome, "unit_id", "period", "adopted_period")
    assert bacon.forbidden_weight > 0.1
    by = bacon.by_type["estimate"]
    assert by["later_vs_earlier"] < by["earlier_vs_later"] < by["treated_vs_never"]


def test_goodman_bacon_weights_sum_to_one_and_reproduce_twfe():
    panel, _ = sample()
    cases = [(panel, "ikm", "unit_id", "period", "adopted_period"),
             (mpdta(), "lemp", "countyreal", "year", "first.treat"),
             (staggered_panel(3, n_never=0, effect=lambda e: 0.5 * e), "y", "unit", "t", "g")]
    for data, y, u, t, g in cases:
        b = did.bacon_decomposition(data, y, u, t, g)
        tw = did.twfe(data, y, u, t, g)
        assert b.comparisons["weight"].sum() == pytest.approx(1, abs=1e-12)
        assert (b.comparisons["weight"] >= 0).all()
        assert b.weighted_sum == pytest.approx(b.twfe, abs=1e-10)
        assert b.twfe == pytest.approx(tw.estimate, abs=1e-10)
    assert "treated_vs_never" not in set(b.comparisons["type"])  # the last panel has no never-treated units
    mp = did.bacon_decomposition(mpdta(), "lemp", "countyreal", "year", "first.treat")
    assert mp.by_type["comparisons"].to_dict() == {"treated_vs_never": 3, "earlier_vs_later": 3,
                                                   "later_vs_earlier": 3}
    assert "already-treated" in mp.summary()


# ------------------------------------------------------------------ heterogeneity by region


def test_by_region_estimates_and_equality_test():
    panel, truth = sample()
    g = did.by_group(panel, "ikm", "unit_id", "period", "adopted_period", "region")
    assert set(g.table.index) == set(truth["region_multiplier"])
    assert g.table["in_test"].all() and (g.table["se"] > 0).all()
    # the Wald test of equal region effects, recomputed by hand from the estimates and their covariance
    cov = g.covariance["simple"]
    theta = g.table.loc[cov.index, "estimate"].to_numpy()
    contrast = np.eye(len(theta))[1:] - np.eye(len(theta))[0]  # each region against the first
    d = contrast @ theta
    W = float(d @ np.linalg.solve(contrast @ cov.to_numpy() @ contrast.T, d))
    assert g.tests.loc["simple", "df"] == 4
    assert g.tests.loc["simple", "W"] == pytest.approx(W, rel=1e-8)
    assert g.tests.loc["simple", "p"] == pytest.approx(stats.chi2.sf(W, 4), rel=1e-8)
    # pooled comparison units: region estimates are correlated through them
    np.testing.assert_allclose(np.diag(cov), g.table.loc[cov.index, "se"] ** 2, rtol=1e-9)
    assert cov.to_numpy()[0, 1] > 0
    assert set(g.dynamic["level"]) == set(g.table.index)
    within = did.by_group(panel, "ikm", "unit_id", "period", "adopted_period", "region", comparison="within")
    few = within.table[within.table["n_controls"] < did.MIN_UNITS]
    assert len(few) >= 1 and not few["in_test"].any() and few["note"].str.contains("too few").all()
    assert any("too few" in n for n in within.notes)
    json.dumps(within.to_dict())


def test_equality_test_with_independent_estimates():
    W, df, p = did.equality_test(np.array([1.0, 1.0, 1.0]), np.eye(3) * 0.1)
    assert W == pytest.approx(0) and df == 2 and p == pytest.approx(1)
    W, df, p = did.equality_test(np.array([0.0, 1.0]), np.diag([0.25, 0.25]))
    assert W == pytest.approx(2.0) and df == 1


# ------------------------------------------------------------------ planning the next wave


def test_placebo_closed_form_is_the_callaway_santanna_estimate():
    data = staggered_panel(1)
    prep = prepare(data, "y", "unit", "t", "g")
    n_post, b = 3, 2
    setup = placebo_setup(prep, n_post)
    pool = np.flatnonzero(setup.eligible[:, b])
    treated, controls = pool[:8], pool[8:30]
    closed = setup.change[treated, b].mean() - setup.change[controls, b].mean()
    units = prep.unit_labels
    window = prep.periods[b:b + n_post + 1]
    sub = data[data["unit"].isin(units[np.r_[treated, controls]]) & data["t"].isin(window)]
    sub = sub.assign(g=np.where(sub["unit"].isin(units[treated]), window[1], 0))
    for method in ("dr", "ipw", "reg"):
        fit = did.staggered_did(sub, "y", "unit", "t", "g", method=method, n_boot=0)
        assert fit.aggregate("simple").overall["estimate"] == pytest.approx(closed, abs=1e-10)


def test_minimum_detectable_effect_and_units_needed():
    panel, _ = sample()
    args = (panel, "ikm", "unit_id", "period", "adopted_period")
    mde = {n: did.minimum_detectable_effect(*args, n_units=n, n_post_periods=4, n_sims=600, seed=2)
           for n in (5, 10, 20)}
    assert all(np.isfinite(m.mde) and m.mde > 0 for m in mde.values())
    assert mde[5].mde > mde[10].mde > mde[20].mde
    assert abs(mde[10].mean_placebo) < 4 * mde[10].sd / np.sqrt(600)
    assert mde[10].n_controls == 33 and mde[10].windows >= 1
    # 1/n scaling: the unit-level SD is about the same whatever the group sizes
    assert mde[5].sd_unit == pytest.approx(mde[20].sd_unit, rel=0.15)
    need = did.units_needed(*args, effect=mde[10].mde, n_post_periods=4, n_sims=600, seed=2)
    assert 8 <= need.n_units <= 12 and not need.extrapolated
    assert need.mde <= mde[10].mde + 1e-12
    assert need.mde_simulated == pytest.approx(mde[10].mde, rel=0.12)
    smaller = did.units_needed(*args, effect=0.8 * mde[10].mde, n_post_periods=4, n_sims=600, seed=2)
    assert smaller.n_units is None or smaller.n_units > need.n_units
    tiny = did.units_needed(*args, effect=0.01, n_post_periods=4, n_sims=200)
    assert tiny.n_units is None and "comparison units" in tiny.note


def test_power_table_on_a_panel_of_200_units_decreases_with_more_adopters():
    data = staggered_panel(4, sizes=(30, 30, 30, 30, 30), starts=(5, 7, 9, 11, 13), n_never=50)
    assert data["unit"].nunique() == 200 and data["t"].nunique() == 16
    table = did.power_table(data, "y", "unit", "t", "g", units_grid=(10, 20, 40, 80), periods_grid=(2, 4, 8),
                                n_sims=1000)
    assert len(table) == 12 and table["mde"].notna().all()
    for _, cell in table.groupby("n_post_periods"):
        assert cell["mde"].is_monotonic_decreasing
    assert set(table["method"]) <= {"simulated", "extrapolated"}
    m = did.minimum_detectable_effect(data, "y", "unit", "t", "g", n_units=20, n_post_periods=4, n_sims=500)
    assert "minimum detectable effect" in m.summary()
    with pytest.raises(ValueError, match="untreated units"):
        did.minimum_detectable_effect(data, "y", "unit", "t", "g", n_units=190, n_post_periods=4)
