"""The exact choice of options within a budget: a 0-1 knapsack with packing constraints as a
mixed-integer linear programme (``scipy.optimize.milp``, HiGHS), with a cost tie-break and, under
JP caps, cheaper swaps of equal value.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp


@contextlib.contextmanager
def _quiet_stdout():
    """Silence HiGHS: it can print solver diagnostics straight to file descriptor 1 (not through
    Python), which would land in the terminal of `workbench run` and in notebook logs."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (some notebook front ends)
        fd = 1
    sys.stdout.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


# --- the optimisation ---------------------------------------------------------------------


def _value_scale(values: np.ndarray) -> float:
    """A multiplier making every value an integer (HiGHS then rounds its bounds), else 1."""
    for d in (1, 2, 4, 10, 20, 100):
        if np.allclose(values * d, np.round(values * d), atol=1e-9, rtol=0):
            return float(d)
    return 1.0


def _dominated(single: pd.DataFrame, capped: set) -> np.ndarray:
    """Per-person options beaten by another option for the same need: value >= and cost <=
    (and JP <= for a person under a JP cap). Dropping them cannot change the optimum."""
    s = single.sort_values(["employee_id", "competency_code", "value", "cost", "jp", "option_id"],
                           ascending=[True, True, False, True, True, True], kind="stable")
    key = pd.Series([f"{e}\t{c}" for e, c in zip(s["employee_id"], s["competency_code"])], index=s.index,
                    dtype=object)
    k = key.to_numpy()
    prior_min = s["cost"].groupby(k, sort=False).cummin().groupby(k, sort=False).shift()
    out = pd.Series(prior_min.to_numpy() <= s["cost"].to_numpy() + 1e-9, index=s.index)
    is_capped = s["employee_id"].isin(capped)
    if is_capped.any():  # JP matters too: pairwise check (few options per need)
        out[is_capped] = False
        for _, g in s[is_capped].groupby(key[is_capped].to_numpy(), sort=False):
            kept: list[tuple[float, float, float]] = []
            for i, v, c, j in zip(g.index, g["value"], g["cost"], g["jp"]):
                if any(kv >= v - 1e-12 and kc <= c + 1e-9 and kj <= j + 1e-12 for kv, kc, kj in kept):
                    out[i] = True
                else:
                    kept.append((v, c, j))
    return out.reindex(single.index).to_numpy()


TIE_BREAK_SECONDS = 20.0  # the joint solve of gap and cost; beyond it, gap first then swaps


def _cheaper_swaps(z: np.ndarray, n_x: int, yvars: pd.DataFrame, value: np.ndarray, cost: np.ndarray,
                   jp: np.ndarray, mem: pd.DataFrame, caps: dict[str, float]) -> np.ndarray:
    """Move each capped person to the cheapest per-person option of no less value that their
    JP cap allows (their options are variables of their own: classes of one)."""
    z = z.copy()
    used: dict[str, float] = {}
    for j, e in zip(mem["opt"], mem["employee_id"]):
        if e in caps and z[j] > 0.5:
            used[e] = used.get(e, 0.0) + jp[j]
    yv = yvars.assign(_var=n_x + np.arange(len(yvars)))
    yv = yv[yv["employee_id"].isin(caps)]
    for _, g in yv.groupby("cls_id", sort=True):
        idx = g["_var"].to_numpy()
        for i in idx:
            if z[i] > 0.5:
                used[g["employee_id"].iloc[0]] = used.get(g["employee_id"].iloc[0], 0.0) + jp[i]
    for _, g in yv.groupby("cls_id", sort=True):
        idx = g["_var"].to_numpy()
        on = [i for i in idx if z[i] > 0.5]
        if not on:
            continue
        cur, e = on[0], g["employee_id"].iloc[0]
        best = cur
        for i in sorted(idx, key=lambda k: (cost[k], k)):
            if (value[i] >= value[cur] - 1e-12 and cost[i] < cost[best] - 1e-9
                    and used[e] - jp[cur] + jp[i] <= caps[e] + 1e-9):
                best = i
                break
        if best != cur:
            z[cur], z[best] = 0.0, 1.0
            used[e] += jp[best] - jp[cur]
    return z


@dataclass(frozen=True)
class Solution:
    chosen: np.ndarray  # bool per candidate row
    optimal: bool
    status: str
    mip_gap: float


