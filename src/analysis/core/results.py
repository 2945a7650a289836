"""The one results API every estimator's result offers (after statsmodels' results objects).

- ``to_frame()``: the result as a table (the estimates, one row each);
- ``to_dict()``: the result as plain JSON (what results files and the brief read);
- ``summary()``: the result as text a person reads.

``Results`` is a small mixin, not a framework: a result class states what it holds as dataclass
fields, overrides what the defaults cannot know, and inherits the rest. Intervals are taken at the
level the estimator was given (params ``alpha``), never at a fixed 95%.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass

import pandas as pd

from analysis.core.jsonsafe import to_json_safe


class Results:
    """Mixin for results objects: ``to_frame``, ``to_dict`` and ``summary``."""

    #: the first line of ``summary()``
    title: str = ""

    def to_dict(self) -> dict:
        """Every field as plain JSON (tables as lists of records)."""
        if not is_dataclass(self):
            raise NotImplementedError(f"{type(self).__name__} must define to_dict()")
        return to_json_safe({f.name: getattr(self, f.name) for f in fields(self) if f.repr})

    def to_frame(self) -> pd.DataFrame:
        """One row of the scalar fields (results with a table of estimates override this)."""
        scalars = {k: v for k, v in self.to_dict().items() if not isinstance(v, (dict, list))}
        return pd.DataFrame([scalars])

    def summary(self) -> str:
        head = self.title or type(self).__name__
        return f"{head}\n{'=' * len(head)}\n{self.to_frame().to_string(index=False)}"
