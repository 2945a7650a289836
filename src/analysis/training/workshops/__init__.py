"""The budgeted workshop plan: which training to fund so that the budget closes the most gap.

Options. Employees with a gap in a competency are grouped by gap cluster, region and
competency (employees outside the clustering form a "no cluster" group in their region): a
trainer teaches one competency to people of one region who share a gap profile. Each catalogue
programme for the competency gives the group its options:

- a classroom (klasikal) programme, or any programme that needs several participants at once
  (a benchmarking visit or internship whose minimum is above one), is one *offer* to the group: the
  plan decides how many cohorts to open and whom to seat, each cohort of at least the programme
  minimum and at most min(programme maximum, ``workshops.max_cohort``). A group below the minimum
  gets no offer. Seated people are cut into the fewest balanced cohorts in order of gap (largest
  first), so people at a similar level learn together.
- a non-classroom programme that one person can take alone (coaching, mentoring, e-learning...)
  is offered per person. Its cost is linear in the participants (see trainer-days below), so a
  small group costs exactly the sum of its members: per-person options lose nothing and let the
  budget fund part of a group.

Cost of an option = n x cost_per_participant + trainer-days x ``costs.trainer_day`` +
venue-days x ``costs.venue_day``, with days = ceil(JP / ``jp_per_day``). A classroom cohort has
a trainer and a venue on each of its days: a fixed charge per cohort, whatever its size. Coaching, mentoring and on-the-job guidance take a
coach's time: by convention one coach-day serves a full group (the programme maximum), so each
participant accounts for days / max_participants trainer-days. Other non-classroom forms
(e-learning, distance learning, secondment, benchmarking, internship...) are delivered by a
platform or a host whose fee is the catalogue cost: no trainer-days, no venue.

Value. A programme is expected to close up to ``workshops.gain_for(form, mode)`` levels of a gap [U]; an
option's value is the sum over its participants of min(gap, gain): the gap levels it closes.

Choice. Fund the per-person options and open the cohorts (how many, of what size, who sits
in them) that close the most gap with a total cost within the budget, each employee x competency
covered at most once (programmes for the same people are alternatives), and optionally each person
within a JP cap (PPPK: at most 24 JP a contract year, PP 49/2018 art. 40 [S]). This is a knapsack
with fixed charges and packing constraints, solved exactly as a mixed-integer linear programme
(``scipy.optimize.milp``, HiGHS, relative gap 0). Because cohort size is a decision, "optimal"
means optimal over every real choice: 31 people, classes of 10 to 30 and Rp 38 M fund one cohort
of the 30 largest gaps, not one of two cohorts cut in advance. Among the
plans that close the most gap the cheapest is taken, so that no money is spent for nothing: a
cost tie-break worth less than half a unit of gap in total is part of the objective (under JP
caps, where that makes the solver far slower, the gap is solved alone and capped people are then
moved to cheaper options of the same value).

At scale. From ``core.CORE_MIN_CANDIDATES`` candidates on (a province of 30,000 employees has
75,000; the sample 4,000), the budget buys a few percent of them and the programme over all of them
is beyond HiGHS in minutes. A bound on every plan (the relaxation in ``core``) and a greedy plan are
computed first; when the greedy plan is within the plan's tolerance of the bound it is the plan,
proven. Otherwise the programme is solved on the core: the options the budget would buy twice over,
best gap closed per rupiah first, with the other per-person options of their needs. The plan reports
its gap to the bound on every plan (``mip_gap``), whatever the core left out.

Why not greedy by gap closed per rupiah: on a knapsack, greedy can be arbitrarily far from the
optimum (a cheap option with a high ratio takes the money a large class needed); the best of
greedy and of the single best option is within 1/2 of the optimum for a plain knapsack, but the
exclusivity between alternative programmes breaks even that guarantee. And the exact solution
takes seconds, because interchangeable people are counted rather than decided one by one (see
``solve``), and a per-person option that another option for the same need beats on value, cost (and
JP, under a cap) is dropped first: neither changes the optimum.
"""

from __future__ import annotations

from analysis.training.workshops.options import (
    CANDIDATE_COLUMNS,
    GUIDED_FORMS,
    NEED_KEY,
    NO_CLUSTER,
    OPTION_COLUMNS,
    REASONS,
    candidate_workshops,
    catalog_table,
    cohort_options,
    group_ids,
    is_grouped,
    largest_seating,
    need_table,
    option_costs,
    pppk_jp_cap,
    split_cohorts,
)
from analysis.training.workshops.plan import (
    WorkshopPlan,
    budget_curve,
    curve_point,
    marginal_gain,
    plan_from_solution,
    plan_workshops,
)

__all__ = [
    "CANDIDATE_COLUMNS", "GUIDED_FORMS", "NEED_KEY", "NO_CLUSTER", "OPTION_COLUMNS", "REASONS", "WorkshopPlan",
    "budget_curve", "candidate_workshops", "catalog_table", "cohort_options", "curve_point", "group_ids",
    "is_grouped", "largest_seating", "marginal_gain", "need_table", "option_costs", "plan_from_solution",
    "plan_workshops", "pppk_jp_cap", "split_cohorts",
]
