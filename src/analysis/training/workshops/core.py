"""Large candidate sets: the plan is solved on its *core* and checked against a bound on all of them.

With 100,000 employees a region has about 250,000 candidates, and a budget that buys a few percent
of them; HiGHS then finds no plan at all within minutes. A budget is spent on the options that close
the most gap per rupiah, so (as in the core algorithms for the knapsack problem, Balas & Zemel 1980;
Pisinger 1995) the programme is solved on the options that rank highest by gap closed per rupiah,
as many as ``CORE_FACTOR`` times the budget would buy, and every other option is left out.

The plan found is a plan of the whole problem (it only leaves options out), so its gap closed is a
lower bound. An upper bound on every plan of the whole problem comes from a relaxation that is
solved exactly in one pass per price: cohorts may be fractional (each seat then costs its seat price
plus its share of a full cohort's fixed charge), and the budget is priced (Lagrangian relaxation),
so that each uncapped need takes its best option on its own and each capped person the best choice
within their JP cap (a small knapsack over their needs, solved by dynamic programming). The bound
minimised over the price is reported beside the plan: the gap between the two is the most any plan
could add, proven, whatever the core left out.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

CORE_MIN_CANDIDATES = 20_000  # below it the whole problem is solved (the sample has ~4,000)
CORE_FACTOR = 2.0  # the core holds the options CORE_FACTOR x the budget buys, best ratio first


@dataclass(frozen=True)
class NeedOptions:
    """Every option of every need, one row each: value, cost and JP, with the need and the person.

    A seat in a cohort offer is priced at its seat cost plus 1/max_cohort of the cohort's fixed
    charge: the least a seat can cost (a full cohort), which is what makes the relaxation a bound."""

    need: np.ndarray  # need number (0..n_needs-1)
    value: np.ndarray
    cost: np.ndarray
    jp: np.ndarray
    candidate: np.ndarray  # position of the candidate row the option comes from
    single: np.ndarray  # bool: a per-person option (not a seat in a cohort offer)
    need_person: np.ndarray  # employee id of each need
    n_needs: int


def need_options(cands: pd.DataFrame) -> NeedOptions:
    """The options of the candidates (positions as in ``cands``), with positive value."""
    grouped = cands["grouped"].to_numpy(bool)
    single = np.flatnonzero(~grouped)
    offers = np.flatnonzero(grouped)
    # the columns as lists once (a column looked up per row cost most of the time at 100,000 employees)
    participants, values = cands["participants"].tolist(), cands["values"].tolist()
    seat_lines, cohort_lines = cands["seat_lines"].tolist(), cands["cohort_lines"].tolist()
    max_cohort = cands["max_cohort"].tolist()
    people = [participants[i][0] for i in single]
    parts = [(participants[i], values[i]) for i in offers]
    sizes = np.array([len(p) for p, _ in parts], dtype=int)
    seat_people = [e for p, _ in parts for e in p]
    seat_values = np.array([float(v) for _, vs in parts for v in vs], dtype=float)
    seat_price = np.array([seat_lines[i]["cost"] + cohort_lines[i]["cost"] / max(int(max_cohort[i]), 1)
                           for i in offers], dtype=float)
    comp = cands["competency_code"].to_numpy(object)
    person = np.array(people + seat_people, dtype=object)
    competency = np.concatenate([comp[single], np.repeat(comp[offers], sizes)]).astype(object)
    key = pd.MultiIndex.from_arrays([person, competency])
    need, uniques = pd.factorize(key, sort=True)
    value = np.concatenate([cands["value"].to_numpy(float)[single], seat_values])
    cost = np.concatenate([cands["cost"].to_numpy(float)[single], np.repeat(seat_price, sizes)])
    jp = np.concatenate([cands["jp"].to_numpy(float)[single], np.repeat(cands["jp"].to_numpy(float)[offers], sizes)])
    candidate = np.concatenate([single, np.repeat(offers, sizes)])
    is_single = np.r_[np.ones(len(single), dtype=bool), np.zeros(len(seat_values), dtype=bool)]
    keep = value > 0
    need_person = np.array([u[0] for u in uniques], dtype=object)
    return NeedOptions(need[keep], value[keep], cost[keep], jp[keep], candidate[keep], is_single[keep], need_person,
                       len(uniques))


class Relaxation:
    """The priced relaxation of the plan (module docstring): ``bound(budget)`` is at least the gap
    closed by every plan of the whole problem within the budget."""

    def __init__(self, options: NeedOptions, caps: Mapping[str, float] | None):
        self.o = options
        caps = dict(caps or {})
        capped_need = pd.Series(options.need_person).isin(caps).to_numpy()
        opt_capped = capped_need[options.need]
        self.free = ~opt_capped
        # the uncapped options grouped by need, for each need's best by one reduction (a maximum is
        # exact in any order, so this is what np.maximum.at over them gave, at a fraction of its cost)
        free_idx = np.flatnonzero(self.free)
        self.free_order = free_idx[np.argsort(options.need[free_idx], kind="stable")]
        sorted_needs = options.need[self.free_order]
        self.free_starts = np.flatnonzero(np.diff(sorted_needs, prepend=-1) != 0)  # needs are numbered from 0
        self.free_needs = sorted_needs[self.free_starts]
        # capped people: their options laid out person x need slot x option slot for the DP
        idx = np.flatnonzero(opt_capped)
        people = options.need_person[options.need[idx]]
        person_no, person_names = pd.factorize(people, sort=True)
        need_no = options.need[idx]
        order = np.lexsort((need_no, person_no))
        idx, person_no, need_no = idx[order], person_no[order], need_no[order]
        # slot of each need within its person, and of each option within its need
        first_of_need = np.r_[True, (need_no[1:] != need_no[:-1]) | (person_no[1:] != person_no[:-1])]
        need_rank = np.cumsum(first_of_need) - 1
        person_start = np.r_[True, person_no[1:] != person_no[:-1]]
        need_slot = need_rank - np.maximum.accumulate(np.where(person_start, need_rank, 0))
        opt_slot = np.arange(len(idx)) - np.maximum.accumulate(np.where(first_of_need, np.arange(len(idx)), 0))
        self.cap_idx, self.cap_person, self.cap_need_slot, self.cap_opt_slot = idx, person_no, need_slot, opt_slot
        # relaxing JP down and caps up keeps the bound valid with whole-number JP
        self.cap_jp = np.floor(options.jp[idx] + 1e-9).astype(int)
        # a cap above the most JP a person's options can add up to (their longest option per need) is
        # that total: the knapsack gives the same best for every capacity at or above it, and a cap of
        # a billion JP (or an infinite one) would otherwise be a table that wide
        most = np.zeros(len(person_names), dtype=int)
        if len(idx):
            longest = pd.Series(self.cap_jp).groupby([person_no, need_slot]).max()
            most = longest.groupby(level=0).sum().reindex(range(len(person_names)), fill_value=0).to_numpy(int)
        self.caps = np.array([m if not math.isfinite(caps[p]) or caps[p] > m else math.ceil(caps[p] - 1e-9)
                              for p, m in zip(person_names, most)], dtype=int)
        self.n_people = len(person_names)

    def priced(self, price: float) -> float:
        """Gap closed minus price x cost, at its best over the relaxation (without the budget term)."""
        o = self.o
        profit = o.value - price * o.cost
        free = np.zeros(o.n_needs)
        if len(self.free_order):
            best = np.maximum.reduceat(profit[self.free_order], self.free_starts)
            free[self.free_needs] = np.maximum(free[self.free_needs], best)
        total = float(free.sum())
        if self.n_people:
            total += float(self._capped(profit[self.cap_idx]).sum())
        return total

    def _capped(self, profit: np.ndarray) -> np.ndarray:
        """Each capped person's best total profit within their JP cap (at most one option per need):
        a knapsack over JP solved for all capped people at once, one need slot at a time."""
        width = int(self.caps.max()) + 1
        best = np.zeros((self.n_people, width))  # best[p, w]: best profit using at most w JP
        cols = np.arange(width)
        for k in range(int(self.cap_need_slot.max()) + 1):
            at_k = self.cap_need_slot == k
            new = best.copy()
            for j in range(int(self.cap_opt_slot[at_k].max()) + 1):
                sel = np.flatnonzero(at_k & (self.cap_opt_slot == j) & (profit > 0))
                if not len(sel):
                    continue
                p, w, r = self.cap_person[sel], self.cap_jp[sel], profit[sel]
                src = cols[None, :] - w[:, None]
                took = np.where(src >= 0, best[p[:, None], np.maximum(src, 0)] + r[:, None], -np.inf)
                # a person has one option in a (need slot, option slot): p has no repeats, so this is
                # np.maximum.at(new, p, took) without its cost
                new[p] = np.maximum(new[p], took)
            best = new
        return best[np.arange(self.n_people), self.caps]

    def bound(self, budget: float) -> tuple[float, float]:
        """(the bound, the price that gives it): the priced relaxation plus price x budget, minimised
        over the price (a convex function of it: golden-section search, then the best point seen)."""
        o = self.o
        top = float(np.max(o.value / np.maximum(o.cost, 1e-9))) if len(o.value) else 0.0

        def f(price: float) -> float:
            return self.priced(price) + price * budget

        lo, hi = 0.0, top
        g = (math.sqrt(5) - 1) / 2
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        fa, fb = f(a), f(b)
        seen = [(f(lo), lo), (f(hi), hi), (fa, a), (fb, b)]
        for _ in range(60):
            if fa <= fb:
                hi, b, fb = b, a, fa
                a = hi - g * (hi - lo)
                fa = f(a)
                seen.append((fa, a))
            else:
                lo, a, fa = a, b, fb
                b = lo + g * (hi - lo)
                fb = f(b)
                seen.append((fb, b))
            if hi - lo <= 1e-12 * max(top, 1e-300):
                break
        value, price = min(seen)
        return value, price


def core_options(options: NeedOptions, budget: float, factor: float = CORE_FACTOR) -> np.ndarray:
    """Bool per option: the options that ``factor`` x ``budget`` buys taken in order of gap closed per
    rupiah (the candidate's position breaks ties, so the core is the same on every run), and the
    per-person alternatives of their needs."""
    ratio = options.value / np.maximum(options.cost, 1e-9)
    order = np.lexsort((options.candidate, -ratio))
    spent = np.cumsum(options.cost[order])
    last = int(np.searchsorted(spent, factor * budget, side="right"))
    keep = np.zeros(len(ratio), dtype=bool)
    keep[order[:last + 1]] = True
    # and the other per-person options of those needs: alternatives (cheaper, or fewer JP) that let
    # the solver fit the budget and the caps exactly
    touched = np.zeros(options.n_needs, dtype=bool)
    touched[options.need[keep]] = True
    keep |= options.single & touched[options.need]
    return keep


def core_candidates(cands: pd.DataFrame, options: NeedOptions, keep: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The candidates restricted to the core's options: its per-person options, and the offers with
    only the participants whose seat is in the core. Returns them and their positions in ``cands``."""
    seat = ~options.single & keep
    seated = pd.Series(True, index=pd.MultiIndex.from_arrays(
        [options.candidate[seat], options.need_person[options.need[seat]]])).groupby(level=0)
    chosen = {int(pos): set(g.index.get_level_values(1)) for pos, g in seated}
    where = np.unique(options.candidate[keep])
    part = cands.iloc[where].reset_index(drop=True).copy()
    for i in np.flatnonzero(part["grouped"].to_numpy(bool)):
        who = chosen.get(int(where[i]), set())
        pairs = [(e, v) for e, v in zip(part.at[i, "participants"], part.at[i, "values"]) if e in who]
        part.at[i, "participants"] = [e for e, _ in pairs]
        part.at[i, "values"] = [v for _, v in pairs]
    return part, where


def greedy_inputs(cands: pd.DataFrame, options: NeedOptions) -> tuple[list[tuple], dict[int, tuple], list[tuple]]:
    """What the greedy plan starts from whatever the budget: each need's steps along its hull, each
    offer's seats, and the steps' queue entries in the order they come up. Made once for a curve's
    points, which took a third of the curve's time at 100,000 employees when every point made its own."""
    steps = _single_steps(options)
    queue = sorted((-ratio, pos, 0, k) for k, (ratio, pos, _, _, _) in enumerate(steps))
    return steps, _offer_seats(cands, options), queue


def greedy(cands: pd.DataFrame, options: NeedOptions, budget: float, caps: Mapping[str, float] | None,
           inputs: tuple[list[tuple], dict[int, tuple], list[tuple]] | None = None
           ) -> tuple[np.ndarray, dict[int, list[list]], float]:
    """A plan built in order of gap closed per rupiah while the budget, each need (once) and each JP
    cap allow: per-person options, as steps along each need's best options (the cheapest that pays,
    then upgrades to dearer ones of more value, as for the multiple-choice knapsack: Sinha & Zoltners
    1979), and cohorts of offers. An offer's next cohort is the seats that gain most (up to
    max_cohort, at least min_cohort): uncovered needs, or needs that give up a per-person option of
    less value for the seat. It is re-formed whenever it comes up, since people it counted on may have
    been served meanwhile (a lazy greedy: its ratio can only fall).

    With many small options it comes within a hair of the bound, and then no programme is needed:
    the bound proves how close it is. Returns the per-person candidates taken (bool per candidate),
    the cohorts ({offer position: [employee ids of each cohort]}) and the gap closed. ``inputs``: what
    ``greedy_inputs`` gives for these candidates (made here when not given); they are only read."""
    caps = dict(caps or {})
    covered = np.zeros(options.n_needs, dtype=bool)
    holds = np.full(options.n_needs, -1)  # the per-person option each need holds (-1: none)
    used: dict[str, float] = {}

    def fits(person, jp: float) -> bool:
        return person not in caps or used.get(person, 0.0) + jp <= caps[person] + 1e-9

    steps, offers, queue = inputs if inputs is not None else greedy_inputs(cands, options)

    def next_cohort(pos: int) -> tuple[list, float] | None:
        """The offer's next cohort and its cost (net of the per-person options its members give up), or
        None: the seats that gain most, uncovered needs or needs holding a per-person option of less
        value (an upgrade), each as (need, person, gain, seat value)."""
        seats, seat, fixed, hi, lo, jp = offers[pos]
        gains = []
        for need, person, v in seats:
            held = holds[need]
            if covered[need] and held < 0:
                continue  # seated in a cohort already
            gain = v - (options.value[held] if held >= 0 else 0.0)
            if gain > 1e-12 and fits(person, jp - (options.jp[held] if held >= 0 else 0.0)):
                gains.append((gain, need, person, v))
        gains.sort(key=lambda g: (-g[0], g[1]))
        who = [(need, person, gain, v) for gain, need, person, v in gains[:hi]]
        if len(who) < lo:
            return None
        refund = sum(options.cost[holds[w[0]]] for w in who if holds[w[0]] >= 0)
        return who, fixed + seat * len(who) - refund

    # entries (-ratio, position, kind, payload): kind 0 a per-person step, 1 an offer's next cohort. The
    # steps' ratios never change, so they come from their sorted list and only cohorts go through a heap;
    # the smaller of the two heads is taken each time, the order one heap of both gave (every entry is
    # distinct: one per step, at most one per offer), at a fraction of its cost
    heap: list = []
    for pos in offers:
        found = next_cohort(pos)
        if found:
            heap.append((_cohort_key(found), pos, 1, pos))
    heapq.heapify(heap)
    next_step = 0

    def head():
        """The smallest entry waiting, or None."""
        step = queue[next_step] if next_step < len(queue) else None
        if heap and (step is None or heap[0] < step):
            return heap[0]
        return step

    taken = np.zeros(len(cands), dtype=bool)
    cohorts: dict[int, list[list]] = {}
    left, value = float(budget) + 1e-6, 0.0
    while (entry := head()) is not None:
        if heap and entry is heap[0]:
            heapq.heappop(heap)
        else:
            next_step += 1
        ratio, pos, kind, i = entry
        if kind == 0:
            _, _, n, before, after = steps[i]
            person = options.need_person[n]
            if holds[n] != before or (before < 0 and covered[n]):
                continue  # the need moved on (or is seated in a cohort)
            dc = options.cost[after] - (options.cost[before] if before >= 0 else 0.0)
            dj = options.jp[after] - (options.jp[before] if before >= 0 else 0.0)
            if dc > left or not fits(person, dj):
                continue
            if before >= 0:
                taken[options.candidate[before]] = False
                value -= options.value[before]
            holds[n], covered[n] = after, True
            taken[options.candidate[after]] = True
            value += options.value[after]
            left -= dc
            if person in caps:
                used[person] = used.get(person, 0.0) + dj
            continue
        found = next_cohort(pos)
        if found is None:
            continue
        who, cost = found
        now = _cohort_key(found)
        waiting = head()
        if now > ratio + 1e-15 and waiting is not None and now > waiting[0]:  # worse than when queued: queue it again
            heapq.heappush(heap, (now, pos, 1, pos))
            continue
        if cost > left:
            continue
        jp = offers[pos][5]
        for need, person, gain, _ in who:
            held = holds[need]
            if held >= 0:  # the per-person option given up for the seat
                taken[options.candidate[held]] = False
                holds[need] = -1
                if person in caps:
                    used[person] = used.get(person, 0.0) - options.jp[held]
            covered[need] = True
            value += gain
            if person in caps:
                used[person] = used.get(person, 0.0) + jp
        left -= cost
        cohorts.setdefault(pos, []).append([w[1] for w in who])
        found = next_cohort(pos)
        if found:
            heapq.heappush(heap, (_cohort_key(found), pos, 1, pos))
    return taken, cohorts, float(value)


def _cohort_key(found: tuple[list, float]) -> float:
    """Heap key of a cohort: minus its gain per rupiah (a cohort that costs nothing net comes first)."""
    who, cost = found
    gain = sum(w[2] for w in who)
    return -gain / cost if cost > 1e-9 else -np.inf


def _single_steps(options: NeedOptions) -> list[tuple]:
    """Per need, its per-person options on the upper concave hull of value against cost, as steps
    (ratio of the step's value to its cost, candidate position, need, option before (-1: none),
    option after). Options under the hull are never worth taking by ratio."""
    single = np.flatnonzero(options.single)
    order = single[np.lexsort((options.candidate[single], -options.value[single], options.cost[single],
                               options.need[single]))]
    steps = []
    start = 0
    needs = options.need[order]
    while start < len(order):
        end = start
        while end < len(order) and needs[end] == needs[start]:
            end += 1
        hull: list[int] = []  # option indices, cost and value increasing, slopes decreasing
        for i in order[start:end]:
            if hull and options.value[i] <= options.value[hull[-1]] + 1e-12:
                continue  # no more value for at least the cost
            while hull:
                c0, v0 = (options.cost[hull[-2]], options.value[hull[-2]]) if len(hull) > 1 else (0.0, 0.0)
                c1, v1 = options.cost[hull[-1]], options.value[hull[-1]]
                # drop the last point if it lies on or under the line from the one before to this one
                if (v1 - v0) * (options.cost[i] - c0) <= (options.value[i] - v0) * (c1 - c0) + 1e-18:
                    hull.pop()
                else:
                    break
            hull.append(int(i))
        before, c0, v0 = -1, 0.0, 0.0
        for i in hull:
            ratio = (options.value[i] - v0) / max(options.cost[i] - c0, 1e-9)
            steps.append((ratio, int(options.candidate[i]), int(options.need[i]), before, i))
            before, c0, v0 = i, options.cost[i], options.value[i]
        start = end
    return steps


def _offer_seats(cands: pd.DataFrame, options: NeedOptions) -> dict[int, tuple]:
    """Per offer (candidate position): its seats as (need, person, value) in order of gap (largest
    first, then need), seat price, cohort charge, max and min cohort, JP."""
    seats = np.flatnonzero(~options.single)
    out = {}
    for pos in np.unique(options.candidate[seats]):
        at = seats[options.candidate[seats] == pos]
        at = at[np.lexsort((options.need[at], -options.value[at]))]
        who = [(int(options.need[i]), options.need_person[options.need[i]], float(options.value[i])) for i in at]
        seat, fixed = float(cands["seat_lines"].iat[pos]["cost"]), float(cands["cohort_lines"].iat[pos]["cost"])
        out[int(pos)] = (who, seat, fixed, max(int(cands["max_cohort"].iat[pos]), 1),
                         max(int(cands["min_cohort"].iat[pos]), 1), float(cands["jp"].iat[pos]))
    return out


def saturation_cost(options: NeedOptions) -> float:
    """What every need's best option costs (the cheapest among those of most value; a seat at its
    seat price plus its share of a full cohort): where a budget curve stops gaining."""
    frame = pd.DataFrame({"need": options.need, "value": options.value, "cost": options.cost})
    best = frame.sort_values(["need", "value", "cost"], ascending=[True, False, True]).drop_duplicates("need")
    return float(best["cost"].sum())
