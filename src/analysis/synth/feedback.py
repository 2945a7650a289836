"""360-degree feedback on the seven BerAKHLAK aspects, with planted rater effects.

Who rates whom (per period, for ratees in the units of the 360 programme):
the ratee themself, their supervisor, up to three peers (same supervisor) and
up to three of the people they supervise. Each rater scores all seven aspects.

Score model, per rating (rater j, ratee i, aspect a, period t), on a latent
continuous scale then rounded and clipped to 1..5:
    mean + u_it + v_ia + r_j + source + e,
u_it ratee effect (sd ``fb_ratee_sd``), v_ia ratee x aspect (sd
``fb_ratee_aspect_sd``), r_j rater effect (background N(0, ``fb_rater_sd``^2)
plus the planted lenient/severe shift), source effect by role, e noise (sd
``fb_noise_sd``). Halo raters replace v + e by one draw per (rater, ratee)
plus tiny noise; central-tendency raters' latent is compressed toward c:
c + k (latent - c). Self ratings add ``self_inflation``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.core import codes

ROLES = codes.RATER_ROLES  # self, supervisor, peer, subordinate
ASPECTS = codes.ASPECTS


def pairs(sup: dict[str, np.ndarray], present: dict[str, np.ndarray], in_programme: np.ndarray,
          periods: list[str], rng: np.random.Generator, max_peers: int = 3, max_subordinates: int = 3
          ) -> pd.DataFrame:
    """One row per (period, ratee, rater) with the rater's role (codes into ROLES)."""
    frames = []
    for p in periods:
        s, pres = sup[p], present[p]
        ratee = pres & in_programme
        frames.append(pd.DataFrame({"period": p, "ratee": np.flatnonzero(ratee), "rater": np.flatnonzero(ratee),
                                    "role": 0}))
        r = np.flatnonzero(ratee & (s >= 0))
        frames.append(pd.DataFrame({"period": p, "ratee": r, "rater": s[r], "role": 1}))
        # teams: present employees grouped by supervisor, in random order within the team
        member = np.flatnonzero(pres & (s >= 0))
        order = np.lexsort((rng.random(len(member)), s[member]))
        m = member[order]
        team = s[m]
        start = np.concatenate([[0], np.flatnonzero(np.diff(team)) + 1]) if len(m) else np.array([], int)
        sizes = np.diff(np.concatenate([start, [len(m)]]))
        first = np.repeat(start, sizes)
        tsize = np.repeat(sizes, sizes)
        pos = np.arange(len(m)) - first
        # peers: the next members of the team, cyclically
        for j in range(1, max_peers + 1):
            ok = (j <= tsize - 1) & ratee[m]
            peer = m[first + (pos + j) % np.maximum(tsize, 1)]
            frames.append(pd.DataFrame({"period": p, "ratee": m[ok], "rater": peer[ok], "role": 2}))
        # subordinates: the first members of the team rate its supervisor
        ok = (pos < max_subordinates) & ratee[team]
        frames.append(pd.DataFrame({"period": p, "ratee": team[ok], "rater": m[ok], "role": 3}))
    out = pd.concat(frames, ignore_index=True)
    out["role"] = out["role"].astype(np.int8)
    return out.sort_values(["period", "ratee", "role", "rater"], kind="stable").reset_index(drop=True)


@dataclass
class PlantedRaters:
    kind: np.ndarray  # per employee: "" or lenient/severe/halo/central
    effect: np.ndarray  # per employee: planted shift on the 360 latent (points)
    n_ratees: np.ndarray  # distinct ratees per employee over all 360 periods


