"""Did the new appraisal scheme improve public services? Staggered-adoption difference-in-differences.

Units (offices, schools, puskesmas) adopt the new appraisal scheme in different quarters. The question
for the analyst is whether their service outcomes (IKM satisfaction index, IKU attainment) moved after
adoption relative to what they would have done without it. Comparing adopters with non-adopters in a
single two-way fixed-effects regression (``twfe``) is biased when the effect grows with time since
adoption: already-adopted units then serve as controls for later adopters and their growing effect is
subtracted (Goodman-Bacon 2021; ``bacon_decomposition`` shows how much weight those comparisons get).

The estimator is Callaway & Sant'Anna (2021): one effect ATT(g,t) per adoption cohort g and period t,
each a 2×2 comparison of cohort g with units not (yet) treated — never-treated units
(``control="never"``) or also units adopting after t (``"notyet"``) — with the base period g−1 for t ≥ g
and t−1 before adoption (``base_period="varying"``). Each 2×2 is the improved doubly robust estimator of
Sant'Anna & Zhao (2020) (``method="dr"``), inverse probability weighting (``"ipw"``) or outcome
regression (``"reg"``), optionally with covariates (taken at the base period). Standard errors come
from the influence functions; the ATT(g,t) are aggregated into an overall effect (``simple``), by cohort
(``group``), by time since adoption (``dynamic``, the event study) and by calendar period
(``calendar``), each with its influence function (including the part from estimating the cohort-size
weights). A multiplier bootstrap of those influence functions (Mammen or Rademacher weights, seeded)
gives the critical value of simultaneous bands over all rows of a table. The Wald pre-test asks whether
all pre-adoption ATT(g,t) are zero (``pretest``, exactly R's ``did`` W and p); ``pretest_event`` does the
same on the event-study pre-periods; ``pretest_band`` asks it with the sup-t statistic over the
pre-adoption event times (max |estimate / se|) against a studentized multiplier bootstrap: each draw
is divided by its own standard error, and standard errors carry a degrees-of-freedom correction within
each cohort (``inference.sup_t_pretest``). It never inverts a covariance matrix. The Wald tests use
covariances estimated from the influence functions, and with small cohorts both reject too often when
trends are parallel: on simulated panels shaped like the workbench sample (110 units, 16 quarters,
smallest cohort 6 units, 35 pre-adoption cells, no effect, no trend differences) ``pretest`` rejected at
5% in 98% of 200 panels, ``pretest_event`` in 19% (benchmarks/rollout_libraries.md); ``pretest_band``
in 4.9% of 4,000 (6.7% when the draws were divided by the observed standard errors, as R's ``mboot``
does for bands). A cohort with fewer units than pre-adoption periods makes the full test's covariance
nearly singular in its own block; the fit then says so in ``notes``. Read a rejection as a reason to
look at the event-study plot, not as proof of diverging trends.

Implementation: the ATT(g,t), their influence functions, the aggregations and the pre-test statistic
come from **moderndid** (a Python port of R's ``did``/``DRDID``), which reproduces the R package's
published results on ``mpdta`` (tests/reference/did) to ~1e-15 for all four scenarios, installs with
pandas 3 / numpy 2.4 / scipy 1.17 / statsmodels 0.15, and is maintained. diff-diff matched the
ATT(g,t) too but lacks the calendar aggregation, the overall effects of the group and dynamic
aggregations and the pre-test; csdid matched everything but pulls in twine, keyring and plotnine at run
time and prints to stdout (benchmarks/rollout_libraries.md). Own code here: the panel preparation
(quarters, balance, cohorts), the simultaneous bands (multiplier bootstrap with analytic standard
errors), the event-time pre-test (studentized multiplier bootstrap), the tables and summaries; the
heterogeneity by region (``by_group``); the two-way fixed-effects contrast and the Goodman-Bacon
decomposition (``twfe``); and the planning of the next wave by placebo simulation (``power``).

What it can and cannot say: ATT(g,t) is the effect on the units that adopted, as long as they would
have followed the same trend as the comparison units without the scheme (parallel trends, conditional
on covariates if given) and did not change before adopting (no anticipation). The pre-test can reject
that, never prove it: a pre-test that does not reject with few units says little. Units that chose to
adopt early may differ from late adopters; the effect is theirs, not that of a unit picked at random.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.core.jsonsafe import plain, scalar
from analysis.core.results import Results
from analysis.stats.did.inference import SE_FLOOR, Pretest, multiplier_weights, sup_t_critical, sup_t_pretest, wald
from analysis.stats.did.panel import NEVER, PeriodScale, PreparedPanel, prepare
from analysis.stats.intervals import z_value

CONTROLS = {"never": "nevertreated", "notyet": "notyettreated"}
METHODS = ("dr", "ipw", "reg")
AGGREGATIONS = ("simple", "group", "dynamic", "calendar")


# --- the library ---------------------------------------------------------------------------------


def _moderndid():
    try:
        from moderndid.did import aggte, att_gt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("analysis.stats.did needs the moderndid package (pip install 'moderndid>=0.2,<0.3'); "
                          "see benchmarks/rollout_libraries.md") from exc
    return att_gt, aggte


def _notes_from(caught: list[warnings.WarningMessage]) -> list[str]:
    """The library's warnings about the data (UserWarning) become notes; others are passed on."""
    notes = []
    for w in caught:
        if issubclass(w.category, (UserWarning, RuntimeWarning)) and not issubclass(w.category, FutureWarning):
            notes.append(str(w.message).strip())
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    # sorted: the library's warnings do not always come in the same order, and the results file
    # must be the same for the same inputs
    return sorted(dict.fromkeys(notes))


