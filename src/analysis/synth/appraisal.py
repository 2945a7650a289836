"""Appraisals, individual targets (SKP) and the units' own ratings.

Latent model, per employee i and period t:
- performance theta_it: AR(1) across periods (coefficient ``theta_ar``), sd 1;
- behaviour trait beta_i (correlated 0.35 with theta), and the period's
  behaviour latent B_it = (beta_i + 0.5 noise) standardised;
- achievement ratio of each indicator = 1 + 0.06 theta + 0.05 noise, or exactly
  1.0 (30% of indicators); the employee's achievement A_it is the weighted mean
  of the capped (120%) ratios computed from the written target and realisation;
- hasil latent H = standardised(0.75 z(A) + 0.35 theta);
- appraisal latent L0 = standardised(0.6 H + 0.4 B + 0.35 noise) (sd 1), plus
  the planted shifts: a lenient/severe rater's shift and the gender penalty.

Each unit-period first gets its org predikat, then counts of every employee
predikat inside (or, when planted, outside) the SE MenPANRB 3/2023 bounds;
employees are ranked by their appraisal latent and take the predikat of their
rank, and a (hasil_kerja, perilaku_kerja) pair that gives that predikat under
the PermenPANRB 6/2022 matrix is chosen from their hasil vs behaviour latents.
A unit head's hasil kerja is the unit's rating (istimewa: di_atas, baik:
sesuai, below: di_bawah).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from analysis.core import codes

from .indicators import POOLS

PREDIKAT = codes.PREDIKAT  # sangat_baik, baik, butuh_perbaikan, kurang, sangat_kurang
SB, B, BP, K, SK = range(5)
# head's predikat given the org predikat (hasil kerja = the unit's rating)
HEAD_PREDIKAT = {"istimewa": SB, "baik": B, "butuh_perbaikan": BP, "kurang": BP, "sangat_kurang": SK}
HEAD_HASIL = {"istimewa": "di_atas", "baik": "sesuai", "butuh_perbaikan": "di_bawah", "kurang": "di_bawah",
              "sangat_kurang": "di_bawah"}
# PermenPANRB 6/2022: (hasil, perilaku) -> predikat. An independent copy of outcomes.predikat.MATRIX on
# purpose: the generator is the test oracle, and a copy shared with the code under test could not
# catch its mistakes.
MATRIX = {
    ("di_atas", "di_bawah"): "kurang", ("di_atas", "sesuai"): "baik", ("di_atas", "di_atas"): "sangat_baik",
    ("sesuai", "di_bawah"): "kurang", ("sesuai", "sesuai"): "baik", ("sesuai", "di_atas"): "baik",
    ("di_bawah", "di_bawah"): "sangat_kurang", ("di_bawah", "sesuai"): "butuh_perbaikan",
    ("di_bawah", "di_atas"): "butuh_perbaikan",
}
STRUCTURAL = set(codes.STRUCTURAL_CLASSES)


def _std(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


# ----------------------------------------------------------------------------- latents

@dataclass
class Latents:
    theta: np.ndarray  # (n, T) performance
    behaviour: np.ndarray  # (n, T) standardised behaviour latent
    trait: np.ndarray  # (n,) persistent ratee trait for 360 (mixes in behaviour)


def latents(n: int, n_periods: int, ar: float, rng: np.random.Generator) -> Latents:
    theta = np.empty((n, n_periods))
    theta[:, 0] = rng.standard_normal(n)
    for t in range(1, n_periods):
        theta[:, t] = ar * theta[:, t - 1] + np.sqrt(1 - ar**2) * rng.standard_normal(n)
    beta = 0.35 * theta[:, 0] + np.sqrt(1 - 0.35**2) * rng.standard_normal(n)
    behaviour = (beta[:, None] + 0.5 * rng.standard_normal((n, n_periods))) / np.sqrt(1.25)
    trait = rng.standard_normal(n)
    return Latents(theta, behaviour, trait)


# ----------------------------------------------------------------------------- targets

def _indicator_table() -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    rows, pools = [], {}
    for key, pool in POOLS.items():
        idx = []
        for ind in pool:
            idx.append(len(rows))
            rows.append(ind._asdict())
        pools[key] = np.array(idx)
    return pd.DataFrame(rows), pools


def targets(people: pd.DataFrame, periods: list[str], present: dict[str, np.ndarray], lat: Latents,
            sekda: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """The targets table and each employee-period's achievement (NaN when not appraised)."""
    n = len(people)
    table, pools = _indicator_table()
    fam = people["job_family"].to_numpy()
    structural = np.isin(people["position_class"].to_numpy(), list(STRUCTURAL))
    # pool per employee: the family's; structural officials also get the unit-level indicators
    keys = sorted(pools)
    width = max(len(p) for p in pools.values()) + len(pools["structural"])
    pool_matrix = {}
    for k in keys:
        pool_matrix[(k, False)] = np.concatenate([pools[k], -np.ones(width - len(pools[k]), int)])
        both = np.concatenate([pools["structural"], pools[k][:3]])
        pool_matrix[(k, True)] = np.concatenate([both, -np.ones(width - len(both), int)])
    choice = np.empty((n, width), dtype=int)
    for (k, s), row in pool_matrix.items():
        m = (fam == k) & (structural == s)
        choice[m] = row
    lower = table["direction"].to_numpy() == "lower"
    weight = np.where(choice >= 0, np.where(lower[np.maximum(choice, 0)], 0.6, 1.0), 0.0)
    # weighted sampling without replacement (Efraimidis-Spirakis keys)
    with np.errstate(divide="ignore"):
        key = np.where(weight > 0, np.log(rng.random((n, width))) / np.where(weight > 0, weight, 1), -np.inf)
    order = np.argsort(-key, axis=1, kind="stable")
    k_ind = rng.choice([3, 4, 5, 6], size=n, p=[0.25, 0.35, 0.25, 0.15])
    avail = (choice >= 0).sum(axis=1)
    k_ind = np.minimum(k_ind, avail)
    chosen = np.take_along_axis(choice, order, axis=1)[:, :6]
    # weights: the two main indicators carry more
    raw = np.concatenate([rng.uniform(2.5, 3.5, (n, 2)), rng.uniform(0.8, 1.2, (n, 4))], axis=1)
    raw[np.arange(6)[None, :] >= k_ind[:, None]] = 0
    w = np.floor(raw / raw.sum(axis=1, keepdims=True) * 100).astype(int)
    w[:, 0] += 100 - w.sum(axis=1)
    # base target per employee and indicator
    lo = table["lo"].to_numpy()[chosen]
    hi = table["hi"].to_numpy()[chosen]
    dec = table["decimals"].to_numpy()[chosen]
    base = lo + rng.random((n, 6)) * (hi - lo)

    frames, achievement = [], np.full((n, len(periods)), np.nan)
    slot = np.arange(6)
    for t, p in enumerate(periods):
        who = np.flatnonzero(present[p] & (np.arange(n) != sekda))
        mask = slot[None, :] < k_ind[who, None]
        r_i, r_j = np.nonzero(mask)
        emp = who[r_i]
        ind = chosen[emp, r_j]
        d = dec[emp, r_j]
        scale = 10.0 ** d
        target = np.round(base[emp, r_j] * (1 + 0.03 * t) * scale) / scale
        pct = table["percent"].to_numpy()[ind]
        target = np.where(pct, np.minimum(target, 100.0), target)
        target = np.maximum(target, 1.0 / scale)
        th = lat.theta[emp, t]
        ratio = 1 + 0.06 * th + 0.05 * rng.standard_normal(len(emp))
        ratio = np.clip(ratio, 0.5, 1.5)
        ratio[rng.random(len(emp)) < 0.30] = 1.0
        is_lower = lower[ind]
        real = np.where(is_lower, target / ratio, target * ratio)
        real = np.round(real * scale) / scale
        real = np.where(pct, np.minimum(real, 100.0), real)
        real = np.maximum(real, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ach = np.where(is_lower, np.where(real > 0, target / real, 1.2), real / target)
        ach = np.minimum(ach, 1.2)
        wt = w[emp, r_j]
        a = np.bincount(emp, weights=ach * wt, minlength=n) / 100.0
        achievement[who, t] = a[who]
        frames.append(pd.DataFrame({
            "emp": emp, "period": p, "indicator_id": r_j, "indicator": ind, "target": target,
            "realization": real, "weight": wt, "direction": np.where(is_lower, "lower", "higher"),
            "is_main": r_j < 2,
        }))
    rows = pd.concat(frames, ignore_index=True)
    ids = np.array([f"IKI-{i + 1:02d}" for i in range(6)], dtype=object)
    names, name_code = np.unique(table["name"].to_numpy(dtype=str), return_inverse=True)
    out = pd.DataFrame({
        "emp": rows["emp"].to_numpy(),
        "period": rows["period"].to_numpy(),
        "indicator_id": pd.Categorical.from_codes(rows["indicator_id"].to_numpy(), ids),
        "indicator_name": pd.Categorical.from_codes(name_code[rows["indicator"].to_numpy()], names),
        "target": rows["target"].to_numpy(),
        "realization": rows["realization"].to_numpy(),
        "weight": rows["weight"].to_numpy().astype(float),
        "direction": pd.Categorical(rows["direction"].to_numpy(), categories=["higher", "lower"]),
        "is_main": rows["is_main"].to_numpy(),
    })
    return out, achievement


# ----------------------------------------------------------------------------- org predikat

def org_predikat(n_units: int, periods: list[str], shares: dict[str, float],
                 rng: np.random.Generator) -> np.ndarray:
    """(n_units, T) org predikat codes; units keep a persistent quality."""
    q = rng.standard_normal(n_units)
    x = 0.75 * q[:, None] + np.sqrt(1 - 0.75**2) * rng.standard_normal((n_units, len(periods)))
    order = ["sangat_kurang", "kurang", "butuh_perbaikan", "baik", "istimewa"]
    cum = np.cumsum([shares[o] for o in order])
    cuts = [NormalDist().inv_cdf(c) for c in cum[:-1] / cum[-1]]
    idx = np.searchsorted(cuts, x)
    return np.array(order, dtype=object)[idx]


# ----------------------------------------------------------------------------- distribution counts

def _at_most(p: int, n: int) -> int:
    return p * n // 100


def _at_least(p: int, n: int) -> int:
    return -(-p * n // 100)


def draw_counts(n: int, org: str, violate: str | None, rng: np.random.Generator) -> list[int]:
    """Counts of (sb, baik, bp, kurang, sk) among n appraised people of a unit-period.

    ``violate`` names the planted violation (None = comply with every bound).
    """
    u = rng.random(6)
    c = [0, 0, 0, 0, 0]
    if org == "istimewa":
        if violate == "max_sangat_baik_70":
            c[SB] = min(n, _at_most(70, n) + 1 + int(u[0] * 0.15 * n))
        else:
            c[SB] = int(np.clip(round(n * (0.35 + 0.30 * u[0])), 1, _at_most(70, n)))
        c[BP] = 1 if (u[1] < 0.3 and n - c[SB] >= 3) else 0
        c[B] = n - c[SB] - c[BP]
    elif org == "baik":
        c[SB] = max(1, round(n * (0.15 + 0.15 * u[0])))
        low = max(1, round(n * (0.03 + 0.09 * u[1])))
        c[K] = int(sum(rng.random(low) < 0.15))
        c[BP] = low - c[K]
        c[SK] = 1 if (u[2] < 0.03 and n >= 15) else 0
        if violate == "min_bp_or_kurang_1":
            c[BP] = c[K] = c[SK] = 0
        if violate == "max_baik_70":
            c[B] = min(n - 1, _at_most(70, n) + 1 + int(u[3] * 0.12 * n))
            c[BP] = max(1, c[BP]) if c[B] + c[BP] + c[K] + c[SK] <= n else 1
            c[K] = min(c[K], n - c[B] - c[BP])
            c[SK] = min(c[SK], n - c[B] - c[BP] - c[K])
            c[SB] = n - c[B] - c[BP] - c[K] - c[SK]
        else:
            c[B] = n - c[SB] - c[BP] - c[K] - c[SK]
            excess = c[B] - _at_most(70, n)
            if excess > 0:
                c[B] -= excess
                c[SB] += excess
    elif org == "butuh_perbaikan":
        c[BP] = min(n, _at_least(60, n) + int(u[0] * 0.2 * n))
        if violate == "max_sangat_baik_10":
            c[SB] = _at_most(10, n) + 1 + int(u[1] * 0.08 * n)
            c[BP] = min(c[BP], n - c[SB])
        else:
            c[SB] = min(_at_most(10, n), int(round(u[1] * 0.1 * n)), n - c[BP])
        c[K] = 1 if (u[2] < 0.2 and n - c[BP] - c[SB] >= 2) else 0
        c[B] = n - c[SB] - c[BP] - c[K]
    elif org == "kurang":
        c[BP] = _at_least(10, n) + int(u[1] * 0.1 * n)
        c[K] = min(n - c[BP], _at_least(60, n) + int(u[0] * 0.15 * n))
        c[SB] = 0
        c[SK] = 1 if (u[2] < 0.2 and n - c[BP] - c[K] >= 1) else 0
        c[B] = n - c[BP] - c[K] - c[SK]
    else:  # sangat_kurang
        low = _at_least(10, n) + int(u[1] * 0.1 * n)
        c[SK] = min(n - low, _at_least(60, n) + int(u[0] * 0.15 * n))
        c[K] = int(sum(rng.random(low) < 0.5))
        c[BP] = low - c[K]
        c[B] = n - c[SK] - c[K] - c[BP]
    assert sum(c) == n and min(c) >= 0, (n, org, violate, c)
    return c


VIOLATION_KINDS = {
    "baik": ("min_bp_or_kurang_1", "max_baik_70"),
    "istimewa": ("max_sangat_baik_70",),
    "butuh_perbaikan": ("max_sangat_baik_10",),
}


def bounds_violated(org: str, c: list[int] | np.ndarray) -> list[str]:
    """Identifiers of the SE MenPANRB 3/2023 bounds that counts c (sb, baik, bp, kurang, sk) break.

    Written again here, independently of ``outcomes.bounds``, on purpose: the generator is the test
    oracle for the bounds check."""
    n = int(sum(c))
    sb, b, bp, k, sk = (int(x) for x in c)
    out = []
    if org == "istimewa":
        if sb * 100 > 70 * n:
            out.append("max_sangat_baik_70")
    elif org == "baik":
        if b * 100 > 70 * n:
            out.append("max_baik_70")
        if bp + k < 1:
            out.append("min_bp_or_kurang_1")
    elif org == "butuh_perbaikan":
        if bp * 100 < 60 * n:
            out.append("min_butuh_perbaikan_60")
        if sb * 100 > 10 * n:
            out.append("max_sangat_baik_10")
    elif org == "kurang":
        if k * 100 < 60 * n:
            out.append("min_kurang_60")
        if bp * 100 < 10 * n:
            out.append("min_butuh_perbaikan_10")
        if sb * 100 > 10 * n:
            out.append("max_sangat_baik_10")
    elif org == "sangat_kurang":
        if sk * 100 < 60 * n:
            out.append("min_sangat_kurang_60")
        if (k + bp) * 100 < 10 * n:
            out.append("min_kurang_or_bp_10")
        if sb > 0:
            out.append("max_sangat_baik_0")
    return out


def distribution_violations(appraisals: pd.DataFrame, employees: pd.DataFrame,
                            org_ratings: pd.DataFrame) -> list[dict]:
    """Every unit-period whose employee predikat (from the matrix) break a bound of its org predikat.

    Counts every appraisal row whose employee is in ``employees`` (unit heads included).
    """
    pair = appraisals["hasil_kerja"].astype(str) + "|" + appraisals["perilaku_kerja"].astype(str)
    pred = pair.map(pd.Series({f"{h}|{q}": v for (h, q), v in MATRIX.items()}))
    unit = appraisals["employee_id"].astype(str).map(
        pd.Series(employees["unit_id"].astype(str).to_numpy(), index=employees["employee_id"].astype(str)))
    df = pd.DataFrame({"unit_id": unit, "period": appraisals["period"].astype(str), "predikat": pred}).dropna()
    counts = pd.crosstab([df["unit_id"], df["period"]], df["predikat"]).reindex(columns=list(PREDIKAT), fill_value=0)
    org = org_ratings.assign(period=org_ratings["period"].astype(str)).set_index(["unit_id", "period"])["org_predikat"]
    out = []
    for (u, p), row in counts.iterrows():
        o = org.get((u, p))
        if o is None:
            continue
        v = bounds_violated(o, row.to_numpy())
        if v:
            out.append({"unit_id": u, "period": p, "org_predikat": o, "bounds": v})
    return out


# ----------------------------------------------------------------------------- ratings

@dataclass
class AppraisalResult:
    appraisals: pd.DataFrame  # emp (row, -1 for planted unknown), period, rater, hasil, perilaku, reported, innovation
    org_ratings: pd.DataFrame  # unit (row), period, org_predikat
    latent: np.ndarray  # (n, T) appraisal latent incl. planted shifts (NaN when not appraised)
    planted_violations: list[dict]
    mismatches: list[dict]


def ratings(people: pd.DataFrame, n_units: int, periods: list[str], present: dict[str, np.ndarray],
            sup: dict[str, np.ndarray], sekda: int, lat: Latents, achievement: np.ndarray,
            rater_shift: np.ndarray, female_penalised: np.ndarray, cfg, rng: np.random.Generator
            ) -> AppraisalResult:
    n = len(people)
    unit = people["unit"].to_numpy()
    head = people["role"].to_numpy() == "head"
    T = len(periods)
    ach = achievement.copy()
    valid = ~np.isnan(ach)
    za = np.zeros_like(ach)
    za[valid] = _std(ach[valid])
    hasil_latent = np.where(valid, 0.75 * za + 0.35 * lat.theta, np.nan)
    hasil_latent[valid] = _std(hasil_latent[valid])
    l0 = np.where(valid, 0.6 * hasil_latent + 0.4 * lat.behaviour + 0.35 * rng.standard_normal((n, T)), np.nan)
    l0[valid] = _std(l0[valid])
    latent = l0.copy()

    org = org_predikat(n_units, periods, cfg.org_predikat_shares, rng)
    frames, planted = [], []
    for t, p in enumerate(periods):
        who = np.flatnonzero(present[p] & (np.arange(n) != sekda))
        s = sup[p][who]
        shift = rater_shift[s] + np.where(female_penalised[who], cfg.gender_gap_appraisal, 0.0)
        latent[who, t] = l0[who, t] + shift
        # counts per unit
        nu = np.bincount(unit[who], minlength=n_units)
        counts = np.zeros((n_units, 5), dtype=int)
        for u in np.flatnonzero(nu):
            o = org[u, t]
            kinds = VIOLATION_KINDS.get(o, ())
            violate = None
            if kinds and rng.random() < cfg.violation_rate[o]:
                violate = kinds[int(rng.integers(len(kinds)))]
            counts[u] = draw_counts(int(nu[u]), o, violate, rng)
            if violate:
                planted.append({"unit": int(u), "period": p, "org_predikat": o, "planted": violate})
        # heads take the predikat that their unit's rating gives them
        pred = np.full(n, -1)
        wh = who[head[who]]
        head_pred = np.array([HEAD_PREDIKAT[o] for o in org[unit[wh], t]], dtype=int)
        pred[wh] = head_pred
        np.subtract.at(counts, (unit[wh], head_pred), 1)
        assert (counts >= 0).all()
        # the others by rank of their appraisal latent within the unit
        rest = who[~head[who]]
        order = np.lexsort((-latent[rest, t], unit[rest]))
        r = rest[order]
        ur = unit[r]
        start = np.concatenate([[0], np.flatnonzero(np.diff(ur)) + 1])
        first = np.repeat(start, np.diff(np.concatenate([start, [len(r)]])))
        pos = np.arange(len(r)) - first
        c = counts[ur]
        size = c.sum(axis=1)
        pr = np.where(pos < c[:, SB], SB, np.where(pos < c[:, SB] + c[:, B], B,
                      np.where(pos >= size - c[:, SK], SK, -1)))
        mid = pr == -1
        # middle group: kurang (behaviour failing) for the largest hasil-minus-behaviour gaps
        m_r = r[mid]
        gap = hasil_latent[m_r, t] - lat.behaviour[m_r, t]
        o2 = np.lexsort((-gap, unit[m_r]))
        m_sorted = m_r[o2]
        um = unit[m_sorted]
        st = np.concatenate([[0], np.flatnonzero(np.diff(um)) + 1]) if len(um) else np.array([], int)
        fm = np.repeat(st, np.diff(np.concatenate([st, [len(um)]]))) if len(um) else np.array([], int)
        pm = np.arange(len(um)) - fm
        pred[m_sorted] = np.where(pm < counts[um, K], K, BP)
        pred[r[~mid]] = pr[~mid]
        assert (pred[who] >= 0).all()
        # hasil/perilaku pair for the predikat
        hz = hasil_latent[who, t]
        bz = lat.behaviour[who, t]
        pw = pred[who]
        hasil = np.empty(len(who), dtype=object)
        peril = np.empty(len(who), dtype=object)
        d = hz - bz
        hasil[pw == SB], peril[pw == SB] = "di_atas", "di_atas"
        m = pw == B
        hasil[m] = np.where(d[m] > 0.9, "di_atas", "sesuai")
        peril[m] = np.where(d[m] < -0.9, "di_atas", "sesuai")
        m = pw == BP
        hasil[m] = "di_bawah"
        peril[m] = np.where(bz[m] > 0.8, "di_atas", "sesuai")
        m = pw == K
        hasil[m] = np.where(hz[m] > 0.8, "di_atas", "sesuai")
        peril[m] = "di_bawah"
        hasil[pw == SK], peril[pw == SK] = "di_bawah", "di_bawah"
        # heads: hasil kerja is the unit's rating
        hm = head[who]
        hasil[hm] = [HEAD_HASIL[o] for o in org[unit[who[hm]], t]]
        peril[hm & (pw == B)] = np.where(bz[hm & (pw == B)] > 0.9, "di_atas", "sesuai")
        frames.append(pd.DataFrame({"emp": who, "period": p, "rater": sup[p][who], "hasil_kerja": hasil,
                                    "perilaku_kerja": peril, "predikat": np.array(PREDIKAT, dtype=object)[pw]}))
        notp = ~present[p]
        latent[notp, t] = np.nan
    app = pd.concat(frames, ignore_index=True)
    check = [MATRIX[(h, q)] for h, q in zip(app["hasil_kerja"], app["perilaku_kerja"])]
    assert (np.array(check, dtype=object) == app["predikat"].to_numpy()).all()

    # clerical mismatches in the reported predikat, and innovations among sangat_baik
    reported = app["predikat"].to_numpy().copy()
    mis = np.flatnonzero(rng.random(len(app)) < cfg.reported_mismatch_share)
    neighbours = {"sangat_baik": ["baik"], "baik": ["sangat_baik", "butuh_perbaikan"],
                  "butuh_perbaikan": ["baik", "kurang"], "kurang": ["butuh_perbaikan", "sangat_kurang"],
                  "sangat_kurang": ["kurang"]}
    pick = rng.random(len(mis))
    for j, i in enumerate(mis):
        opts = neighbours[reported[i]]
        reported[i] = opts[int(pick[j] * len(opts))]
    app["predikat_reported"] = reported
    app["innovation"] = (app["predikat"].to_numpy() == "sangat_baik") & (rng.random(len(app)) < cfg.innovation_share)
    mismatches = [{"emp": int(app.at[i, "emp"]), "period": app.at[i, "period"],
                   "predikat": app.at[i, "predikat"], "predikat_reported": reported[i]} for i in mis]
    org_df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), T), "period": np.tile(periods, n_units),
                           "org_predikat": org.reshape(-1)})
    return AppraisalResult(app, org_df, latent, planted, mismatches)
