"""Did the new appraisal scheme improve public services? The nodes behind notebook 04.

Each ``*_section`` takes tables and params and returns a ``Section``: circulated tables (units,
not people: no suppression is needed except in the appraisal metrics, which are built from people
and only leave this module as effects), key figures for ``results/04_rollout_evaluation.json``,
data for the figures and a reading in either language. The estimators are in ``analysis.stats.did``; the panels in ``panels``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import ikm
from analysis.core.columns import column_label
from analysis.core.i18n import outcome_phrase, t
from analysis.core.jsonsafe import number
from analysis.core.numbers import number as written
from analysis.core.params import Params
from analysis.core.periods import sort_periods
from analysis.core.section import Output, Section, skipped
from analysis.rollout import panels
from analysis.rollout.panels import COHORT, TIME, UNIT
from analysis.stats import did
from analysis.stats.did.panel import NEVER, prepare
from analysis.stats.intervals import interval_dict

# --- 1. the panel ---------------------------------------------------------------------------------


def panel_section(units: pd.DataFrame, rollout_table: pd.DataFrame | None,
                  service_outcomes: pd.DataFrame | None, params: Params) -> Section:
    """Who adopted when: the cohorts, the comparison units and what the panel leaves out."""
    if rollout_table is None or service_outcomes is None:
        missing = "rollout" if rollout_table is None else "service_outcomes"
        return skipped("panel", f"no {missing} table", "nb04.skipped.tables")
    present = [o for o in params.rollout.outcomes if o in service_outcomes.columns]
    if not present:
        return skipped("panel", "none of the outcomes in params.rollout.outcomes is in service_outcomes",
                       "nb04.skipped.outcomes")
    try:
        panel, notes = panels.build_panel(units, rollout_table, service_outcomes, params.rollout.by)
        prep = prepare(panel, present[0], UNIT, TIME, COHORT)
    except ValueError as exc:  # e.g. no unit observed in every period, adoption labels that are not periods
        return skipped("panel", str(exc), "nb04.skipped.panel")
    if (prep.unit_cohort == NEVER).all():
        return skipped("panel", "no unit adopts the new scheme within the observed periods", "nb04.skipped.panel")
    unit_cohort = pd.Series(prep.unit_cohort.to_numpy(), index=prep.unit_labels)
    cohorts = panels.cohort_table(panel, prep, params.rollout.by)
    s = Section("panel")
    s.tables = {"rollout_cohorts": Output(cohorts)}
    n_adopt = int((unit_cohort != NEVER).sum())
    s.key_figures = {
        "n_units": int(prep.n_units), "n_adopters": n_adopt, "n_never": int(prep.n_units - n_adopt),
        "n_periods": len(prep.periods), "first_period": prep.scale.label(prep.periods[0]),
        "last_period": prep.scale.label(prep.periods[-1]),
        "cohorts": {str(prep.cohort_label(g)): int(n) for g, n in unit_cohort[unit_cohort != NEVER]
                    .value_counts().sort_index().items()},
        "notes": notes + list(prep.notes),
    }
    for lang in ("id", "en"):
        s.text[lang] = t("nb04.panel", lang, n=prep.n_units, adopters=n_adopt, never=prep.n_units - n_adopt,
                         k=len(s.key_figures["cohorts"]), first=s.key_figures["first_period"],
                         last=s.key_figures["last_period"])
    s.data = {"panel": panel}
    return s


# --- 2. one outcome: the effect, the naive contrast, heterogeneity --------------------------------


def _fit(panel: pd.DataFrame, outcome: str, params: Params) -> tuple[did.RolloutFit, list[str]]:
    r = params.rollout
    control, notes = r.control, []
    cohort = panel.groupby(UNIT)[COHORT].first()
    if control == "never" and cohort.isna().sum() == 0:
        # every unit adopts within the data: only units that have not adopted yet can compare
        control = "notyet"
        notes.append("no unit stays untreated: compared with not-yet-treated units instead of never-treated ones")
    fit = did.staggered_did(panel, outcome, UNIT, TIME, COHORT, control=control, method=r.method,
                                covariates=r.covariates or None, alpha=params.alpha, n_boot=r.n_boot,
                                seed=params.seed, boot_weights=r.boot_weights,
                                pretest_min_units=r.pretest_min_units)
    return fit, notes


def _event_rows(table: pd.DataFrame) -> list[dict]:
    cols = ["estimate", "se", "ci_low", "ci_high", "cband_low", "cband_high"]
    return [{"event_time": int(e), **{c: number(r[c]) for c in cols if c in r}} for e, r in table.iterrows()]


def _pretest(p: did.Pretest) -> dict:
    return {"statistic": number(p.W), "df": int(p.df), "p": number(p.p)}


def _naive(panel: pd.DataFrame, outcome: str, simple: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    tw = did.twfe(panel, outcome, UNIT, TIME, COHORT)
    bacon = did.bacon_decomposition(panel, outcome, UNIT, TIME, COHORT)
    compare = pd.DataFrame([
        {"estimator": "callaway_santanna", **{k: simple[k] for k in ("estimate", "se", "ci_low", "ci_high")}},
        {"estimator": "twfe", "estimate": tw.estimate, "se": tw.se, "ci_low": tw.ci_low, "ci_high": tw.ci_high},
    ])
    by_type = bacon.by_type.rename_axis("comparison").reset_index()
    figures = {
        "twfe": {"estimate": number(tw.estimate), "se": number(tw.se), "ci_low": number(tw.ci_low), "ci_high": number(tw.ci_high)},
        "bacon": {"already_treated_weight": number(bacon.forbidden_weight), "twfe": number(bacon.twfe),
                  "by_type": {k: {c: number(v) for c, v in r.items()} for k, r in bacon.by_type.iterrows()}},
        "twfe_minus_staggered": number(tw.estimate - simple["estimate"]),
    }
    return compare, by_type, figures


def _heterogeneity(panel: pd.DataFrame, outcome: str, params: Params,
                   control: str) -> tuple[pd.DataFrame | None, dict]:
    r = params.rollout
    if r.by not in panel.columns:
        return None, {"skipped": f"units have no column {r.by}"}
    g = did.by_group(panel, outcome, UNIT, TIME, COHORT, r.by, control=control, method=r.method,
                         covariates=r.covariates or None, alpha=params.alpha, min_units=r.min_units)
    table = g.table.rename_axis(r.by).reset_index()
    simple = g.tests.loc["simple"]
    figures = {
        "levels": {str(lvl): {"n_treated": int(row["n_treated"]), "n_controls": int(row["n_controls"]),
                              "estimate": number(row["estimate"]), "se": number(row["se"]),
                              "ci_low": number(row["ci_low"]), "ci_high": number(row["ci_high"]),
                              "in_test": bool(row["in_test"])}
                   for lvl, row in g.table.iterrows()},
        "equality": {"W": number(simple["W"]), "df": int(simple["df"]), "p": number(simple["p"]),
                     "levels": int(simple["levels"])},
        "notes": list(g.notes),
    }
    return table, figures


def equality_text(effect: Section, by: str, lang: str) -> str:
    """The test that the effect is the same in every group of ``by``, as a sentence ("" without one)."""
    test = effect.key_figures.get(f"by_{by}", {}).get("equality") if effect.available else None
    if not test:
        return ""
    return t("nb04.equality", lang, by=column_label(by, lang).lower(), W=test["W"], df=test["df"],
             p=written(test["p"], "p", lang), levels=test["levels"])


def outcome_sections(panel: Section, params: Params) -> dict[str, Section]:
    """One section per outcome of ``params.rollout.outcomes`` (see ``outcome_section``)."""
    return {o: outcome_section(panel, o, params) for o in params.rollout.outcomes}


def _pretest_table(fit: did.RolloutFit) -> pd.DataFrame:
    rows = [("sup_t_band", fit.pretest_band), ("wald_event_times", fit.pretest_event), ("wald_all_att_gt", fit.pretest)]
    return pd.DataFrame([{"test": name, "statistic": p.W, "df": p.df, "p": p.p} for name, p in rows])


def outcome_section(panel_section: Section, outcome: str, params: Params) -> Section:
    """Callaway–Sant'Anna effect of the scheme on one outcome, with the naive TWFE contrast and by region."""
    if not panel_section.available:
        return Section(outcome, status=panel_section.status, text=dict(panel_section.text))
    panel = panel_section.data["panel"]
    if outcome not in panel.columns:
        return skipped(outcome, f"service_outcomes has no column {outcome}", "nb04.skipped.outcome")
    try:
        fit, notes = _fit(panel, outcome, params)
    except ValueError as exc:  # e.g. nobody adopts within the data, or no comparison unit
        return skipped(outcome, str(exc), "nb04.skipped.estimate")
    simple = fit.aggregate("simple").overall
    dyn = fit.aggregate("dynamic")
    group = fit.aggregate("group")
    calendar = fit.aggregate("calendar")
    compare, bacon, naive = _naive(panel, outcome, simple)
    region_table, region = _heterogeneity(panel, outcome, params, fit.control)
    s = Section(outcome)
    s.tables = {
        f"rollout_event_study_{outcome}": Output(dyn.to_frame()),
        f"rollout_att_by_cohort_{outcome}": Output(group.to_frame()),
        f"rollout_att_by_period_{outcome}": Output(calendar.to_frame()),
        f"rollout_att_gt_{outcome}": Output(fit.to_frame()),
        f"rollout_naive_vs_staggered_{outcome}": Output(compare),
        f"rollout_bacon_{outcome}": Output(bacon),
        f"rollout_pretests_{outcome}": Output(_pretest_table(fit)),
    }
    if region_table is not None:
        s.tables[f"rollout_by_{params.rollout.by}_{outcome}"] = Output(region_table)
    s.key_figures = {
        "overall_att": interval_dict(simple),
        "dynamic_att": interval_dict(dyn.overall),
        "event_study": _event_rows(dyn.table),
        "band_critical_value": number(dyn.crit),
        "by_cohort": {str(g): interval_dict(r) for g, r in group.table.iterrows()},
        "pretest": {"test": "sup_t_band", **_pretest(fit.pretest_band)},
        "pretest_wald_all": _pretest(fit.pretest),
        "pretest_wald_event": _pretest(fit.pretest_event),
        **naive,
        "by_" + params.rollout.by: region,
        "control": fit.control, "method": fit.method, "n_units": fit.n_units, "n_never": fit.n_never,
        "cohorts": {str(k): v for k, v in fit.cohorts.items()}, "n_boot": fit.n_boot,
        "notes": notes + list(fit.notes),
    }
    post = dyn.table[dyn.table.index >= 0]
    for lang in ("id", "en"):
        s.text[lang] = t(
            "nb04.outcome", lang, outcome=outcome_phrase(outcome, lang), outcome_code=outcome,
            att=simple["estimate"], lo=simple["ci_low"], hi=simple["ci_high"],
            first=post["estimate"].iloc[0] if len(post) else np.nan,
            last=post["estimate"].iloc[-1] if len(post) else np.nan, e=int(post.index[-1]) if len(post) else 0,
            p=fit.pretest_band.p, twfe=naive["twfe"]["estimate"],
            w=naive["bacon"]["already_treated_weight"] or 0.0)
    s.data = {"fit": fit, "dynamic": dyn.table, "compare": compare, "bacon": bacon, "by_group": region_table}
    return s


