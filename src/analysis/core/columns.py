"""Labels and kinds of table columns as people read them (``columns.yaml``), in both languages.

The CSV files keep the column names; what a reader sees (notebook tables, sentences that name a
column) takes the label from here.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml


@lru_cache(maxsize=1)
def column_table() -> dict[str, dict]:
    """Column name -> {id, en, kind}."""
    text = resources.files("analysis.core").joinpath("columns.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def column_label(name: str, lang: str) -> str:
    """The column's label in ``lang``, or its own name where the table has none."""
    entry = column_table().get(str(name))
    return entry[lang] if entry else str(name)


def column_kind(name: str) -> str | None:
    """The declared kind of the column's values (None: not declared)."""
    entry = column_table().get(str(name))
    return entry.get("kind") if entry else None


def column_codes(name: str) -> str | None:
    """The code list (``labels.yaml``) of a column of codes, shown by their labels (None: not codes)."""
    entry = column_table().get(str(name))
    return entry.get("codes") if entry else None
