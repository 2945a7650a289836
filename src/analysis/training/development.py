"""Individual development plans (PP 11/2017 art. 203-206): per employee with a competency gap,
the gaps in priority order, the activities that address them, and the 20 JP rule.

Priority. Largest gap first; on a tie the current position before the target position
(the job held comes before the promotion), then managerial before socio-cultural before
technical competencies, then by code.

Activities. A gap covered by the workshop plan gets its funded option (cost: the person's
share, the option's cost divided by its participants, so the shares add up to the plan's cost).
Any other gap gets the cheapest catalogue programme one person can take alone, marked unfunded
(cost: the catalogue fee plus the coach's share for coaching and mentoring): coaching or
mentoring first when no classroom cohort was open to the person (their group was too small for a
class: a coach replaces it), e-learning or other self-paced forms first otherwise. A gap whose
competency has no such programme gets no catalogue activity.

The 20 JP rule. Every PNS is owed at least ``workshops.min_jp`` JP of development a year (PP
11/2017 art. 203). What counts is what is secured: the funded activities (and the unfunded
ones only with ``count_unfunded``). A PNS below the minimum is topped up with in-house
activities credited by ``params.jp_table`` at no catalogue cost -- coaching by the direct
supervisor first, then mentoring, on-the-job guidance, self-study or a community of practice,
the first of these the agency's JP table credits -- in whole sessions, on their highest-priority
gap without a funded activity. In-house time is not free: a supervisor can give
``workshops.supervisor_inhouse_jp`` JP a year, shared among their staff in turn. Every PNS is
checked, with or without a gap (one without a gap is owed the 20 JP too). Whoever still falls short
(no in-house form credited, the supervisor's capacity used up, no known supervisor, or the optional
cap on in-house JP) has ``jp_shortfall`` and a ``reason``.

JP already received. With the ``training_history`` table, what counts towards the 20 JP is what
the employee has received in the year (``received_jp``) plus what the plan secures: the in-house
top-up covers only what is left (``jp_remaining``, the minimum less what was received), and the
plans show ``jp_received``, ``jp_remaining``, ``jp_planned`` (funded, unfunded when counted, and
in-house) beside the rest. The year is the year of the latest appraisal period (``plan_year``): the
year the run's data describe. A course counts in the year it ended (its ``end``, or its ``start``
when the end is not given); a course recorded twice -- the same person, first day and name (case and
spacing aside) -- counts once, with the largest JP recorded for it; courses whose dates overlap are
different courses and both count (an e-learning followed beside a classroom course is common).
Without the table the plans are exactly as they were: no received JP is assumed, none is shown.

PPPK are not owed the 20 JP: PP 11/2017 governs PNS, and PP 49/2018 art. 40 [S] gives PPPK
development of at most 24 JP per contract year (except certain JPT). A PPPK is therefore never
counted as failing the rule (``min_jp_applies`` False, ``meets_min_jp`` empty, reason
"pppk_not_owed"), gets no top-up, and is flagged (``over_jp_cap``) when funded activities exceed
the PPPK cap (funded and received together, when the received JP are known). Missing employment
type is treated as PNS (the rule applies).

The plans only read their inputs: no file is written here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from analysis.core import i18n
from analysis.core.codes import label
from analysis.core.params import Params
from analysis.core.periods import parse_period, sort_periods
from analysis.core.results import Results
from analysis.training.workshops import (
    GUIDED_FORMS,
    NEED_KEY,
    REASONS,
    WorkshopPlan,
    catalog_table,
    need_table,
    option_costs,
)

KIND_ORDER = {"manajerial": 0, "sosial_kultural": 1, "teknis": 2}
# In-house activities at no catalogue cost, in order of preference (credited by jp_table).
INHOUSE_FORMS = ("coaching", "mentoring", "bimbingan_kerja", "belajar_mandiri", "komunitas_belajar")
SELF_PACED_FORMS = ("e_learning", "pjj", "belajar_mandiri")


def _t(key: str, lang: str, **fields) -> str:
    """Text from the translation table (messages.yaml)."""
    return i18n.t(key, lang, **fields)


def _priority(nt: pd.DataFrame) -> pd.DataFrame:
    out = nt.assign(_basis=(nt["basis"] != "current").astype(int),
                    _kind=nt["kind"].map(KIND_ORDER).fillna(len(KIND_ORDER)).astype(int))
    out = out.sort_values(["employee_id", "gap", "_basis", "_kind", "competency_code"],
                          ascending=[True, False, True, True, True], kind="stable")
    out["priority"] = out.groupby("employee_id").cumcount() + 1
    return out.drop(columns=["_basis", "_kind"]).reset_index(drop=True)


def _individual_programmes(catalog: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Catalogue programmes one person can take alone, with their one-person cost."""
    cat = catalog_table(catalog)
    ind = cat[(cat["mode"] != "klasikal") & (cat["min_participants"] <= 1)].copy()
    ind["cost"] = [option_costs(r.mode, r.form, 1, r.jp, r.cost_per_participant, r.max_participants,
                                params.workshops, params.costs)["cost"] for r in ind.itertuples()]
    ind["guided"] = ind["form"].isin(GUIDED_FORMS)
    ind["self_paced"] = ind["form"].isin(SELF_PACED_FORMS)
    return ind


