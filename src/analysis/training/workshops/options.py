"""Workshop options: needs grouped by cluster, region and competency, and every option the catalogue
offers each group (classroom cohorts, per-person places), with its cost, JP and value.

How groups, cohorts, costs and values are formed is told in ``analysis.training.workshops``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.core.codes import TRAINING_FORMS
from analysis.core.params import Costs, Workshops

NEED_KEY = ["employee_id", "competency_code"]
# Forms that take a coach's time (trainer-days pro rata of a full group).
GUIDED_FORMS = ("coaching", "mentoring", "bimbingan_kerja")
# Why a need is left out of the plan.
REASONS = ("budget", "group_too_small", "no_programme")
NO_CLUSTER = "-"

NEED_COLUMNS = ["employee_id", "competency_code", "gap", "basis", "required_level", "level", "unit_id",
              "position_class", "job_family", "employment_type", "region", "competency_name_id",
              "competency_name_en", "kind", "cluster", "cluster_name_id", "cluster_name_en"]

OPTION_COLUMNS = [
    "option_id", "group_id", "cluster", "cluster_name_id", "cluster_name_en", "region", "competency_code",
    "competency_name_id", "competency_name_en", "program_id", "program_name", "provider", "mode", "form",
    "cohort", "n_cohorts", "participants", "n", "jp", "days", "trainer_days", "venue_days",
    "cost_per_participant", "cost_participants", "cost_trainers", "cost_venue", "cost", "value",
]
# The cost lines of an option, each linear in its participants and its cohorts.
COST_LINES = ("trainer_days", "venue_days", "cost_participants", "cost_trainers", "cost_venue", "cost")
# A candidate is an option (one person) or an offer (a programme open to a group, to be cut into cohorts
# by the plan); both carry the terms the optimisation needs.
CANDIDATE_COLUMNS = [*OPTION_COLUMNS, "grouped", "min_cohort", "max_cohort", "values", "seat_lines",
                     "cohort_lines"]


def need_table(needs: pd.DataFrame) -> pd.DataFrame:
    """One row per employee x competency with its group.

    A promotion candidate may have a current-position row and a larger target-position row
    for the same competency: one programme serves both, so the larger gap is kept (on a tie,
    the current basis). ``group_id`` names the (region, cluster, competency) group.
    """
    n = needs.copy()
    for col in NEED_COLUMNS:
        if col not in n:
            n[col] = pd.NA
    n = n[NEED_COLUMNS].copy()
    n["cluster"] = n["cluster"].astype("Int64")
    n["_target"] = (n["basis"] != "current").astype(int)
    n = n.sort_values(["employee_id", "competency_code", "gap", "_target"],
                      ascending=[True, True, False, True], kind="stable")
    n = n.drop_duplicates(NEED_KEY).drop(columns="_target")
    n["group_id"] = group_ids(n)
    return n.reset_index(drop=True)


def group_ids(frame: pd.DataFrame) -> pd.Series:
    """'region/K<cluster>/competency', with '-' for people outside the clustering."""
    cl = frame["cluster"].astype("Int64")
    cl_txt = pd.Series(np.where(cl.isna(), NO_CLUSTER, "K" + cl.astype("string").fillna("")),
                       index=frame.index)
    return frame["region"].astype(str) + "/" + cl_txt + "/" + frame["competency_code"].astype(str)


def largest_seating(n: int, lo: int, hi: int) -> int:
    """The most of ``n`` people that cohorts of ``lo``..``hi`` can seat (0 when n < lo)."""
    lo, hi = max(int(lo), 1), int(hi)
    if hi < lo:
        return 0
    for m in range(int(n), lo - 1, -1):
        if m >= math.ceil(m / hi) * lo:
            return m
    return 0


def split_cohorts(people: list, hi: int) -> list[list]:
    """People (in gap order) cut into the fewest balanced cohorts of at most ``hi``: the first
    cohorts hold the largest gaps, so people at a similar level learn together."""
    if not people:
        return []
    k = math.ceil(len(people) / int(hi))
    base, extra = divmod(len(people), k)
    sizes = [base + 1] * extra + [base] * (k - extra)
    bounds = np.cumsum([0, *sizes])
    return [list(people[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def cohort_options(offer: Mapping, cohorts: list[list]) -> list[dict]:
    """The option rows (``OPTION_COLUMNS``) of the cohorts the plan cut from ``offer``: cost lines of
    ``cohort_lines`` once per cohort plus ``seat_lines`` per participant, value the participants' own."""
    value_of = dict(zip(offer["participants"], offer["values"]))
    rows = []
    for k, who in enumerate(cohorts, start=1):
        lines = {c: offer["cohort_lines"][c] + len(who) * offer["seat_lines"][c] for c in COST_LINES}
        rows.append({**{c: offer[c] for c in OPTION_COLUMNS}, **lines,
                     "option_id": f"{offer['option_id']}/{k:03d}", "cohort": k, "n_cohorts": len(cohorts),
                     "participants": list(who), "n": len(who), "value": float(sum(value_of[e] for e in who))})
    return rows


