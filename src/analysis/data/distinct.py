"""A column as its distinct values, so that a rule about one cell runs once per distinct text.

A table of millions of cells holds few distinct texts: a few thousand codes, periods, dates and
numbers, at most one NIP per employee. The CSV reader keeps each column as a pandas ``Categorical``
(each distinct text once, and an integer code per cell), and ``parsing`` types the distinct texts
and spreads the results back to the cells by their codes. That gives what typing every cell would
give, because every rule looks at one cell at a time; the one rule that also looks at the rest of
the column (``parse_number``: does the column write decimal commas anywhere?) looks at which texts
it holds, and those are the same.

The checks after typing do the same where they look at one value at a time: missing values, ranges
and duplicate keys (``schemas``), references between tables (``validation``).

A cell of a reader's Categorical that is missing stands for ``None``, as it did when the reader
returned object columns: the rules see ``None`` for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Distinct:
    """The distinct values of a column, and which of them each cell holds."""

    values: pd.Series  # the distinct values (object); with codes, a last one, None, for the empty cells
    codes: np.ndarray | None  # each cell's position in values; None: each cell is its own value
    index: pd.Index  # the cells' index

    @classmethod
    def of(cls, column: pd.Series) -> Distinct:
        """The distinct values of a Categorical, or of an object column of texts and ``None``;
        any other column (numbers, NaN for a missing cell…) as it is, one value per cell."""
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy()
            texts = column.cat.categories.to_numpy(dtype=object)
        elif _texts_and_none(column):
            codes, texts = pd.factorize(column.to_numpy(dtype=object))  # None -> -1
        else:
            return cls(column, None, column.index)
        return cls._compact(column, codes, texts)

    @classmethod
    def _compact(cls, column: pd.Series, codes: np.ndarray, texts: np.ndarray) -> Distinct:
        """Only the values some cell holds (a Categorical may list others, such as the header's
        text: parse_number would count it), then None, the value of every empty cell."""
        used = np.bincount(codes[codes >= 0], minlength=len(texts)) > 0
        kept = texts[used]
        # old code -> new code; -1 (an empty cell) picks the last entry: the position of None
        lookup = np.append(np.where(used, np.cumsum(used) - 1, -1), len(kept)).astype(_code_type(len(kept) + 1))
        values = pd.Series(np.append(kept, None), dtype=object, name=column.name)
        return cls(values, lookup[codes], column.index)

    def spread(self, result: pd.Series) -> pd.Series:
        """A result computed on ``values`` (same positions), for every cell, with the cells' index."""
        if self.codes is None:
            return result
        out = result.take(self.codes)
        out.index = self.index
        return out

    def spread_mask(self, mask: pd.Series) -> np.ndarray:
        """A boolean mask over ``values`` as a mask over the cells."""
        values = mask.to_numpy(dtype=bool)
        return values if self.codes is None else values[self.codes]

    def column(self) -> pd.Series:
        """The values of every cell."""
        return self.spread(self.values)

    def group_codes(self) -> np.ndarray:
        """For each cell, a number that the cells holding equal values share (pandas' equality, as in
        ``factorize`` and ``DataFrame.duplicated``: every missing value alike); as ``values`` may hold
        one value twice (two texts that read the same), they are counted first."""
        groups = pd.factorize(self.values)[0]
        return groups if self.codes is None else groups[self.codes]

    def at(self, result: pd.Series, cells: np.ndarray) -> pd.Series:
        """A result computed on ``values``, at the cells of a mask over the cells, with their index."""
        if self.codes is None:
            return result[cells]
        out = result.take(self.codes[cells])
        out.index = self.index[cells]
        return out


def _code_type(n: int) -> type:
    """The smallest integer type for codes 0 to n - 1 (and -1): a code per cell of millions of cells."""
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if n <= np.iinfo(t).max)


def _texts_and_none(column: pd.Series) -> bool:
    """An object column whose cells are texts or None: equal texts behave the same in every rule,
    so they can be taken once. (Not numbers: 1, 1.0 and True are equal, and read differently;
    not NaN for a missing cell: a text column keeps it as NaN, not None.)"""
    if column.dtype != object:
        return False
    values = column.to_numpy()
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return False
    missing = values[pd.isna(values)]
    return all(v is None for v in missing)
