"""Competency gaps and training, section by section: the nodes behind notebook 03."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.i18n import t
from analysis.core.params import Params
from analysis.core.section import Output, Section, skipped
from analysis.outcomes import pp30
from analysis.training import clusters, development, gaps, workbook
from analysis.training import workshops as W


def gaps_section(employees: pd.DataFrame, units: pd.DataFrame, standards: pd.DataFrame | None,
                 assessments: pd.DataFrame | None, competencies: pd.DataFrame | None, params: Params) -> Section:
    """Gap per employee and required competency, summarised by competency, unit, region and class."""
    if assessments is None or assessments.empty:
        return skipped("gaps", "competency_assessments table absent", "nb03.skipped")
    g = gaps.gaps_for(employees, standards, assessments, params.required_levels)
    g = g.merge(employees[["employee_id", "unit_id", "position_class"]], on="employee_id", how="left")
    g = g.merge(units[["unit_id", "region"]], on="unit_id", how="left")
    by_comp = gaps.summary(g, ["competency_code"])
    if competencies is not None:
        by_comp = by_comp.merge(competencies[["competency_code", "name_id", "name_en", "kind"]],
                                on="competency_code", how="left")
    per_emp = gaps.employee_summary(g)
    missing_std = gaps.no_standard(employees, standards, params.required_levels)
    s = Section("gaps")
    s.tables = {
        "gaps_by_competency": Output(by_comp, "n", value_cols=["n", "with_gap", "mean_gap", "share_gap"]),
        "gaps_by_unit": Output(gaps.summary(g, ["unit_id", "region"]), "n",
                               value_cols=["n", "with_gap", "mean_gap", "share_gap"]),
        "gaps_by_region": Output(gaps.summary(g, ["region"]), "n", value_cols=["n", "with_gap", "mean_gap", "share_gap"]),
        "gaps_by_position_class": Output(gaps.summary(g, ["position_class"]), "n",
                                         value_cols=["n", "with_gap", "mean_gap", "share_gap"]),
        "classes_without_standard": Output(missing_std, "employees", value_cols=["employees"]),
    }
    n_emp = int(g["employee_id"].nunique())
    with_gap = int((per_emp["n_gaps"] > 0).sum())
    top = by_comp.sort_values("share_gap", ascending=False).head(3)
    s.key_figures = {
        "employees_with_standard": n_emp, "employees_with_gap": with_gap,
        "share_with_gap": with_gap / n_emp if n_emp else None,
        "required": int(len(g)), "not_assessed": int((g["status"] == "not_assessed").sum()),
        "share_not_assessed": float((g["status"] == "not_assessed").mean()) if len(g) else None,
        "employees_without_standard": int(missing_std["employees"].sum()) if len(missing_std) else 0,
        "top_competencies": top[["competency_code", "share_gap", "mean_gap"]].to_dict(orient="records"),
        "standards_source": "competency_standards" if standards is not None else "params.required_levels",
    }
    names = {lang: ", ".join(str(r.get(f"name_{lang}", r["competency_code"])) for _, r in top.iterrows())
             for lang in ("id", "en")} if competencies is not None else {lang: ", ".join(top["competency_code"])
                                                                         for lang in ("id", "en")}
    for lang in ("id", "en"):
        parts = [t("nb03.gaps", lang, n=n_emp, gap=with_gap, share=with_gap / n_emp if n_emp else 0, top=names[lang])]
        if s.key_figures["not_assessed"]:
            parts.append(t("nb03.not_assessed", lang, missing=s.key_figures["not_assessed"]))
        if s.key_figures["employees_without_standard"]:
            parts.append(t("nb03.no_standard", lang, nostd=s.key_figures["employees_without_standard"]))
        s.text[lang] = " ".join(parts)
    s.data = {"gaps": g, "by_competency": by_comp}
    return s


def target_section(outcomes: pd.DataFrame, employees: pd.DataFrame, standards: pd.DataFrame | None,
                   assessments: pd.DataFrame | None, params: Params) -> Section:
    """Gaps of promotion candidates against their target position's standard."""
    if assessments is None or assessments.empty:
        return skipped("target", "competency_assessments table absent", "nb03.skipped")
    cand = gaps.promotion_candidates(outcomes, employees, params.gaps.promotion_candidates, params.gaps.promotion_rule)
    tg = gaps.target_gaps(cand, standards, assessments, params.required_levels)
    s = Section("target")
    summary = gaps.summary(tg.merge(cand[["employee_id", "position_class"]], on="employee_id"),
                           ["position_class", "target_class"]) if len(tg) else pd.DataFrame(
        columns=["position_class", "target_class", "n", "required", "assessed", "with_gap", "not_assessed",
                 "mean_gap", "share_gap"])
    s.tables = {"target_position_gaps": Output(summary, "n", value_cols=["n", "with_gap", "mean_gap", "share_gap"])}
    with_gap = int(tg.loc[tg["status"] == "gap", "employee_id"].nunique()) if len(tg) else 0
    s.key_figures = {"candidates": int(len(cand)), "by_params": int((cand["source"] == "params").sum()),
                     "by_rule": int((cand["source"] == "rule").sum()), "rule": params.gaps.promotion_rule,
                     "at_top_of_ladder": int(cand["target_class"].isna().sum()),
                     "candidates_with_target_gap": with_gap}
    for lang in ("id", "en"):
        s.text[lang] = t("nb03.target", lang, n=len(cand), gap=with_gap,
                         top=s.key_figures["at_top_of_ladder"])
    s.data = {"target_gaps": tg, "candidates": cand}
    return s