def catalog_table(catalog: pd.DataFrame) -> pd.DataFrame:
    """The training catalogue with defaults filled: provider, delivery mode, participant limits."""
    c = catalog.copy()
    if "provider" not in c:
        c["provider"] = None
    if "mode" not in c:
        c["mode"] = None
    c["mode"] = c["mode"].where(c["mode"].notna(), c["form"].map(TRAINING_FORMS))
    c["min_participants"] = pd.to_numeric(c["min_participants"], errors="coerce").fillna(1).clip(lower=1).astype(int)
    c["max_participants"] = pd.to_numeric(c["max_participants"], errors="coerce").fillna(10**6).astype(int)
    c["jp"] = c["jp"].astype(float)
    c["cost_per_participant"] = c["cost_per_participant"].astype(float)
    cols = ["program_id", "competency_code", "name", "mode", "form", "jp", "cost_per_participant",
            "min_participants", "max_participants", "provider"]
    return c[cols].sort_values("program_id", kind="stable").reset_index(drop=True)


def is_grouped(mode: str, min_participants: int) -> bool:
    """Does the programme run as cohorts (classroom, or needs several at once) or per person?"""
    return mode == "klasikal" or min_participants > 1


def option_costs(mode: str, form: str, n: int, jp: float, cost_per_participant: float, max_participants: int,
                 workshops: Workshops, costs: Costs) -> dict[str, float]:
    """Days, trainer-days, venue-days and cost lines of one option (see the module docstring)."""
    days = math.ceil(jp / workshops.jp_per_day - 1e-9) if jp > 0 else 0
    if mode == "klasikal":
        trainer_days, venue_days = float(days), float(days)
    elif form in GUIDED_FORMS:
        trainer_days, venue_days = days * n / max(max_participants, 1), 0.0
    else:
        trainer_days, venue_days = 0.0, 0.0
    c_part = n * cost_per_participant
    c_tr = trainer_days * costs.trainer_day
    c_ven = venue_days * costs.venue_day
    return {"days": days, "trainer_days": trainer_days, "venue_days": venue_days, "cost_participants": c_part,
            "cost_trainers": c_tr, "cost_venue": c_ven, "cost": c_part + c_tr + c_ven}


