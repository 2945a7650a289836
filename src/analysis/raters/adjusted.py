"""Bias-adjusted appraisal outcomes: the appraisal ratings (di_bawah, sesuai, di_atas coded 1, 2, 3)
fitted with the same crossed model (ratee, appraising supervisor and unit, across periods); removing
each supervisor's estimated effect and recoding gives the predikat each employee would have had from a
neutral rater."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.core.codes import PREDIKAT
from analysis.core.jsonsafe import to_json_safe
from analysis.core.ordinal import PP30_RANK, PREDIKAT_RANK, direction
from analysis.core.results import Results
from analysis.outcomes.predikat import MATRIX
from analysis.raters.spec import RATING_VALUE, VALUE_RATING
from analysis.stats.intervals import z_value
from analysis.stats.mixed import CrossedFit, fit_crossed


@dataclass
class AdjustedOutcomes(Results):
    fit: CrossedFit
    table: pd.DataFrame  # one row per employee and period: before and after
    before: pd.Series  # predikat counts
    after: pd.Series

    @property
    def changed(self) -> pd.DataFrame:
        return self.table[self.table["predikat"] != self.table["predikat_adjusted"]]

    def distribution(self) -> pd.DataFrame:
        out = pd.DataFrame({"before": self.before, "after": self.after}).reindex(list(PREDIKAT)).fillna(0)
        out["share_before"] = out["before"] / out["before"].sum()
        out["share_after"] = out["after"] / out["after"].sum()
        out.index.name = "predikat"
        return out

    title = "Predikat with the appraising supervisors' effects removed"

    def to_frame(self) -> pd.DataFrame:
        return self.distribution().reset_index()

    def to_dict(self) -> dict:
        changed = self.changed
        return to_json_safe({"n": int(len(self.table)), "changed": int(len(changed)),
                             "share_uncertain": float(self.table["category_uncertain"].mean()),
                             "up": int((changed["change"] == "up").sum()),
                             "down": int((changed["change"] == "down").sum()),
                             "distribution": self.to_frame()})


def adjusted_outcomes(outcomes: pd.DataFrame, method: str = "reml", alpha: float = 0.05) -> AdjustedOutcomes:
    """Predikat with each appraising supervisor's estimated effect removed.

    Besides the recoded categories, the table keeps the adjusted ratings on the latent 1-3 scale
    (``*_latent``) and says whose category is uncertain (``category_uncertain``): the (1 - alpha)
    interval of their supervisor's effect reaches across a category boundary of either rating, so
    the adjusted category could be another. A category changes only where an effect passes half a step.

    ``outcomes`` is notebook 01's per-employee table (employee_id, period, rater_id,
    hasil_kerja, perilaku_kerja, predikat). Both ratings are coded 1-3 and fitted together:
    rating ~ dimension + period + (1|employee) + (1|rater) + (1|unit).
    """
    a = outcomes.dropna(subset=["rater_id", "hasil_kerja", "perilaku_kerja"])
    long = a.melt(id_vars=["employee_id", "period", "rater_id"], value_vars=["hasil_kerja", "perilaku_kerja"],
                  var_name="dimension", value_name="rating")
    long["value"] = long["rating"].map(RATING_VALUE)
    fixed = ["dimension"] + (["period"] if long["period"].nunique() > 1 else [])
    # supervisors work inside units whose own rating bounds their staff's predikat: the unit is
    # a third factor, so that a supervisor's effect is measured against the unit, not across units
    long["unit_id"] = long["employee_id"].map(a.drop_duplicates("employee_id").set_index("employee_id")["unit_id"])
    fit = fit_crossed(long, "value", ["employee_id", "rater_id", "unit_id"], fixed, method=method)
    effect = fit.random_effects["rater_id"]["estimate"]
    table = a[["employee_id", "period", "unit_id", "rater_id", "hasil_kerja", "perilaku_kerja", "predikat"]].copy()
    table["rater_effect"] = table["rater_id"].map(effect).fillna(0.0)
    half_width = z_value(alpha) * table["rater_id"].map(fit.random_effects["rater_id"]["se"]).fillna(0.0)
    uncertain = pd.Series(False, index=table.index)
    for col in ("hasil_kerja", "perilaku_kerja"):
        adj = table[col].map(RATING_VALUE) - table["rater_effect"]
        table[f"{col}_latent"] = adj
        table[f"{col}_adjusted"] = np.clip(np.round(adj), 1, 3).astype(int).map(VALUE_RATING)
        low = np.clip(np.round(adj - half_width), 1, 3)
        high = np.clip(np.round(adj + half_width), 1, 3)
        uncertain |= low != high
    table["category_uncertain"] = uncertain
    table["predikat_adjusted"] = [MATRIX[(h, p)] for h, p in zip(table["hasil_kerja_adjusted"],
                                                                  table["perilaku_kerja_adjusted"])]
    table["change"] = direction(table["predikat_adjusted"].map(PREDIKAT_RANK) - table["predikat"].map(PREDIKAT_RANK))
    return AdjustedOutcomes(fit, table, table["predikat"].value_counts(), table["predikat_adjusted"].value_counts())


def band_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """PP 30/2019 band per employee and period before and after removing rater effects."""
    keys = ["employee_id", "period"]
    b = before[keys + ["unit_id", "final_score", "band"]]
    a = after[keys + ["final_score", "band"]].rename(columns={"final_score": "final_score_adjusted",
                                                               "band": "band_adjusted"})
    out = b.merge(a, on=keys)
    out["change"] = direction(out["band_adjusted"].map(PP30_RANK) - out["band"].map(PP30_RANK))
    return out
