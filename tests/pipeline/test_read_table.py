"""Tables are read with each text column as one Arrow array, and are otherwise what pandas reads."""

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from analysis.outcomes.pp30 import SKP_COLUMNS
from analysis.pipeline.context import RunContext, read_table


def _frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "id": pd.Series([f"E{i:05d}" if i % 7 else None for i in range(n)], dtype="str"),
        "score": pd.array([int(v) if v % 5 else None for v in rng.integers(1, 6, n)], dtype="Int64"),
        "flag": pd.array([bool(v) if v % 3 else None for v in range(n)], dtype="boolean"),
        "on": pd.to_datetime([dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 300, n)]),
        "x": rng.normal(size=n),
        "unit": pd.Series(["u1", "u2", "u3"] * (n // 3) + ["u1"] * (n % 3), dtype="str"),
        "arrow_text": pd.array([f"t{i % 4}" for i in range(n)], dtype=pd.ArrowDtype(pa.string())),
        "none": pd.Series([None] * n, dtype="str"),
    })


@pytest.mark.parametrize("n", [0, 1, 250])
def test_same_as_pandas_with_text_in_one_piece(tmp_path, n):
    path = tmp_path / "t.parquet"
    _frame(n).to_parquet(path, row_group_size=16)  # many row groups: many pieces per column
    expected, got = pd.read_parquet(path), read_table(path)
    pd.testing.assert_frame_equal(got, expected)
    assert got.dtypes.equals(expected.dtypes)
    for col in got.columns:
        if isinstance(got[col].array, pd.arrays.ArrowExtensionArray):
            assert got[col].array.__arrow_array__().num_chunks <= 1, col
    if n == 250:  # the file does come in pieces, or the test would prove nothing
        assert expected["id"].array.__arrow_array__().num_chunks > 1


def test_a_notebook_reads_only_the_columns_it_names(sample_run):
    """ctx.table(name, columns=...) equals the whole table's columns, read from the file or taken from a
    table already read, with the params' periods chosen even when ``period`` is not asked for."""
    run, _, _ = sample_run
    whole = RunContext.open(run).table("targets")
    first = RunContext.open(run)
    got = first.table("targets", columns=[*SKP_COLUMNS, "no_such_column"])
    pd.testing.assert_frame_equal(got, whole[SKP_COLUMNS])
    assert first.table("targets", columns=[*SKP_COLUMNS, "no_such_column"]) is got  # kept
    second = RunContext.open(run)
    second.table("targets")
    pd.testing.assert_frame_equal(second.table("targets", columns=["target", "employee_id"]),
                                  whole[["employee_id", "target"]])
    period = sorted(whole["period"].unique())[-1]
    chosen = RunContext(first.run_dir, first.params.model_copy(update={"periods": [period]}))
    expected = whole.loc[whole["period"] == period, ["employee_id", "target"]]
    pd.testing.assert_frame_equal(chosen.table("targets", columns=["employee_id", "target"]), expected)
    assert RunContext.open(run).table("no_such_table", columns=["x"]) is None