def candidate_workshops(needs: pd.DataFrame, catalog: pd.DataFrame, workshops: Workshops, costs: Costs,
                        jp_cap: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Every option the catalogue offers the groups of ``needs`` (columns: ``CANDIDATE_COLUMNS``).

    A programme run in cohorts gives one *offer* per group (``grouped``): ``participants`` are the
    people it is open to, in order of gap, ``values`` what each would close; how many cohorts and who
    sits in them is the plan's decision. Its ``cost``, ``value`` and ``n_cohorts`` are those of seating
    the most people cohorts of ``min_cohort``..``max_cohort`` can hold. A programme one person can take
    alone gives one option per person (``participants`` of one). ``jp_cap`` (employee id ->
    most JP a year) keeps a person out of a programme longer than their cap.
    The table carries ``attrs["programmed"]``: the competencies the catalogue has programmes
    for, so that the plan can tell "no programme" from "group too small".
    """
    nt = need_table(needs)
    cat = catalog_table(catalog)
    caps = dict(jp_cap or {})
    # built column by column: a dict per option was 600 MiB at 100,000 employees (250,000 options)
    table = _Columns(CANDIDATE_COLUMNS)
    progs_of = {code: list(g.itertuples(index=False)) for code, g in cat.groupby("competency_code", sort=True)}
    # one order for every cohort: largest gap first, current position before target, by unit
    nt = nt.assign(_basis=(nt["basis"] != "current").astype(int))
    nt = nt.sort_values(["group_id", "gap", "_basis", "unit_id", "employee_id"],
                        ascending=[True, False, True, True, True], kind="stable", na_position="last")
    gids = nt["group_id"].to_numpy()
    ids_all = nt["employee_id"].to_numpy()
    gaps_all = nt["gap"].to_numpy(float)
    bounds = np.flatnonzero(np.r_[True, gids[1:] != gids[:-1], True])
    head_cols = ["cluster", "cluster_name_id", "cluster_name_en", "region", "competency_code",
                 "competency_name_id", "competency_name_en"]
    heads = nt[head_cols].to_dict("records")
    for a, b in zip(bounds[:-1], bounds[1:]):
        head = {**heads[a], "group_id": gids[a]}
        progs = progs_of.get(head["competency_code"])
        if not progs:
            continue
        for prog in progs:
            gain = workshops.gain_for(prog.form, prog.mode)
            ids, gaps = ids_all[a:b], gaps_all[a:b]
            if caps:
                keep = np.array([caps.get(e, math.inf) >= prog.jp for e in ids], dtype=bool)
                ids, gaps = ids[keep], gaps[keep]
            if not len(ids):
                continue
            vals = np.minimum(gaps, gain)
            p_head = {**head, "program_id": prog.program_id, "program_name": prog.name, "provider": prog.provider,
                      "mode": prog.mode, "form": prog.form, "jp": prog.jp,
                      "cost_per_participant": prog.cost_per_participant}
            if is_grouped(prog.mode, prog.min_participants):
                cap = min(prog.max_participants, workshops.max_cohort)
                seats = largest_seating(len(ids), prog.min_participants, cap)
                if not seats:
                    continue  # the group is too small for a cohort
                zero = option_costs(prog.mode, prog.form, 0, prog.jp, prog.cost_per_participant,
                                    prog.max_participants, workshops, costs)
                one = option_costs(prog.mode, prog.form, 1, prog.jp, prog.cost_per_participant,
                                   prog.max_participants, workshops, costs)
                per_cohort = {c: zero[c] for c in COST_LINES}
                per_seat = {c: one[c] - zero[c] for c in COST_LINES}
                k = math.ceil(seats / cap)
                table.add({**p_head, "option_id": f"{prog.program_id}/{head['group_id']}", "cohort": 0,
                           "n_cohorts": k, "participants": ids.tolist(), "n": len(ids),
                           "value": float(vals[:seats].sum()), "days": zero["days"],
                           **{c: per_cohort[c] * k + per_seat[c] * seats for c in COST_LINES},
                           "grouped": True, "min_cohort": prog.min_participants, "max_cohort": cap,
                           "values": vals.tolist(), "seat_lines": per_seat, "cohort_lines": per_cohort})
                continue
            one = option_costs(prog.mode, prog.form, 1, prog.jp, prog.cost_per_participant,
                               prog.max_participants, workshops, costs)
            # one pair of cost-line dicts for all the options of a programme and group (read, never
            # changed): a pair per option was half the candidates' memory at 100,000 employees
            seat_lines, cohort_lines = {c: one[c] for c in COST_LINES}, dict.fromkeys(COST_LINES, 0.0)
            values = [float(v) for v in vals.tolist()]
            table.add({**p_head, "n_cohorts": len(ids), "n": 1, **one, "grouped": False, "min_cohort": 1,
                       "max_cohort": 1, "seat_lines": seat_lines, "cohort_lines": cohort_lines},
                      option_id=[f"{prog.program_id}/{head['group_id']}/{k:03d}" for k in range(1, len(ids) + 1)],
                      cohort=list(range(1, len(ids) + 1)), participants=[[e] for e in ids.tolist()],
                      value=values, values=[[v] for v in values])
    out = table.frame()
    out["cluster"] = out["cluster"].astype("Int64")
    for col in ("n", "cohort", "n_cohorts", "days", "min_cohort", "max_cohort"):
        out[col] = out[col].astype(int)
    out["grouped"] = out["grouped"].astype(bool)
    out.attrs["programmed"] = sorted(cat["competency_code"].unique().tolist())
    return out


class _Columns:
    """A table built column by column: ``add`` appends a block of rows sharing the values of ``same``
    (one row, or as many as the lists in ``each``), ``frame`` gives the DataFrame, with the dtypes
    ``pd.DataFrame`` infers from the same rows as dicts (``tests/training/test_workshops.py``)."""

    def __init__(self, columns: list[str]):
        self.columns = columns
        self.data: dict[str, list] = {c: [] for c in columns}

    def add(self, same: Mapping, **each: list) -> None:
        n = len(next(iter(each.values()))) if each else 1
        for c, values in self.data.items():
            values.extend(each[c] if c in each else [same[c]] * n)

    def frame(self) -> pd.DataFrame:
        if not self.data[self.columns[0]]:
            return pd.DataFrame([], columns=self.columns)
        return pd.DataFrame(self.data, columns=self.columns)


def pppk_jp_cap(needs: pd.DataFrame, max_jp: float) -> dict[str, float]:
    """JP caps for PPPK employees: ``max_jp`` each (params ``workshops.pppk_max_jp``; PP 49/2018 art. 40)."""
    p = needs.loc[needs["employment_type"] == "PPPK", "employee_id"].drop_duplicates()
    return {e: float(max_jp) for e in sorted(p)}
