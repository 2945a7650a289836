"""Rater bias, section by section: the nodes behind notebook 02."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.disclosure import protect
from analysis.core.groups import group_positions
from analysis.core.i18n import t
from analysis.core.params import Params
from analysis.core.section import Output, Section, skipped
from analysis.outcomes import pp30
from analysis.raters import adjusted, fairness, flags, sources, spec
from analysis.stats import reliability
from analysis.stats.intervals import interval_dict
from analysis.stats.mixed import CrossedModelError, connected_components, fit_crossed


def _after_model(name: str, model: Section) -> Section:
    """A section that needs the model, when the model could not be fitted: same reason."""
    return Section(name, status=model.status, text=dict(model.text))


# --- 1. the crossed model --------------------------------------------------------------


def model_section(feedback: pd.DataFrame | None, params: Params, partitioned=None) -> Section:
    """Fit score ~ aspect + source + period + (1|ratee) + (1|rater) to the 360 feedback.

    ``partitioned``: the same feedback as a Dask DataFrame (``RunContext.lazy_table``, ``engine:
    dask``), on which the model's design is gathered; the fit is the same."""
    if feedback is None or feedback.empty:
        return skipped("model", "feedback_360 table absent", "nb02.skipped")
    if feedback["ratee_id"].nunique() < 3 or feedback["rater_id"].nunique() < 3:
        return skipped("model", "too few raters and ratees to separate them", "nb02.too_small")
    try:
        fit = spec.feedback_model(feedback if partitioned is None else partitioned, method=params.raters.method)
    except CrossedModelError as exc:
        return skipped("model", f"the model cannot be fitted: {exc}", "nb02.too_small")
    vc = fit.variance_components
    comps = pd.DataFrame({"component": vc.index, "variance": vc.to_numpy(), "sd": np.sqrt(vc.to_numpy()),
                          "share": vc.to_numpy() / vc.sum()})
    per_ratee = feedback[feedback["rater_role"] != "self"].groupby(["ratee_id", "period"])["rater_id"].nunique()
    k = float(per_ratee.mean())
    rel = reliability.reliability_from_components(vc["ratee_id"], vc["rater_id"], vc["residual"], k)
    s = Section("model")
    s.tables = {"rater_model_variance_components": Output(comps),
                "rater_model_fixed_effects": Output(fit.to_frame(params.alpha).reset_index())}
    s.key_figures = {
        "n_ratings": fit.n, "n_raters": int(len(fit.random_effects["rater_id"])),
        "n_ratees": int(len(fit.random_effects["ratee_id"])), "solver": fit.solver,
        "criterion": fit.criterion, "method": fit.method,
        "variance_components": vc.to_dict(), "shares": (vc / vc.sum()).to_dict(),
        "raters_per_ratee": k, "reliability": rel,
        # Spearman-Brown: raters whose mean reaches the reliability target (0.70)
        "raters_for_070": reliability.raters_needed(rel["single_agreement"], spec.RELIABILITY_TARGET),
        # whether the optimiser converged, and whether every rater can be compared with every other
        # (raters in different components of the rater-ratee graph cannot)
        "converged": bool(fit.converged),
        "components": _components(feedback),
        # how the raters' standard errors were computed (exact, or probed with the error stated)
        "standard_errors": fit.info.get("level_variances"),
        "standard_error_rel_se": fit.info.get("level_variance_rel_se"),
    }
    share = vc["rater_id"] / vc.sum()
    for lang in ("id", "en"):
        s.text[lang] = t("nb02.model", lang, n=fit.n, raters=s.key_figures["n_raters"],
                         ratees=s.key_figures["n_ratees"], rater_share=share,
                         ratee_share=vc["ratee_id"] / vc.sum(), single=rel["single_agreement"],
                         k=k, average=rel["average_agreement"])
        if not fit.converged or s.key_figures["components"]["n"] > 1:
            s.text[lang] += " " + t("nb02.model_caveat", lang, converged=t(f"nb02.converged.{fit.converged}", lang),
                                    n=s.key_figures["components"]["n"],
                                    share=s.key_figures["components"]["share_in_largest"])
        probed = s.key_figures["standard_error_rel_se"]
        if str(s.key_figures["standard_errors"]).startswith("probing") and probed:
            # relative error of a variance, halved: the error of the standard error
            s.text[lang] += " " + t("nb02.se_probed", lang, err=probed["rater_id"]["max"] / 2)
    s.data = {"fit": fit}
    s.timings = {"rater_model_fit": round(fit.seconds, 2)}  # to the manifest, never to results
    if partitioned is not None:  # where the design was gathered (engine: dask), for the manifest too
        s.timings["rater_model_partitions"] = partitioned.npartitions
    return s