def plant_raters(pr: pd.DataFrame, n: int, cfg, rng: np.random.Generator) -> PlantedRaters:
    distinct = pr.drop_duplicates(["ratee", "rater"])
    n_ratees = np.bincount(distinct["rater"].to_numpy(), minlength=n)
    kind = np.full(n, "", dtype=object)
    effect = np.zeros(n)
    raters = np.flatnonzero(n_ratees > 0)
    big = raters[n_ratees[raters] >= cfg.planted_min_ratees]
    small = raters[n_ratees[raters] < cfg.planted_min_ratees]
    shares = {"lenient": cfg.lenient_share, "severe": cfg.severe_share, "halo": cfg.halo_share,
              "central": cfg.central_share}
    for pool, small_pool in ((big, False), (small, True)):
        perm = rng.permutation(pool)
        at = 0
        for k, share in shares.items():
            want = (max(2, int(round(cfg.small_rater_planted_share * len(pool)))) if small_pool
                    else int(round(share * len(pool))))
            m = min(len(perm) - at, want)
            kind[perm[at:at + m]] = k
            at += m
    effect[kind == "lenient"] = cfg.lenient_effect
    effect[kind == "severe"] = cfg.severe_effect
    return PlantedRaters(kind, effect, n_ratees)


def scores(pr: pd.DataFrame, periods: list[str], lat_trait: np.ndarray, behaviour: np.ndarray,
           planted: PlantedRaters, female_penalised: np.ndarray, cfg, rng: np.random.Generator
           ) -> tuple[pd.DataFrame, float]:
    """Scores per (pair, aspect) and the realised mean self-inflation on the observed scale."""
    n = len(lat_trait)
    A = len(ASPECTS)
    t_index = {p: i for i, p in enumerate(periods)}
    ratee = pr["ratee"].to_numpy()
    rater = pr["rater"].to_numpy()
    role = pr["role"].to_numpy()
    t = pr["period"].map(t_index).to_numpy()
    n_pairs = len(pr)
    # person-level effects
    u = cfg.fb_ratee_sd * (0.8 * behaviour + 0.6 * lat_trait[:, None])  # (n, T)
    v = cfg.fb_ratee_aspect_sd * rng.standard_normal((n, A))
    r_eff = cfg.fb_rater_sd * rng.standard_normal(n) + planted.effect
    src = np.array([0.0, cfg.source_effects["supervisor"], cfg.source_effects["peer"],
                    cfg.source_effects["subordinate"]])
    pair_mean = (cfg.fb_mean + u[ratee, t] + r_eff[rater] + src[role]
                 + np.where((role == 1) & female_penalised[ratee], cfg.gender_gap_feedback, 0.0))
    halo_sd = np.sqrt(cfg.fb_ratee_aspect_sd**2 + cfg.fb_noise_sd**2)
    halo_draw = halo_sd * rng.standard_normal(n_pairs)
    # rows: pair x aspect
    rows_pair = np.repeat(np.arange(n_pairs), A)
    aspect = np.tile(np.arange(A), n_pairs)
    rp_ratee = ratee[rows_pair]
    kind = planted.kind[rater][rows_pair]
    halo = kind == "halo"
    central = kind == "central"
    noise = cfg.fb_noise_sd * rng.standard_normal(len(rows_pair))
    specific = np.where(halo, halo_draw[rows_pair] + cfg.halo_noise_sd * noise / cfg.fb_noise_sd,
                        v[rp_ratee, aspect] + noise)
    latent = pair_mean[rows_pair] + specific
    is_self = role[rows_pair] == 0

    def observe(x: np.ndarray, compress: np.ndarray) -> np.ndarray:
        x = np.where(compress, cfg.central_center + cfg.central_compression * (x - cfg.central_center), x)
        return np.clip(np.rint(x), 1, 5).astype(np.int8)

    score = observe(latent + np.where(is_self, cfg.self_inflation, 0.0), central)
    without = observe(latent[is_self], central[is_self])
    observed_shift = float((score[is_self].astype(float) - without).mean()) if is_self.any() else 0.0
    out = pd.DataFrame({
        "pair": rows_pair, "period": pr["period"].to_numpy()[rows_pair], "ratee": rp_ratee,
        "rater": rater[rows_pair], "role": role[rows_pair], "aspect": aspect.astype(np.int8), "score": score,
    })
    return out, observed_shift
