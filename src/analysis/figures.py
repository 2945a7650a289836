"""Figures: pure functions from tables to matplotlib figures (labels in the run's language)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import codes, i18n  # noqa: E402
from .distribution import RULES  # noqa: E402

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
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.invert_yaxis()
    ax.set_title(i18n.t("fig.predikat_shares.title", lang))
    ax.legend(ncol=3, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    fig.tight_layout()
    return fig


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
        return fig
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
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
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
    return fig


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
            text = f"<{min_cell}" if small[i, j] else f"{int(data[i, j]):,}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 0.6 * top else "black")
    a = i18n.t("scheme.6_2022", lang)
    b = i18n.t("scheme.pp30" if other == "pp30" else "scheme.capaian", lang)
    ax.set_ylabel(a)
    ax.set_xlabel(b)
    ax.set_title(i18n.t("fig.agreement.title", lang, a=a, b=b), fontsize=10)
    fig.tight_layout()
    return fig


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
    return fig


# --- notebook 02 ---------------------------------------------------------------------------

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
    return fig


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
    return fig


def halo_central(halo: pd.DataFrame, central: pd.DataFrame, lang: str = "id") -> plt.Figure:
    """Each eligible rater by their slope against others (central tendency) and F ratio (halo)."""
    d = halo[["f_ratio", "flag", "eligible"]].rename(columns={"flag": "halo"}).join(
        central[["slope", "pooled_slope", "flag"]].rename(columns={"flag": "central"}), how="inner")
    d = d[d["eligible"]]
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
    return fig


def before_after(dist: pd.DataFrame, lang: str = "id") -> plt.Figure:
    """Predikat shares before and after removing rater effects."""
    fig, ax = plt.subplots(figsize=(7, 3))
    y = np.arange(len(dist))
    ax.barh(y - 0.2, dist["share_before"], height=0.4, label=i18n.t("fig.adjusted.before", lang), color="#91bfdb")
    ax.barh(y + 0.2, dist["share_after"], height=0.4, label=i18n.t("fig.adjusted.after", lang), color="#4575b4")
    ax.set_yticks(y, [codes.label("predikat", p, lang) for p in dist["predikat"]])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title(i18n.t("fig.adjusted.title", lang))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


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
    return fig


# --- notebook 03 -----------------------------------------------------------------------------


def gap_heatmap(centres: pd.DataFrame, names: pd.DataFrame, competencies: pd.DataFrame | None,
                lang: str = "id") -> plt.Figure:
    """Mean gap (levels) by competency (rows) and cluster (columns)."""
    data = centres.T
    label = {}
    if competencies is not None:
        label = dict(zip(competencies["competency_code"], competencies[f"name_{lang}"]))
    from .clusters import TECHNICAL, TECHNICAL_NAMES

    label[TECHNICAL] = TECHNICAL_NAMES[lang]
    cols = [f"{c}: {n}" for c, n in zip(names["cluster"], names[f"name_{lang}"])]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * data.shape[1], 0.9 + 0.38 * data.shape[0]))
    im = ax.imshow(data.to_numpy(), cmap="Reds", vmin=0, aspect="auto")
    ax.set_yticks(range(data.shape[0]), [f"{d} {label.get(d, '')}".strip() for d in data.index], fontsize=8)
    ax.set_xticks(range(data.shape[1]), cols, rotation=30, ha="right", fontsize=8)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            v = data.iat[i, j]
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 * data.to_numpy().max() else "black")
    fig.colorbar(im, ax=ax, fraction=0.03)
    ax.set_xlabel(i18n.t("fig.heatmap.x", lang))
    ax.set_title(i18n.t("fig.heatmap.title", lang))
    fig.tight_layout()
    return fig


def choice_of_k(criterion: pd.DataFrame, lang: str = "id") -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(criterion["k"], criterion["silhouette"], marker="o")
    chosen = criterion[criterion["chosen"]]
    ax.scatter(chosen["k"], chosen["silhouette"], s=120, facecolors="none", edgecolors="red",
               label=i18n.t("fig.k.chosen", lang))
    ax.set_xlabel(i18n.t("fig.k.x", lang))
    ax.set_ylabel(i18n.t("fig.k.y", lang))
    ax.set_title(i18n.t("fig.k.title", lang))
    ax.legend()
    fig.tight_layout()
    return fig


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
    return fig


def budget_curve(curve: pd.DataFrame, budget: float, lang: str = "id") -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.step(curve["budget"] / 1e6, curve["gap_closed"], where="post", marker=".")
    ax.axvline(budget / 1e6, color="red", ls="--", lw=1, label=i18n.t("fig.budget.params", lang))
    ax.set_xlabel(i18n.t("fig.budget.x", lang))
    ax.set_ylabel(i18n.t("fig.budget.y", lang))
    ax.set_title(i18n.t("fig.budget.title", lang))
    ax.legend()
    fig.tight_layout()
    return fig


# --- notebook 04 -----------------------------------------------------------------------------


def _outcome(outcome: str, lang: str) -> str:
    return codes.label("service_outcome", outcome, lang)


def event_study(table: pd.DataFrame, outcome: str, lang: str = "id") -> plt.Figure:
    """Effect by event time: estimates with pointwise intervals (bars) and the simultaneous band (shade)."""
    outcome_label = _outcome(outcome, lang)
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
    return fig


def naive_vs_staggered(compare: pd.DataFrame, bacon: pd.DataFrame, outcome: str, lang: str = "id") -> plt.Figure:
    """The two estimates with intervals, and the Goodman-Bacon weights of the naive one by comparison type."""
    outcome_label = _outcome(outcome, lang)
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
    bx.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    bx.set_title("Goodman-Bacon", fontsize=9)
    bx.invert_yaxis()
    fig.tight_layout()
    return fig


def effect_by_group(table: pd.DataFrame, by: str, outcome: str, lang: str = "id") -> plt.Figure:
    """Overall effect per level of ``by`` (e.g. region) with 95% intervals; untested levels hollow."""
    outcome_label = _outcome(outcome, lang)
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
    return fig


def mde_curve(power: pd.DataFrame, outcome: str, lang: str = "id") -> plt.Figure:
    """Minimum detectable effect against adopting units, one line per follow-up length."""
    outcome_label = _outcome(outcome, lang)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for n_post, d in power.groupby("n_post_periods"):
        d = d.sort_values("n_units")
        line, = ax.plot(d["n_units"], d["mde"], marker="o", ms=3,
                        label=i18n.t("fig.mde.periods", lang, n=int(n_post)))
        ext = d["method"] == "extrapolated"
        if ext.any():
            ax.plot(d.loc[ext, "n_units"], d.loc[ext, "mde"], "o", mfc="white", color=line.get_color())
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xticks(sorted(power["n_units"].unique()), [str(n) for n in sorted(power["n_units"].unique())])
    ax.set_xlabel(i18n.t("fig.mde.x", lang))
    ax.set_ylabel(i18n.t("fig.mde.y", lang))
    ax.set_title(i18n.t("fig.mde.title", lang, outcome=outcome_label), fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