def performance_section(outcomes: pd.DataFrame, targets: pd.DataFrame | None, units: pd.DataFrame,
                        params: Params) -> Section:
    """Performance gap in the latest period: below-expectation results, or SKP below the threshold."""
    skp = pp30.skp_scores(pp30.indicator_achievement(targets, params.appraisal.achievement_cap)) \
        if targets is not None and len(targets) else None
    pg = gaps.performance_gaps(outcomes, skp, params.gaps.performance_threshold)
    pg = pg.merge(outcomes[["employee_id", "period", "unit_id", "region"]], on=["employee_id", "period"], how="left")
    by_region = pg.groupby("region").agg(n=("employee_id", "size"), with_gap=("performance_gap", "sum"),
                                         below_expectation=("below_expectation", "sum")).reset_index()
    by_region["share"] = by_region["with_gap"] / by_region["n"]
    s = Section("performance")
    s.tables = {"performance_gaps_by_region": Output(by_region, "n", value_cols=["n", "with_gap", "below_expectation",
                                                                              "share"])}
    n, k = len(pg), int(pg["performance_gap"].sum())
    s.key_figures = {"period": pg["period"].iloc[0] if n else None, "appraised": n, "with_gap": k,
                     "share": k / n if n else None, "below_expectation": int(pg["below_expectation"].sum()),
                     "below_target": int(pg["below_target"].fillna(False).sum()),
                     "threshold": params.gaps.performance_threshold}
    for lang in ("id", "en"):
        s.text[lang] = t("nb03.performance", lang, n=n, k=k, share=k / n if n else 0,
                         below=s.key_figures["below_expectation"], target=s.key_figures["below_target"],
                         threshold=params.gaps.performance_threshold)
    s.data = {"performance": pg}
    return s


