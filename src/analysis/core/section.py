"""A section of a notebook: what it computed, how its tables are protected, what it means.

Node functions return a ``Section``; the notebook shows its tables and hands it
to ``RunContext.save``, which suppresses small groups, pseudonymises the
restricted lists and records the key figures for the results file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.i18n import t


@dataclass
class Output:
    """A table and how it is protected when circulated."""

    data: pd.DataFrame
    n_col: str | None = None  # group size column: rows of small groups are blanked
    value_cols: list[str] | None = None  # what to blank (default: n_*, share_* and n)
    counts: bool = False  # a table of counts of people: small non-zero cells are blanked


@dataclass
class Section:
    name: str
    status: str = "ok"  # or "skipped: <reason>"
    tables: dict[str, Output] = field(default_factory=dict)
    restricted: dict[str, pd.DataFrame] = field(default_factory=dict)
    # restricted files other than CSV lists: name -> writer(path, pseudonymise), where
    # pseudonymise maps a Series of employee ids to what the file may show
    files: dict[str, Callable[[Path, Callable[[pd.Series], pd.Series]], None]] = field(default_factory=dict)
    data: dict[str, pd.DataFrame] = field(default_factory=dict)  # for figures and later sections; not saved
    key_figures: dict = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)  # lang -> reading
    # seconds spent, by what: the runner puts them in the manifest (results hold no timings, so
    # that the same inputs and params give the same results files)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.status == "ok"

    def describe(self, lang: str = "id") -> str:
        return self.text.get(lang, "")


def skipped(name: str, reason: str, message_key: str) -> Section:
    """A section that could not run, with the reason in both languages."""
    return Section(name, status=f"skipped: {reason}",
                   text={lang: t(message_key, lang) for lang in ("id", "en")})

