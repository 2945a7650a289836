"""Every estimator's result answers the same questions the same way (``core.results.Results``), and
takes its interval level from ``alpha`` rather than a fixed 95%."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.core.results import Results
from analysis.stats import did, kappa, reliability
from analysis.stats.mixed import fit_crossed
from conftest import REFERENCE, assert_results_api


@pytest.fixture(scope="module")
def mpdta():
    return pd.read_csv(REFERENCE / "did" / "mpdta.csv").assign(cohort=lambda d: d["first.treat"].replace(0, np.nan))


def crossed_data(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"ratee": rng.integers(0, 60, n), "rater": rng.integers(0, 80, n),
                      "aspect": rng.choice(["a", "b", "c"], n)})
    d["y"] = rng.normal(size=n) + 0.3 * (d["aspect"] == "b") + rng.normal(0, 0.5, 60)[d["ratee"]]
    return d


def test_the_crossed_fit_offers_the_api_and_its_intervals_follow_alpha():
    fit = fit_crossed(crossed_data(), "y", ["ratee", "rater"], ["aspect"])
    assert_results_api(fit)
    wide, narrow = fit.to_frame(alpha=0.01), fit.to_frame(alpha=0.10)
    assert ((wide["ci_high"] - wide["ci_low"]) > (narrow["ci_high"] - narrow["ci_low"])).all()
    assert fit.to_frame()["ci_high"].sub(fit.to_frame()["estimate"]).div(fit.to_frame()["se"]).round(6).eq(1.959964).all()


def test_reliability_and_kappa_results_offer_the_api():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 1)) + rng.normal(0, 0.5, size=(30, 4))
    assert_results_api(reliability.icc_matrix(x))
    long = pd.DataFrame([(u, c, x[u, c]) for u in range(30) for c in range(4)], columns=["u", "c", "v"])
    assert_results_api(reliability.krippendorff_alpha_ci(long, "u", "c", "v", n_boot=200))
    a = pd.Series(rng.integers(1, 6, 200))
    b = (a + rng.integers(-1, 2, 200)).clip(1, 5)
    k05, k01 = kappa.weighted_kappa(a, b, alpha=0.05), kappa.weighted_kappa(a, b, alpha=0.01)
    assert_results_api(k05)
    assert k01.ci_high - k01.ci_low > k05.ci_high - k05.ci_low


def test_difference_in_differences_results_offer_the_api(mpdta):
    fit = did.staggered_did(mpdta, "lemp", "countyreal", "year", "cohort", n_boot=99, seed=1)
    for result in (fit, fit.aggregate("dynamic"), did.twfe(mpdta, "lemp", "countyreal", "year", "cohort"),
                   did.bacon_decomposition(mpdta, "lemp", "countyreal", "year", "cohort")):
        assert_results_api(result)
    narrow = did.staggered_did(mpdta, "lemp", "countyreal", "year", "cohort", n_boot=0, alpha=0.10)
    wide = did.staggered_did(mpdta, "lemp", "countyreal", "year", "cohort", n_boot=0, alpha=0.01)
    o_n, o_w = narrow.aggregate("simple").overall, wide.aggregate("simple").overall
    assert o_w["ci_high"] - o_w["ci_low"] > o_n["ci_high"] - o_n["ci_low"]


def test_every_estimators_results_class_derives_from_the_one_base():
    import importlib
    import inspect
    import pkgutil

    import analysis

    missing = []
    for info in pkgutil.walk_packages(analysis.__path__, "analysis."):
        if info.name.split(".")[1] not in ("stats", "outcomes", "raters", "training", "rollout"):
            continue  # estimators live in these; the data layer's problem report is not an estimate
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or issubclass(cls, Results):
                continue
            if {"to_frame", "to_dict", "summary"} & set(vars(cls)):
                missing.append(f"{info.name}.{name}")
    assert not missing, f"results classes outside the one API: {missing}"
