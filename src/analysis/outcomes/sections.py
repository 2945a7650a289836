"""Appraisal outcomes, section by section: the nodes behind notebook 01.

Each ``*_section`` function takes tables (and settings) and returns a
``Section``: its circulated tables (with how to suppress them), its
restricted lists, its key figures and a one-paragraph reading in either
language. The notebook calls them, shows the tables and saves the section.
"""

from __future__ import annotations

import pandas as pd

from analysis.core.codes import PP30_BANDS, PREDIKAT
from analysis.core.i18n import t
from analysis.core.ordinal import PP30_RANK, PREDIKAT_RANK
from analysis.core.params import Appraisal
from analysis.core.periods import sort_periods
from analysis.core.section import Output, Section, skipped
from analysis.outcomes import agreement, bounds, movement, pp30, predikat
from analysis.stats import kappa


def _shares(dist: pd.DataFrame, cats, by: str = "period") -> dict:
    return {str(r[by]): {c: float(r[f"share_{c}"]) for c in cats} for _, r in dist.iterrows()}


# --- 1. predikat ---------------------------------------------------------------

def predikat_section(out: pd.DataFrame) -> Section:
    """Predikat of every employee and period from the PermenPANRB 6/2022 matrix.

    ``out`` is ``predikat.appraisal_outcomes(appraisals, employees, units)``, computed once per run.
    """
    by_period = predikat.predikat_distribution(out, ["period"])
    by_region = predikat.predikat_distribution(out, ["period", "region"])
    by_class = predikat.predikat_distribution(out, ["period", "position_class"])
    by_type = predikat.predikat_distribution(out, ["period", "employment_type"])
    s = Section("predikat")
    s.tables = {
        "predikat_by_period": Output(by_period, "n"),
        "predikat_by_region": Output(by_region, "n"),
        "predikat_by_position_class": Output(by_class, "n"),
        "predikat_by_employment_type": Output(by_type, "n"),
    }
    has_reported = out["predikat_reported"].notna()
    mism = out["reported_mismatch"].fillna(False).astype(bool)
    if has_reported.any():
        s.tables["reported_vs_matrix"] = Output(predikat.reported_mismatches(out).reset_index(), counts=True)
        s.restricted["reported_predikat_mismatches"] = out.loc[mism, [
            "employee_id", "period", "unit_id", "rater_id", "hasil_kerja", "perilaku_kerja",
            "predikat", "predikat_reported"]]
    periods = sort_periods(out["period"].unique())
    latest = periods[-1]
    last = by_period[by_period["period"] == latest].iloc[0]
    s.key_figures = {
        "n_appraisals": int(len(out)),
        "n_employees": int(out["employee_id"].nunique()),
        "periods": periods,
        "latest_period": latest,
        "predikat_shares": _shares(by_period, PREDIKAT),
        "predikat_counts_latest": {p: int(last[f"n_{p}"]) for p in PREDIKAT},
        "reported": {
            "n_reported": int(has_reported.sum()),
            "n_mismatch": int(mism.sum()),
            "share_mismatch": float(mism.sum() / has_reported.sum()) if has_reported.any() else None,
        },
    }
    fields = dict(n=len(out), employees=out["employee_id"].nunique(), periods=len(periods), latest=latest,
                  sb=last["share_sangat_baik"], b=last["share_baik"], bp=last["share_butuh_perbaikan"],
                  k=last["share_kurang"], sk=last["share_sangat_kurang"])
    rep = s.key_figures["reported"]
    for lang in ("id", "en"):
        reported = (t("nb01.reported", lang, n_mismatch=rep["n_mismatch"], n_reported=rep["n_reported"],
                      share=rep["share_mismatch"]) if rep["n_reported"] else t("nb01.reported_none", lang))
        s.text[lang] = t("nb01.predikat", lang, **fields) + " " + reported
    s.data = {"outcomes": out, "by_period": by_period}
    return s


# --- 2. distribution rules ------------------------------------------------------

