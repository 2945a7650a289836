"""Figures of notebook 01 (appraisal outcomes): pure functions from tables to figures.

Labels are in the language asked for (``lang``); figures the brief shows are drawn in both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import codes, i18n
from analysis.core.numbers import number
from analysis.core.plotting import localized, plt, ticker
from analysis.outcomes.bounds import RULES

PREDIKAT_COLOURS = {
    "sangat_baik": "#1a9850", "baik": "#91cf60", "butuh_perbaikan": "#fee08b",
    "kurang": "#fc8d59", "sangat_kurang": "#d73027",
}


def predikat_shares(dist: pd.DataFrame, lang: str = "id", by: str = "period") -> plt.Figure:
    """Stacked bars of predikat shares per group (default: per period)."""
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * max(len(dist), 2)))
    left = np.zeros(len(dist))
    labels = dist[by].astype(str).tolist()
    for p in codes.PREDIKAT:
        share = dist[f"share_{p}"].fillna(0).to_numpy()
        ax.barh(labels, share, left=left, color=PREDIKAT_COLOURS[p], label=codes.label("predikat", p, lang))
        left += share
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax.invert_yaxis()
    ax.set_title(i18n.t("fig.predikat_shares.title", lang))
    ax.legend(ncol=3, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    fig.tight_layout()
    return localized(fig, lang)


def bounds_by_unit(bounds: pd.DataFrame, period: str, lang: str = "id") -> plt.Figure:
    """Each unit's share in the bounded categories against the bound, one panel per bound.

    A dot is a unit; red dots miss the bound. Count bounds ("at least one") are
    shown as the number of people.
    """
    b = bounds[(bounds["period"] == period) & (bounds["bound"] != "no_org_rating")]
    panels = [(org, bd) for org, bds in RULES.items() for bd in bds if (b["bound"] == bd.id).any()
              and (b.loc[b["bound"] == bd.id, "org_predikat"] == org).any()]
    if not panels:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, i18n.t("fig.bounds.none", lang), ha="center", va="center")
        return localized(fig, lang)
    fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, 1.25 * len(panels) + 0.8), squeeze=False)
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    for ax, (org, bd) in zip(axes[:, 0], panels):
        sub = b[(b["bound"] == bd.id) & (b["org_predikat"] == org)]
        if bd.count is not None:
            x = sub["count"].astype(float).to_numpy()
            line = bd.count
            ax.set_xlabel(i18n.t("fig.bounds.people", lang), fontsize=8)
        else:
            x = (sub["count"].astype(float) / sub["n"].astype(float)).to_numpy()
            line = bd.percent / 100
            ax.xaxis.set_major_formatter(ticker.PercentFormatter(1.0))
            ax.set_xlim(-0.02, 1.02)
        holds = sub["holds"].astype(bool).to_numpy()
        y = rng.uniform(-0.3, 0.3, len(sub))
        ax.scatter(x[holds], y[holds], s=12, color="#4575b4", alpha=0.6, label=i18n.t("fig.bounds.holds", lang))
        ax.scatter(x[~holds], y[~holds], s=18, color="#d73027", label=i18n.t("fig.bounds.missed", lang))
        ax.axvline(line, color="black", lw=1, ls="--")
        ax.set_yticks([])
        cats = " + ".join(codes.label("predikat", c, lang) for c in bd.categories)
        word = i18n.t("fig.bounds.at_most" if bd.kind == "max" else "fig.bounds.at_least", lang)
        limit = f"{bd.count}" if bd.count is not None else f"{bd.percent}%"
        org_label = codes.label("org_predikat", org, lang)
        ax.set_title(f"{i18n.t('fig.bounds.unit_rated', lang)} {org_label}: {word} {limit} {cats} "
                     f"({int((~holds).sum())}/{len(sub)} {i18n.t('fig.bounds.missed', lang)})",
                     fontsize=9, loc="left")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"{i18n.t('fig.bounds.title', lang)} — {period}", fontsize=11)
    fig.tight_layout()
    return localized(fig, lang)


def scheme_agreement(table: pd.DataFrame, other: str, lang: str = "id", min_cell: int = 5) -> plt.Figure:
    """Cross-tabulation of the 6/2022 predikat (rows) against another scheme (columns).

    ``other`` is 'pp30' (PP 30/2019 bands) or 'capaian' (achievement-based predikat).
    Cells with fewer than ``min_cell`` people (but not none) are shown as "<min_cell".
    """
    data = table.to_numpy(dtype=float)
    row_labels = [codes.label("predikat", p, lang) for p in codes.PREDIKAT]
    col_list, col_codes = ("pp30_band", codes.PP30_BANDS) if other == "pp30" else ("predikat", codes.PREDIKAT)
    col_labels = [codes.label(col_list, c, lang) for c in col_codes]
    small = (data > 0) & (data < min_cell)
    shown = np.where(small, 0, data)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    ax.imshow(shown, cmap="Blues")
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    top = shown.max() if shown.size else 0
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            text = f"<{min_cell}" if small[i, j] else number(int(data[i, j]), "int", lang)
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 0.6 * top else "black")
    a = i18n.t("scheme.6_2022", lang)
    b = i18n.t("scheme.pp30" if other == "pp30" else "scheme.capaian", lang)
    ax.set_ylabel(a)
    ax.set_xlabel(b)
    ax.set_title(i18n.t("fig.agreement.title", lang, a=a, b=b), fontsize=10)
    fig.tight_layout()
    return localized(fig, lang)


def score_histogram(scores: pd.DataFrame, bands: dict[str, float], lang: str = "id") -> plt.Figure:
    """Distribution of PP 30/2019 final scores with the band limits."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(scores["final_score"].dropna(), bins=60, color="#4575b4", alpha=0.8)
    for name, lower in bands.items():
        ax.axvline(lower, color="black", ls="--", lw=0.8)
        ax.text(lower, ax.get_ylim()[1] * 0.95, " " + codes.label("pp30_band", name, lang), fontsize=7, va="top")
    ax.set_xlabel(i18n.t("fig.score_hist.x", lang))
    ax.set_ylabel(i18n.t("fig.score_hist.y", lang))
    ax.set_title(i18n.t("fig.score_hist.title", lang))
    fig.tight_layout()
    return localized(fig, lang)
