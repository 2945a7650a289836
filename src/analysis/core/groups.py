"""The groups of a key as row positions, for taking one group at a time from a large table.

``frame.groupby(key)`` iterates by first copying the whole table in group order; over millions of
rows that copy is the memory peak of a step. ``group_positions`` gives, for each group, the
positions of its rows (in row order, groups in sorted order, missing keys left out: what
``groupby`` gives), so each group can be taken from the table by itself (``frame.take``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd


def group_positions(key: pd.Series) -> Iterator[tuple[object, np.ndarray]]:
    """(value, positions) for each value of ``key`` in sorted order, positions in row order; the
    groups of ``groupby(key)`` with its defaults (sorted, missing values dropped)."""
    try:
        codes, values = pd.factorize(key, sort=True)
    except TypeError:  # values that do not sort together (text and numbers): groupby has its own order
        positions = pd.Series(np.arange(len(key)))
        for value, at in positions.groupby(key.reset_index(drop=True)):
            yield value, at.to_numpy()
        return
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(values) + 1))  # missing values (-1) come first
    for k, value in enumerate(values):
        yield value, order[bounds[k]:bounds[k + 1]]