# --- 3. appraisal outcomes of the units -----------------------------------------------------------


APPRAISAL_METRICS = ("share_sangat_baik", "compliant")


def appraisal_section(totals: pd.DataFrame, counts: pd.DataFrame, org_ratings: pd.DataFrame | None,
                      rollout_table: pd.DataFrame | None, params: Params) -> Section:
    """The same estimator on the units' appraisal outcomes, by appraisal period, where periods allow.
    ``totals`` and ``counts``: the outcomes per unit and period (``RunContext.unit_totals``,
    ``unit_counts``)."""
    name = "appraisal_metrics"
    if not params.rollout.appraisal_metrics:
        return skipped(name, "params.rollout.appraisal_metrics is false", "nb04.skipped.appraisal_off")
    if rollout_table is None:
        return skipped(name, "no rollout table", "nb04.skipped.tables")
    try:
        panel, notes = panels.appraisal_panel(totals, counts, org_ratings, rollout_table, params.privacy.min_cell)
    except ValueError as exc:
        return skipped(name, str(exc), "nb04.skipped.appraisal_periods")
    rows, figures = [], {}
    for metric in APPRAISAL_METRICS:
        if metric not in panel.columns:
            continue
        try:
            fit = did.staggered_did(panel, metric, UNIT, TIME, COHORT, control=params.rollout.control,
                                        method=params.rollout.method, alpha=params.alpha,
                                        n_boot=params.rollout.n_boot, seed=params.seed,
                                        pretest_min_units=params.rollout.pretest_min_units)
        except ValueError as exc:
            figures[metric] = {"skipped": str(exc)}
            continue
        o = fit.aggregate("simple").overall
        rows.append({"metric": metric, **{k: o[k] for k in ("estimate", "se", "ci_low", "ci_high")},
                     "n_units": fit.n_units, "n_never": fit.n_never,
                     "cohorts": ", ".join(f"{k} ({v})" for k, v in fit.cohorts.items())})
        figures[metric] = {"overall_att": interval_dict(o), "event_study": _event_rows(fit.aggregate("dynamic").table),
                           "n_units": fit.n_units, "n_never": fit.n_never,
                           "cohorts": {str(k): v for k, v in fit.cohorts.items()}, "notes": list(fit.notes)}
    if not rows:
        why = "; ".join(f"{m}: {v['skipped']}" for m, v in figures.items()) or "no metric"
        return skipped(name, f"the appraisal periods do not allow it ({why})", "nb04.skipped.appraisal_periods")
    s = Section(name)
    s.tables = {"rollout_appraisal_effects": Output(pd.DataFrame(rows))}
    s.key_figures = {**figures, "periods": sort_periods(panel["period"].unique()), "notes": notes}
    first = rows[0]
    for lang in ("id", "en"):
        s.text[lang] = t("nb04.appraisal", lang, att=first["estimate"], lo=first["ci_low"], hi=first["ci_high"],
                         n=first["n_units"], periods=", ".join(s.key_figures["periods"]))
    return s


