"""Negative and positive controls: small data sets shaped like real ones, with a known effect or none.

Each method's tests (``tests/``) and the calibration table (``benchmarks/calibration.py``) draw from
these generators, so that the size and power the documentation states are measured on the very data
the tests check. Unlike the sample generator, each plants one thing at a time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.params import Appraisal

ASPECT_MEANS = {"a": 0.0, "b": 0.3, "c": -0.2}


def team_feedback(seed: int, central=(), teams: int = 40, size: int = 12, compression: float = 0.4,
                  self_shift: float | None = None, leniency_sd: float = 0.2, lenient=(),
                  lenient_effect: float = 0.6, neutral=()) -> pd.DataFrame:
    """360 feedback within teams: each member rates every other member's three aspects (peer or
    subordinate). Half the teams are homogeneous in true level (SD 0.2), half not (SD 0.8); raters
    differ in leniency. A rater in ``central`` compresses what they see towards the team's mean by
    ``compression``. With ``self_shift``, everyone also rates themselves, that much above the truth.
    Raters' leniency is drawn with SD ``leniency_sd``; a rater in ``lenient`` adds ``lenient_effect``; a
    rater in ``neutral`` has none at all (the null of the per-rater leniency test among raters who vary)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(teams):
        mean = rng.normal(0, 0.3)
        true = mean + rng.normal(0, 0.2 if t % 2 == 0 else 0.8, size)
        leniency = rng.normal(0, leniency_sd, size) if leniency_sd > 0 else np.zeros(size)
        leniency = leniency + np.array([lenient_effect if f"T{t}R{i}" in lenient else 0.0 for i in range(size)])
        leniency = np.where([f"T{t}R{i}" in neutral for i in range(size)], 0.0, leniency)
        for i in range(size):
            for j in range(size):
                if i == j and self_shift is None:
                    continue
                seen = compression * (true[j] - mean) + mean if f"T{t}R{i}" in central else true[j]
                role = "self" if i == j else ("peer" if (i + j) % 2 else "subordinate")
                shift = self_shift if i == j else 0.0
                for aspect in ASPECT_MEANS:
                    rows.append({"rater_id": f"T{t}R{i}", "ratee_id": f"T{t}R{j}", "period": "2024",
                                 "aspect": aspect, "rater_role": role,
                                 "score": 3 + seen + shift + leniency[i] + rng.normal(0, 0.5)})
    return pd.DataFrame(rows)


def halo_feedback(seed: int, halo=(), teams: int = 40, size: int = 12) -> pd.DataFrame:
    """360 feedback where people differ by aspect, raters in leniency and role, aspects in mean. A rater
    in ``halo`` scores every aspect of a person at that person's overall level."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(teams):
        level, profile = rng.normal(0, 0.5, size), rng.normal(0, 0.35, (size, 3))
        lenient = rng.normal(0, 0.3, size)
        for i in range(size):
            for j in range(size):
                if i == j:
                    continue
                role = "peer" if (i + j) % 2 else "subordinate"
                for k, (aspect, m) in enumerate(ASPECT_MEANS.items()):
                    seen = level[j] + (profile[j].mean() if f"T{t}R{i}" in halo else profile[j, k])
                    rows.append({"rater_id": f"T{t}R{i}", "ratee_id": f"T{t}R{j}", "period": "2024",
                                 "aspect": aspect, "rater_role": role,
                                 "score": 3 + m + seen + lenient[i] + 0.2 * (role == "peer") + rng.normal(0, 0.4)})
    return pd.DataFrame(rows)


def achievement_ratings(gap: float = -0.3, units: int = 12, per_unit: int = 40, seed: int = 0,
                        female_rater_gap: float | None = None) -> pd.DataFrame:
    """Supervisor ratings linear in achievement plus a gender ``gap`` (under female raters
    ``female_rater_gap`` where given: an interaction); three raters per unit, one of them a woman."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(units):
        level = rng.normal(0, 0.5)
        for i in range(per_unit):
            female = i % 2
            skp = rng.normal(100, 10)
            rater_female = i % 3 == 0
            # the gap a female rater gives, when it differs from a male rater's (an interaction)
            g = female_rater_gap if (female_rater_gap is not None and rater_female) else gap
            for period in ("2024", "2025"):
                y = 2 + level + 0.02 * (skp - 100) + g * female + rng.normal(0, 0.4)
                rows.append({"unit_id": f"U{u}", "employee_id": f"E{u}_{i}", "rater_id": f"R{u}_{i % 3}",
                             "gender": "P" if female else "L", "rater_gender": "L" if i % 3 else "P",
                             "period": period, "skp_score": skp, "rating_score": y,
                             "age_band": "30-39", "position_class": "pelaksana", "employment_type": "PNS"})
    return pd.DataFrame(rows)


