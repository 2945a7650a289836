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


# Size and coverage need thousands of no-effect panels to be measured to a point, but one moderndid fit
# takes about 0.2 s (35 s for 200 panels). The estimates these tests are about have a closed form on
# staggered_panel: without covariates each ATT(g,t) is a difference of mean changes, and the event-time
# aggregate weights cohorts by size (with moderndid's term for estimating those weights). So the study
# runs that closed form, vectorised, on 4,000 panels (about 3 s), checks it against the package on
# the first NULL_FITS panels (estimates, influence functions and the band pre-test agree to 1e-9), and
# feeds the package's own ``sup_t_pretest`` with it. That way the tolerances can be tight.
NULL_PANELS = 4000  # a 5% rate to ±0.34 points (one binomial SE)
NULL_FITS = 8  # real fits (about 2 s): the check of the closed form, and the Wald pre-test
COHORT_SIZES, COHORT_STARTS, N_NEVER, PERIODS = (22, 12, 18, 19, 6), (5, 7, 9, 11, 13), 33, 16  # staggered_panel's


def null_outcomes(seed: int) -> np.ndarray:
    """``staggered_panel(seed)["y"]`` as units × periods, drawn without building the frame."""
    rng = np.random.default_rng(seed)
    n, t = len(null_cohorts()), np.arange(1, PERIODS + 1)
    return (80 + 4 * rng.standard_normal(n)[:, None] + (0.12 * t + 0.4 * rng.standard_normal(PERIODS))[None, :]
            + 1.5 * rng.standard_normal((n, PERIODS)))


@lru_cache(maxsize=None)
def null_cohorts() -> np.ndarray:
    return np.concatenate([np.full(k, g) for k, g in zip(COHORT_SIZES, COHORT_STARTS)] + [np.zeros(N_NEVER, int)])


def event_study_closed_form(y: np.ndarray, g: np.ndarray, keep_influence=lambda e: e < 0):
    """Callaway–Sant'Anna by event time for ``y`` (panels × units × periods 1..T), never-treated
    controls, no covariates, base period varying: estimates and analytic standard errors of every event
    time, influence functions (panels × units × event times) of those ``keep_influence`` selects, and
    the overall effect (mean over event times >= 0) with its standard error."""
    S, n, T = y.shape
    ctrl = g == 0
    share = {c: np.mean(g == c) for c in np.unique(g[g > 0])}
    events = sorted({t - c for c in share for t in range(2, T + 1)})
    est, se, inf_kept, kept = np.zeros((S, len(events))), np.zeros((S, len(events))), [], []
    psi_overall = np.zeros((S, n))
    for j, e in enumerate(events):
        cohorts = [c for c in share if 2 <= c + e <= T]
        p = np.array([share[c] for c in cohorts])
        atts, psi = np.zeros((S, len(cohorts))), np.zeros((S, n))
        for k, c in enumerate(cohorts):
            t, tr = c + e, g == c
            dy = y[:, :, t - 1] - y[:, :, (t - 1 if t < c else c - 1) - 1]
            m1, m0 = dy[:, tr].mean(1, keepdims=True), dy[:, ctrl].mean(1, keepdims=True)
            atts[:, k] = (m1 - m0)[:, 0]
            psi[:, tr] += p[k] / p.sum() * n / tr.sum() * (dy[:, tr] - m1)
            psi[:, ctrl] -= p[k] / p.sum() * n / ctrl.sum() * (dy[:, ctrl] - m0)
        ind = np.stack([(g == c) - share[c] for c in cohorts], axis=1)  # estimating the cohort weights
        psi += atts @ (ind / p.sum() - np.outer(ind.sum(1), p) / p.sum() ** 2).T
        est[:, j], se[:, j] = atts @ p / p.sum(), np.sqrt((psi**2).sum(1)) / n
        if keep_influence(e):
            inf_kept.append(psi)
            kept.append(e)
        if e >= 0:
            psi_overall += psi
    events = np.array(events)
    post = (events >= 0).sum()
    overall = (est[:, events >= 0].mean(axis=1), np.sqrt(((psi_overall / post) ** 2).sum(1)) / n)
    return events, est, se, np.stack(inf_kept, axis=2), np.array(kept), overall


@lru_cache(maxsize=None)
def null_study():
    """Event studies of staggered_panel(500 + seed), seed < NULL_PANELS: the calibration's panels."""
    y = np.stack([null_outcomes(500 + seed) for seed in range(NULL_PANELS)])
    # the band pre-test's event times: -9 .. -1 (-11 and -10 rest on the cohort of 6 units only)
    return event_study_closed_form(y, null_cohorts(), keep_influence=lambda e: -9 <= e < 0)