# --- 4. planning the next wave --------------------------------------------------------------------


def planning_section(panel_section: Section, params: Params) -> Section:
    """Minimum detectable effect of the next wave by adopters × follow-up, and adopters needed."""
    if not panel_section.available:
        return Section("mde", status=panel_section.status, text=dict(panel_section.text))
    panel = panel_section.data["panel"]
    p = params.rollout.planning
    s = Section("mde")
    tables, figures = [], {}
    for outcome in params.rollout.outcomes:
        if outcome not in panel.columns:
            continue
        units_grid = tuple(sorted(set(p.units_grid) | {p.next_wave_units}))
        periods_grid = tuple(sorted(set(p.periods_grid) | {p.post_periods}))
        try:
            table = did.power_table(panel, outcome, UNIT, TIME, COHORT, units_grid=units_grid,
                                        periods_grid=periods_grid, alpha=params.alpha, power=p.power,
                                        n_sims=p.n_sims, seed=params.seed)
        except ValueError as exc:
            figures[outcome] = {"skipped": str(exc)}
            continue
        tables.append(table.assign(outcome=outcome))
        head = table[(table["n_units"] == p.next_wave_units) & (table["n_post_periods"] == p.post_periods)]
        fig = {"n_units": p.next_wave_units, "n_post_periods": p.post_periods, "power": p.power,
               "alpha": params.alpha, "mde": number(head["mde"].iloc[0]) if len(head) else None,
               "method": head["method"].iloc[0] if len(head) else "not feasible",
               "n_controls": int(head["n_controls"].iloc[0]) if len(head) else None}
        effect = p.effect.get(outcome)
        if effect:
            try:
                need = did.units_needed(panel, outcome, UNIT, TIME, COHORT, effect=effect,
                                            n_post_periods=p.post_periods, alpha=params.alpha, power=p.power,
                                            n_sims=p.n_sims, seed=params.seed)
                fig["units_needed"] = {"effect": effect, "n_units": need.n_units, "extrapolated": need.extrapolated,
                                       "note": need.note}
            except ValueError as exc:
                fig["units_needed"] = {"effect": effect, "n_units": None, "note": str(exc)}
        figures[outcome] = fig
    if not tables:
        return skipped("mde", "no outcome could be simulated", "nb04.skipped.mde")
    power = pd.concat(tables, ignore_index=True)[["outcome", "n_units", "n_post_periods", "n_controls", "mde", "sd",
                                                  "method"]]
    s.tables = {"rollout_minimum_detectable_effect": Output(power)}
    s.key_figures = figures
    first = next(iter(k for k, v in figures.items() if "mde" in v))
    f = figures[first]
    for lang in ("id", "en"):
        s.text[lang] = t("nb04.mde", lang, units=f["n_units"], periods=f["n_post_periods"],
                         mde=f["mde"] if f["mde"] is not None else np.nan, power=p.power,
                         outcome=outcome_phrase(first, lang))
    s.data = {"power": power}
    return s


