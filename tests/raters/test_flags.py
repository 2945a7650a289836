"""The rater flags' own calibration: the leniency test at its nominal level (both tails of the interval
null), and eligibility by distinct people rated."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.raters import adjusted, flags, spec
from analysis.synth.controls import halo_feedback, team_feedback

N_RATERS = 40_000  # the rejection rate's SE at 5% is 0.1 point


def fake_fit(deregressed: np.ndarray, pev: float = 0.5, var_rater: float = 1.0):
    """A fit whose raters have the given deregressed effects and se(deregressed) = 1."""
    lam = 1 - pev / var_rater
    ids = [f"R{i}" for i in range(len(deregressed))]
    re = pd.DataFrame({"estimate": lam * deregressed, "se": np.sqrt(pev), "n": 50}, index=pd.Index(ids))
    return SimpleNamespace(random_effects={"rater_id": re}, variance_components=pd.Series({"rater_id": var_rater})), \
        pd.DataFrame({"n_ratings": 50, "n_ratees": 20}, index=pd.Index(ids, name="rater_id"))


def test_with_no_minimum_effect_the_leniency_test_is_the_two_sided_test_at_its_level():
    rng = np.random.default_rng(1)
    fit, counts = fake_fit(rng.standard_normal(N_RATERS))  # no rater effect at all
    out = flags.leniency(fit, counts, min_effect=0.0, fdr=0.10)
    rate = float((out["p"] <= 0.05).mean())
    assert abs(rate - 0.05) < 0.004, rate  # one tail alone gave 0.10


def test_at_the_edge_of_the_interval_null_the_level_is_kept_and_a_large_effect_is_found():
    rng = np.random.default_rng(2)
    m = 0.2
    edge = m * rng.choice([-1.0, 1.0], N_RATERS) + rng.standard_normal(N_RATERS)  # |effect| = m exactly
    fit, counts = fake_fit(edge)
    out = flags.leniency(fit, counts, min_effect=m, fdr=0.10)
    assert float((out["p"] <= 0.05).mean()) <= 0.05 + 0.004
    far = np.r_[np.full(50, m + 5.0), -np.full(50, m + 5.0), rng.standard_normal(900)]  # a positive control
    fit, counts = fake_fit(far)
    out = flags.leniency(fit, counts, min_effect=m, fdr=0.10)
    assert (out.loc[[f"R{i}" for i in range(50)], "flag"] == "lenient").all()
    assert (out.loc[[f"R{i}" for i in range(50, 100)], "flag"] == "severe").all()


def test_eligibility_counts_distinct_people_rated_not_rater_ratee_period_rows():
    rng = np.random.default_rng(3)
    rows = []
    for period in ("2023", "2024", "2025"):
        for rater in range(30):
            # raters 0-9 rate the same 6 people every period (18 rows, 6 people); the others 12 people
            ratees = range(6) if rater < 10 else rng.choice(200, 12, replace=False)
            for ratee in ratees:
                for aspect in ("a", "b", "c"):
                    rows.append({"rater_id": f"R{rater}", "ratee_id": f"E{ratee}", "period": period,
                                 "aspect": aspect, "rater_role": "peer" if rater % 2 else "subordinate",
                                 "score": float(np.clip(np.round(3 + rng.normal(0, 0.8)), 1, 5))})
    feedback = pd.DataFrame(rows)
    fit = spec.feedback_model(feedback)
    for table in (flags.central_tendency(feedback, fit, min_ratees=10), flags.halo(feedback, fit, min_ratees=10)):
        few = table.loc[[f"R{i}" for i in range(10) if f"R{i}" in table.index]]
        assert len(few) and (few["n_ratees"] == 6).all() and not few["eligible"].any()
        assert (few["n_pairs"] == 18).all()
        many = table.drop(few.index)
        assert (many["n_ratees"] >= 10).all() and many["eligible"].all()


def test_central_tendency_is_not_confounded_with_homogeneous_teams():
    # negative control: no central tendency; the uncorrected slope flagged raters of homogeneous teams
    rates = {True: [], False: []}
    for seed in range(3):
        fb = team_feedback(seed)
        ct = flags.central_tendency(fb, spec.feedback_model(fb), min_ratees=10, fdr=0.10)
        homogeneous = ct.index.str.extract(r"T(\d+)R")[0].astype(int).to_numpy() % 2 == 0
        for h in (True, False):
            rates[h].append(float((ct["p"][homogeneous == h] < 0.05).mean()))
    assert np.mean(rates[True]) < 0.08 and np.mean(rates[False]) < 0.08, rates  # nominal 5% (was ~10% vs 5%)
    # positive control: raters who compress a spread-out team's levels to a fifth are found
    central = {f"T{t}R0" for t in range(1, 20, 2)}
    fb = team_feedback(7, central, teams=20, size=16, compression=0.2)
    ct = flags.central_tendency(fb, spec.feedback_model(fb), min_ratees=10, fdr=0.10)
    found = set(ct.index[ct["flag"] == "central_tendency"])
    assert len(found & central) >= 0.75 * len(central) and len(found - central) <= 2


def test_a_rater_without_leniency_among_raters_who_vary_is_flagged_at_the_nominal_rate():
    # negative control of the per-rater test (min_effect 0): neutral raters, colleagues' leniency SD 0.2
    neutral = {f"T{t}R{i}" for t in range(40) for i in range(0, 12, 3)}
    p = []
    for seed in range(4):
        fb = team_feedback(300 + seed, neutral=neutral)
        out = flags.leniency(spec.feedback_model(fb), spec.rater_counts(fb), min_effect=0.0)
        p.append(out.loc[sorted(neutral), "p"])
    p = pd.concat(p).dropna()
    assert len(p) == 640 and 0.025 <= float((p < 0.05).mean()) <= 0.08


def test_the_halo_test_holds_its_level_and_finds_planted_halo():
    # negative control: no halo, people with aspect profiles, raters of unequal leniency and role; on
    # continuous and on integer 1-5 scores (ties). The F test this replaced rejected 0.2-3% at 5%.
    for integer in (False, True):
        p = []
        for seed in range(3):
            fb = halo_feedback(seed)
            if integer:
                fb["score"] = fb["score"].round().clip(1, 5)
            p.append(flags.halo(fb, spec.feedback_model(fb), min_ratees=10)["p"])
        p = pd.concat(p).dropna()
        assert len(p) > 1000 and 0.035 <= float((p < 0.05).mean()) <= 0.065, (integer, (p < 0.05).mean())
    # positive control: raters who score every aspect at the person's overall level
    planted = {f"T{t}R0" for t in range(0, 20, 2)}
    fb = halo_feedback(101, planted, teams=20, size=16)
    out = flags.halo(fb, spec.feedback_model(fb), min_ratees=10)
    assert float((out.loc[sorted(planted), "p"] < 0.05).mean()) >= 0.4
    assert len(set(out.index[out["flag"] == "halo"]) - planted) <= 1


def test_raters_whose_narrow_spread_another_flag_explains_are_not_tested_for_halo():
    central = {f"T{t}R0" for t in range(1, 20, 2)}
    fb = team_feedback(7, central, teams=20, size=16, compression=0.2)
    fit = spec.feedback_model(fb)
    plain = flags.halo(fb, fit, min_ratees=10)
    assert plain.loc[sorted(central), "eligible"].all()
    out = flags.halo(fb, fit, min_ratees=10, explained=central)
    assert not out.loc[sorted(central), "eligible"].any() and out.loc[sorted(central), "p"].isna().all()
    assert not (set(out.index[out["flag"] == "halo"]) & central)


def test_adjusted_outcomes_keep_the_latent_scale_and_say_whose_category_is_uncertain():
    rng = np.random.default_rng(8)
    effects = {f"S{s}": (rng.uniform(0.3, 0.9) if s % 2 == 0 else 0.0) for s in range(60)}  # half lenient
    rows = []
    for s in range(60):
        for e in range(8):
            level = rng.normal(0, 0.5)
            for k, period in enumerate(("2024", "2025")):
                rater = f"S{(s + k) % 60}"  # a new supervisor in the second year links the supervisors
                h, p = (int(np.clip(np.round(2 + level + effects[rater] + rng.normal(0, 0.4)), 1, 3))
                        for _ in range(2))
                rows.append({"employee_id": f"S{s}E{e}", "period": period, "unit_id": f"U{s // 6}",
                             "rater_id": rater, "hasil_kerja": spec.VALUE_RATING[h],
                             "perilaku_kerja": spec.VALUE_RATING[p], "predikat": None})
    out = pd.DataFrame(rows)
    from analysis.outcomes.predikat import predikat

    out["predikat"] = predikat(out["hasil_kerja"], out["perilaku_kerja"])
    adj = adjusted.adjusted_outcomes(out, alpha=0.05)
    t = adj.table
    latent = t["hasil_kerja"].map(spec.RATING_VALUE) - t["rater_effect"]
    np.testing.assert_allclose(t["hasil_kerja_latent"], latent)
    assert 0 < t["category_uncertain"].mean() < 1
    wider = adjusted.adjusted_outcomes(out, alpha=0.001).table["category_uncertain"].mean()
    assert wider >= t["category_uncertain"].mean()  # a wider interval leaves more categories uncertain
    assert adj.to_dict()["share_uncertain"] == pytest.approx(t["category_uncertain"].mean())


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3000), st.booleans())
def test_group_sums_of_squares_are_the_per_group_sums_to_the_last_bit(seed, n, holes):
    from analysis.raters.flags import group_sums_of_squares

    rng = np.random.default_rng(seed)
    keys = pd.Series(rng.choice([f"R{i}" for i in range(int(rng.integers(1, 200)))], n), name="rater_id")
    keys.iloc[: int(rng.integers(0, n))] = "R_big"  # one large group beside many small ones
    if holes:
        keys[rng.random(n) < 0.05] = None
    values = pd.Series(rng.normal(size=n) * rng.choice([1e-3, 1.0, 1e3], n), name="x")
    expected = values.groupby(keys).apply(lambda s: float((s ** 2).sum()))
    got = group_sums_of_squares(values, keys)
    pd.testing.assert_series_equal(got, expected, check_exact=True, check_index_type=False)