def compliance_section(outcomes: pd.DataFrame, org_ratings: pd.DataFrame | None, units: pd.DataFrame,
                       appraisals: pd.DataFrame, employees: pd.DataFrame,
                       counts: pd.DataFrame | None = None) -> Section:
    """Each unit and period against the SE 3/2023 bounds of its org predikat. ``counts``: people per
    predikat, unit and period counted on Dask (``RunContext.unit_counts``, ``engine: dask``); the same
    table ``bounds.unit_counts`` gives."""
    if org_ratings is None:
        return skipped("compliance", "org_ratings table absent", "nb01.compliance_skipped")
    compliance, unit_bounds = bounds.check_distribution(outcomes, org_ratings, counts)
    compliance = compliance.merge(units[["unit_id", "unit_name", "region"]], on="unit_id", how="left")
    lead = ["unit_id", "unit_name", "region"]
    compliance = compliance[lead + [c for c in compliance.columns if c not in lead]]
    by_region = bounds.compliance_summary(compliance, by=["period", "region"])
    by_period = bounds.compliance_summary(compliance, by=["period"])
    overall = bounds.compliance_summary(compliance)
    by_bound = bounds.violations_by_bound(unit_bounds)
    heads = predikat.unit_heads(appraisals, employees)
    head_check = predikat.head_consistency(outcomes, heads, org_ratings)
    non_compliant = compliance[compliance["compliant"].eq(False).fillna(False).astype(bool)][
        ["unit_id", "unit_name", "region", "period", "org_predikat", "n", "violated_bounds", "max_shortfall"]]

    s = Section("compliance")
    counts_cols = [c for c in compliance.columns if c.startswith("n_")] + ["n"]
    s.tables = {
        # unit-level: the predikat counts of small units are blanked; compliance and shortfalls stay,
        # since they are what a unit must act on and do not say who holds which predikat
        "distribution_compliance": Output(compliance, "n", value_cols=counts_cols),
        "distribution_bounds": Output(unit_bounds, "n", value_cols=["count", "n"]),
        "compliance_by_region": Output(by_region),
        "compliance_by_period": Output(by_period),
        "compliance_by_bound": Output(by_bound),
        "non_compliant_units": Output(non_compliant, "n", value_cols=["n"]),
    }
    if len(head_check):
        s.restricted["unit_head_consistency"] = head_check[~head_check["consistent"]]
    o = overall.iloc[0]
    latest = sort_periods(compliance["period"].unique())[-1]
    lp = by_period[by_period["period"] == latest].iloc[0]
    s.key_figures = {
        "unit_periods": int(o["unit_periods"]),
        "checked": int(o["checked"]),
        "non_compliant": int(o["non_compliant"]),
        "compliant": int(o["checked"] - o["non_compliant"]),
        "share_non_compliant": float(o["share_non_compliant"]) if o["checked"] else None,
        "people_to_move": int(o["people_to_move"]),
        "no_org_rating": int(o["unit_periods"] - o["checked"]),
        "latest_period": {"period": latest, "checked": int(lp["checked"]),
                          "non_compliant": int(lp["non_compliant"]),
                          "share_non_compliant": float(lp["share_non_compliant"]) if lp["checked"] else None},
        "by_region": by_region.to_dict(orient="records"),
        "by_bound": by_bound.to_dict(orient="records"),
        "unit_heads": {"identified": int(len(heads)), "with_org_rating": int(len(head_check)),
                       "inconsistent": int((~head_check["consistent"]).sum()) if len(head_check) else 0},
    }
    unrated, inconsistent = s.key_figures["no_org_rating"], s.key_figures["unit_heads"]["inconsistent"]
    for lang in ("id", "en"):
        parts = [t("nb01.compliance", lang, non_compliant=int(o["non_compliant"]), checked=int(o["checked"]),
                   share=float(o["share_non_compliant"] or 0), people=int(o["people_to_move"]))]
        if unrated:  # a sentence about nothing is noise
            parts.append(t("nb01.unrated", lang, unrated=unrated))
        parts.append(t("nb01.heads", lang, n=len(head_check), inconsistent=inconsistent) if inconsistent
                     else t("nb01.heads_consistent", lang, n=len(head_check)))
        s.text[lang] = " ".join(parts)
    s.data = {"bounds": unit_bounds}
    return s


# --- 3. PP 30/2019 numeric scheme and the capaian view ---------------------------

def scheme_section(outcomes: pd.DataFrame, targets: pd.DataFrame | None, feedback: pd.DataFrame | None,
                   settings: Appraisal) -> Section:
    """Scores under the older numeric scheme, and predikat under the achievement-based view."""
    if targets is None:
        return skipped("schemes", "targets table absent", "nb01.pp30_skipped")
    scores = pp30.numeric_scores(outcomes, targets, feedback, settings)
    scores = pp30.capaian_view(scores, settings)
    bands = pp30.band_distribution(scores, ["period"])
    bands_region = pp30.band_distribution(scores, ["period", "region"])
    capaian = predikat.predikat_distribution(scores.assign(predikat=scores["predikat_capaian"]), ["period"])
    s = Section("schemes")
    s.tables = {
        "pp30_bands_by_period": Output(bands, "n"),
        "pp30_bands_by_region": Output(bands_region, "n"),
        "capaian_predikat_by_period": Output(capaian, "n"),
    }
    latest = sort_periods(scores["period"].unique())[-1]
    s.key_figures = {
        "n_scored": int(len(scores)),
        "mean_final_score": float(scores["final_score"].mean()),
        "median_final_score": float(scores["final_score"].median()),
        "mean_skp_score": float(scores["skp_score"].mean()),
        "share_360_weights": float(scores["has_360"].mean()),
        "share_equal_weights": float(scores["equal_weights"].mean()),
        "band_shares": _shares(bands, PP30_BANDS),
        "capaian_shares": _shares(capaian, PREDIKAT),
        "latest_period": latest,
    }
    for lang in ("id", "en"):
        s.text[lang] = t("nb01.pp30", lang, n=len(scores), mean=scores["final_score"].mean(),
                         share_360=scores["has_360"].mean())
    s.data = {"scores": scores}
    return s