def clusters_section(gap_section: Section, employees: pd.DataFrame, units: pd.DataFrame,
                     competencies: pd.DataFrame | None, params: Params) -> Section:
    """Clusters of gap profiles: the choice of k, stability, names, size and make-up."""
    if not gap_section.available:
        return Section("clusters", status=gap_section.status, text=dict(gap_section.text))
    m = clusters.gap_matrix(gap_section.data["gaps"])
    c = params.clustering
    if len(m) < c.k_min + 2:
        return skipped("clusters", f"only {len(m)} employees with a gap", "nb03.clusters_small")
    res = clusters.cluster_gaps(m, c.k_min, min(c.k_max, len(m) - 1), c.n_bootstrap, params.seed, competencies,
                                tolerance=c.tolerance)
    who = pd.DataFrame({"employee_id": res.labels.index, "cluster": res.labels.to_numpy()}).merge(
        employees[["employee_id", "unit_id", "position_class"]], on="employee_id").merge(
        units[["unit_id", "region"]], on="unit_id")
    by_region = who.groupby(["cluster", "region"]).size().rename("n").reset_index()
    by_class = who.groupby(["cluster", "position_class"]).size().rename("n").reset_index()
    profile = res.centres.reset_index().melt(id_vars="cluster", var_name="dimension", value_name="mean_gap")
    sizes = res.sizes().rename("n").reset_index().merge(res.names, on="cluster")
    sizes["stability_jaccard"] = sizes["cluster"].map(res.stability["jaccard"])
    s = Section("clusters")
    s.tables = {"cluster_choice_of_k": Output(res.criterion), "cluster_profiles": Output(profile),
                "clusters": Output(sizes, "n", value_cols=["n"]),
                "cluster_by_region": Output(by_region, counts=True, value_cols=["n"]),
                "cluster_by_position_class": Output(by_class, counts=True, value_cols=["n"])}
    s.key_figures = {
        "k": res.k, "k_range": [c.k_min, c.k_max],
        "criterion": f"smallest k with mean silhouette within {c.tolerance} of the best",
        "silhouette": float(res.criterion.loc[res.criterion["chosen"], "silhouette"].iloc[0]),
        "employees": int(len(res.labels)), "stability_ari": res.stability["ari_mean"],
        "stability_ari_p05": res.stability["ari_p05"], "n_bootstrap": c.n_bootstrap,
        # is there cluster structure at all? (against reference data with none, see clusters.structure_test)
        "structure": res.stability["structure"], "structure_p": res.stability["structure_p"],
        "silhouette_reference": res.stability["silhouette_reference"],
        "clusters": sizes[["cluster", "name_id", "name_en", "n", "stability_jaccard", "mean_gap_dominant"]]
        .to_dict(orient="records"),
    }
    for lang in ("id", "en"):
        s.text[lang] = t("nb03.clusters", lang, n=len(res.labels), k=res.k,
                         sil=s.key_figures["silhouette"], ari=res.stability["ari_mean"] or np.nan,
                         names="; ".join(sizes[f"name_{lang}"]))
        if not res.stability["structure"]:
            s.text[lang] += " " + t("nb03.clusters_no_structure", lang, p=res.stability["structure_p"],
                                    ref=res.stability["silhouette_reference"])
    s.data = {"result": res, "by_region": by_region, "labels": res.labels, "names": res.names}
    return s


def _received(training_history: pd.DataFrame | None, outcomes: pd.DataFrame | None
              ) -> tuple[pd.Series | None, dict | None]:
    """JP received per employee in the plan's year, and what the history holds for that year; (None,
    None) without a training history. The year is the latest appraisal period's (``plan_year``), or,
    without appraisals, the latest year the history has."""
    if training_history is None:
        return None, None
    year = development.plan_year(outcomes["period"]) if outcomes is not None else None
    if year is None:
        dates = pd.concat([pd.to_datetime(training_history[c]) for c in ("end", "start") if c in training_history])
        year = int(dates.dt.year.max()) if dates.notna().any() else None
    if year is None:
        return pd.Series(dtype=float), {"year": None, "records": 0, "courses": 0, "repeats_folded": 0,
                                        "employees": 0, "undated_records": int(len(training_history))}
    got = development.received_jp(training_history, year)
    return got.set_index("employee_id")["jp_received"], development.history_counts(training_history, year)


def _jp_text(received: dict | None, lang: str) -> str:
    """The sentence on the JP already received, or that without a training history none are counted."""
    if received is None:
        return t("nb03.jp_no_history", lang)
    return t("nb03.jp_received", lang, year=received["year"] if received["year"] is not None else "–",
             records=received["records"], repeats=received["repeats_folded"], pns=received["pns"],
             any=received["pns_received_any"], below=received["pns_below_min_received"],
             reached=received["pns_reached_by_received"], short=received["pns_short_after_plan"],
             min_jp=received["min_jp"])