def development_activities(needs: pd.DataFrame, plan: WorkshopPlan, catalog: pd.DataFrame, params: Params,
                           lang: str = "id") -> pd.DataFrame:
    """One row per employee x competency gap, in priority order, with its activity.

    ``activity`` is "funded" (an option of the plan), "unfunded" (the cheapest suitable
    programme one person can take, see the module docstring) or "none".
    """
    nt = _priority(need_table(needs))
    cov = plan.coverage.set_index(NEED_KEY)
    key = pd.MultiIndex.from_frame(nt[NEED_KEY])
    nt["option_id"] = cov["option_id"].reindex(key).to_numpy() if len(cov) else None
    nt["left_out_reason"] = cov["reason"].reindex(key).to_numpy() if len(cov) else None
    nt["classroom_available"] = (cov["classroom_available"].reindex(key).fillna(False).astype(bool).to_numpy()
                                 if len(cov) else False)
    sel = plan.selected.set_index("option_id")
    funded = nt["option_id"].notna() & nt["option_id"].isin(sel.index)
    name_col = "competency_name_en" if lang == "en" else "competency_name_id"
    nt["competency_name"] = nt[name_col]

    out_cols = ["program_id", "program_name", "form", "mode", "provider", "jp", "cost"]
    acts = pd.DataFrame(index=nt.index, columns=out_cols, dtype=object)
    f = nt.loc[funded, "option_id"]
    if len(f):
        rows = sel.loc[f.to_numpy()]
        acts.loc[funded, "program_id"] = rows["program_id"].to_numpy()
        acts.loc[funded, "program_name"] = rows["program_name"].to_numpy()
        acts.loc[funded, "form"] = rows["form"].to_numpy()
        acts.loc[funded, "mode"] = rows["mode"].to_numpy()
        acts.loc[funded, "provider"] = rows["provider"].to_numpy()
        acts.loc[funded, "jp"] = rows["jp"].to_numpy()
        acts.loc[funded, "cost"] = (rows["cost"] / rows["n"]).to_numpy()

    ind = _individual_programmes(catalog, params)
    picks = []
    for code, g in ind.groupby("competency_code"):
        # guided first where no class was open to the person, self-paced first otherwise
        for guided_first, flag in ((True, "guided"), (False, "self_paced")):
            best = g.sort_values([flag, "cost", "program_id"], ascending=[False, True, True]).iloc[0]
            picks.append({"competency_code": code, "_guided_first": guided_first, "program_id": best["program_id"],
                          "program_name": best["name"], "form": best["form"], "mode": best["mode"],
                          "provider": best["provider"], "jp": best["jp"], "cost": best["cost"]})
    todo = nt.loc[~funded, ["competency_code"]].assign(_guided_first=~nt.loc[~funded, "classroom_available"])
    if picks and len(todo):
        got = todo.reset_index().merge(pd.DataFrame(picks), on=["competency_code", "_guided_first"], how="inner")
        acts.loc[got["index"].to_numpy(), out_cols] = got[out_cols].to_numpy()
    nt = pd.concat([nt, acts], axis=1)
    nt["activity"] = np.where(funded, "funded", np.where(nt["program_id"].notna(), "unfunded", "none"))
    nt["jp"] = pd.to_numeric(nt["jp"]).fillna(0.0).astype(float)
    nt["cost"] = pd.to_numeric(nt["cost"]).fillna(0.0).astype(float)
    gain = [params.workshops.gain_for(f, m) if isinstance(f, str) and isinstance(m, str) else np.nan
            for f, m in zip(nt["form"], nt["mode"])]
    nt["gap_closed"] = np.where(funded, np.minimum(nt["gap"].astype(float), np.asarray(gain, dtype=float)), 0.0)
    cols = ["employee_id", "priority", "competency_code", "competency_name", "kind", "gap", "basis", "activity",
            "option_id", "program_id", "program_name", "form", "mode", "provider", "jp", "cost", "gap_closed",
            "left_out_reason", "classroom_available", "employment_type", "unit_id", "region", "position_class",
            "cluster", "cluster_name_id", "cluster_name_en"]
    return nt[cols]