# --- 4. agreement between schemes ---------------------------------------------------

_COMPARISONS = {
    # name: (column of the other scheme, its rank map, its label key)
    "pp30": ("band", PP30_RANK, "scheme.pp30"),
    "capaian": ("predikat_capaian", PREDIKAT_RANK, "scheme.capaian"),
}


def agreement_section(scores: pd.DataFrame | None, alpha: float = 0.05) -> Section:
    """How far the 6/2022 predikat agrees with the PP 30/2019 band and the capaian predikat."""
    if scores is None:
        return skipped("agreement", "targets table absent", "nb01.pp30_skipped")
    s = Section("agreement")
    base = scores["predikat"].map(PREDIKAT_RANK)
    keys = scores[["employee_id", "period", "unit_id", "region"]]
    kf, text = {}, {"id": [], "en": []}
    for name, (col, ranks, label_key) in _COMPARISONS.items():
        other = scores[col].map(ranks)
        tab = kappa.crosstab(base, other)
        k_lin = kappa.weighted_kappa(base, other, "linear", alpha)
        k_quad = kappa.weighted_kappa(base, other, "quadratic", alpha)
        moved = agreement.changes(keys, base, other)
        by_region = agreement.changes_by(moved, ["period", "region"])
        by_unit = agreement.changes_by(moved, ["period", "unit_id"])
        overall = agreement.changes_by(moved.assign(all="all"), ["all"]).iloc[0]
        s.tables[f"agreement_{name}_crosstab"] = Output(tab.reset_index(names="rank_6_2022"), counts=True)
        s.tables[f"agreement_{name}_changes_by_region"] = Output(by_region, "n")
        s.tables[f"agreement_{name}_changes_by_unit"] = Output(by_unit, "n")
        s.restricted[f"scheme_changes_{name}"] = moved[moved["direction"] != "same"].merge(
            scores[["employee_id", "period", "predikat", col]], on=["employee_id", "period"])
        s.data[name] = tab
        kf[name] = {
            "kappa_linear": k_lin.to_dict(), "kappa_quadratic": k_quad.to_dict(),
            "n": int(overall["n"]), "share_same": float(overall["share_same"]),
            "share_up": float(overall["share_up"]), "share_down": float(overall["share_down"]),
        }
        for lang in ("id", "en"):
            text[lang].append(t("nb01.agreement", lang, a=t("scheme.6_2022", lang), b=t(label_key, lang),
                                kappa=k_lin.kappa, lo=k_lin.ci_low, hi=k_lin.ci_high,
                                same=overall["share_same"], up=overall["share_up"], down=overall["share_down"]))
    s.key_figures = kf
    s.text = {lang: " ".join(parts) for lang, parts in text.items()}
    return s


# --- 5. change across periods --------------------------------------------------------

def trend_section(outcomes: pd.DataFrame, compliance: Section | None = None) -> Section:
    """Who moves between predikat from one period to the next."""
    trans = movement.transitions(outcomes)
    moves = movement.movement_summary(trans)
    if moves.empty:
        return skipped("trends", "a single period", "nb01.trends_skipped")
    s = Section("trends")
    s.tables = {"predikat_transitions": Output(trans, counts=True, value_cols=["n"]),
                "predikat_movement": Output(moves, "n")}
    s.key_figures = {"movement": moves.to_dict(orient="records")}
    if compliance is not None and compliance.available:
        s.key_figures["compliance_by_period"] = compliance.tables["compliance_by_period"].data.to_dict(
            orient="records")
    last = moves.iloc[-1]
    for lang in ("id", "en"):
        s.text[lang] = t("nb01.trends", lang, before=last["period_from"], after=last["period_to"],
                         n=int(last["n"]), up=last["share_up"], down=last["share_down"])
    s.data = {"transitions": trans}
    return s
