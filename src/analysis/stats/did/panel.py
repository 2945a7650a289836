"""The unit × period panel behind the rollout evaluation: periods as consecutive integers, cohorts, balance.

Every estimator of ``analysis.stats.did`` (Callaway–Sant'Anna, two-way fixed effects, the Goodman-Bacon
decomposition, the placebo power simulation) works on the same prepared panel so that their numbers are
comparable: one row per unit and period, the outcome (and covariates) present in every period, and a
cohort per unit — the first period in which the unit works under the new scheme, or none.

Periods. The workbench writes quarters as ``2023Q1``; a period difference has to count quarters, so each
label becomes a consecutive integer (quarters since year 0: ``2023Q1`` → 8092, ``2023Q2`` → 8093) and
back. Years (``2024``), semesters and months work the same way (periods since year 0 in their own unit);
plain integers (the years of ``mpdta``) are used as they are. A panel mixes no kinds.

What is dropped, and why (each is counted and said in ``notes``):
- rows whose outcome or a covariate is missing, then every unit not observed in all periods: the
  estimators compare the same units over time (a balanced panel, as R's ``did`` does by default);
- units already treated in the first period: they have no untreated period to compare with;
- a cohort after the last period is a unit that is never treated within the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from analysis.core.periods import Period, parse_period

NEVER = 0  # cohort code of never-treated units (R did's convention: first.treat = 0)
_MONTHS = {"Y": 12, "S": 6, "Q": 3, "M": 1}


@dataclass(frozen=True)
class PeriodScale:
    """How period labels map to consecutive integers: ``kind`` is Y, S, Q, M or ``int`` (as given)."""

    kind: str

    def number(self, label) -> int | None:
        """Consecutive period number of one label; None for a missing one."""
        if label is None or (isinstance(label, float) and np.isnan(label)) or label is pd.NA:
            return None
        if self.kind == "int":
            return int(label)
        p = parse_period(label)
        if p is None or p.kind != self.kind:
            raise ValueError(f"period {label!r} is not a {self.kind} period like the others")
        return p.index // p.months

    def label(self, number: int):
        """The label of a period number (an int for integer periods)."""
        if self.kind == "int":
            return int(number)
        months = int(number) * _MONTHS[self.kind]
        return str(Period(months // 12, months % 12 + 1, self.kind))

    @classmethod
    def detect(cls, values: pd.Series) -> PeriodScale:
        """Integer periods when the column is numeric, else the one kind of its period labels."""
        v = values.dropna()
        if ptypes.is_bool_dtype(values):
            raise ValueError("periods must be numbers or period labels, not booleans")
        if ptypes.is_numeric_dtype(values):
            if len(v) and not np.all(np.mod(v.to_numpy(dtype=float), 1) == 0):
                raise ValueError("numeric periods must be whole numbers (years or consecutive period numbers)")
            return cls("int")
        kinds = set()
        for u in pd.unique(v):
            p = parse_period(u)
            if p is None:
                raise ValueError(f"{u!r} is not a period (expected e.g. 2023Q1, 2024, 2024S1 or 2024-03)")
            kinds.add(p.kind)
        if len(kinds) > 1:
            raise ValueError(f"periods mix kinds {sorted(kinds)}; use one kind (e.g. quarters) throughout")
        return cls(kinds.pop() if kinds else "Q")


def quarter_number(values) -> pd.Series:
    """Quarter labels (``2023Q1``, also ``2023 Q1``, ``Q1/2023``) → consecutive integers (quarters since year 0).

    Missing or empty labels become ``<NA>``. ``quarter_label`` is the inverse.
    """
    s = pd.Series(values)
    scale = PeriodScale("Q")
    blank = s.isna() | (s.astype(str).str.strip() == "")
    out = pd.Series(pd.NA, index=s.index, dtype="Int64")
    if (~blank).any():
        out[~blank] = [scale.number(x) for x in s[~blank]]
    return out


def quarter_label(numbers) -> pd.Series:
    """Consecutive quarter numbers → labels like ``2023Q1``; missing stays missing."""
    s = pd.Series(numbers)
    scale = PeriodScale("Q")
    return s.map(lambda n: None if pd.isna(n) else scale.label(int(n))).astype(object)


@dataclass(frozen=True)
class PreparedPanel:
    """A balanced panel with integer periods and cohorts (``NEVER`` = 0), ready for the estimators."""

    data: pd.DataFrame  # columns _id (1..n), _unit (label), _t, _g, _y, covariates as _x0.. ; sorted by _id, _t
    scale: PeriodScale
    periods: tuple[int, ...]  # period numbers, ascending
    covariates: tuple[str, ...]  # the caller's names (in the same order as _x0, _x1, ...)
    notes: tuple[str, ...] = field(default_factory=tuple)
    n_rows_missing: int = 0  # rows dropped for a missing outcome / covariate
    n_units_incomplete: int = 0  # units dropped because not observed in every period
    n_units_early: int = 0  # units dropped because treated in the first period

    @property
    def n_units(self) -> int:
        return int(self.data["_id"].nunique())

    @property
    def unit_cohort(self) -> pd.Series:
        """Cohort per unit (index _id)."""
        return self.data.groupby("_id", sort=True)["_g"].first()

    @property
    def unit_labels(self) -> np.ndarray:
        return self.data.groupby("_id", sort=True)["_unit"].first().to_numpy()

    def matrix(self) -> np.ndarray:
        """Outcome as a units × periods array (rows in _id order)."""
        return self.data["_y"].to_numpy(dtype=float).reshape(self.n_units, len(self.periods))

    def cohort_label(self, g) -> object:
        return "never" if g == NEVER else self.scale.label(int(g))


def _cohort_numbers(values: pd.Series, scale: PeriodScale) -> pd.Series:
    """Cohort per row as a period number; never treated (missing, empty, 0, inf) → NEVER."""
    def one(x):
        if x is None or x is pd.NA:
            return NEVER
        if isinstance(x, (int, float, np.integer, np.floating)):
            if not np.isfinite(x) or x == 0:
                return NEVER
            if scale.kind != "int":
                raise ValueError(f"cohort {x!r} is a number but the periods are {scale.kind} labels")
            return int(x)
        s = str(x).strip()
        if s in ("", "0", "nan", "None", "NaN", "<NA>"):
            return NEVER
        return scale.number(s)
    uniq = pd.unique(values)
    mapping = {u: one(u) for u in uniq if not (isinstance(u, float) and np.isnan(u))}
    out = values.map(mapping)
    return out.where(values.notna(), NEVER).astype("int64")


def prepare(panel: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str,
            covariates: list[str] | tuple[str, ...] | None = None) -> PreparedPanel:
    """Validate and balance the panel (see the module docstring for what is dropped)."""
    covariates = tuple(covariates or ())
    missing = [c for c in (outcome, unit, time, cohort, *covariates) if c not in panel.columns]
    if missing:
        raise ValueError(f"panel has no column(s) {missing}")
    if panel.empty:
        raise ValueError("panel is empty")
    scale = PeriodScale.detect(panel[time])
    d = pd.DataFrame({
        "_unit": panel[unit].astype(str).to_numpy() if not ptypes.is_numeric_dtype(panel[unit])
        else panel[unit].to_numpy(),
        "_t": panel[time].map({u: scale.number(u) for u in pd.unique(panel[time].dropna())}).to_numpy(),
        "_g": _cohort_numbers(panel[cohort].astype(object), scale).to_numpy(),
        "_y": pd.to_numeric(panel[outcome], errors="coerce").to_numpy(dtype=float),
    })
    for i, c in enumerate(covariates):
        d[f"_x{i}"] = pd.to_numeric(panel[c], errors="coerce").to_numpy(dtype=float)
    if d["_t"].isna().any():
        raise ValueError(f"{int(d['_t'].isna().sum())} rows have no period")
    d["_t"] = d["_t"].astype("int64")
    if d.duplicated(["_unit", "_t"]).any():
        dup = d.loc[d.duplicated(["_unit", "_t"], keep=False), ["_unit", "_t"]].iloc[0]
        raise ValueError(f"unit {dup['_unit']!r} has more than one row for period {scale.label(dup['_t'])}")
    if (d.groupby("_unit")["_g"].nunique() > 1).any():
        bad = d.groupby("_unit")["_g"].nunique()
        raise ValueError(f"cohort differs between rows of unit(s) {list(bad[bad > 1].index[:5])}")
    notes: list[str] = []
    value_cols = ["_y", *[f"_x{i}" for i in range(len(covariates))]]
    keep = np.isfinite(d[value_cols].to_numpy(dtype=float)).all(axis=1)
    n_rows_missing = int((~keep).sum())
    if n_rows_missing:
        notes.append(f"{n_rows_missing} rows with a missing outcome or covariate left out")
    d = d[keep]
    periods = np.sort(d["_t"].unique())
    if len(periods) < 2:
        raise ValueError("at least two periods are needed")
    if np.any(np.diff(periods) != 1):
        gaps = [scale.label(p + 1) for p, q in zip(periods[:-1], periods[1:]) if q != p + 1]
        notes.append(f"no rows at all for period(s) {gaps[:5]}: periods are compared as consecutive")
    counts = d.groupby("_unit")["_t"].nunique()
    complete = counts.index[counts == len(periods)]
    n_incomplete = int(len(counts) - len(complete))
    if n_incomplete:
        notes.append(f"{n_incomplete} unit(s) not observed in all {len(periods)} periods left out "
                     "(the estimators compare the same units over time)")
    d = d[d["_unit"].isin(complete)]
    first, last = periods[0], periods[-1]
    early = d.loc[(d["_g"] != NEVER) & (d["_g"] <= first), "_unit"].unique()
    if len(early):
        notes.append(f"{len(early)} unit(s) already treated in the first period ({scale.label(first)}) left out: "
                     "they have no untreated period")
        d = d[~d["_unit"].isin(early)]
    late = (d["_g"] != NEVER) & (d["_g"] > last)
    if late.any():
        notes.append(f"{d.loc[late, '_unit'].nunique()} unit(s) adopting after the last period "
                     f"({scale.label(last)}) count as never treated")
        d.loc[late, "_g"] = NEVER
    if d.empty:
        raise ValueError("no unit is observed in every period with all values present")
    # units numbered by cohort (never-treated last), then label: the order in which R's did and moderndid
    # keep units (data sorted by period, cohort, id), so influence functions line up with _id
    d["_gkey"] = np.where(d["_g"] == NEVER, np.inf, d["_g"].astype(float))
    d = d.sort_values(["_gkey", "_unit", "_t"], kind="stable")
    d["_id"] = pd.factorize(d["_unit"])[0] + 1
    d = d.drop(columns="_gkey").sort_values(["_id", "_t"], kind="stable").reset_index(drop=True)
    return PreparedPanel(d, scale, tuple(int(p) for p in periods), covariates, tuple(notes),
                         n_rows_missing, n_incomplete, len(early))


def first_period_from(adopted: pd.Series, periods) -> pd.Series:
    """For each adoption period, the first of ``periods`` that starts on or after it.

    That is the first period lived entirely under the new scheme: a unit adopting in ``2023Q3`` is
    treated from the appraisal year ``2024``, one adopting in ``2024Q1`` from ``2024``; with quarterly
    outcomes the quarter is its own cohort. Not adopted (missing, empty) or adopting after the last
    period: missing (never treated within the data). An adoption label that is not a period raises.
    """
    starts = sorted((p.index, str(p)) for p in (parse_period(x) for x in pd.unique(pd.Series(list(periods))))
                    if p is not None)
    if not starts:
        raise ValueError("no periods to map adoption onto")

    def one(x):
        if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA or str(x).strip() == "":
            return None
        p = parse_period(x)
        if p is None:
            raise ValueError(f"adopted_period {x!r} is not a period (expected e.g. 2023Q1)")
        return next((label for start, label in starts if start >= p.index), None)

    return adopted.map(one).astype(object)