def plans_section(gap_section: Section, target: Section, cluster_section: Section, employees: pd.DataFrame,
                  units: pd.DataFrame, competencies: pd.DataFrame | None, catalog: pd.DataFrame | None,
                  params: Params, lang: str = "id", outcomes: pd.DataFrame | None = None,
                  training_history: pd.DataFrame | None = None) -> Section:
    """Individual development plans and the budgeted workshop plan (MILP), with the budget curve.

    With ``outcomes`` (the appraisals, for each employee's direct supervisor), every employee's 20 JP
    is checked and the in-house top-up draws on their supervisor's capacity. With ``training_history``
    the JP each employee received in the plan's year count towards the 20 JP (``development``); without
    it the plans are as they always were, and the reading says that no received JP are counted."""
    if not gap_section.available:
        return Section("plans", status=gap_section.status, text=dict(gap_section.text))
    if catalog is None or catalog.empty:
        return skipped("plans", "training_catalog table absent", "nb03.plans_skipped")
    labels = cluster_section.data.get("labels") if cluster_section.available else None
    names = cluster_section.data.get("names") if cluster_section.available else None
    tg = target.data.get("target_gaps") if target.available else None
    needs = gaps.training_needs(gap_section.data["gaps"].drop(columns=["unit_id", "position_class", "region"]),
                                tg, labels, names, employees, units, competencies)
    ws = params.workshops
    caps = W.pppk_jp_cap(needs, ws.pppk_max_jp) if ws.plan_pppk_cap else None
    cand = W.candidate_workshops(needs, catalog, ws, params.costs, jp_cap=caps)
    plan = W.plan_workshops(cand, ws.budget, needs, jp_cap=caps)
    curve = W.budget_curve(cand, budget=ws.budget, jp_cap=caps, plan=plan)  # the plan is its params-budget point
    acts = development.development_activities(needs, plan, catalog, params, lang)
    people = employees.reindex(columns=["employee_id", "employment_type", "unit_id", "position_class"]).merge(
        units[["unit_id", "region"]], on="unit_id", how="left") if outcomes is not None else None
    supervisors = development.direct_supervisors(outcomes) if outcomes is not None else None
    received, history = _received(training_history, outcomes)
    plans = development.development_plans(needs, plan, catalog, params, lang=lang, people=people,
                                          supervisor_of=supervisors, received=received)
    dev = development.summarise(plans, ws.min_jp, acts, history)
    classroom = plan.classroom()
    s = Section("plans")
    s.tables = {
        "workshop_plan": Output(plan.classroom_table(), "n", value_cols=["n"]),
        "nonclassroom_plan": Output(plan.nonclassroom_counts(), "n", value_cols=["n", "cost", "value"]),
        "budget_curve": Output(curve),
        "left_out_by_reason": Output(plan.left_out_counts(), counts=True, value_cols=["n"]),
        "development_jp_by_employment_type": Output(
            development.jp_by_employment_type(plans), "n",
            value_cols=["n", "meets_min_jp"] + (["below_min_received"] if received is not None else [])),
    }
    s.restricted = {"development_plans": plans, "workshop_rosters": plan.roster(),
                    "development_activities": acts}

    def write_plan_workbook(path, pseudonymise):
        p, c, n = workbook.pseudonymised(plan, cand, needs, pseudonymise)
        workbook.write_workbook(p, c, n, path, lang=lang, min_cell=params.privacy.min_cell, restricted=True)

    def write_plans_workbook(path, pseudonymise):
        out = plans.assign(employee_id=pseudonymise(plans["employee_id"]))
        one_decimal = ("total_gap", "gap_closed", "jp_total") + (
            ("jp_received", "jp_remaining", "jp_planned") if received is not None else ())
        workbook.write_table(out, path, t("nb03.plans_sheet", lang), lang, restricted=True,
                             money=("cost", "cost_funded", "cost_unfunded"), one_decimal=one_decimal)

    s.files = {"workshop_plan.xlsx": write_plan_workbook, "development_plans.xlsx": write_plans_workbook}
    total_gap = float(needs.drop_duplicates(["employee_id", "competency_code"])["gap"].sum())
    pd_ = plan.to_dict()
    s.key_figures = {
        "plan": pd_, "needs": int(len(needs)), "total_gap": total_gap,
        "share_gap_closed": pd_["gap_closed"] / total_gap if total_gap else None,
        "classroom_cohorts": int(len(classroom)), "budget": ws.budget,
        "curve": curve[["budget", "gap_closed", "people_reached"]].to_dict(orient="records"),
        "gap_closed_per_extra_billion": W.marginal_gain(curve, ws.budget),
        "development": dev.to_dict(),
        "gain_assumption": ws.gain, "pppk_cap": ws.pppk_max_jp if ws.plan_pppk_cap else None,
    }
    d = dev.to_dict()
    for lang_ in ("id", "en"):
        s.text[lang_] = t("nb03.plans", lang_, budget=ws.budget / 1e6, cost=pd_["cost"] / 1e6,
                          cohorts=len(classroom), people=pd_["people_reached"], closed=pd_["gap_closed"],
                          share=s.key_figures["share_gap_closed"] or 0,
                          left=sum(pd_["left_out"].values()) if isinstance(pd_["left_out"], dict) else 0)
        s.text[lang_] += " " + _jp_text(d.get("received"), lang_)
    s.data = {"plan": plan, "curve": curve, "plans": plans, "candidates": cand, "needs": needs,
              "development": d}
    return s
