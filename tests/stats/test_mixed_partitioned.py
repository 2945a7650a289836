"""The crossed model's design gathered partition by partition (``stats.mixed.partitioned``, for
``engine: dask``) is the one machine's: to the last bit when the response and covariates are whole
numbers (360 scores are), within rounding otherwise; and so is the fit."""

from __future__ import annotations

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from analysis.stats.mixed import CrossedModelError, build_design, fit_crossed
from analysis.stats.mixed.partitioned import build_design_partitioned, partition_tasks

GROUPS = ["ratee_id", "rater_id"]
FIXED = ["aspect", "rater_role", "period"]


def lazy(data: pd.DataFrame, npartitions: int):
    """``data`` as a Dask DataFrame with pandas' dtypes (as the run's partitioned tables are read)."""
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_pandas(data, npartitions=npartitions, sort=False)


def assert_same_design(a, b, exact: bool = True):
    close = np.array_equal if exact else (lambda x, y: np.allclose(x, y, rtol=1e-12, atol=1e-9))
    assert (a.n, a.names, a.groups, a.n_dropped, a.aliased) == (b.n, b.names, b.groups, b.n_dropped, b.aliased)
    assert close(a.xtx, b.xtx) and close(a.xty, b.xty) and close(np.array([a.yty]), np.array([b.yty]))
    for k in range(len(a.groups)):
        assert a.levels[k].equals(b.levels[k]) and a.levels[k].dtype == b.levels[k].dtype
        assert np.array_equal(a.counts[k], b.counts[k])
        assert close(a.zty[k], b.zty[k]) and close(a.ztx[k], b.ztx[k])
    assert a.cross.keys() == b.cross.keys()
    for key in a.cross:
        x, y = a.cross[key], b.cross[key]
        assert x.shape == y.shape
        assert np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices)
        assert np.array_equal(x.data, y.data)


@pytest.fixture(scope="module")
def ratings(small_sample):
    tables, _, _ = small_sample
    fb = tables["feedback_360"]
    data = fb[["score", *GROUPS, *FIXED]].assign(score=fb["score"].astype(float))
    return data.reset_index(drop=True)


@pytest.mark.parametrize("npartitions", [1, 3, 17])
@pytest.mark.parametrize("groups", [GROUPS, GROUPS[::-1], [*GROUPS, "unit"], ["unit", *GROUPS[::-1]]],
                         ids=["ratee-rater", "rater-ratee", "three", "three-reordered"])
def test_the_design_of_whole_number_scores_is_the_one_machines_to_the_last_bit(ratings, npartitions, groups):
    """In the caller's order of the factors or another (the design puts the largest first, so the crossed
    counts of a partition are turned round when the order changes), with two factors or three."""
    data = ratings.assign(unit=ratings["rater_id"].astype(str).str[-1])
    with dask.config.set(scheduler="sync"):
        got = build_design_partitioned(lazy(data, npartitions), "score", groups, FIXED)
    assert_same_design(build_design(data, "score", groups, FIXED), got)


def test_a_partition_whose_values_are_not_among_the_levels_is_refused(ratings):
    """A value the levels lack would be added at the last level without a word: refused instead."""
    from analysis.stats.mixed.partitioned import UNKNOWN_CATEGORIES

    codes = sorted(ratings["rater_id"].astype(str).unique())
    typed = ratings.assign(rater_id=pd.Categorical(ratings["rater_id"].astype(str), categories=codes))
    frame = lazy(typed, 3)
    with pytest.raises(CrossedModelError, match="categories Dask does not know"):
        build_design_partitioned(frame.assign(rater_id=frame["rater_id"].cat.as_unknown()), "score", GROUPS, FIXED)
    assert UNKNOWN_CATEGORIES not in codes
    # partitions whose categories are not the ones the frame declares: a rater outside them
    declared = typed.iloc[:0].assign(rater_id=pd.Categorical([], categories=codes[:-1]))
    lying = frame.map_partitions(lambda df: df, meta=declared)
    with dask.config.set(scheduler="sync"), pytest.raises(CrossedModelError, match="not among its categories"):
        build_design_partitioned(lying, "score", GROUPS, FIXED)


