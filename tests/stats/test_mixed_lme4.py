"""fit_crossed against R lme4 on public crossed data and on the project's sample.

Reference values were produced once by benchmarks/lme4/make_reference.R (see
tests/reference/lme4/README.md); R is not needed here. Tolerances asked of the
model: variance components within 0.5% and fixed effects within 1e-3 of lme4's
REML fit. The exact solver in fact matches to optimiser precision, so the
assertions below are tighter where that holds.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from analysis.stats.mixed import fit_crossed
from conftest import REFERENCE

REF = REFERENCE / "lme4"

# dataset -> model key -> (response, groups, fixed, {our fixed-effect name: lme4 name})
MODELS = {
    "penicillin": {"crossed": ("diameter", ["plate", "sample"], [], {})},
    "pastes": {"nested": ("strength", ["batch", "sample"], [], {})},
    "insteval": {
        "crossed": ("y", ["s", "d"], ["service"], {"service[T.1]": "service1"}),
        "classic": ("y", ["s", "d", "dept_service"], ["service"], {"service[T.1]": "service1"}),
    },
    "sample360": {"crossed": ("score", ["ratee_id", "rater_id"], ["aspect", "rater_role"], None)},
}
CASES = [(ds, model) for ds, models in MODELS.items() for model in models]


@lru_cache(maxsize=None)
def data(name: str) -> pd.DataFrame:
    df = pd.read_csv(REF / f"{name}.csv.gz", dtype=str)
    response = next(iter(MODELS[name].values()))[0]
    df[response] = df[response].astype(float)
    return df


@lru_cache(maxsize=None)
def reference(name: str) -> dict:
    return json.loads((REF / f"{name}.json").read_text())


def lme4_name(ours: str, mapping: dict | None) -> str:
    if ours == "Intercept":
        return "(Intercept)"
    if mapping is not None:
        return mapping[ours]
    var, level = ours.split("[T.")
    return var + level.rstrip("]")


@lru_cache(maxsize=None)
def our_fit(name: str, model: str, method: str, solver: str = "auto"):
    response, groups, fixed, _ = MODELS[name][model]
    return fit_crossed(data(name), response, groups, fixed, method=method, solver=solver, conditional_sd=True)


@pytest.mark.parametrize("name, model", CASES)
@pytest.mark.parametrize("method", ["reml", "ml"])
def test_variance_components_match_lme4(name, model, method):
    ref = reference(name)["models"][model][method]
    fit = our_fit(name, model, method)
    for comp, value in ref["varcomp"].items():
        assert fit.variance_components[comp] == pytest.approx(value, rel=1e-4), comp


@pytest.mark.parametrize("name, model", CASES)
@pytest.mark.parametrize("method", ["reml", "ml"])
def test_fixed_effects_and_their_errors_match_lme4(name, model, method):
    ref = reference(name)["models"][model][method]
    mapping = MODELS[name][model][3]
    fit = our_fit(name, model, method)
    expected = {f["name"]: f for f in ref["fixef"]}
    assert len(expected) == len(fit.fixed_effects)
    for ours, est in fit.fixed_effects.items():
        f = expected[lme4_name(ours, mapping)]
        assert est == pytest.approx(f["estimate"], abs=1e-4), ours
        assert fit.fixed_effects_se[ours] == pytest.approx(f["se"], rel=1e-3), ours


@pytest.mark.parametrize("name, model", CASES)
def test_reml_criterion_matches_lme4(name, model):
    ref = reference(name)["models"][model]["reml"]
    fit = our_fit(name, model, "reml")
    assert fit.criterion == pytest.approx(ref["REMLcrit"], abs=1e-4)
    ml = our_fit(name, model, "ml")
    assert ml.criterion == pytest.approx(reference(name)["models"][model]["ml"]["deviance"], abs=1e-4)


@pytest.mark.parametrize("name, model", CASES)
def test_conditional_modes_match_lme4(name, model):
    ref = reference(name)["models"][model]["reml"]
    fit = our_fit(name, model, "reml")
    for group, levels in ref["ranef"].items():
        ours = fit.random_effects[group]
        theirs = pd.DataFrame(levels).set_index("level")
        theirs.index = theirs.index.astype(str)
        joined = ours.join(theirs, how="inner")
        assert len(joined) == len(ours) == len(theirs), group
        scale = np.sqrt(ref["varcomp"][group])
        assert (joined["estimate"] - joined["mode"]).abs().max() < 1e-3 * max(scale, 1e-3), group
        # cond_sd is lme4's conditional SD (β known); se adds β's uncertainty, so it is never smaller
        np.testing.assert_allclose(joined["cond_sd"], joined["sd"], rtol=1e-4, err_msg=group)
        assert (joined["se"] >= joined["cond_sd"] * (1 - 1e-9)).all(), group


@pytest.mark.parametrize("name, model", [("insteval", "classic"), ("insteval", "crossed"), ("sample360", "crossed")])
@pytest.mark.parametrize("solver", ["iterative", "hybrid"])
def test_scalable_solvers_stay_within_half_a_percent_of_lme4(name, model, solver):
    ref = reference(name)["models"][model]["reml"]
    fit = our_fit(name, model, "reml", solver)
    for comp, value in ref["varcomp"].items():
        assert fit.variance_components[comp] == pytest.approx(value, rel=0.005), comp
    mapping = MODELS[name][model][3]
    expected = {f["name"]: f["estimate"] for f in ref["fixef"]}
    for ours, est in fit.fixed_effects.items():
        assert est == pytest.approx(expected[lme4_name(ours, mapping)], abs=1e-3), ours
