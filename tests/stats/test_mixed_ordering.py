"""The local order of the iterative solver's products (``stats.mixed.ordering``): a permutation that puts
levels that meet together, used from a size on, and invisible in the fit (the same to rounding)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.stats.mixed import build_design
from analysis.stats.mixed.iterative import MOperator, level_variances, optimise_iterative
from analysis.stats.mixed.ordering import LOCAL_ORDER_MIN_LEVELS, inverse, local_order
from analysis.stats.mixed.system import System


def teams(n_teams=120, size=8, seed=3, cross=0.2) -> pd.DataFrame:
    """360 ratings within teams (in 7 units) plus a rater from another team for a ``cross`` share of the
    people; the codes are drawn at random, as NIPs are, so code order says nothing of who works with whom."""
    rng = np.random.default_rng(seed)
    people = n_teams * size
    codes = np.array([f"{c:018d}" for c in rng.choice(10 ** 12, people, replace=False)])
    level, lenient, unit = rng.normal(0, 0.6, people), rng.normal(0, 0.3, people), rng.normal(0, 0.5, 7)
    rows = []
    for t in range(n_teams):
        for j in range(size):
            ratee = t * size + j
            raters = [t * size + i for i in range(size) if i != j and rng.random() < 0.8]
            raters += [int(rng.integers(people))] if rng.random() < cross else []
            for r in raters:
                for a in range(3):
                    rows.append((codes[r], codes[ratee], f"a{a}", f"u{t % 7}",
                                 3 + unit[t % 7] + level[ratee] + lenient[r] + 0.2 * a + rng.normal(0, 0.5)))
    return pd.DataFrame(rows, columns=["rater", "ratee", "aspect", "unit", "score"])


def spread(n_ratees=3000, n_raters=900, n=30000, seed=5) -> pd.DataFrame:
    """Raters spread over everyone (the rater factor fills in: its level variances are probed)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0, 1, n_ratees), rng.normal(0, 0.5, n_raters)
    ia, ib, asp = rng.integers(0, n_ratees, n), rng.integers(0, n_raters, n), rng.integers(0, 3, n)
    return pd.DataFrame({"score": 3 + 0.2 * asp + a[ia] + b[ib] + rng.normal(0, 0.8, n),
                         "ratee": [f"E{i:05d}" for i in ia], "rater": [f"R{j:04d}" for j in ib],
                         "aspect": [f"a{k}" for k in asp]})


def _positions(matrix) -> tuple[np.ndarray, np.ndarray]:
    coo = matrix.tocoo()
    return coo.row / matrix.shape[0], coo.col / matrix.shape[1]


def test_the_local_order_is_a_permutation_that_puts_teams_together():
    d = build_design(teams(), "score", ["ratee", "rater"], ["aspect"])
    sysm = System(d)
    order = local_order(sysm.n0r)
    q0, r = sysm.n0r.shape
    assert sorted(order.p0.tolist()) == list(range(q0)) and sorted(order.pr.tolist()) == list(range(r))
    assert (order.p0[order.inv0] == np.arange(q0)).all() and (order.pr[order.inv_r] == np.arange(r)).all()
    np.testing.assert_array_equal(order.n0r.toarray(), sysm.n0r.toarray()[order.p0][:, order.pr])
    # a pair's ratee and rater sit anywhere at all in code order (relative distance about 0.29, as for two
    # uniform draws), close together in the local order (the random cross-team raters spread it)
    rows, cols = _positions(sysm.n0r)
    local_rows, local_cols = _positions(order.n0r)
    assert np.median(np.abs(rows - cols)) > 0.2
    assert np.median(np.abs(local_rows - local_cols)) < 0.4 * np.median(np.abs(rows - cols))
    # the same design gives the same order
    again = local_order(System(d).n0r)
    np.testing.assert_array_equal(again.p0, order.p0)
    np.testing.assert_array_equal(again.pr, order.pr)


def test_inverse_of_a_permutation():
    p = np.random.default_rng(0).permutation(1000)
    inv = inverse(p)
    assert (inv[p] == np.arange(1000)).all() and (p[inv] == np.arange(1000)).all()