def test_so_is_the_fit(ratings):
    whole = fit_crossed(ratings, "score", GROUPS, FIXED)
    with dask.config.set(scheduler="threads"):
        parts = fit_crossed(lazy(ratings, 5), "score", GROUPS, FIXED)
    pd.testing.assert_series_equal(parts.variance_components, whole.variance_components)
    assert parts.criterion == whole.criterion
    for g in GROUPS:
        pd.testing.assert_frame_equal(parts.random_effects[g], whole.random_effects[g])
    pd.testing.assert_frame_equal(parts.to_frame(), whole.to_frame())


def test_fractions_missing_cells_and_a_numeric_covariate_agree_within_rounding(ratings):
    rng = np.random.default_rng(3)
    data = ratings.assign(score=ratings["score"] + rng.normal(0, 0.37, len(ratings)),
                          tenure=rng.uniform(0, 30, len(ratings)))
    data.loc[rng.choice(len(data), 40, replace=False), "rater_id"] = None
    data.loc[rng.choice(len(data), 40, replace=False), "tenure"] = np.nan
    fixed = [*FIXED, "tenure"]
    whole = build_design(data, "score", GROUPS, fixed)
    with dask.config.set(scheduler="sync"):
        parts = build_design_partitioned(lazy(data, 6), "score", GROUPS, fixed)
    assert whole.n_dropped > 0
    assert_same_design(whole, parts, exact=False)


def test_a_categorical_grouping_factor_keeps_its_category_order(ratings):
    raters = sorted(ratings["rater_id"].unique(), reverse=True)
    data = ratings.assign(rater_id=pd.Categorical(ratings["rater_id"], categories=[*raters, "never used"]))
    with dask.config.set(scheduler="sync"):
        parts = build_design_partitioned(lazy(data, 4), "score", GROUPS, FIXED)
    assert_same_design(build_design(data, "score", GROUPS, FIXED), parts)


def test_the_same_requests_are_refused_with_the_same_words(ratings):
    frame = lazy(ratings.assign(one="x"), 2)
    with pytest.raises(CrossedModelError, match="single level"):
        build_design_partitioned(frame, "score", GROUPS, ["one"])
    with pytest.raises(CrossedModelError, match="columns not in the data: nope"):
        build_design_partitioned(frame, "score", GROUPS, ["nope"])
    with pytest.raises(CrossedModelError, match="no complete rows"):
        build_design_partitioned(lazy(ratings.assign(score=np.nan), 2),
                                 "score", GROUPS, FIXED)


def test_no_level_goes_out_with_the_tasks(ratings):
    """Each partition names its own levels and the client places them: the graph holds the partitions and
    one small task per partition, nothing else (the levels sent with the tasks made a 14 MiB graph at
    500,000 employees, as a copy in each and then as one key that every task read)."""
    import cloudpickle

    frame = lazy(ratings, 6)
    tasks = partition_tasks(frame, "score", GROUPS, [], 1)
    graph = {}
    for t in tasks:
        graph.update(dict(t.__dask_graph__()))
    data_keys = {k for k in graph if k not in {t.key for t in tasks}}
    assert len(graph) - len(data_keys) == frame.npartitions
    assert all(len(cloudpickle.dumps(graph[t.key])) < 2_000 for t in tasks)
    assert not any(str(ratings["ratee_id"].iloc[0]).encode() in cloudpickle.dumps(graph[t.key]) for t in tasks)
    # the partitions' own data is all else: their keys are the frame's
    assert data_keys <= set(dict(frame.__dask_graph__()))


def test_a_partition_without_complete_rows_adds_nothing(ratings):
    """A partition whose rows all lack a score names no levels: the design is still the one machine's."""
    n = len(ratings)
    gap = ratings.assign(score=ratings["score"].where((np.arange(n) < n // 3) | (np.arange(n) >= 2 * n // 3)))
    frame = lazy(gap, 3)
    with dask.config.set(scheduler="sync"):
        assert frame.partitions[1].dropna().map_partitions(len).compute().sum() == 0
        got = build_design_partitioned(frame, "score", GROUPS, FIXED)
    assert_same_design(build_design(gap, "score", GROUPS, FIXED), got)