def _components(feedback: pd.DataFrame) -> dict:
    comp = connected_components(feedback[feedback["rater_id"] != feedback["ratee_id"]], "rater_id", "ratee_id")
    return {"n": int(len(comp)), "share_in_largest": float(comp["rows"].iloc[0] / comp["rows"].sum()),
            "raters_outside_largest": int(comp["rater_id"].iloc[1:].sum())}


# --- 2. rater effects and flags -----------------------------------------------------------


def flags_section(model: Section, feedback: pd.DataFrame | None, employees: pd.DataFrame,
                  units: pd.DataFrame, params: Params) -> Section:
    """Lenient, severe, central-tendency and halo raters, at the false-discovery rate in params."""
    if not model.available:
        return _after_model("flags", model)
    fit = model.data["fit"]
    rp = params.raters
    unit_of = employees.set_index("employee_id")["unit_id"]
    found = flags.flag_raters(fit, feedback, spec.rater_counts(feedback), unit_of, min_ratees=rp.min_ratees,
                              fdr=params.fdr, min_effect=rp.min_effect, alpha=params.alpha)
    len_, ct, ha, flagged = found.leniency, found.central, found.halo, found.flagged
    by_unit = flags.flags_by_unit(len_, flagged, unit_of, units)
    by_region = by_unit.drop(columns="unit_id").groupby("region").sum(numeric_only=True).reset_index()

    s = Section("flags")
    s.tables = {
        "flagged_raters_by_unit": Output(by_unit, "n"),
        "flagged_raters_by_region": Output(by_region, "n"),
        "rater_halo_central_summary": Output(flags.halo_central_summary(ct, ha)),
    }
    s.restricted = {"flagged_raters": flagged}
    n_el = int(len_["eligible"].sum())
    kinds = found.counts()
    s.key_figures = {
        "eligible_raters": n_el, "min_ratees": rp.min_ratees, "min_effect": rp.min_effect, "fdr": params.fdr,
        "flagged": kinds, "flagged_any": int(flagged["rater_id"].nunique()),
        "share_flagged": float(flagged["rater_id"].nunique() / n_el) if n_el else None,
        # as the circulated table shows them (the brief reads results): small counts blanked
        "by_region": protect(by_region, params.privacy.min_cell, n_col="n").to_dict(orient="records"),
    }
    for lang in ("id", "en"):
        s.text[lang] = t("nb02.flags", lang, eligible=n_el, min_ratees=rp.min_ratees, fdr=params.fdr,
                         lenient=kinds["lenient"], severe=kinds["severe"], central=kinds["central_tendency"],
                         halo=kinds["halo"], min_effect=rp.min_effect)
    s.data = {"leniency": len_, "central": ct, "halo": ha, "flags": found}
    return s


# --- 3. sources ---------------------------------------------------------------------------


def sources_section(model_section: Section, feedback: pd.DataFrame | None, alpha: float) -> Section:
    """Self, supervisor and subordinate ratings against peers; agreement between sources."""
    if not model_section.available:
        return _after_model("sources", model_section)
    model = sources.source_effects(model_section.data["fit"], alpha)
    plain = sources.source_differences(feedback, alpha=alpha)
    agree = sources.source_agreement(feedback)
    both = pd.concat([model, plain], ignore_index=True)
    s = Section("sources")
    s.tables = {"source_differences": Output(both), "source_agreement": Output(agree, "n_ratees",
                                                                                 value_cols=["n_ratees"])}
    kf = {row["source"]: interval_dict(row) for _, row in model.iterrows()}
    s.key_figures = {"versus": "peer", "model": kf,
                     "within_ratee": {row["source"]: interval_dict(row) for _, row in plain.iterrows()},
                     "agreement": agree.to_dict(orient="records")}
    if "self" in kf:
        for lang in ("id", "en"):
            s.text[lang] = t("nb02.sources", lang, self=kf["self"]["estimate"], lo=kf["self"]["ci_low"],
                             hi=kf["self"]["ci_high"], sup=kf.get("supervisor", {}).get("estimate", np.nan),
                             sub=kf.get("subordinate", {}).get("estimate", np.nan))
    s.data = {"sources": both}
    return s


# --- 4. reliability -------------------------------------------------------------------------