@lru_cache(maxsize=None)
def null_fits() -> tuple:
    return tuple(did.staggered_did(staggered_panel(500 + seed), "y", "unit", "t", "g", n_boot=99, seed=seed)
                 for seed in range(NULL_FITS))


def test_closed_form_event_study_is_the_package_on_null_panels():
    events, est, se, inf, kept, overall = null_study()
    g = null_cohorts()
    for seed, fit in enumerate(null_fits()):
        dyn = fit.aggregate("dynamic")
        assert list(dyn.table.index) == list(events)
        np.testing.assert_allclose(est[seed], dyn.table["estimate"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(se[seed], dyn.table["se"], rtol=0, atol=1e-9)
        cols = np.isin(dyn.table.index, kept)
        np.testing.assert_allclose(inf[seed], dyn.influence[:, cols], rtol=0, atol=1e-9)
        assert dyn.overall["estimate"] == pytest.approx(overall[0][seed], abs=1e-9)
        assert dyn.overall["se"] == pytest.approx(overall[1][seed], abs=1e-9)
        # the band pre-test from the closed form and the same multiplier draws is the package's
        band = did.sup_t_pretest(est[seed][np.isin(events, kept)], inf[seed], se[seed][np.isin(events, kept)],
                                 did.multiplier_weights(len(g), 99, seed), cohorts=g)
        assert fit.pretest_band.df == band.df == 9
        assert fit.pretest_band.W == pytest.approx(band.W, abs=1e-9) and fit.pretest_band.p == band.p
    assert any("band pre-test leaves out event time(s) -11, -10" in n for n in fit.notes)


def test_band_pretest_keeps_its_level_when_trends_are_parallel():
    # 4,000 no-effect panels shaped like the sample (a cohort of 6 units, 33 never treated). 99
    # multiplier draws, not 299: with p = share of draws >= observed, P(p < 0.05) is exactly 5% for any
    # B with 0.05·(B + 1) whole when the ideal test is exact, so fewer draws cost a little power but do
    # not move the size (measured: 4.9% with 99, 199 and 299 draws). Bounds: 5% ± 3 binomial SEs
    # (±1.0 point); the bootstrap that divided every draw by the observed standard errors gave 6.65%
    # on these panels and fails them.
    events, est, se, inf, kept, _ = null_study()
    g = null_cohorts()
    pre = np.isin(events, kept)
    p = np.array([did.sup_t_pretest(est[s, pre], inf[s], se[s, pre], did.multiplier_weights(len(g), 99, s),
                                    cohorts=g).p for s in range(NULL_PANELS)])
    size = np.mean(p < 0.05)
    bound = 3 * np.sqrt(0.05 * 0.95 / NULL_PANELS)
    assert abs(size - 0.05) <= bound, size
    assert abs(np.mean(p < 0.10) - 0.10) <= 3 * np.sqrt(0.1 * 0.9 / NULL_PANELS)
    # the full Wald pre-test rejects almost always on this shape (the cohort of 6 units has 11
    # pre-adoption cells)
    assert np.mean([fit.pretest.p < 0.05 for fit in null_fits()]) > 0.5


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
    # pointwise 95% intervals (analytic standard errors, as R's did) on the 4,000 no-effect panels:
    # one binomial SE is 0.34 points. Event times with at least 10 adopting units cover 93–95%
    # (the influence-function variance is a little low with cohorts of 12–22 units); -11 and -10 rest
    # on one cohort of 6 units and cover about 89% (variance biased down by 5/6, 5 degrees of
    # freedom), which is why the band pre-test leaves them out.
    events, est, se, _, _, (overall, overall_se) = null_study()
    z = stats.norm.ppf(0.975)
    cover = (np.abs(est / se) <= z).mean(axis=0)
    thin = np.isin(events, [-11, -10])
    assert np.all((cover[~thin] >= 0.925) & (cover[~thin] <= 0.97)), dict(zip(events, cover))
    assert 0.935 <= cover[~thin].mean() <= 0.96
    assert np.all((cover[thin] >= 0.86) & (cover[thin] <= 0.93)), dict(zip(events, cover))
    # the overall effect (mean over event times >= 0): centred on zero, covered about 94%
    assert abs(np.mean(overall / overall_se)) < 3 / np.sqrt(NULL_PANELS)
    assert 0.925 <= np.mean(np.abs(overall / overall_se) <= z) <= 0.965
    assert abs(np.mean(est / se)) < 3 / np.sqrt(NULL_PANELS)


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
