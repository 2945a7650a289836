"""Staggered adoption of the new appraisal scheme and quarterly service outcomes.

Outcome model per unit u and quarter t (no unit-specific trends, so parallel
trends hold by construction):
    ikm  = ikm_mean + a_u + g_t + e_ut + tau_ikm(e) * m_region   (clipped 25..100)
    iku  = iku_mean + b_u + h_t + f_ut + tau_iku(e) * m_region   (clipped 0..200)
with e = quarters since adoption (effect only for e >= 0),
tau(e) = intercept + slope * e. Complaints and processing days carry no effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SCHEMES = {"Alak": "berbasis_kompetensi", "Palu": "berbasis_capaian", "Rakumpit": "periodik",
           "Andir": "berbasis_evaluasi", "Polonia": "evaluasi_360"}


def quarters(first: str, last: str) -> list[str]:
    y0, q0 = int(first[:4]), int(first[-1])
    y1, q1 = int(last[:4]), int(last[-1])
    out = []
    y, q = y0, q0
    while (y, q) <= (y1, q1):
        out.append(f"{y}Q{q}")
        y, q = (y, q + 1) if q < 4 else (y + 1, 1)
    return out


@dataclass
class RolloutResult:
    rollout: pd.DataFrame  # unit (row), adopted_period (None = never), scheme
    outcomes: pd.DataFrame  # unit (row), period, ikm, iku_attainment, complaints, processing_days
    truth: dict


def _tau(e: np.ndarray, intercept: float, slope: float) -> np.ndarray:
    return np.where(e >= 0, intercept + slope * np.maximum(e, 0), 0.0)


def generate(units: pd.DataFrame, cfg, rng: np.random.Generator) -> RolloutResult:
    n_u = len(units)
    region = units["region"].to_numpy()
    periods = quarters(cfg.service_start, cfg.service_end)
    T = len(periods)
    cohorts = list(cfg.cohorts)
    p = [(1 - cfg.never_share) / len(cohorts)] * len(cohorts) + [cfg.never_share]
    g_idx = rng.choice(len(cohorts) + 1, size=n_u, p=p)
    never = g_idx == len(cohorts)
    g_time = np.array([periods.index(c) for c in cohorts] + [10**6])[g_idx]
    adopted = np.array(cohorts + [None], dtype=object)[g_idx]
    scheme = np.where(never, None, np.array([SCHEMES[r] for r in region], dtype=object))
    rollout = pd.DataFrame({"unit": np.arange(n_u), "adopted_period": adopted, "scheme": scheme})

    mult = np.array([cfg.region_multiplier[r] for r in region])
    t = np.arange(T)
    e = t[None, :] - g_time[:, None]  # (units, T) event time; hugely negative for never-treated
    tau_ikm = _tau(e, cfg.ikm_tau_intercept, cfg.ikm_tau_slope) * mult[:, None]
    tau_iku = _tau(e, cfg.iku_tau_intercept, cfg.iku_tau_slope) * mult[:, None]

    a = cfg.ikm_unit_sd * rng.standard_normal(n_u)
    g = 0.12 * t + 0.4 * np.sin(2 * np.pi * t / 4) + 0.4 * rng.standard_normal(T)  # common quarter effects
    ikm_base = cfg.ikm_mean + a[:, None] + g[None, :] + cfg.ikm_noise_sd * rng.standard_normal((n_u, T))
    b = cfg.iku_unit_sd * rng.standard_normal(n_u)
    h = 1.2 * rng.standard_normal(T)
    iku_base = cfg.iku_mean + b[:, None] + h[None, :] + cfg.iku_noise_sd * rng.standard_normal((n_u, T))

    def obs_ikm(x):
        return np.round(np.clip(x, 25, 100), 2)

    def obs_iku(x):
        return np.round(np.clip(x, 0, 200), 2)

    ikm = obs_ikm(ikm_base + tau_ikm)
    iku = obs_iku(iku_base + tau_iku)

    size = units["size"].to_numpy()
    lam = 0.05 * size * np.exp(0.4 * rng.standard_normal(n_u))
    season = np.exp(0.15 * np.sin(2 * np.pi * (t + 1) / 4))
    complaints = rng.poisson(lam[:, None] * season[None, :])
    service = units["service"].to_numpy().astype(bool)
    base_days = np.exp(np.log(4) + 0.4 * rng.standard_normal(n_u))
    days = np.round(base_days[:, None] * np.exp(0.1 * rng.standard_normal((n_u, T))), 1)
    days = np.where(service[:, None], days, np.nan)

    outcomes = pd.DataFrame({
        "unit": np.repeat(np.arange(n_u), T), "period": np.tile(periods, n_u),
        "ikm": ikm.reshape(-1), "iku_attainment": iku.reshape(-1),
        "complaints": complaints.reshape(-1).astype(np.int64), "processing_days": days.reshape(-1),
    })

    # truth: CS dynamic aggregation on this panel (cohort-size weights over cohorts observed at g+e)
    max_pre = max(periods.index(c) for c in cohorts)
    max_post = T - 1 - min(periods.index(c) for c in cohorts)
    sizes = {c: int((adopted == c).sum()) for c in cohorts}
    treated = ~never

    def att(tau: np.ndarray, realised: np.ndarray | None) -> dict[str, float]:
        out = {}
        for ev in range(-max_pre, max_post + 1):
            num, den = 0.0, 0
            for c in cohorts:
                gt = periods.index(c)
                if not (0 <= gt + ev < T) or sizes[c] == 0:
                    continue
                m = treated & (adopted == c)
                vals = (realised if realised is not None else tau)[m, gt + ev]
                num += sizes[c] * float(vals.mean())
                den += sizes[c]
            out[str(ev)] = round(num / den, 6) if den else None
        return out

    truth = {"cohorts": sizes, "never_treated": int(never.sum()), "periods": periods,
             "region_multiplier": dict(cfg.region_multiplier), "outcomes": {}}
    for name, tau, base, obs, (i0, sl) in (
            ("ikm", tau_ikm, ikm_base, obs_ikm, (cfg.ikm_tau_intercept, cfg.ikm_tau_slope)),
            ("iku_attainment", tau_iku, iku_base, obs_iku, (cfg.iku_tau_intercept, cfg.iku_tau_slope))):
        realised = obs(base + tau) - obs(base)
        dyn = att(tau, None)
        post = [v for k, v in dyn.items() if int(k) >= 0 and v is not None]
        truth["outcomes"][name] = {
            "tau_intercept": i0, "tau_slope": sl,
            "tau_by_event_time": {str(k): round(i0 + sl * k, 6) for k in range(0, max_post + 1)},
            "att_by_event_time": dyn,
            "att_dynamic_overall": round(float(np.mean(post)), 6),
            "att_by_event_time_realised": att(tau, realised),
        }
    return RolloutResult(rollout, outcomes, truth)