def test_the_order_is_used_from_its_size_on():
    rng = np.random.default_rng(1)
    n = 2 * LOCAL_ORDER_MIN_LEVELS  # the rest levels are the smaller factor's (the larger is eliminated)
    df = pd.DataFrame({"score": rng.normal(size=n), "ratee": np.arange(n) % (LOCAL_ORDER_MIN_LEVELS + 10),
                       "rater": np.arange(n) % LOCAL_ORDER_MIN_LEVELS})
    assert System(build_design(df, "score", ["ratee", "rater"], [])).local_order is not None
    below = df.assign(rater=np.arange(n) % (LOCAL_ORDER_MIN_LEVELS - 1))
    assert System(build_design(below, "score", ["ratee", "rater"], [])).local_order is None


def _both_orders(d):
    """The iterative fit with its products in code order and in the local order."""
    out = []
    for use in (False, True):
        sysm = System(d)
        sysm.local_order = local_order(sysm.n0r) if use else None
        out.append((sysm, optimise_iterative(sysm, True, 1e-9, 16, 0, level_se=True)))
    return out


@pytest.mark.parametrize("design", ["teams", "spread", "three factors"])
def test_the_fit_in_the_local_order_is_the_fit_in_code_order(design):
    if design == "spread":
        d = build_design(spread(), "score", ["ratee", "rater"], ["aspect"])
    else:
        groups = ["ratee", "rater"] + (["unit"] if design == "three factors" else [])
        d = build_design(teams(), "score", groups, ["aspect"])
    (sysm_c, code), (sysm_l, local) = _both_orders(d)
    theta_c, _, pieces_c, nev_c, ok_c, info_c = code
    theta_l, _, pieces_l, nev_l, ok_l, info_l = local
    assert ok_c and ok_l and nev_c == nev_l
    np.testing.assert_allclose(theta_l, theta_c, rtol=1e-8)
    np.testing.assert_allclose(pieces_l.z, pieces_c.z, rtol=1e-7, atol=1e-9 * np.abs(pieces_c.z).max())
    np.testing.assert_allclose(pieces_l.traces, pieces_c.traces, rtol=1e-9)
    for c, loc in zip(info_c["cond_unscaled"], info_l["cond_unscaled"]):
        np.testing.assert_allclose(loc, c, rtol=1e-7)
    # the probed level variances (the path of designs that fill in) solve in the local order too
    probed_c = level_variances(sysm_c, theta_c, method="probing")
    probed_l = level_variances(sysm_l, theta_l, method="probing")
    assert probed_l[2].startswith("probing")
    for c, loc in zip(probed_c[0] + probed_c[1], probed_l[0] + probed_l[1]):
        np.testing.assert_allclose(loc, c, rtol=1e-6, atol=1e-12)


def test_the_operator_in_the_local_order_is_the_operator_in_code_order():
    """Its blocks are the code order's permuted (the preconditioner too: a wrong one would still converge,
    to the same solution, in more iterations), its products and solves the code order's."""
    d = build_design(teams(), "score", ["ratee", "rater"], ["aspect"])
    code, local = System(d), System(d)
    code.local_order, local.local_order = None, local_order(local.n0r)
    order = local.local_order
    theta = np.array([0.9, 0.5])
    op_c, op_l = MOperator(code, theta), MOperator(local, theta)
    assert op_c.local is None
    np.testing.assert_array_equal(op_l.local.pdiag, op_c.pdiag[order.pr])
    np.testing.assert_array_equal(op_l.local.w, op_c.w[order.p0])
    np.testing.assert_array_equal(op_l.local.diag_r, op_c.diag_r[order.pr])
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(code.R, 5)), rng.normal(size=(code.q[0], 5))
    np.testing.assert_allclose(op_l.b(x), op_c.b(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op_l.bt(y), op_c.bt(y), rtol=1e-12, atol=1e-12)
    solved_c, solved_l = op_c.pcg(x, None, 1e-10), op_l.pcg(x, None, 1e-10)
    np.testing.assert_allclose(solved_l, solved_c, rtol=1e-8, atol=1e-10)
    assert op_l.matvecs == op_c.matvecs  # the same iterations
