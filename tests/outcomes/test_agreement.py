"""Weighted kappa and category changes between schemes."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from analysis.outcomes import agreement
from analysis.stats import kappa


@pytest.mark.parametrize("weights", ["linear", "quadratic", "none"])
def test_weighted_kappa_matches_scikit_learn(weights):
    rng = np.random.default_rng(3)
    a = pd.Series(rng.integers(1, 6, 400))
    b = (a + rng.integers(-1, 2, 400)).clip(1, 5)
    k = kappa.weighted_kappa(a, b, weights)
    assert k.kappa == pytest.approx(cohen_kappa_score(a, b, weights=None if weights == "none" else weights))
    assert k.n == 400
    # the asymptotic SE against a bootstrap of the 400 pairs, and the interval as estimate ± z·SE
    sk = None if weights == "none" else weights
    draws = rng.integers(0, 400, (600, 400))
    boot = [cohen_kappa_score(a.to_numpy()[i], b.to_numpy()[i], weights=sk) for i in draws]
    assert k.se == pytest.approx(np.std(boot), rel=0.12)
    assert (k.ci_high - k.kappa, k.kappa - k.ci_low) == pytest.approx((1.959964 * k.se, 1.959964 * k.se))


def test_perfect_agreement_is_one_and_is_symmetric():
    a = pd.Series([5, 4, 4, 3, 2, 1, 5])
    assert kappa.weighted_kappa(a, a).kappa == pytest.approx(1.0)
    b = pd.Series([4, 4, 3, 3, 2, 2, 5])
    assert kappa.weighted_kappa(a, b).kappa == pytest.approx(kappa.weighted_kappa(b, a).kappa)


def test_missing_ratings_are_left_out():
    a = pd.Series([5, 4, None, 3])
    b = pd.Series([5, 4, 3, None])
    assert kappa.weighted_kappa(a, b).n == 2


def test_changes_say_who_moves_up_or_down():
    keys = pd.DataFrame({"employee_id": ["A", "B", "C"], "region": ["x", "x", "y"]})
    moved = agreement.changes(keys, pd.Series([5, 3, 2]), pd.Series([4, 3, 4]))
    assert moved["direction"].tolist() == ["down", "same", "up"]
    by = agreement.changes_by(moved, ["region"]).set_index("region")
    assert by.loc["x", "n"] == 2 and by.loc["x", "n_down"] == 1 and by.loc["y", "share_up"] == 1.0