# --- 5. service quality now: the IKM and its mutu band --------------------------------------------


def ikm_quality_section(service_outcomes: pd.DataFrame | None) -> Section:
    """The IKM of the units in each period with its mutu band (PermenPANRB 14/2017, ``core.ikm``):
    per period the units in each band and the mean IKM (of the units, unweighted) with its band; the
    key figures are those of the latest period with an IKM."""
    name = "ikm_quality"
    if service_outcomes is None or "ikm" not in service_outcomes.columns:
        return skipped(name, "no service_outcomes table with ikm", "nb04.skipped.ikm_quality")
    so = service_outcomes.dropna(subset=["ikm"])
    if so.empty:
        return skipped(name, "every ikm is empty", "nb04.skipped.ikm_quality")
    so = so.assign(band=ikm.bands(so["ikm"].astype(float)).to_numpy())
    rows = []
    for period in sort_periods(so["period"].unique()):
        g = so[so["period"] == period]
        mean = float(g["ikm"].mean())
        rows.append({"period": period, "units": int(len(g)), "mean_ikm": mean, "band": ikm.band(mean),
                     **{f"units_{b.lower()}": int((g["band"] == b).sum()) for b, _, _ in ikm.BANDS}})
    by_period = pd.DataFrame(rows)
    last = rows[-1]
    latest = so[so["period"] == last["period"]]
    missing = int(service_outcomes.loc[service_outcomes["period"] == last["period"], "ikm"].isna().sum())
    s = Section(name)
    s.tables = {"ikm_quality_by_period": Output(by_period)}  # counts units, not people
    s.key_figures = {
        "period": last["period"], "units": last["units"], "units_without_ikm": missing,
        "mean_ikm": number(last["mean_ikm"]), "mean_ikm_printed": ikm.printed(last["mean_ikm"]),
        "band": last["band"], "band_label": ikm.band_label(last["band"]),
        "units_by_band": {b: int((latest["band"] == b).sum()) for b, _, _ in ikm.BANDS},
        "bands": {b: {"from": lower, "label": label} for b, lower, label in ikm.BANDS},
        "rule": "PermenPANRB 14/2017: IKM = 25 x sum(NRR_i / 9); bands "
                + ", ".join(f"{b} from {lower:.2f}" for b, lower, _ in ikm.BANDS) + " (as printed, two decimals)",
    }
    for lang in ("id", "en"):
        # the printed value (two decimals, half up) is the one banded: text and band agree
        s.text[lang] = t("nb04.ikm_quality", lang, period=last["period"], n=last["units"],
                         ikm=s.key_figures["mean_ikm_printed"],
                         band=last["band"] or "–",
                         label=t(f"ikm.band.{last['band']}", lang) if last["band"] else "–",
                         **{b.lower(): s.key_figures["units_by_band"][b] for b, _, _ in ikm.BANDS})
    s.data = {"by_period": by_period}
    return s
