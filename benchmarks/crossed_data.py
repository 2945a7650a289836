"""Synthetic crossed rating data for the benchmarks, at any size (vectorised, seeded).

``org360(n_ratings)`` mimics 360 feedback in an organisation: employees in teams
of ten with a leader; each employee is rated on seven aspects by themselves, their
supervisor (the team leader, or for a leader the leader of another team), three
team peers, and (leaders only) three team members. About 36 ratings per employee.

``global_random(n_ratings)`` pairs raters and ratees at random: the worst case for
exact sparse factorisations (the co-rating graph is an expander).

Both return a DataFrame: score (float), ratee, rater (int32 codes), aspect, role
(categorical), and the true effects as attributes for checking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ASPECTS = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]
ROLE_EFFECT = {"peer": 0.0, "self": 0.45, "subordinate": 0.15, "supervisor": -0.10}


def _frame(ratee, rater, role, rng, sd_ratee=0.45, sd_rater=0.15, sd_noise=0.6) -> pd.DataFrame:
    n_people = int(max(ratee.max(), rater.max())) + 1
    u_ratee = rng.normal(0, sd_ratee, n_people)
    u_rater = rng.normal(0, sd_rater, n_people)
    k = len(ASPECTS)
    ratee = np.repeat(ratee, k).astype(np.int32)
    rater = np.repeat(rater, k).astype(np.int32)
    role = np.repeat(role, k)
    aspect = np.tile(np.arange(k), len(ratee) // k)
    role_names = np.array(list(ROLE_EFFECT))
    score = (3.5 + u_ratee[ratee] + u_rater[rater] + np.array(list(ROLE_EFFECT.values()))[role]
             + 0.02 * aspect + rng.normal(0, sd_noise, len(ratee)))
    df = pd.DataFrame({
        "score": score,
        "ratee": ratee,
        "rater": rater,
        "aspect": pd.Categorical.from_codes(aspect, ASPECTS),
        "role": pd.Categorical.from_codes(role, role_names),
    })
    df.attrs["truth"] = {"sd_ratee": sd_ratee, "sd_rater": sd_rater, "sd_noise": sd_noise}
    return df


def org360(n_ratings: int, seed: int = 0, team: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per_person = 7 * (1 + 1 + 3 + 3 / team)  # self, supervisor, 3 peers, leaders' 3 subordinates
    n = max(team * 3, int(n_ratings / per_person) // team * team)
    people = np.arange(n)
    team_of = people // team
    n_teams = n // team
    leader = team_of * team  # member 0 of each team leads it
    is_leader = people == leader
    # a leader's supervisor is the leader of another team (a random, earlier team: a tree)
    boss_team = np.where(team_of > 0, rng.integers(0, np.maximum(team_of, 1)), 0)
    supervisor = np.where(is_leader, boss_team * team, leader)
    has_sup = ~(is_leader & (team_of == 0))
    pairs = [(people, people, 1), (people[has_sup], supervisor[has_sup], 3)]
    for _ in range(3):  # peers: another member of the same team
        offset = rng.integers(1, team, n)
        pairs.append((people, team_of * team + (people % team + offset) % team, 0))
    for _ in range(3):  # leaders rated by members of their team
        leaders = people[is_leader]
        pairs.append((leaders, leaders + rng.integers(1, team, len(leaders)), 2))
    ratee = np.concatenate([p[0] for p in pairs])
    rater = np.concatenate([p[1] for p in pairs])
    role = np.concatenate([np.full(len(p[0]), p[2]) for p in pairs])
    return _frame(ratee, rater, role, rng)


def global_random(n_ratings: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pairs = n_ratings // 7
    n_ratee, n_rater = max(pairs // 5, 2), max(pairs // 50, 2)
    ratee = rng.integers(0, n_ratee, pairs)
    rater = n_ratee + rng.integers(0, n_rater, pairs)
    role = rng.integers(0, 4, pairs)
    return _frame(ratee, rater, role, rng)