def _component_reliability(data: pd.DataFrame, fixed: list[str]) -> dict | None:
    # each count once: thousands of unit fits spent a tenth of their time counting the same values again
    ratees, raters = data["ratee_id"].nunique(), data["rater_id"].nunique()
    if ratees < 5 or raters < 2:
        return None
    fixed = [c for c in fixed if data[c].nunique() > 1]
    # only the variance components are needed: the iterative solver gives them (to well within
    # 0.1%) without the exact evaluation of every conditional mean
    solver = "iterative" if raters > 1500 else "auto"
    fit = fit_crossed(data, "score", ["ratee_id", "rater_id"], fixed, solver=solver, level_se=False)
    vc = fit.variance_components
    k = float(data.groupby(["ratee_id", "period"])["rater_id"].nunique().mean())
    rel = reliability.reliability_from_components(vc["ratee_id"], vc["rater_id"], vc["residual"], k)
    return {"n_ratings": fit.n, "n_ratees": int(ratees), "n_raters": int(raters), "raters_per_ratee": k,
            "single": rel["single_agreement"], "average": rel["average_agreement"]}


def _ratings(feedback: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """The ratings at positions ``at``, scores as numbers."""
    g = feedback.take(at)
    return g.assign(score=g["score"].astype(float))


def reliability_section(model: Section, feedback: pd.DataFrame | None, employees: pd.DataFrame,
                        min_ratees: int = 10) -> Section:
    """How far ratings of the same person agree: from variance components and Krippendorff's alpha."""
    if not model.available:
        return _after_model("reliability", model)
    # ratings by others, taken one group at a time by position: a copy of all 3.5 M of them at 100,000
    # employees, and the sorted copy grouping makes, were most of notebook 02's memory (the groups are
    # the same rows in the same order as ``groupby`` gives them). A missing role counts as "by others"
    # in text with NaN and is left out where it is pd.NA, as the boolean mask before did.
    others = np.flatnonzero((feedback["rater_role"] != "self").fillna(False).to_numpy(dtype=bool))
    rows = []
    for aspect, at in group_positions(feedback["aspect"].take(others)):
        g = _ratings(feedback, others[at])
        rel = _component_reliability(g, ["rater_role", "period"])
        alpha = reliability.krippendorff_alpha(
            g.assign(unit=g["ratee_id"] + "|" + g["period"].astype(str)), "unit", "rater_id", "score", "interval")
        if rel:
            rows.append({"aspect": aspect, **rel, "krippendorff_alpha": alpha})
    by_aspect = pd.DataFrame(rows)
    unit_of = employees.set_index("employee_id")["unit_id"]
    rows = []
    for unit, at in group_positions(feedback["ratee_id"].take(others).map(unit_of)):
        g = _ratings(feedback, others[at])
        if g["ratee_id"].nunique() < min_ratees:
            continue
        rel = _component_reliability(g, ["aspect", "rater_role", "period"])
        if rel:
            rows.append({"unit_id": unit, **rel})
    by_unit = pd.DataFrame(rows)
    s = Section("reliability")
    s.tables = {"reliability_by_aspect": Output(by_aspect, "n_ratees",
                                                value_cols=["single", "average", "krippendorff_alpha"]),
                "reliability_by_unit": Output(by_unit, "n_ratees", value_cols=["single", "average"])}
    overall = model.key_figures["reliability"]
    s.key_figures = {"overall": overall, "by_aspect": by_aspect.to_dict(orient="records"),
                     "units": int(len(by_unit)),
                     "unit_single_median": float(by_unit["single"].median()) if len(by_unit) else None,
                     "unit_single_low": int((by_unit["single"] < 0.4).sum()) if len(by_unit) else 0}
    for lang in ("id", "en"):
        s.text[lang] = t("nb02.reliability", lang, single=overall["single_agreement"],
                         average=overall["average_agreement"], k=overall["k"],
                         lo=by_aspect["single"].min() if len(by_aspect) else np.nan,
                         hi=by_aspect["single"].max() if len(by_aspect) else np.nan,
                         units=len(by_unit), low=s.key_figures["unit_single_low"])
    return s


# --- 5. fairness -----------------------------------------------------------------------------


def fairness_section(outcomes: pd.DataFrame, employees: pd.DataFrame, targets: pd.DataFrame | None,
                     feedback: pd.DataFrame | None, params: Params) -> Section:
    """Supervisor ratings by ratee gender, age, class and employment type, results held fixed."""
    if targets is None:
        return skipped("fairness", "targets table absent (achievement cannot be held fixed)", "nb02.fairness_skipped")
    data = fairness.fairness_data(outcomes, employees, targets, feedback, params.appraisal.achievement_cap,
                                  params.appraisal.capaian_thresholds)
    usable = data.dropna(subset=["rating_score", "skp_score"])
    if len(usable) < fairness.MIN_APPRAISALS or usable["rater_id"].nunique() < fairness.MIN_RATERS:
        return skipped("fairness", f"fewer than {fairness.MIN_APPRAISALS} appraisals with targets from at least "
                                   f"{fairness.MIN_RATERS} raters", "nb02.fairness_small")
    found = fairness.assess(data, params.alpha, params.fdr, params.raters.min_group)
    diffs, inter, units, tested = found.differences, found.interaction, found.units, found.tested
    s = Section("fairness")
    s.tables = {"fairness_group_differences": Output(diffs, "n_level", value_cols=["n_level"]),
                "fairness_gender_interaction": Output(inter),
                # unit rows are groups of people: the gap of a unit is shown only for tested units,
                # which have at least min_group women and min_group men
                "fairness_unit_gender_gaps": Output(tested.drop(columns=["tested"]))}
    g = found.gender_gap()
    gender = interval_dict(g) | {"p": float(g["p"])} if g is not None else None
    s.key_figures = {
        "gender_gap": gender,
        "significant_groups": found.significant().to_dict(orient="records"),
        "interaction": inter.to_dict(orient="records"),
        "units_tested": int(len(tested)), "units_flagged": int(units["flag"].sum()),
        "min_group": params.raters.min_group,
    }
    for lang in ("id", "en"):
        s.text[lang] = t("nb02.fairness", lang, gap=gender["estimate"] if gender else np.nan,
                         lo=gender["ci_low"] if gender else np.nan, hi=gender["ci_high"] if gender else np.nan,
                         tested=len(tested), flagged=int(units["flag"].sum()), fdr=params.fdr)
    s.data = {"differences": diffs, "units": units, "fairness": found}
    return s


# --- 6. bias-adjusted outcomes ------------------------------------------------------------------


def adjusted_section(outcomes: pd.DataFrame, model: Section, feedback: pd.DataFrame | None,
                     targets: pd.DataFrame | None, params: Params) -> Section:
    """Predikat and PP 30/2019 bands with the estimated rater effects removed."""
    adj = adjusted.adjusted_outcomes(outcomes, params.raters.method, params.alpha)
    dist = adj.distribution().reset_index()
    changed = adj.changed
    s = Section("adjusted")
    s.tables = {"adjusted_predikat_distribution": Output(dist.rename(columns={"before": "n_before",
                                                                               "after": "n_after"}),
                                                         counts=True, value_cols=["n_before", "n_after"])}
    s.restricted = {"adjusted_predikat_changes": changed}
    vc = adj.fit.variance_components
    kf = {"appraisal": {"rater_variance": float(vc["rater_id"]), "rater_sd": float(np.sqrt(vc["rater_id"])),
                        "changed": int(len(changed)), "up": int((changed["change"] == "up").sum()),
                        "down": int((changed["change"] == "down").sum()),
                        # whose category could be another within the interval of their supervisor's effect
                        "share_uncertain": float(adj.table["category_uncertain"].mean()),
                        "distribution": dist.to_dict(orient="records")}}
    bands = None
    if targets is not None and model.available:
        before = pp30.numeric_scores(outcomes, targets, feedback, params.appraisal)
        after = pp30.numeric_scores(outcomes, targets, spec.adjust_feedback(feedback, model.data["fit"]),
                                      params.appraisal)
        bands = adjusted.band_changes(before, after)
        moved = bands[bands["change"] != "same"]
        cross = bands.groupby(["band", "band_adjusted"]).size().rename("n").reset_index()
        s.tables["adjusted_pp30_bands"] = Output(cross, counts=True, value_cols=["n"])
        s.restricted["adjusted_pp30_band_changes"] = moved
        kf["pp30"] = {"scored": int(len(bands)), "changed": int(len(moved)),
                      "up": int((moved["change"] == "up").sum()), "down": int((moved["change"] == "down").sum())}
    s.key_figures = kf
    for lang in ("id", "en"):
        a = kf["appraisal"]
        text = (t("nb02.adjusted", lang, sd=a["rater_sd"], changed=a["changed"], n=len(adj.table)) if a["changed"]
                else t("nb02.adjusted_none", lang, sd=a["rater_sd"], n=len(adj.table)))
        if a["share_uncertain"]:
            text += " " + t("nb02.adjusted_uncertain", lang, uncertain=a["share_uncertain"])
        if "pp30" in kf:
            text += " " + t("nb02.adjusted_pp30", lang, changed=kf["pp30"]["changed"], up=kf["pp30"]["up"],
                            down=kf["pp30"]["down"], n=kf["pp30"]["scored"])
        s.text[lang] = text
    s.data = {"distribution": dist, "bands": bands}
    return s