def _gap_texts(acts: pd.DataFrame, lang: str) -> list[str]:
    target = ", " + _t("dev.target", lang)
    return [f"{c} {n} ({g:.1f}{'' if b == 'current' else target})"
            for c, n, g, b in zip(acts["competency_code"], acts["competency_name"], acts["gap"], acts["basis"])]


def _activity_texts(acts: pd.DataFrame, lang: str) -> list[str]:
    words = {"funded": _t("dev.funded", lang), "unfunded": _t("dev.unfunded", lang)}
    return [_t(f"dev.none.{r if r in REASONS else 'no_programme'}", lang, code=c) if a == "none"
            else f"{c}: {p} {n} ({j:g} JP, {words[a]})"
            for c, a, p, n, j, r in zip(acts["competency_code"], acts["activity"], acts["program_id"],
                                        acts["program_name"], acts["jp"], acts["left_out_reason"])]


def development_plans(needs: pd.DataFrame, plan: WorkshopPlan, catalog: pd.DataFrame, params: Params, *,
                      lang: str = "id", count_unfunded: bool = False,
                      max_inhouse_jp: float | None = None, people: pd.DataFrame | None = None,
                      supervisor_of: pd.Series | None = None, received: pd.Series | None = None) -> pd.DataFrame:
    """One row per employee with a gap (and per person of ``people``): gaps by priority, activities, JP,
    cost and the 20 JP rule.

    ``people`` (employee_id, employment_type, unit_id, region, position_class) are everyone whose
    20 JP is checked: a PNS without a competency gap is owed the 20 JP too, and gets a row.
    ``supervisor_of`` (employee id -> direct supervisor's id) makes in-house capacity real: the top-up
    of a supervisor's staff shares ``workshops.supervisor_inhouse_jp`` JP a year, one session at a
    time in turn (by employee id) until it is used; who then still falls short says why.

    Columns: employee_id, employment_type, unit_id, region, position_class, cluster,
    cluster_name, cluster_name_en, n_gaps, total_gap, gaps, activities, n_funded, gap_closed,
    jp_funded, jp_unfunded, jp_inhouse, inhouse, jp_total, cost_funded, cost_unfunded, cost,
    min_jp_applies, meets_min_jp, jp_shortfall, over_jp_cap, reason, reason_text.
    ``count_unfunded`` counts unfunded activities towards the minimum (when the agency will
    fund them from elsewhere); ``max_inhouse_jp`` caps the in-house top-up.
    ``received`` (employee id -> JP received in the year, ``received_jp``) counts towards the minimum
    and adds the columns jp_received and jp_remaining (before jp_funded) and jp_planned (before
    jp_total); without it the columns and values are those above, unchanged.
    """
    acts = development_activities(needs, plan, catalog, params, lang)
    if acts.empty and (people is None or people.empty):
        return pd.DataFrame()
    min_jp = float(params.workshops.min_jp)
    form = next((f for f in INHOUSE_FORMS if f in params.jp_table), None)
    credit = float(params.jp_table[form]) if form else 0.0
    a = acts.assign(
        _gap_txt=_gap_texts(acts, lang), _act_txt=_activity_texts(acts, lang),
        _f=acts["activity"] == "funded", _u=acts["activity"] == "unfunded")
    a["jp_funded"] = a["jp"].where(a["_f"], 0.0)
    a["jp_unfunded"] = a["jp"].where(a["_u"], 0.0)
    a["cost_funded"] = a["cost"].where(a["_f"], 0.0)
    a["cost_unfunded"] = a["cost"].where(a["_u"], 0.0)
    # the in-house focus: the first gap (by priority) without a funded activity, else the first gap
    focus = a[~a["_f"]].groupby("employee_id")["competency_code"].first()
    g = a.groupby("employee_id", sort=True)
    out = g.agg(employment_type=("employment_type", "first"), unit_id=("unit_id", "first"),
                region=("region", "first"), position_class=("position_class", "first"),
                cluster=("cluster", "first"), cluster_name=("cluster_name_id", "first"),
                cluster_name_en=("cluster_name_en", "first"), n_gaps=("competency_code", "size"),
                total_gap=("gap", "sum"), gaps=("_gap_txt", "; ".join), activities=("_act_txt", "; ".join),
                n_funded=("_f", "sum"), gap_closed=("gap_closed", "sum"), jp_funded=("jp_funded", "sum"),
                jp_unfunded=("jp_unfunded", "sum"), cost_funded=("cost_funded", "sum"),
                cost_unfunded=("cost_unfunded", "sum"), _first_code=("competency_code", "first")).reset_index()
    if people is not None:  # everyone owed the 20 JP, with or without a gap
        out = pd.concat([out, _without_gaps(people, set(out["employee_id"]))], ignore_index=True)
        out = out.sort_values("employee_id", kind="stable").reset_index(drop=True)
    out["cost"] = out["cost_funded"] + out["cost_unfunded"]
    out["n_funded"] = out["n_funded"].astype(int)
    pppk = (out["employment_type"] == "PPPK").to_numpy()
    planned = out["jp_funded"] + (out["jp_unfunded"] if count_unfunded else 0.0)
    if received is not None:
        out["jp_received"] = received.reindex(out["employee_id"]).fillna(0.0).astype(float).to_numpy()
    secured = planned + out["jp_received"] if received is not None else planned
    short = np.where(pppk, 0.0, np.maximum(min_jp - secured.to_numpy(), 0.0))
    why = np.full(len(out), "", dtype=object)  # why a PNS short of the minimum gets no more in-house JP
    if form:
        sessions = np.ceil(short / credit - 1e-9).astype(int)
        if max_inhouse_jp is not None:
            capped = np.minimum(sessions, int(max_inhouse_jp // credit))
            why[capped < sessions] = "inhouse_cap"
            sessions = capped
        capacity = params.workshops.supervisor_inhouse_jp
        if supervisor_of is not None and capacity is not None:
            sup = supervisor_of.reindex(out["employee_id"]).to_numpy()
            granted = share_capacity(sessions, sup, int(capacity // credit))
            unknown = pd.isna(sup)
            why[(granted < sessions) & unknown] = "no_supervisor"
            why[(granted < sessions) & ~unknown] = "inhouse_capacity"
            sessions = granted
    else:
        sessions = np.zeros(len(out), dtype=int)
        why[:] = "no_inhouse_form"
    out["jp_inhouse"] = sessions * credit
    codes = focus.reindex(out["employee_id"]).fillna(pd.Series(out["_first_code"].to_numpy(),
                                                                index=out["employee_id"]))
    form_label = label("training_form", form, lang) if form else ""
    out["inhouse"] = [None if k == 0 else
                      _t("dev.inhouse", lang, form=form_label, sessions=int(k), credit=credit, jp=k * credit, code=c)
                      if isinstance(c, str) else
                      _t("dev.inhouse_no_gap", lang, form=form_label, sessions=int(k), credit=credit, jp=k * credit)
                      for k, c in zip(sessions, codes)]
    out["jp_total"] = secured + out["jp_inhouse"]
    meets = out["jp_total"].to_numpy() >= min_jp - 1e-9
    out["min_jp_applies"] = ~pppk
    out["meets_min_jp"] = pd.array(np.where(pppk, None, meets), dtype="boolean")
    out["jp_shortfall"] = np.where(pppk, np.nan, np.maximum(min_jp - out["jp_total"].to_numpy(), 0.0))
    pppk_jp = out["jp_funded"] + (out["jp_received"] if received is not None else 0.0)
    out["over_jp_cap"] = pppk & (pppk_jp.to_numpy() > params.workshops.pppk_max_jp + 1e-9)
    reason = np.where(pppk, "pppk_not_owed", np.where(meets, "", why))
    out["reason"] = pd.Series(reason, dtype="object").replace("", None)
    caps = {"inhouse_cap": max_inhouse_jp or 0.0, "inhouse_capacity": params.workshops.supervisor_inhouse_jp or 0.0}
    texts = []
    for r, sf in zip(out["reason"], out["jp_shortfall"]):
        texts.append(None if r is None else _t(f"dev.reason.{r}", lang, short=sf, cap=caps.get(r, 0.0))
                     if r != "pppk_not_owed" else _t("dev.reason.pppk_not_owed", lang))
    out["reason_text"] = texts
    out["cluster"] = out["cluster"].astype("Int64")
    cols = ["employee_id", "employment_type", "unit_id", "region", "position_class", "cluster", "cluster_name",
            "cluster_name_en", "n_gaps", "total_gap", "gaps", "activities", "n_funded", "gap_closed", "jp_funded",
            "jp_unfunded", "jp_inhouse", "inhouse", "jp_total", "cost_funded", "cost_unfunded", "cost",
            "min_jp_applies", "meets_min_jp", "jp_shortfall", "over_jp_cap", "reason", "reason_text"]
    if received is not None:
        out["jp_planned"] = planned + out["jp_inhouse"]
        out["jp_remaining"] = np.where(pppk, np.nan, np.maximum(min_jp - out["jp_received"].to_numpy(), 0.0))
        cols = cols[:cols.index("jp_funded")] + ["jp_received", "jp_remaining"] + cols[cols.index("jp_funded"):]
        cols.insert(cols.index("jp_total"), "jp_planned")
    return out[cols]


def plan_year(periods) -> int | None:
    """The year whose received JP count: the year of the latest appraisal period (the year the run's
    data describe); None when there is no period."""
    texts = [p for p in pd.unique(pd.Series(list(periods), dtype=object)) if isinstance(p, str)]
    latest = [parse_period(p) for p in sort_periods(texts)]
    years = [p.year for p in latest if p is not None]
    return years[-1] if years else None


def _fold_name(name: object) -> str | None:
    """A course name as compared for repeats: case and spacing aside."""
    if not isinstance(name, str) or not name.strip():
        return None
    return " ".join(name.split()).casefold()


def _courses_in_year(history: pd.DataFrame, year: int) -> pd.DataFrame:
    """The courses of ``history`` counted in ``year``, repeats folded: employee_id, first_day, jp, rows.

    A course counts in the year of its last day (``end``, else ``start``). Rows of one person with the
    same first day and name (case and spacing aside) are one course recorded twice: it counts once,
    with the largest JP recorded. Rows without a name fold only when their JP are equal too."""
    start = pd.to_datetime(history["start"]) if "start" in history else pd.Series(pd.NaT, index=history.index)
    end = pd.to_datetime(history["end"]) if "end" in history else pd.Series(pd.NaT, index=history.index)
    counted_on, first_day = end.fillna(start), start.fillna(end)
    jp = pd.to_numeric(history["jp"], errors="coerce").clip(lower=0).fillna(0.0).astype(float)
    names = history["name"].map(_fold_name) if "name" in history else pd.Series(None, index=history.index)
    # an unnamed record is told apart by its JP: only equal unnamed records of one day fold
    key = names.where(names.notna(), pd.Series(["\x00jp=" + repr(v) for v in jp], index=jp.index, dtype=object))
    rows = pd.DataFrame({"employee_id": history["employee_id"], "first_day": first_day, "_key": key, "jp": jp})
    rows = rows[(counted_on.dt.year == year).to_numpy()]
    if rows.empty:
        return pd.DataFrame({"employee_id": pd.Series(dtype=object), "first_day": pd.Series(dtype="datetime64[ns]"),
                             "jp": pd.Series(dtype=float), "rows": pd.Series(dtype=int)})
    folded = rows.groupby(["employee_id", "first_day", "_key"], sort=True).agg(jp=("jp", "max"), rows=("jp", "size"))
    return folded.reset_index().drop(columns="_key")


def received_jp(history: pd.DataFrame, year: int) -> pd.DataFrame:
    """JP each employee received in ``year`` (``training_history``): employee_id, jp_received, courses,
    repeats (rows folded as a course recorded twice). Only employees with a course in the year."""
    c = _courses_in_year(history, year)
    out = c.groupby("employee_id", sort=True).agg(jp_received=("jp", "sum"), courses=("jp", "size"),
                                                  rows=("rows", "sum")).reset_index()
    out["repeats"] = (out.pop("rows") - out["courses"]).astype(int)
    out["courses"] = out["courses"].astype(int)
    return out


def history_counts(history: pd.DataFrame, year: int) -> dict:
    """What the training history holds for ``year``: records counted, courses after folding repeats,
    people, and records that cannot be placed in any year (no date)."""
    c = _courses_in_year(history, year)
    dated = pd.Series(False, index=history.index)
    for col in ("start", "end"):
        if col in history:
            dated |= pd.to_datetime(history[col]).notna()
    return {"year": int(year), "records": int(c["rows"].sum()), "courses": int(len(c)),
            "repeats_folded": int(c["rows"].sum() - len(c)), "employees": int(c["employee_id"].nunique()),
            "undated_records": int((~dated).sum())}


def direct_supervisors(outcomes: pd.DataFrame) -> pd.Series:
    """Each employee's direct supervisor: the appraising rater of their latest period."""
    a = outcomes.dropna(subset=["rater_id"])
    order = a["period"].map({p: i for i, p in enumerate(sort_periods(a["period"].unique()))})
    latest = a.assign(_order=order).sort_values(["employee_id", "_order"], kind="stable")
    return latest.drop_duplicates("employee_id", keep="last").set_index("employee_id")["rater_id"]


def _without_gaps(people: pd.DataFrame, with_gaps: set) -> pd.DataFrame:
    """Rows of the plans for the people with no competency gap: nothing funded, nothing to close."""
    rest = people[~people["employee_id"].isin(with_gaps)].drop_duplicates("employee_id")
    cols = ["employee_id", "employment_type", "unit_id", "region", "position_class"]
    out = rest.reindex(columns=cols).reset_index(drop=True)
    zeros = {"n_gaps": 0, "total_gap": 0.0, "gaps": "", "activities": "", "n_funded": 0, "gap_closed": 0.0,
             "jp_funded": 0.0, "jp_unfunded": 0.0, "cost_funded": 0.0, "cost_unfunded": 0.0}
    return out.assign(cluster=np.nan, cluster_name=None, cluster_name_en=None, _first_code=None, **zeros)


def share_capacity(sessions: np.ndarray, supervisor: np.ndarray, capacity: int) -> np.ndarray:
    """In-house sessions each person gets when every supervisor can give ``capacity`` sessions a year:
    one session at a time to each of their staff who still needs one, in turn (by position in the
    arrays), until it is used. People without a known supervisor get none."""
    granted = np.zeros(len(sessions), dtype=int)
    staff: dict = {}
    for i, sup in enumerate(supervisor):
        if sessions[i] > 0 and not pd.isna(sup):
            staff.setdefault(sup, []).append(i)
    for members in staff.values():
        left = capacity
        while left > 0:
            waiting = [i for i in members if granted[i] < sessions[i]]
            if not waiting:
                break
            for i in waiting[:left]:
                granted[i] += 1
            left -= min(left, len(waiting))
    return granted


@dataclass(frozen=True)
class DevelopmentSummary(Results):
    """Key figures of the development plans (for results files and the brief)."""

    people: int
    pns: int
    pppk: int
    pns_meeting_min_jp: int
    pns_met_by_funded: int  # the funded activities alone reach the minimum
    pns_topped_up: int
    pns_short: int
    pppk_over_cap: int
    inhouse_jp: float
    mean_jp_total_pns: float
    cost_funded: float
    cost_unfunded: float
    unfunded_activities: int
    gaps_without_activity: int
    # only with a training history (``received_summary``); absent from to_dict otherwise
    received: dict | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        if out["received"] is None:
            del out["received"]
        return out

    title = "Development plans: people, the 20 JP rule, JP and cost"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])


def received_summary(plans: pd.DataFrame, min_jp: float, history: dict) -> dict:
    """The received JP of the PNS in the plans, with ``history_counts``: how many have received some, how
    many have not yet reached the minimum in the year (before the plan), and how many are still short
    after it."""
    pns = plans[plans["min_jp_applies"]]
    got = pns["jp_received"]
    return {**history, "min_jp": float(min_jp), "pns": int(len(pns)), "pns_received_any": int((got > 0).sum()),
            "pns_reached_by_received": int((got >= min_jp - 1e-9).sum()),
            "pns_below_min_received": int((got < min_jp - 1e-9).sum()),
            "pns_short_after_plan": int((~pns["meets_min_jp"].fillna(False)).sum()),
            "jp_received_pns": float(got.sum()), "mean_jp_received_pns": float(got.mean()) if len(pns) else None,
            "jp_remaining_pns": float(pns["jp_remaining"].sum())}


def summarise(plans: pd.DataFrame, min_jp: float, activities: pd.DataFrame | None = None,
              history: dict | None = None) -> DevelopmentSummary:
    """Counts over the plans: who meets the 20 JP rule and how, PPPK, costs; with ``history``
    (``history_counts``) and plans that carry received JP, the received JP too."""
    pns = plans[plans["min_jp_applies"]] if len(plans) else plans
    acts = activities if activities is not None else pd.DataFrame(columns=["activity"])
    return DevelopmentSummary(
        people=len(plans), pns=len(pns), pppk=int((~plans["min_jp_applies"]).sum()) if len(plans) else 0,
        pns_meeting_min_jp=int(pns["meets_min_jp"].fillna(False).sum()) if len(pns) else 0,
        pns_met_by_funded=int((pns["jp_funded"] >= min_jp - 1e-9).sum()) if len(pns) else 0,
        pns_topped_up=int((pns["jp_inhouse"] > 0).sum()) if len(pns) else 0,
        pns_short=int((~pns["meets_min_jp"].fillna(False)).sum()) if len(pns) else 0,
        pppk_over_cap=int(plans["over_jp_cap"].sum()) if len(plans) else 0,
        inhouse_jp=float(plans["jp_inhouse"].sum()) if len(plans) else 0.0,
        mean_jp_total_pns=float(pns["jp_total"].mean()) if len(pns) else float("nan"),
        cost_funded=float(plans["cost_funded"].sum()) if len(plans) else 0.0,
        cost_unfunded=float(plans["cost_unfunded"].sum()) if len(plans) else 0.0,
        unfunded_activities=int((acts["activity"] == "unfunded").sum()),
        gaps_without_activity=int((acts["activity"] == "none").sum()),
        received=received_summary(plans, min_jp, history)
        if history is not None and len(plans) and "jp_received" in plans else None,
    )


def jp_by_employment_type(plans: pd.DataFrame) -> pd.DataFrame:
    """Per employment type: people with a plan, how many meet the minimum JP, JP funded and in-house, cost;
    with received JP (a training history), also the JP received and how many had not reached the
    minimum before the plan."""
    out = plans.groupby("employment_type").agg(
        n=("employee_id", "size"), meets_min_jp=("meets_min_jp", lambda s: int(s.fillna(False).sum())),
        jp_funded=("jp_funded", "sum"), jp_inhouse=("jp_inhouse", "sum"), cost=("cost", "sum")).reset_index()
    if "jp_received" not in plans:
        return out
    extra = plans.groupby("employment_type").agg(
        jp_received=("jp_received", "sum"),
        below_min_received=("jp_remaining", lambda s: int((s > 1e-9).sum()))).reset_index()
    return out.merge(extra, on="employment_type", how="left")