# --- results -------------------------------------------------------------------------------------


def _interval(est, se, z):
    return est - z * se, est + z * se


@dataclass(frozen=True, eq=False)
class Aggregate(Results):
    """One aggregation of the ATT(g,t): a table by event time / cohort / period and the overall effect."""

    kind: str  # simple, group, dynamic or calendar
    table: pd.DataFrame  # estimate, se, ci_low, ci_high (+ cband_low, cband_high but for simple)
    overall: pd.Series  # estimate, se, ci_low, ci_high
    alpha: float
    crit: float  # simultaneous critical value (NaN without bootstrap)
    influence: np.ndarray = field(repr=False)  # n_units × rows of table
    influence_overall: np.ndarray = field(repr=False)  # n_units
    units: np.ndarray = field(repr=False)  # unit labels in the order of the influence rows

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def to_dict(self) -> dict:
        key = self.table.index.name
        return {"kind": self.kind, "alpha": self.alpha, "crit": scalar(self.crit),
                "overall": {k: scalar(v) for k, v in self.overall.items()},
                "table": [{key: plain(i), **{c: scalar(v) for c, v in row.items()}}
                          for i, row in self.table.iterrows()]}

    def summary(self) -> str:
        pct = int(round(100 * (1 - self.alpha)))
        o = self.overall
        lines = [f"{self.kind} aggregation: overall {o['estimate']:.4f} (se {o['se']:.4f}, "
                 f"{pct}% CI {o['ci_low']:.4f} to {o['ci_high']:.4f})"]
        if self.kind != "simple":
            band = np.isfinite(self.crit)
            if band:
                lines.append(f"  simultaneous {pct}% band: estimate ± {self.crit:.3f} se (multiplier bootstrap)")
            lines.append(f"  {self.table.index.name:>10} {'estimate':>10} {'se':>9} {'ci_low':>9} {'ci_high':>9}"
                         + (f" {'band_low':>9} {'band_high':>9}" if band else ""))
            for i, r in self.table.iterrows():
                lines.append(f"  {str(i):>10} {r['estimate']:10.4f} {r['se']:9.4f} {r['ci_low']:9.4f} "
                             f"{r['ci_high']:9.4f}" + (f" {r['cband_low']:9.4f} {r['cband_high']:9.4f}" if band else ""))
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class RolloutFit(Results):
    """Callaway–Sant'Anna estimates of one outcome: ATT(g,t), aggregations and pre-tests."""

    outcome: str
    control: str
    method: str
    covariates: tuple[str, ...]
    alpha: float
    n_boot: int
    seed: int
    boot_weights: str
    n_units: int
    n_periods: int
    periods: tuple  # labels
    cohorts: dict  # cohort label -> units
    n_never: int
    att_gt: pd.DataFrame  # group, time, event_time, att, se, ci_low, ci_high, cband_low, cband_high
    pretest: Pretest  # all pre-adoption ATT(g,t) zero (as R did's W, Wpval)
    pretest_event: Pretest  # all pre-adoption event-time effects zero (Wald)
    pretest_band: Pretest  # the same by the sup-t statistic of the simultaneous band (needs n_boot > 0)
    crit: float  # simultaneous critical value over the ATT(g,t)
    aggregates: dict[str, Aggregate] = field(repr=False)
    notes: tuple[str, ...] = ()
    influence: np.ndarray = field(default=None, repr=False)  # n_units × ATT(g,t)
    units: np.ndarray = field(default=None, repr=False)

    def aggregate(self, kind: str = "dynamic") -> Aggregate:
        """simple (overall ATT), group (by cohort), dynamic (by event time) or calendar (by period)."""
        if kind not in self.aggregates:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {kind!r}")
        return self.aggregates[kind]

    def to_frame(self) -> pd.DataFrame:
        return self.att_gt.copy()

    def to_dict(self) -> dict:
        return {
            "outcome": self.outcome, "control": self.control, "method": self.method,
            "covariates": list(self.covariates), "alpha": self.alpha, "n_boot": self.n_boot, "seed": self.seed,
            "boot_weights": self.boot_weights, "n_units": self.n_units, "n_periods": self.n_periods,
            "periods": [plain(p) for p in self.periods], "cohorts": {str(k): v for k, v in self.cohorts.items()},
            "n_never": self.n_never,
            "att_gt": [{k: (plain(v) if k in ("group", "time") else scalar(v)) for k, v in r.items()}
                       for r in self.att_gt.to_dict(orient="records")],
            "pretest": {k: scalar(v) for k, v in self.pretest._asdict().items()},
            "pretest_event": {k: scalar(v) for k, v in self.pretest_event._asdict().items()},
            "pretest_band": {k: scalar(v) for k, v in self.pretest_band._asdict().items()},
            "aggregates": {k: a.to_dict() for k, a in self.aggregates.items()},
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        ctl = {"never": "never-treated units", "notyet": "not-yet-treated units"}[self.control]
        meth = {"dr": "doubly robust", "ipw": "inverse probability weighting", "reg": "outcome regression"}
        cov = f" with covariates {', '.join(self.covariates)}" if self.covariates else ""
        pct = int(round(100 * (1 - self.alpha)))
        cohorts = ", ".join(f"{k} ({v})" for k, v in self.cohorts.items())
        lines = [
            f"Staggered adoption DiD (Callaway & Sant'Anna 2021): {self.outcome}",
            f"{meth[self.method]}{cov}; compared with {ctl}; base period varying",
            f"units {self.n_units} (never treated {self.n_never}), periods {self.n_periods} "
            f"({self.periods[0]} to {self.periods[-1]}); cohorts: {cohorts}",
            "",
        ]
        simple = self.aggregates["simple"].overall
        dyn = self.aggregates["dynamic"].overall
        lines.append(f"overall ATT (simple): {simple['estimate']:.4f} (se {simple['se']:.4f}; {pct}% CI "
                     f"{simple['ci_low']:.4f} to {simple['ci_high']:.4f})")
        lines.append(f"mean over event times >= 0 (dynamic): {dyn['estimate']:.4f} (se {dyn['se']:.4f}; "
                     f"{pct}% CI {dyn['ci_low']:.4f} to {dyn['ci_high']:.4f})")
        for name, t in (("pre-test, all ATT(g,t) before adoption", self.pretest),
                        ("pre-test, event times before adoption", self.pretest_event)):
            if np.isfinite(t.W):
                lines.append(f"{name}: W = {t.W:.3f} on {t.df} df, p = {t.p:.4f}")
        if np.isfinite(self.pretest_band.W):
            b = self.pretest_band
            lines.append(f"pre-test, simultaneous band over {b.df} event times before adoption: max |t| = "
                         f"{b.W:.3f}, bootstrap p = {b.p:.4f}")
        lines += ["", self.aggregates["dynamic"].summary()]
        if self.notes:
            lines += ["", "Notes:"] + [f"- {n}" for n in self.notes]
        return "\n".join(lines)


# --- estimation ----------------------------------------------------------------------------------


def check_args(control: str, method: str, alpha: float) -> None:
    if control not in CONTROLS:
        raise ValueError(f"control must be 'never' or 'notyet', not {control!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")


def _run(prep: PreparedPanel, control: str, method: str, alpha: float):
    """moderndid's att_gt and the four aggte on the prepared panel; warnings become notes."""
    att_gt, aggte = _moderndid()
    xformla = "~" + "+".join(f"_x{i}" for i in range(len(prep.covariates))) if prep.covariates else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mp = att_gt(prep.data, yname="_y", tname="_t", idname="_id", gname="_g", xformla=xformla,
                    est_method=method, control_group=CONTROLS[control], base_period="varying",
                    boot=False, cband=False, alp=alpha)
        aggs = {k: aggte(mp, type=k, boot=False, cband=False, alp=alpha) for k in AGGREGATIONS}
    return mp, aggs, _notes_from(caught)


def _aggregate(kind: str, res, scale: PeriodScale, z: float, alpha: float, weights, units) -> Aggregate:
    inf_overall = np.asarray(res.influence_func_overall, dtype=float).reshape(-1)
    overall = pd.Series({"estimate": float(res.overall_att), "se": float(res.overall_se)}, name=kind)
    overall["ci_low"], overall["ci_high"] = _interval(overall["estimate"], overall["se"], z)
    if kind == "simple":
        table = pd.DataFrame([overall.to_dict()], index=pd.Index(["overall"], name="aggregate"))
        return Aggregate(kind, table, overall, alpha, float("nan"), inf_overall[:, None], inf_overall, units)
    keys = np.asarray(res.event_times, dtype=float)
    if kind == "dynamic":
        index = pd.Index(keys.astype(int), name="event_time")
    else:
        index = pd.Index([scale.label(int(k)) for k in keys], name="group" if kind == "group" else "time")
    est = np.asarray(res.att_by_event, dtype=float)
    se = np.asarray(res.se_by_event, dtype=float).reshape(-1)
    inf = np.asarray(res.influence_func, dtype=float).reshape(len(units), -1)
    crit = sup_t_critical(inf, se, weights, alpha)
    table = pd.DataFrame({"estimate": est, "se": se}, index=index)
    table["ci_low"], table["ci_high"] = _interval(est, se, z)
    table["cband_low"], table["cband_high"] = _interval(est, se, crit)
    return Aggregate(kind, table, overall, alpha, crit, inf, inf_overall, units)


def staggered_did(panel: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str,
                  control: str = "never", method: str = "dr", covariates: list[str] | None = None,
                  alpha: float = 0.05, n_boot: int = 999, seed: int = 0,
                  boot_weights: str = "mammen", pretest_min_units: int = 10) -> RolloutFit:
    """Callaway & Sant'Anna (2021) on a long panel (one row per unit and period).

    ``time``: integer periods or period labels (``2023Q1``); ``cohort``: the first treated period in the
    same form, 0 / missing / empty for units never treated. ``n_boot`` multiplier-bootstrap draws give the
    simultaneous bands (0: none); standard errors and pointwise intervals are analytic. The band
    pre-test (``pretest_band``, studentized bootstrap with the same draws) uses the pre-adoption event
    times estimated from at least ``pretest_min_units`` adopting units: on 4,000 no-effect panels shaped
    like the sample it rejected 4.9% at 5%; with the two event times that rest on a cohort of 6 units
    also in, 7.8% (their standard errors have 5 degrees of freedom).
    """
    check_args(control, method, alpha)
    prep = prepare(panel, outcome, unit, time, cohort, covariates)
    if (prep.unit_cohort == NEVER).all():
        raise ValueError("no unit adopts the scheme within the panel")
    mp, aggs, lib_notes = _run(prep, control, method, alpha)
    return _fit_from(prep, mp, aggs, lib_notes, outcome, control, method, alpha, n_boot, seed, boot_weights,
                     pretest_min_units)


def _fit_from(prep, mp, aggs, lib_notes, outcome, control, method, alpha, n_boot, seed, boot_weights,
              pretest_min_units: int = 10) -> RolloutFit:
    scale = prep.scale
    z = z_value(alpha)
    units = prep.unit_labels
    n = len(units)
    if int(mp.n_units) != n:
        raise RuntimeError(f"moderndid used {mp.n_units} units, the prepared panel has {n}")
    g_units = prep.unit_cohort.to_numpy(dtype=float)
    g_units[g_units == NEVER] = np.inf
    if mp.G is not None and not np.array_equal(np.asarray(mp.G, dtype=float), g_units):
        raise RuntimeError("moderndid's unit order differs from the prepared panel's: influence functions "
                           "cannot be matched to units")
    weights = multiplier_weights(n, int(n_boot), seed, boot_weights) if n_boot and n_boot > 0 else None

    groups = np.asarray(mp.groups, dtype=float).astype(int)
    times = np.asarray(mp.times, dtype=float).astype(int)
    att = np.asarray(mp.att_gt, dtype=float)
    se = np.asarray(mp.se_gt, dtype=float).copy()
    se[~(se > SE_FLOOR)] = np.nan
    inf = np.asarray(mp.influence_func, dtype=float).reshape(n, -1)
    crit = sup_t_critical(inf, se, weights, alpha)
    table = pd.DataFrame({
        "group": [scale.label(g) for g in groups], "time": [scale.label(t) for t in times],
        "event_time": times - groups, "att": att, "se": se,
    })
    table["ci_low"], table["ci_high"] = _interval(att, se, z)
    table["cband_low"], table["cband_high"] = _interval(att, se, crit)

    pre = (groups > times) & np.isfinite(se) & np.isfinite(att)
    pretest = wald(att[pre], inf[:, pre])
    aggregates = {k: _aggregate(k, aggs[k], scale, z, alpha, weights, units) for k in AGGREGATIONS}
    dyn = aggregates["dynamic"]
    dpre = (dyn.table.index.to_numpy() < 0) & np.isfinite(dyn.table["se"].to_numpy())
    pretest_event = wald(dyn.table["estimate"].to_numpy()[dpre], dyn.influence[:, dpre])
    cohort = prep.unit_cohort
    counts = cohort[cohort != NEVER].value_counts().sort_index()
    # adopting units behind each event time's estimate: the cohorts with an ATT(g,t) there
    cells = pd.DataFrame({"e": times - groups, "n": [counts.get(g, 0) for g in groups], "ok": np.isfinite(se)})
    support = cells[cells["ok"]].groupby("e")["n"].sum()
    supported = dyn.table.index.to_series().map(support).fillna(0).to_numpy() >= pretest_min_units
    band = dpre & supported
    pretest_band = sup_t_pretest(dyn.table["estimate"].to_numpy()[band], dyn.influence[:, band],
                                 dyn.table["se"].to_numpy()[band], weights, cohorts=g_units)
    notes = list(prep.notes) + lib_notes
    pre_cells = pd.Series(groups[pre]).value_counts()
    thin = [(scale.label(int(g)), int(counts.get(g, 0)), int(k)) for g, k in pre_cells.items()
            if k >= counts.get(g, 0)]
    if np.isfinite(pretest.W) and (thin or pretest.df > max(5, n // 10)):
        why = (f"cohort {thin[0][0]} has {thin[0][1]} units but {thin[0][2]} pre-adoption estimates" if thin
               else f"{pretest.df} pre-adoption estimates from {n} units")
        notes.append(f"the pre-test over all pre-adoption ATT(g,t) is unreliable here ({why}): its covariance is "
                     "poorly estimated and it rejects far too often when trends are parallel; read "
                     "pretest_band (or pretest_event) and the event-study plot instead")
    thin_e = dyn.table.index[dpre & ~supported].tolist()
    if thin_e and weights is not None:
        notes.append(f"band pre-test leaves out event time(s) {', '.join(str(e) for e in thin_e)}: estimated from "
                     f"fewer than {pretest_min_units} adopting units")
    if not np.isfinite(pretest.W) and pretest.df:
        notes.append("pre-test not computed: the covariance of the pre-adoption estimates is singular")
    return RolloutFit(
        outcome=outcome, control=control, method=method, covariates=prep.covariates, alpha=alpha,
        n_boot=int(n_boot or 0), seed=seed, boot_weights=boot_weights, n_units=n, n_periods=len(prep.periods),
        periods=tuple(scale.label(p) for p in prep.periods),
        cohorts={scale.label(int(g)): int(c) for g, c in counts.items()},
        n_never=int((cohort == NEVER).sum()), att_gt=table, pretest=pretest, pretest_event=pretest_event,
        pretest_band=pretest_band,
        crit=crit, aggregates=aggregates, notes=tuple(dict.fromkeys(notes)), influence=inf, units=units,
    )
