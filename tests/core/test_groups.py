"""group_positions gives the groups groupby gives, without copying the table."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.groups import group_positions

keys = st.lists(st.one_of(st.none(), st.sampled_from(["b", "a", "c|x", "", "A", "ab", "a b"])), max_size=60)
DTYPES = ["str", "object", "string", pd.CategoricalDtype(["c|x", "b", "a", "", "A", "ab", "a b", "unused"])]


@settings(max_examples=200, deadline=None)
@given(keys, st.sampled_from(DTYPES))
def test_same_groups_as_groupby(values, dtype):
    key = pd.Series(values, dtype=dtype, index=np.arange(len(values)) * 3 + 7)
    frame = pd.DataFrame({"key": key, "x": np.arange(len(values), dtype=float)}, index=key.index)
    expected = [(name, g) for name, g in frame.groupby("key")]
    got = [(name, frame.take(at)) for name, at in group_positions(frame["key"])]
    assert [n for n, _ in got] == [n for n, _ in expected]
    for (_, a), (_, b) in zip(got, expected):
        pd.testing.assert_frame_equal(a, b)


def test_empty_and_all_missing():
    assert list(group_positions(pd.Series([], dtype="str"))) == []
    assert list(group_positions(pd.Series([None, None], dtype="str"))) == []


def test_positions_are_in_row_order():
    groups = dict(group_positions(pd.Series(["u2", "u1", "u2", None, "u1"], dtype="str")))
    assert list(groups) == ["u1", "u2"]
    assert groups["u1"].tolist() == [1, 4] and groups["u2"].tolist() == [0, 2]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(2**53 - 3, 2**53 + 3), st.integers(-5, 5)), max_size=40))
def test_integer_keys_keep_their_values(values):
    key = pd.Series([v for v in values if v is not None], dtype="int64")
    frame = pd.DataFrame({"key": key})
    expected = [name for name, _ in frame.groupby("key")]
    got = [name for name, _ in group_positions(key)]
    assert got == expected and all(isinstance(v, (int, np.integer)) for v in got)


def test_values_that_do_not_sort_together_are_ordered_as_groupby_orders_them():
    key = pd.Series(["b", 7, None, "a", 7, "b"], dtype="object")
    frame = pd.DataFrame({"key": key, "x": range(6)})
    expected = [(name, g) for name, g in frame.groupby("key")]
    got = [(name, frame.take(at)) for name, at in group_positions(key)]
    assert [n for n, _ in got] == [n for n, _ in expected]
    for (_, a), (_, b) in zip(got, expected):
        pd.testing.assert_frame_equal(a, b)
