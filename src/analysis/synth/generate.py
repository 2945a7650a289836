"""``generate(config)``: the twelve tables of the data contract and the ``truth`` of every planted effect,
all drawn from one seed (each part of the generator gets its own child stream of
``numpy.random.SeedSequence(seed)``, in the order of ``STREAMS``)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from analysis.core import codes
from analysis.data import nip as nipmod
from analysis.synth import appraisal, catalog, competencies, feedback, org, rollout
from analysis.synth.config import MIN_EMPLOYEES, STREAMS, VERSION, SynthConfig
from analysis.synth.names import make_names
from analysis.synth.units import REGIONS


def _nip_categorical(codes_: np.ndarray, categories: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes_, dtype=np.int64), categories=categories)


def _transferred_nips(k: int, existing: set, rng: np.random.Generator) -> list[str]:
    out: list[str] = []
    while len(out) < k:
        birth = np.datetime64("1975-01-01") + rng.integers(0, 20 * 365, 1).astype("timedelta64[D]")
        year = int(str(birth[0])[:4]) + int(rng.integers(22, 30))
        cand = nipmod.make(birth, np.array([year]), np.array([int(rng.integers(1, 13))]),
                           np.array([int(rng.integers(1, 3))]), np.array([1]))[0]
        if cand not in existing and cand not in out:
            out.append(cand)
    return out


def generate(config: SynthConfig | None = None) -> tuple[dict[str, pd.DataFrame], dict]:
    """The twelve tables (contract column names) and the truth dict."""
    cfg = config or SynthConfig()
    if cfg.employees < MIN_EMPLOYEES:
        raise ValueError(f"employees must be at least {MIN_EMPLOYEES}, not {cfg.employees}")
    periods = list(cfg.periods)
    fb_periods = list(cfg.feedback_periods)
    seqs = np.random.SeedSequence(cfg.seed).spawn(len(STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, seqs)}

    # --- organisation and people
    o = org.build(cfg.employees, periods, cfg.move_rate, rng["org"])
    units, people = o.units, o.people
    n, n_units = len(people), len(units)
    unit = people["unit"].to_numpy()
    head = people["role"].to_numpy() == "head"
    female = people["gender"].to_numpy() == "P"
    people["name"] = make_names(people["gender"].to_numpy(), people["education"].to_numpy(),
                                people["job_family"].to_numpy(), people["position_class"].to_numpy(),
                                rng["names"])

    # --- 360 programme and gender-gap units
    in_prog = (units["region"].to_numpy() == cfg.feedback_region) | (
        rng["programme"].random(n_units) < cfg.feedback_other_unit_share)
    size = np.bincount(unit, minlength=n_units)
    n_f = np.bincount(unit, weights=female, minlength=n_units)
    eligible = np.flatnonzero((size >= cfg.gender_gap_min_size) & (n_f >= cfg.gender_gap_min_each)
                              & (size - n_f >= cfg.gender_gap_min_each))
    k_gap = max(1, int(round(cfg.gender_gap_unit_share * len(eligible)))) if len(eligible) else 0
    gap_units = np.sort(rng["gender"].choice(eligible, size=k_gap, replace=False)) if k_gap else np.array([], int)
    female_penalised = female & ~head & np.isin(unit, gap_units)

    # --- 360 structure and planted raters
    pr = feedback.pairs(o.sup, o.present, in_prog[unit], fb_periods, rng["feedback_pairs"])
    planted = feedback.plant_raters(pr, n, cfg, rng["feedback_pairs"])
    k_conv = cfg.appraisal_shift_per_point
    rater_shift = np.where(np.isin(planted.kind, ("lenient", "severe")), planted.effect * k_conv, 0.0)

    # --- appraisal
    lat = appraisal.latents(n, len(periods), cfg.theta_ar, rng["latent"])
    tg, achievement = appraisal.targets(people, periods, o.present, lat, o.sekda, rng["targets"])
    res = appraisal.ratings(people, n_units, periods, o.present, o.sup, o.sekda, lat, achievement,
                            rater_shift, female_penalised, cfg, rng["ratings"])

    # --- 360 scores
    fb_cols = [periods.index(p) for p in fb_periods]
    fb, observed_shift = feedback.scores(pr, fb_periods, lat.trait, lat.behaviour[:, fb_cols], planted,
                                         female_penalised, cfg, rng["feedback_scores"])

    # --- competencies, rollout, catalogue
    comp = competencies.assessments(people, cfg, rng["competencies"])
    ro = rollout.generate(units, cfg, rng["rollout"])
    cat = catalog.generate(rng["catalog"])

    # --- planted warnings: appraisals of staff who transferred out
    nips = people["employee_id"].to_numpy(dtype=object)
    extra = _transferred_nips(cfg.transferred_out, set(nips), rng["warnings"])
    all_nips = np.concatenate([nips, np.array(extra, dtype=object)])
    last = periods[-1]
    leaders = np.flatnonzero(np.isin(people["role"].to_numpy(), ("leader", "head")) & o.present[last])
    ext_raters = rng["warnings"].choice(leaders, size=len(extra), replace=False)
    app = res.appraisals
    ext = pd.DataFrame({"emp": np.arange(n, n + len(extra)), "period": last, "rater": ext_raters,
                        "hasil_kerja": "sesuai", "perilaku_kerja": "sesuai", "predikat": "baik",
                        "predikat_reported": "baik", "innovation": False})
    app = pd.concat([app, ext], ignore_index=True)

    # --- tables
    unit_ids = units["unit_id"].to_numpy(dtype=object)
    period_cat = pd.CategoricalDtype(periods)
    tables: dict[str, pd.DataFrame] = {}
    tables["units"] = units[["unit_id", "unit_name", "region", "unit_type"]].reset_index(drop=True)
    tables["employees"] = pd.DataFrame({
        "employee_id": nips, "unit_id": people["unit_id"].to_numpy(dtype=object),
        "position_class": people["position_class"].to_numpy(dtype=object),
        "job_family": people["job_family"].to_numpy(dtype=object),
        "employment_type": people["employment_type"].to_numpy(dtype=object),
        "gender": people["gender"].to_numpy(dtype=object),
        "birth_date": pd.to_datetime(people["birth_date"]), "hire_date": pd.to_datetime(people["hire_date"]),
        "grade": people["grade"].to_numpy(dtype=object), "education": people["education"].to_numpy(dtype=object),
        "name": people["name"].to_numpy(dtype=object),
    })
    org_r = res.org_ratings
    tables["org_ratings"] = pd.DataFrame({"unit_id": unit_ids[org_r["unit"].to_numpy()],
                                          "period": org_r["period"].to_numpy(dtype=object),
                                          "org_predikat": org_r["org_predikat"].to_numpy(dtype=object)})
    tables["appraisals"] = pd.DataFrame({
        "employee_id": _nip_categorical(app["emp"], all_nips),
        "period": pd.Categorical(app["period"], dtype=period_cat),
        "rater_id": _nip_categorical(app["rater"], all_nips),
        "hasil_kerja": app["hasil_kerja"].to_numpy(dtype=object),
        "perilaku_kerja": app["perilaku_kerja"].to_numpy(dtype=object),
        "predikat_reported": app["predikat_reported"].to_numpy(dtype=object),
        "innovation": app["innovation"].to_numpy(dtype=bool),
    })
    tables["targets"] = pd.DataFrame({
        "employee_id": _nip_categorical(tg["emp"], all_nips),
        "period": pd.Categorical(tg["period"], dtype=period_cat),
        "indicator_id": tg["indicator_id"], "indicator_name": tg["indicator_name"],
        "target": tg["target"], "realization": tg["realization"], "weight": tg["weight"],
        "direction": tg["direction"], "is_main": tg["is_main"],
    })
    tables["feedback_360"] = pd.DataFrame({
        "period": pd.Categorical(fb["period"], dtype=pd.CategoricalDtype(fb_periods)),
        "ratee_id": _nip_categorical(fb["ratee"], all_nips),
        "rater_id": _nip_categorical(fb["rater"], all_nips),
        "rater_role": pd.Categorical.from_codes(fb["role"].to_numpy(), categories=list(feedback.ROLES)),
        "aspect": pd.Categorical.from_codes(fb["aspect"].to_numpy(), categories=list(feedback.ASPECTS)),
        "score": fb["score"].to_numpy(),
    })
    tables["competencies"] = competencies.dictionary()
    tables["competency_standards"] = competencies.standards(people)
    ca = comp.assessments
    tables["competency_assessments"] = pd.DataFrame({
        "employee_id": _nip_categorical(ca["emp"], all_nips),
        "assessed_on": pd.to_datetime(ca["assessed_on"].to_numpy()),
        "competency_code": pd.Categorical(ca["competency_code"]),
        "level": ca["level"].to_numpy(), "method": pd.Categorical(ca["method"]),
    })
    tables["rollout"] = pd.DataFrame({"unit_id": unit_ids[ro.rollout["unit"].to_numpy()],
                                      "adopted_period": ro.rollout["adopted_period"].to_numpy(dtype=object),
                                      "scheme": ro.rollout["scheme"].to_numpy(dtype=object)})
    so = ro.outcomes
    tables["service_outcomes"] = pd.DataFrame({
        "unit_id": pd.Categorical.from_codes(so["unit"].to_numpy(), categories=unit_ids),
        "period": so["period"].to_numpy(dtype=object), "ikm": so["ikm"], "iku_attainment": so["iku_attainment"],
        "complaints": so["complaints"], "processing_days": so["processing_days"],
    })
    tables["training_catalog"] = cat

    # --- truth
    violations = appraisal.distribution_violations(tables["appraisals"], tables["employees"], tables["org_ratings"])
    planted_keys = {(unit_ids[v["unit"]], v["period"]) for v in res.planted_violations}
    for v in violations:
        v["planted"] = (v["unit_id"], v["period"]) in planted_keys

    def rater_list(kind: str) -> list[dict]:
        rows = []
        for r in np.flatnonzero(planted.kind == kind):
            d = {"rater_id": nips[r], "n_ratees_360": int(planted.n_ratees[r])}
            if kind in ("lenient", "severe"):
                d["effect"] = float(planted.effect[r])
                d["appraisal_latent_shift"] = round(float(planted.effect[r] * k_conv), 6)
            else:
                d["kind"] = kind
            rows.append(d)
        return sorted(rows, key=lambda d: d["rater_id"])

    profiles = comp.profile
    truth = {
        "generator": {"name": "analysis.synth", "version": VERSION, "seed": cfg.seed, "employees": cfg.employees,
                      "config": asdict(cfg)},
        "notes": {
            "raters": "effect: shift of the rater's latent 360 score in points of the 1-5 scale (before rounding); "
                      "appraisal_latent_shift: the same rater's shift of the appraisal latent of the people they "
                      "appraise, in sd of that latent (effect / sd of a 360 rating net of rater effects). "
                      "halo: one draw per (rater, ratee) replaces the ratee-by-aspect and per-aspect noise. "
                      "central: latent compressed to c + k (latent - c). n_ratees_360: distinct ratees rated in "
                      "all 360 periods (self included).",
            "self_inflation": "latent_shift in 360 latent points; observed_mean_shift: mean over all self ratings "
                              "of (score with inflation - score from the same draws without it), observed scale.",
            "source_effects": "360 latent points added by rater role, peers the baseline; self = the self-rating "
                              "inflation.",
            "gender_gap": "female ratees (P), unit heads excepted, of the listed units: appraisal latent shifted "
                          "by appraisal_latent_effect sd (ranks decide the predikat), supervisor 360 ratings by "
                          "feedback_supervisor_effect latent points; achievement (targets) is not affected.",
            "competency_profiles": "gap = required level - latest assessed level; members are 1.0-2.0 below the "
                                   "standard on their profile's competencies and at or above it on all others; "
                                   "'none' (including never assessed) has no gap anywhere. P5 means the three "
                                   "technical competencies of the employee's job family.",
            "rollout": "event time e = quarters since adoption (0 = the adoption quarter); effect "
                       "(tau_intercept + tau_slope e) x region multiplier for e >= 0, in IKM points / IKU "
                       "percentage points. att_by_event_time: Callaway-Sant'Anna dynamic aggregation on this "
                       "panel (cohort-size weights over the cohorts observed at g+e; 0 before adoption); "
                       "_realised: the same from the written values (after rounding and clipping).",
            "distribution_violations": "every unit-period whose employee predikat (PermenPANRB 6/2022 matrix of "
                                       "hasil_kerja x perilaku_kerja, every appraised employee of the unit incl. its "
                                       "head) breaks a bound of its org predikat; counts in people, integer "
                                       "arithmetic; planted = violation planted on purpose.",
            "reported_mismatches": "rows whose predikat_reported differs from the matrix predikat.",
            "appraisal_latent": "standardised 0.6 hasil + 0.4 behaviour + noise, hasil from achievement and "
                                "performance; the planted shifts (lenient/severe rater, gender gap) are added to "
                                "it. Predikat counts are fixed per unit-period, so employees take their predikat by "
                                "rank of this latent within the unit-period: a shift shows only relative to "
                                "colleagues of the same unit rated by someone else. A unit head's hasil_kerja is "
                                "the unit's rating (istimewa: di_atas, baik: sesuai, lower: di_bawah). The sekda "
                                "has no rater among the employees and no appraisal.",
        },
        "periods": {"appraisal": periods, "feedback_360": fb_periods,
                    "service_outcomes": ro.truth["periods"]},
        "raters": {
            "lenient": rater_list("lenient"), "severe": rater_list("severe"),
            "halo": rater_list("halo"), "central": rater_list("central"),
            "background_sd": cfg.fb_rater_sd, "min_ratees": cfg.planted_min_ratees,
            "central_center": cfg.central_center, "central_compression": cfg.central_compression,
            "eligible_raters": int((planted.n_ratees >= cfg.planted_min_ratees).sum()),
        },
        "self_inflation": {"latent_shift": cfg.self_inflation, "observed_mean_shift": round(observed_shift, 6)},
        "source_effects": {"self": cfg.self_inflation, **cfg.source_effects},
        "gender_gap": {
            "units": [unit_ids[u] for u in gap_units],
            "units_in_360": [unit_ids[u] for u in gap_units if in_prog[u]],
            "appraisal_latent_effect": cfg.gender_gap_appraisal,
            "feedback_supervisor_effect": cfg.gender_gap_feedback, "disadvantaged": "P",
            "eligible_units": int(len(eligible)),
        },
        "competency_profiles": {
            "profiles": {pid: {"name_id": a, "name_en": b, "competencies": list(c)}
                         for pid, (a, b, c) in competencies.PROFILES.items()},
            "employees": {pid: sorted(nips[profiles == pid].tolist())
                          for pid in list(competencies.PROFILES) + ["none"]},
            "not_assessed": sorted(nips[comp.never_assessed].tolist()),
        },
        "feedback_360": {"units": [unit_ids[u] for u in np.flatnonzero(in_prog)]},
        "rollout": {
            "outcomes": ro.truth["outcomes"], "region_multiplier": ro.truth["region_multiplier"],
            "cohorts": ro.truth["cohorts"], "never_treated": ro.truth["never_treated"],
        },
        "distribution_violations": violations,
        "reported_mismatches": [{"employee_id": nips[m["emp"]], "period": m["period"], "predikat": m["predikat"],
                                 "predikat_reported": m["predikat_reported"]} for m in res.mismatches],
        "planted_warnings": [{"table": "appraisals", "column": "employee_id", "check": "dangling_reference",
                              "employee_id": e, "period": last, "rater_id": nips[r],
                              "reason": "staff transferred out: appraised but no longer in employees"}
                             for e, r in zip(extra, ext_raters)],
        "row_counts": {k: int(len(v)) for k, v in tables.items()},
    }
    return tables, truth


# the generator's own tables must cover the contract's codes (checked once, on import)
assert set(REGIONS) == set(rollout.SCHEMES) and set(codes.ASPECTS) == set(feedback.ASPECTS)