def solve(cands: pd.DataFrame, budget: float, jp_cap: Mapping[str, float] | None,
           time_limit: float, rel_gap: float = 0.0, tie_break: bool = True) -> Solution:
    """Exact MILP; per-person options that are interchangeable are aggregated.

    People of a group who have the same per-person options (same programme, value, cost and
    JP) form a class; the model counts how many of a class get each option (an integer up to
    the class size) instead of deciding person by person. A class row keeps the count within
    the people of the class not seated in a funded cohort; cohorts that share people exclude
    each other person by person. Any counts can be handed to distinct people of the class, so
    the aggregation is exact and the model shrinks from thousands of binaries to about one
    variable per cohort and per group. People under a JP cap keep their own variables.
    """
    n_all = len(cands)
    chosen = np.zeros(n_all, dtype=bool)
    caps = {k: float(v) for k, v in (jp_cap or {}).items()}
    value = cands["value"].to_numpy(float)
    cost = cands["cost"].to_numpy(float)
    size = cands["n"].to_numpy(int)
    ok = (value > 0) & (cost <= budget + 1e-6)
    multi_pos = np.flatnonzero(ok & (size > 1))
    single = cands.loc[ok & (size == 1), ["option_id", "group_id", "competency_code", "program_id", "value",
                                           "cost", "jp"]].copy()
    single["employee_id"] = [p[0] for p in cands.loc[single.index, "participants"]]
    if caps:  # a cap binds only if the person could exceed it: one option per need, the longest
        who = cands.loc[ok, ["competency_code", "jp", "participants"]].explode("participants")
        who = who[who["participants"].isin(caps)]
        most = who.groupby(["participants", "competency_code"])["jp"].max().groupby(level=0).sum()
        caps = {e: caps[e] for e, jp in most.items() if jp > caps[e] + 1e-9}
    if len(single):
        single = single[~_dominated(single, set(caps))]
    if not len(multi_pos) and not len(single):
        return Solution(chosen, True, "nothing to fund", 0.0)

    # classes of interchangeable people (per group and set of per-person options)
    single["item"] = pd.Series([f"{p}|{v!r}|{c!r}|{j!r}" for p, v, c, j in zip(
        single["program_id"], single["value"], single["cost"], single["jp"])], index=single.index, dtype=object)
    single = single.sort_values(["employee_id", "competency_code", "item"], kind="stable")
    need_of = pd.Series([f"{e}\t{c}" for e, c in zip(single["employee_id"], single["competency_code"])],
                        index=single.index, dtype=object)
    sig = single.groupby(need_of.to_numpy(), sort=False)["item"].agg("#".join)
    need_cls = sig.rename("sig").to_frame()
    meta = single.assign(_need=need_of.to_numpy()).drop_duplicates("_need").set_index("_need")
    need_cls["group_id"] = meta["group_id"].reindex(need_cls.index)
    need_cls["employee_id"] = meta["employee_id"].reindex(need_cls.index)
    capped_need = need_cls["employee_id"].isin(caps)
    need_cls["cls"] = need_cls["group_id"] + "#" + need_cls["sig"]
    need_cls.loc[capped_need, "cls"] = "@" + need_cls.index[capped_need]  # a class of one
    cls_ids, cls_names = pd.factorize(need_cls["cls"], sort=True)
    need_cls["cls_id"] = cls_ids
    cls_size = np.bincount(cls_ids, minlength=len(cls_names))
    # y variables: (class, item)
    single["_need"] = need_of.to_numpy()
    single["cls_id"] = need_cls["cls_id"].reindex(single["_need"]).to_numpy()
    yvars = single.drop_duplicates(["cls_id", "item"]).sort_values(["cls_id", "item"], kind="stable")
    yvars = yvars.reset_index().rename(columns={"index": "cand_row"})
    n_x, n_y = len(multi_pos), len(yvars)
    m = n_x + n_y
    obj_v = np.concatenate([value[multi_pos], yvars["value"].to_numpy(float)])
    obj_c = np.concatenate([cost[multi_pos], yvars["cost"].to_numpy(float)])
    jp_all = np.concatenate([cands["jp"].to_numpy(float)[multi_pos], yvars["jp"].to_numpy(float)])
    ub = np.concatenate([np.ones(n_x), cls_size[yvars["cls_id"].to_numpy()]]).astype(float)

    # membership of multi-person options
    mem_opt, mem_emp = [], []
    for j, who in enumerate(cands["participants"].to_numpy()[multi_pos]):
        mem_opt.extend([j] * len(who))
        mem_emp.extend(who)
    mem = pd.DataFrame({"opt": np.asarray(mem_opt, dtype=int), "employee_id": mem_emp})
    codes_multi = cands["competency_code"].to_numpy()[multi_pos]
    mem["_need"] = pd.Series([f"{e}\t{codes_multi[j]}" for e, j in zip(mem["employee_id"], mem["opt"])],
                             index=mem.index, dtype=object)

    blocks: list[sparse.csr_matrix] = [sparse.csr_matrix(obj_c.reshape(1, -1) / 1e6)]
    lbs, ubs = [np.array([-np.inf])], [np.array([(budget + 1e-3) / 1e6])]
    # cohorts sharing a person exclude each other
    shared = mem[mem.groupby("_need")["opt"].transform("size") > 1]
    if len(shared):
        r, _ = pd.factorize(shared["_need"])
        blocks.append(sparse.csr_matrix((np.ones(len(shared)), (r, shared["opt"].to_numpy())), shape=(r.max() + 1, m)))
        lbs.append(np.full(r.max() + 1, -np.inf))
        ubs.append(np.ones(r.max() + 1))
    # class rows: counts given + people of the class seated in funded cohorts <= class size
    in_cls = mem.assign(cls_id=need_cls["cls_id"].reindex(mem["_need"]).to_numpy())
    in_cls = in_cls[in_cls["cls_id"].notna()]
    cnt = in_cls.groupby(["cls_id", "opt"]).size().reset_index(name="k")
    rows_c = np.concatenate([cnt["cls_id"].to_numpy(int), yvars["cls_id"].to_numpy(int)])
    cols_c = np.concatenate([cnt["opt"].to_numpy(int), n_x + np.arange(n_y)])
    vals_c = np.concatenate([cnt["k"].to_numpy(float), np.ones(n_y)])
    nc = len(cls_names)
    blocks.append(sparse.csr_matrix((vals_c, (rows_c, cols_c)), shape=(nc, m)))
    lbs.append(np.full(nc, -np.inf))
    ubs.append(cls_size.astype(float))
    # JP caps
    if caps:
        cm = mem[mem["employee_id"].isin(caps)][["opt", "employee_id"]]
        cy = yvars[yvars["employee_id"].isin(caps)][["employee_id"]].assign(opt=n_x + np.flatnonzero(
            yvars["employee_id"].isin(caps).to_numpy()))
        both = pd.concat([cm, cy], ignore_index=True)
        if len(both):
            both["jp"] = jp_all[both["opt"].to_numpy()]
            both["cap"] = both["employee_id"].map(caps)
            both = both[both.groupby("employee_id")["jp"].transform("sum") > both["cap"] + 1e-9]
        if len(both):
            r, people = pd.factorize(both["employee_id"], sort=True)
            blocks.append(sparse.csr_matrix((both["jp"].to_numpy(), (r, both["opt"].to_numpy())),
                                            shape=(len(people), m)))
            lbs.append(np.full(len(people), -np.inf))
            ubs.append(np.array([caps[e] for e in people]))
    A = sparse.vstack(blocks, format="csr")
    lb, ubr = np.concatenate(lbs), np.concatenate(ubs)
    # Most gap closed first, then the cheapest. Values are made integers and a tie-break of
    # less than half a unit in total (cost / total cost) is added, so no saving can outweigh one
    # unit of gap closed: one solve gives both. Under JP caps that tie-break makes HiGHS far
    # slower, so there the gap closed is solved alone (exact) and the money is saved by
    # swapping capped people to cheaper per-person options of the same value; likewise if the
    # tie-break solve runs out of time.
    scale = _value_scale(obj_v)
    unit = 1.0 if scale > 1 or np.allclose(obj_v, np.round(obj_v)) else 1e-6
    v = np.round(obj_v * scale, 9)
    eps = 0.5 * unit / (float(obj_c.sum()) + 1.0)
    cons = LinearConstraint(A, lb, ubr)

    def run(objective, limit):
        with _quiet_stdout():
            return milp(objective, constraints=cons, integrality=np.ones(m), bounds=Bounds(0, ub),
                        options={"mip_rel_gap": rel_gap, "time_limit": limit, "presolve": True})

    res = run(-v + eps * obj_c, min(time_limit, TIE_BREAK_SECONDS)) if (tie_break and not caps) else None
    if res is None or res.status != 0 or res.x is None:
        res = run(-v, time_limit)
        if res.x is None:
            return Solution(chosen, False, res.message, float("nan"))
        z = np.round(res.x)
        if caps:
            z = _cheaper_swaps(z, n_x, yvars, obj_v, obj_c, jp_all, mem, caps)
    else:
        z = np.round(res.x)
    optimal = res.status == 0
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    # hand the counts to people
    xs = z[:n_x] > 0.5
    chosen[multi_pos[xs]] = True
    seated = set(mem.loc[xs[mem["opt"].to_numpy()], "_need"])
    counts = z[n_x:].astype(int)
    pos_of = {(nd, it): i for nd, it, i in zip(single["_need"], single["item"], single.index)}
    members = need_cls.reset_index(names="_need").sort_values(["cls_id", "_need"], kind="stable")
    free = {c: [nd for nd in g["_need"] if nd not in seated] for c, g in members.groupby("cls_id", sort=False)}
    taken: dict[int, int] = {}
    for (c, item), k in zip(yvars[["cls_id", "item"]].itertuples(index=False, name=None), counts):
        if k <= 0:
            continue
        start = taken.get(c, 0)
        for nd in free[c][start:start + k]:
            chosen[cands.index.get_loc(pos_of[(nd, item)])] = True
        taken[c] = start + k
    return Solution(chosen, optimal, res.message, gap)
