"""Figures of notebook 04 (rollout evaluation): pure functions from tables to figures.

Labels are in the language asked for (``lang``); figures the brief shows are drawn in both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import codes, i18n
from analysis.core.plotting import localized, plt, ticker


def event_study(table: pd.DataFrame, outcome: str, lang: str = "id") -> plt.Figure:
    """Effect by event time: estimates with pointwise intervals (bars) and the simultaneous band (shade)."""
    outcome_label = i18n.outcome_label(outcome, lang)
    d = table.reset_index() if "event_time" not in table.columns else table
    fig, ax = plt.subplots(figsize=(7, 3.4))
    e = d["event_time"].to_numpy()
    if {"cband_low", "cband_high"} <= set(d.columns) and d["cband_low"].notna().any():
        ax.fill_between(e, d["cband_low"], d["cband_high"], step="mid", color="#abd9e9", alpha=0.6,
                        label=i18n.t("fig.event.band", lang))
    pre = e < 0
    for mask, colour in ((pre, "#878787"), (~pre, "#2166ac")):
        ax.errorbar(e[mask], d["estimate"].to_numpy()[mask],
                    yerr=[(d["estimate"] - d["ci_low"]).to_numpy()[mask], (d["ci_high"] - d["estimate"]).to_numpy()[mask]],
                    fmt="o", ms=3.5, capsize=2, color=colour, lw=1)
    ax.errorbar([], [], yerr=[], fmt="o", ms=3.5, color="#2166ac", label=i18n.t("fig.event.pointwise", lang))
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(-0.5, color="#d73027", lw=0.8, ls="--")
    ax.set_xlabel(i18n.t("fig.event.x", lang))
    ax.set_ylabel(i18n.t("fig.event.y", lang), fontsize=8)
    ax.set_title(i18n.t("fig.event.title", lang, outcome=outcome_label), fontsize=10)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    fig.tight_layout()
    return localized(fig, lang)


def naive_vs_staggered(compare: pd.DataFrame, bacon: pd.DataFrame, outcome: str, lang: str = "id") -> plt.Figure:
    """The two estimates with intervals, and the Goodman-Bacon weights of the naive one by comparison type."""
    outcome_label = i18n.outcome_label(outcome, lang)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(8, 2.2), gridspec_kw={"width_ratios": [1.1, 1]})
    y = np.arange(len(compare))
    ax.errorbar(compare["estimate"], y, xerr=[compare["estimate"] - compare["ci_low"],
                                              compare["ci_high"] - compare["estimate"]],
                fmt="o", capsize=3, color="#4575b4")
    ax.set_yticks(y, [i18n.t(f"fig.naive.{k}", lang) for k in compare["estimator"]], fontsize=8)
    ax.set_ylim(len(compare) - 0.4, -0.6)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_title(i18n.t("fig.naive.title", lang, outcome=outcome_label), fontsize=9)
    colours = {"treated_vs_never": "#1a9850", "earlier_vs_later": "#fee08b", "later_vs_earlier": "#d73027"}
    bx.barh(bacon["comparison"], bacon["weight"], color=[colours.get(c, "#999999") for c in bacon["comparison"]])
    bx.set_yticks(range(len(bacon)), [codes.label("bacon", c, lang) for c in bacon["comparison"]], fontsize=7)
    bx.xaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    bx.set_title("Goodman-Bacon", fontsize=9)
    bx.invert_yaxis()
    fig.tight_layout()
    return localized(fig, lang)


def effect_by_group(table: pd.DataFrame, by: str, outcome: str, lang: str = "id") -> plt.Figure:
    """Overall effect per level of ``by`` (e.g. region) with 95% intervals; untested levels hollow."""
    outcome_label = i18n.outcome_label(outcome, lang)
    d = table.dropna(subset=["estimate"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6, 0.6 + 0.35 * max(len(d), 3)))
    y = np.arange(len(d))
    for i, r in d.iterrows():
        ax.errorbar(r["estimate"], i, xerr=[[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]],
                    fmt="o", capsize=3, color="#4575b4", mfc="#4575b4" if r["in_test"] else "white")
    ax.set_yticks(y, [f"{r[by]} ({int(r['n_treated'])})" for _, r in d.iterrows()], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.invert_yaxis()
    ax.set_title(i18n.t("fig.group.title", lang, by=codes.label("unit_attribute", by, lang), outcome=outcome_label),
                 fontsize=9)
    fig.tight_layout()
    return localized(fig, lang)


def mde_curve(power: pd.DataFrame, outcome: str, lang: str = "id") -> plt.Figure:
    """Minimum detectable effect against adopting units, one line per follow-up length."""
    outcome_label = i18n.outcome_label(outcome, lang)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for n_post, d in power.groupby("n_post_periods"):
        d = d.sort_values("n_units")
        line, = ax.plot(d["n_units"], d["mde"], marker="o", ms=3,
                        label=i18n.t("fig.mde.periods", lang, n=int(n_post)))
        ext = d["method"] == "extrapolated"
        if ext.any():
            ax.plot(d.loc[ext, "n_units"], d.loc[ext, "mde"], "o", mfc="white", color=line.get_color())
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_xticks(sorted(power["n_units"].unique()), [str(n) for n in sorted(power["n_units"].unique())])
    ax.set_xlabel(i18n.t("fig.mde.x", lang))
    ax.set_ylabel(i18n.t("fig.mde.y", lang))
    ax.set_title(i18n.t("fig.mde.title", lang, outcome=outcome_label), fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return localized(fig, lang)
