"""SKM respondent sheets (PermenPANRB 14/2017) to the IKM of each service unit and quarter.

The rule itself (NRR, weights, the 25-100 conversion, the bands, the minimum sample) is in
``analysis.core.ikm``; this module only groups the respondents and applies it.

- A respondent is a row with at least one answer; a row with none is not counted.
- A blank answer is left out of its unsur's NRR (the regulation divides by the answers given).
- A unit and quarter where some unsur has no answer at all has no IKM (NaN, band empty): the index
  needs all nine NRRs. Its row is kept, with the NRRs it has, so the reason shows.
- A unit and quarter with fewer respondents than the regulation's minimum is marked
  (``below_min_respondents``), never dropped: the analyst decides what a small survey is worth.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.core import ikm
from analysis.core.periods import parse_period

KEY = ["unit_id", "period"]
NRR_COLUMNS = [f"nrr_{u}" for u in ikm.UNSUR]
TABLE_COLUMNS = [*KEY, "respondents", *NRR_COLUMNS, "ikm", "band", "min_respondents", "below_min_respondents"]


def _period_order(period: object) -> tuple:
    p = parse_period(period)
    return (p is None, p.year if p else 0, p.start_month if p else 0, str(period))


def _check(respondents: pd.DataFrame) -> pd.DataFrame:
    """The answers as floats; a missing column, or an answer off the 1-4 scale, is an error."""
    missing = [c for c in (*KEY, *ikm.UNSUR) if c not in respondents.columns]
    if missing:
        raise ValueError(f"SKM respondents lack the columns {', '.join(missing)}")
    answers = respondents[list(ikm.UNSUR)].apply(pd.to_numeric, errors="coerce").astype(float)
    lo, hi = ikm.SCALE
    off = answers.notna() & ((answers < lo) | (answers > hi))
    if off.to_numpy().any():
        where = {c: int(n) for c, n in off.sum().items() if n}
        raise ValueError(f"SKM answers must be on the {lo:g}-{hi:g} scale; off the scale: {where}")
    return answers


def ikm_table(respondents: pd.DataFrame, *, min_respondents: int | Mapping[str, int] | None = None) -> pd.DataFrame:
    """One row per unit_id x period (sorted): respondents, the NRR of each unsur, the IKM, its band and
    whether the unit had fewer respondents than ``min_respondents``.

    ``respondents``: one row per respondent with ``unit_id``, ``period`` (a quarter, ``2024Q1``) and
    ``u1``..``u9`` (1-4, NaN for no answer). ``min_respondents`` is the minimum the regulation asks for
    the unit's population served (``core.ikm.krejcie_morgan(population)``): one for every unit, or by
    unit id (``minimum_respondents`` makes either from params); by default, and for units not named,
    ``core.ikm.DEFAULT_MIN_RESPONDENTS`` (384, the sample for a population of a million or more,
    since the population is not in the data: a survey that passes it passes for any population).
    """
    answers = _check(respondents)
    answered = answers.notna().any(axis=1)
    data = pd.concat([respondents.loc[answered, KEY], answers[answered]], axis=1)
    if data.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c.startswith(("nrr_", "ikm")) else object)
                             for c in TABLE_COLUMNS})
    g = data.groupby(KEY, sort=False, dropna=False)
    # NRR = sum of the answers given / number of answers given, per unsur (mean skips the blanks)
    out = g[list(ikm.UNSUR)].mean().rename(columns=dict(zip(ikm.UNSUR, NRR_COLUMNS)))
    out.insert(0, "respondents", g.size().astype(int))
    out = out.reset_index()
    nrrs = out[NRR_COLUMNS].set_axis(list(ikm.UNSUR), axis=1)
    out["ikm"] = ikm.ikm_from_nrr(nrrs).to_numpy()
    out["band"] = ikm.bands(out["ikm"]).to_numpy()
    out["min_respondents"] = _minimum(out["unit_id"], min_respondents)
    out["below_min_respondents"] = (out["respondents"] < out["min_respondents"]).to_numpy()
    order = sorted(range(len(out)), key=lambda i: (str(out.at[i, "unit_id"]), _period_order(out.at[i, "period"])))
    out = out.iloc[order].reset_index(drop=True)
    out["respondents"] = out["respondents"].astype(int)
    out["below_min_respondents"] = out["below_min_respondents"].astype(bool)
    return out[TABLE_COLUMNS]


def minimum_respondents(population: int | Mapping[str, int] | None) -> int | dict[str, int] | None:
    """The regulation's minimum of respondents for a population served (params
    ``import.skm_population``: one number, or by unit id), by Krejcie & Morgan."""
    if population is None:
        return None
    if isinstance(population, Mapping):
        return {str(u): ikm.krejcie_morgan(int(n)) for u, n in population.items()}
    return ikm.krejcie_morgan(int(population))


def _minimum(units: pd.Series, min_respondents: int | Mapping[str, int] | None) -> np.ndarray:
    if isinstance(min_respondents, Mapping):
        return units.astype(str).map(min_respondents).fillna(ikm.DEFAULT_MIN_RESPONDENTS).astype(int).to_numpy()
    value = ikm.DEFAULT_MIN_RESPONDENTS if min_respondents is None else int(min_respondents)
    return np.full(len(units), value, dtype=int)


def service_outcomes_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The ``service_outcomes`` rows of an ``ikm_table``: unit_id, period, ikm, and iku_attainment left
    empty (the SKM says nothing of IKU; the contract keeps a row with an empty iku_attainment and
    warns, ``missing_value``). A unit and quarter without an IKM keeps its row with ikm empty (also a
    warning), so that it is seen."""
    out = table[[*KEY, "ikm"]].copy().reset_index(drop=True)
    out["ikm"] = out["ikm"].astype(float)
    out["iku_attainment"] = np.nan
    return out