def threshold_driven(gap: float, seed: int, thresholds: dict[str, float] | None = None, units: int = 15,
                     per_unit: int = 40) -> pd.DataFrame:
    """Supervisor ratings that follow the capaian thresholds and nothing else but a gender ``gap``;
    women achieve more on average (the data ``raters.fairness`` takes, with ``skp_band``)."""
    thresholds = thresholds or Appraisal().capaian_thresholds
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(units):
        level = rng.normal(0, 0.2)
        for i in range(per_unit):
            female = i % 2
            for period in ("2024", "2025"):
                skp = rng.normal(96 + 12 * female, 8)
                step = 1.0 * (skp >= thresholds["sesuai"]) + 1.0 * (skp >= thresholds["di_atas"])
                rows.append({"unit_id": f"U{u}", "employee_id": f"E{u}_{i}", "rater_id": f"R{u}_{i % 4}",
                             "gender": "P" if female else "L", "period": period, "skp_score": skp,
                             "rating_score": 1.0 + level + step + gap * female + rng.normal(0, 0.2)})
    d = pd.DataFrame(rows)
    s = d["skp_score"]
    d["skp_band"] = np.select([s >= thresholds["di_atas"], s >= thresholds["sesuai"]], ["di_atas", "sesuai"],
                              "di_bawah")
    return d


def uniform_gaps(seed: int, n: int = 600, dims: int = 9, missing: float = 0.1) -> pd.DataFrame:
    """Competency gaps with no cluster structure at all (uniform 0-3), some cells never assessed."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 3, (n, dims))
    x[rng.random(x.shape) < missing] = np.nan
    return pd.DataFrame(x, index=[f"E{i}" for i in range(n)], columns=[f"M.0{j + 1}" for j in range(dims)])


def profile_gaps(seed: int = 0, n_per: int = 60, missing: float = 0.05) -> tuple[pd.DataFrame, pd.Series]:
    """Competency gaps in four profiles (one three times as large), each a 1-2 level gap in one or two
    dimensions; some cells never assessed. Returns the gaps and each employee's profile."""
    rng = np.random.default_rng(seed)
    profiles = [("M.02", "M.03"), ("M.04", "M.08"), ("M.05", "SK.01"), ("TEKNIS",)]
    dims = ["M.01", "M.02", "M.03", "M.04", "M.05", "M.06", "M.07", "M.08", "SK.01", "TEKNIS"]
    rows, truth = [], []
    for p, comps in enumerate(profiles):
        for _ in range(n_per * (3 if p == 3 else 1)):
            row = {d: 0.0 for d in dims}
            for c in comps:
                row[c] = rng.choice([1.0, 1.5, 2.0])
            rows.append(row)
            truth.append(p)
    m = pd.DataFrame(rows, columns=dims, index=[f"E{i:04d}" for i in range(len(rows))])
    return m.mask(rng.random(m.shape) < missing), pd.Series(truth, index=m.index)


def staggered_panel(seed: int, sizes=(22, 12, 18, 19, 6), starts=(5, 7, 9, 11, 13), n_never: int = 33,
                    periods: int = 16, effect=None) -> pd.DataFrame:
    """Unit and period effects plus noise; staggered adoption with no effect unless ``effect(e)`` gives
    one by event time (shaped like the sample: 110 units, 16 quarters, a smallest cohort of 6)."""
    rng = np.random.default_rng(seed)
    g = np.concatenate([np.full(s, st) for s, st in zip(sizes, starts)] + [np.zeros(n_never, int)])
    n = len(g)
    t = np.arange(1, periods + 1)
    y = (80 + 4 * rng.standard_normal(n)[:, None] + (0.12 * t + 0.4 * rng.standard_normal(periods))[None, :]
         + 1.5 * rng.standard_normal((n, periods)))
    if effect is not None:
        e = t[None, :] - g[:, None]
        y = y + np.where((g[:, None] > 0) & (e >= 0), effect(np.maximum(e, 0)), 0.0)
    return pd.DataFrame({"unit": np.repeat([f"u{i:03d}" for i in range(n)], periods), "t": np.tile(t, n),
                         "y": y.ravel(), "g": np.repeat(g, periods)})
