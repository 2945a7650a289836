"""Figures of notebook 02 (rater bias): pure functions from tables to figures.

Labels are in the language asked for (``lang``); figures the brief shows are drawn in both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import codes, i18n
from analysis.core.plotting import localized, plt, ticker

FLAG_COLOURS = {"lenient": "#1a9850", "severe": "#d73027", "central_tendency": "#7570b3", "halo": "#e6ab02"}


def caterpillar(leniency: pd.DataFrame, lang: str = "id") -> plt.Figure:
    """Every rater's effect with its 95% interval, ordered; flagged raters in colour. No names."""
    d = leniency.sort_values("estimate").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(d))
    other = d["flag"] == ""
    ax.vlines(x[other], d.loc[other, "ci_low"], d.loc[other, "ci_high"], color="#bbbbbb", lw=0.6)
    ax.scatter(x[other], d.loc[other, "estimate"], s=3, color="#666666",
               label=i18n.t("fig.caterpillar.other", lang))
    for kind in ("lenient", "severe"):
        sel = d["flag"] == kind
        if sel.any():
            ax.vlines(x[sel], d.loc[sel, "ci_low"], d.loc[sel, "ci_high"], color=FLAG_COLOURS[kind], lw=0.8)
            ax.scatter(x[sel], d.loc[sel, "estimate"], s=6, color=FLAG_COLOURS[kind],
                       label=f"{i18n.t('fig.caterpillar.flagged', lang)}: {codes.label('rater_flag', kind, lang)}")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks([])
    ax.set_xlabel(i18n.t("fig.caterpillar.x", lang))
    ax.set_ylabel(i18n.t("fig.caterpillar.y", lang))
    ax.set_title(i18n.t("fig.caterpillar.title", lang))
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return localized(fig, lang)


def sources(table: pd.DataFrame, lang: str = "id") -> plt.Figure:
    """Each source against peers with its interval, by both methods."""
    fig, ax = plt.subplots(figsize=(7, 3))
    methods = list(dict.fromkeys(table["method"]))
    srcs = list(dict.fromkeys(table["source"]))
    for i, m in enumerate(methods):
        sub = table[table["method"] == m].set_index("source").reindex(srcs)
        y = np.arange(len(srcs)) + (i - (len(methods) - 1) / 2) * 0.2
        ax.errorbar(sub["estimate"], y, xerr=[sub["estimate"] - sub["ci_low"], sub["ci_high"] - sub["estimate"]],
                    fmt="o", ms=4, capsize=3, label=m)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(srcs)), [codes.label("rater_role", s, lang) for s in srcs])
    ax.set_xlabel(i18n.t("fig.sources.x", lang))
    ax.set_title(i18n.t("fig.sources.title", lang))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return localized(fig, lang)


def halo_central(halo: pd.DataFrame, central: pd.DataFrame, lang: str = "id") -> plt.Figure:
    """Each rater eligible for either test by their slope against others (central tendency) and F ratio
    (halo). A rater flagged for central tendency is not tested for halo (the flag explains the pattern), so
    the raters of both tests are drawn, not only those of the halo test."""
    d = halo[["f_ratio", "flag", "eligible"]].rename(columns={"flag": "halo", "eligible": "halo_eligible"}).join(
        central[["slope", "pooled_slope", "flag", "eligible"]].rename(
            columns={"flag": "central", "eligible": "central_eligible"}), how="outer")
    d = d[d["halo_eligible"].fillna(False).astype(bool) | d["central_eligible"].fillna(False).astype(bool)]
    d = d.dropna(subset=["f_ratio", "slope", "pooled_slope"])
    d[["halo", "central"]] = d[["halo", "central"]].fillna("")
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    x = d["slope"] / d["pooled_slope"]
    y = np.log10(d["f_ratio"].clip(lower=1e-3, upper=1e6))
    plain = (d["halo"] == "") & (d["central"] == "")
    ax.scatter(x[plain], y[plain], s=8, color="#999999", label=i18n.t("fig.caterpillar.other", lang))
    for col, kind in (("halo", "halo"), ("central", "central_tendency")):
        sel = d[col] != ""
        ax.scatter(x[sel], y[sel], s=14, color=FLAG_COLOURS[kind], label=codes.label("rater_flag", kind, lang))
    ax.axvline(1, color="black", lw=0.6, ls="--")
    ax.axhline(0, color="black", lw=0.6, ls="--")
    ax.set_xlabel(i18n.t("fig.halo.x", lang))
    ax.set_ylabel(i18n.t("fig.halo.y", lang))
    ax.set_title(i18n.t("fig.halo.title", lang))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return localized(fig, lang)


def before_after(dist: pd.DataFrame, lang: str = "id") -> plt.Figure:
    """Predikat shares before and after removing rater effects."""
    fig, ax = plt.subplots(figsize=(7, 3))
    y = np.arange(len(dist))
    ax.barh(y - 0.2, dist["share_before"], height=0.4, label=i18n.t("fig.adjusted.before", lang), color="#91bfdb")
    ax.barh(y + 0.2, dist["share_after"], height=0.4, label=i18n.t("fig.adjusted.after", lang), color="#4575b4")
    ax.set_yticks(y, [codes.label("predikat", p, lang) for p in dist["predikat"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax.set_title(i18n.t("fig.adjusted.title", lang))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return localized(fig, lang)


def fairness_forest(diffs: pd.DataFrame, lang: str = "id") -> plt.Figure:
    """Adjusted differences by ratee group with intervals (appraisal rating)."""
    d = diffs[diffs["outcome"] == "rating_score"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.28 * max(len(d), 3)))
    y = np.arange(len(d))
    ax.errorbar(d["estimate"], y, xerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                fmt="o", ms=3, capsize=2, color="#4575b4")
    labels = [f"{codes.label('fairness_factor', r['factor'], lang)}: {codes.label(r['factor'], r['level'], lang)}"
              for _, r in d.iterrows()]
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel(i18n.t("fig.fairness.x", lang))
    ax.set_title(i18n.t("fig.fairness.title", lang), fontsize=10)
    fig.tight_layout()
    return localized(fig, lang)
