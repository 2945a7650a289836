"""Figures of notebook 03 (competency gaps and plans): pure functions from tables to figures.

Labels are in the language asked for (``lang``); figures the brief shows are drawn in both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import i18n
from analysis.core.numbers import number
from analysis.core.plotting import finish, localized, plt


def gap_heatmap(centres: pd.DataFrame, names: pd.DataFrame, competencies: pd.DataFrame | None,
                lang: str = "id") -> plt.Figure:
    """Mean gap (levels) by competency (rows) and cluster (columns)."""
    data = centres.T
    label = {}
    if competencies is not None:
        label = dict(zip(competencies["competency_code"], competencies[f"name_{lang}"]))
    from analysis.training.clusters import TECHNICAL

    label[TECHNICAL] = i18n.t("cluster.technical", lang)
    cols = [f"{c}: {n}" for c, n in zip(names["cluster"], names[f"name_{lang}"])]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * data.shape[1], 0.9 + 0.38 * data.shape[0]))
    im = ax.imshow(data.to_numpy(), cmap="Reds", vmin=0, aspect="auto")
    ax.set_yticks(range(data.shape[0]), [f"{d} {label.get(d, '')}".strip() for d in data.index], fontsize=8)
    ax.set_xticks(range(data.shape[1]), cols, rotation=30, ha="right", fontsize=8)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            v = data.iat[i, j]
            ax.text(j, i, number(v, "num", lang, 1), ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 * data.to_numpy().max() else "black")
    fig.colorbar(im, ax=ax, fraction=0.03)
    ax.set_xlabel(i18n.t("fig.heatmap.x", lang))
    ax.set_title(i18n.t("fig.heatmap.title", lang))
    fig.tight_layout()
    return localized(fig, lang)


def choice_of_k(criterion: pd.DataFrame, lang: str = "id") -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(criterion["k"], criterion["silhouette"], marker="o")
    chosen = criterion[criterion["chosen"]]
    ax.scatter(chosen["k"], chosen["silhouette"], s=120, facecolors="none", edgecolors="red",
               label=i18n.t("fig.k.chosen", lang))
    return finish(fig, ax, "k", lang)


def cluster_sizes_by_region(by_region: pd.DataFrame, names: pd.DataFrame, lang: str = "id",
                            min_cell: int = 5) -> plt.Figure:
    """Stacked bars of cluster sizes per region (cells below min_cell drawn as 0)."""
    wide = by_region.pivot_table(index="region", columns="cluster", values="n", fill_value=0)
    wide = wide.where(wide >= min_cell, 0)
    label = dict(zip(names["cluster"], names[f"name_{lang}"]))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bottom = np.zeros(len(wide))
    for c in wide.columns:
        ax.bar(wide.index, wide[c], bottom=bottom, label=f"{c}: {label.get(c, c)}")
        bottom += wide[c].to_numpy()
    ax.set_ylabel(i18n.t("fig.cluster_region.y", lang))
    ax.set_title(i18n.t("fig.cluster_region.title", lang))
    ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return localized(fig, lang)


def budget_curve(curve: pd.DataFrame, budget: float, lang: str = "id") -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.step(curve["budget"] / 1e6, curve["gap_closed"], where="post", marker=".")
    ax.axvline(budget / 1e6, color="red", ls="--", lw=1, label=i18n.t("fig.budget.params", lang))
    return finish(fig, ax, "budget", lang)
