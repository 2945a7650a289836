"""Every table a run circulates follows the one small-cell policy (core.disclosure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.disclosure import people_counts
from analysis.core.params import Params

MIN_CELL = Params().privacy.min_cell


def test_no_circulated_table_shows_a_count_of_one_to_four_people(sample_run):
    run, _, _ = sample_run
    checked = 0
    for path in sorted((run / "tables").glob("*.csv")):
        df = pd.read_csv(path)
        cols = people_counts(df, "n" if "n" in df else None)
        if path.stem.endswith("_crosstab") or path.stem in ("reported_vs_matrix",):
            cols = [c for c in df.columns[1:] if pd.api.types.is_numeric_dtype(df[c])]
        for c in cols:
            v = pd.to_numeric(df[c], errors="coerce")
            assert not ((v > 0) & (v < MIN_CELL)).any(), (path.name, c)
        checked += bool(cols)
    assert checked >= 25  # the run writes that many tables with counts of people


def test_no_blanked_count_is_the_difference_of_published_ones(sample_run):
    run, _, _ = sample_run
    partitions = 0
    for path in sorted((run / "tables").glob("*.csv")):
        df = pd.read_csv(path)
        if "n" not in df:
            continue
        parts = [c for c in people_counts(df, "n") if c != "n"]
        if len(parts) < 2:
            continue
        v = df[parts]
        complete = v.notna().all(axis=1) & df["n"].notna()
        # only tables whose counts split the group (every fully shown row adds up to n)
        if not complete.any() or not np.isclose(v[complete].sum(axis=1), df.loc[complete, "n"]).all():
            continue
        partitions += 1
        shown_total = df["n"].notna()
        # rows whose parts add up to n (where all are shown, or would with the blanked ones)
        one_blank = v.isna().sum(axis=1) == 1
        rows = df[shown_total & one_blank & ~df.get("suppressed", pd.Series(False, index=df.index)).astype(bool)]
        for _, r in rows.iterrows():
            known = r[parts].dropna().sum()
            missing = r["n"] - known
            # a single blank in a row that adds up would be recoverable: only allowed when the parts
            # are not a partition of n (then the difference is not a count of anyone in particular)
            assert not (0 < missing < MIN_CELL and np.isclose(missing, round(missing))), (path.name, r.to_dict())
    assert partitions >= 5  # predikat, band and up/same/down tables split their groups


def test_crosstab_row_labels_survive(sample_run):
    run, _, _ = sample_run
    crosstabs = sorted((run / "tables").glob("*_crosstab.csv"))
    assert len(crosstabs) >= 2
    for path in crosstabs:
        df = pd.read_csv(path)
        assert df.iloc[:, 0].notna().all(), path.name  # every row keeps its label


def test_results_files_hold_no_count_of_one_to_four_people_by_group(sample_run):
    """The results files are read by the brief and travel with it: their per-group lists of people
    counts (records with a group size ``n``) follow the same policy as the tables."""
    import json

    run, _, _ = sample_run
    found = []

    def walk(node, where):
        if isinstance(node, list) and node and all(isinstance(r, dict) and "n" in r for r in node):
            df = pd.DataFrame(node)
            for c in people_counts(df, "n"):
                v = pd.to_numeric(df[c], errors="coerce")
                found.extend(f"{where}.{c}" for _ in v[(v > 0) & (v < MIN_CELL)])
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")

    for path in sorted((run / "results").glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")), path.stem)
    assert not found, found[:10]
