"""Clusters of competency-gap profiles: who needs the same training.

Employees with at least one gap are described by their gap in each managerial
and socio-cultural competency and their mean gap over their family's
technical competencies (one dimension, since each family has its own
technical codes). They are clustered with k-means (scikit-learn):

- **Missing assessments are not zero gaps.** A cell that was never assessed is
  imputed from the centre of the employee's own cluster and re-imputed as the
  clusters settle (k-POD, Chi, Chi & Baraniuk 2016), so it neither creates nor
  hides a gap.
- **k** is chosen within ``clustering.k_min..k_max`` by the mean silhouette
  (Rousseeuw 1987), with a parsimony rule: the smallest k whose silhouette is
  within ``clustering.tolerance`` (0.01) of the best. Differences that small
  are noise, and the extra cluster is usually one profile split by severity.
  The criterion for every k is kept so the choice can be shown, with the
  Calinski–Harabasz and Davies–Bouldin indices beside it.
- The silhouette is computed from distances over the coordinates both people
  have, never over imputed cells (which come from the clustering under test).
- **Stability**: on ``n_bootstrap`` resamples of the raw data the whole
  procedure (imputation included) is redone, everyone is assigned to the
  nearest resample centre over their own observed coordinates, and the result
  is compared with the full-data clustering: the adjusted Rand index over all
  employees, and each cluster's mean Jaccard similarity with its best match
  (Hennig 2007; above 0.75 stable, below 0.5 dissolving).
- **Is there structure at all?** The chosen solution's silhouette against the
  same procedure on reference data with none (each column permuted on its
  own, ``structure_test``): without structure the notebook and the brief say
  so instead of naming profiles.
- Everything is seeded: the same data and params give the same clusters.
- Each cluster is named from its dominant gaps in both languages
  ("Komunikasi & Kerjasama").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.metrics.pairwise import nan_euclidean_distances

from analysis.core.codes import MANAGERIAL_COMPETENCIES, SOCIOCULTURAL_COMPETENCIES
from analysis.core.i18n import t
from analysis.core.jsonsafe import to_json_safe
from analysis.core.results import Results

TECHNICAL = "TEKNIS"
MAX_SILHOUETTE_SAMPLE = 4000


def gap_matrix(gaps: pd.DataFrame, min_gap: float = 0.0) -> pd.DataFrame:
    """Employee x dimension gap matrix (NaN = not assessed) of employees with any gap > min_gap."""
    g = gaps.copy()
    g["dimension"] = np.where(g["competency_code"].str.startswith("T."), TECHNICAL, g["competency_code"])
    m = g.pivot_table(index="employee_id", columns="dimension", values="gap", aggfunc="mean")
    dims = [d for d in MANAGERIAL_COMPETENCIES + SOCIOCULTURAL_COMPETENCIES + (TECHNICAL,) if d in m.columns]
    m = m.reindex(columns=dims)
    return m[(m > min_gap).any(axis=1)]


def _kpod(x: np.ndarray, k: int, seed: int, max_iter: int = 30,
          n_init: int = 10) -> tuple[np.ndarray, KMeans, np.ndarray]:
    """k-means with missing values: impute from cluster centres until the assignment settles."""
    missing = np.isnan(x)
    means = np.nanmean(x, axis=0)
    filled = np.where(missing, np.where(np.isnan(means), 0.0, means), x)
    labels = None
    for _ in range(max_iter):
        km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(filled)
        if labels is not None and np.array_equal(km.labels_, labels):
            break
        labels = km.labels_
        filled = np.where(missing, km.cluster_centers_[labels], x)
    return km.labels_, km, filled


@dataclass
class GapClusters(Results):
    labels: pd.Series  # employee_id -> cluster number (1..k, largest first)
    k: int
    criterion: pd.DataFrame  # k, silhouette, calinski_harabasz, davies_bouldin, chosen
    centres: pd.DataFrame  # cluster x dimension, mean gap (levels)
    names: pd.DataFrame  # cluster, name_id, name_en, dominant
    stability: dict  # ari_mean, ari_p05, jaccard per cluster
    filled: pd.DataFrame = field(repr=False)  # the matrix with missing cells imputed

    def sizes(self) -> pd.Series:
        return self.labels.value_counts().sort_index()

    def to_frame(self) -> pd.DataFrame:
        """One row per cluster: its names, dominant gaps, size and bootstrap stability (Jaccard)."""
        out = self.names.copy()
        out["n"] = out["cluster"].map(self.sizes()).fillna(0).astype(int)
        jaccard = self.stability.get("jaccard") or {}
        out["stability_jaccard"] = out["cluster"].map(jaccard)
        return out

    def to_dict(self) -> dict:
        return to_json_safe({"k": self.k, "employees": int(len(self.labels)), "clusters": self.to_frame(),
                             "criterion": self.criterion, "stability": self.stability})

    def summary(self) -> str:
        chosen = self.criterion.loc[self.criterion["chosen"], "silhouette"]
        head = (f"Gap clusters: k = {self.k} for {len(self.labels):,} employees"
                f" (silhouette {float(chosen.iloc[0]):.3f}, bootstrap ARI {self.stability.get('ari_mean')})")
        return f"{head}\n{self.to_frame().to_string(index=False)}"


def observed_silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from distances over the coordinates both people have (never the imputed ones,
    which come from the clustering under test)."""
    if len(np.unique(labels)) < 2:
        return float("nan")
    d = nan_euclidean_distances(x)
    d = np.where(np.isnan(d), np.nanmax(d), d)  # no coordinate in common: as far apart as any pair
    np.fill_diagonal(d, 0.0)
    return float(silhouette_score(d, labels, metric="precomputed"))


def choose_k(x: np.ndarray, k_range: range, seed: int, tolerance: float = 0.01) -> tuple[int, pd.DataFrame]:
    rows = []
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(x), min(len(x), MAX_SILHOUETTE_SAMPLE), replace=False)
    for k in k_range:
        if k >= len(x):
            break
        labels, km, filled = _kpod(x, k, seed)
        rows.append({"k": k, "silhouette": observed_silhouette(x[sample], labels[sample]),
                     "calinski_harabasz": float(calinski_harabasz_score(filled, labels)),
                     "davies_bouldin": float(davies_bouldin_score(filled, labels)),
                     "inertia": float(km.inertia_)})
    table = pd.DataFrame(rows)
    near = table[table["silhouette"] >= table["silhouette"].max() - tolerance]
    best = int(near["k"].min())
    table["chosen"] = table["k"] == best
    return best, table


def cluster_gaps(matrix: pd.DataFrame, k_min: int = 2, k_max: int = 10, n_bootstrap: int = 50,
                 seed: int = 0, names: pd.DataFrame | None = None, threads: int | None = 1,
                 tolerance: float = 0.01) -> GapClusters:
    """Cluster gap profiles; ``names`` is the competencies table (for cluster names).

    ``threads`` caps OpenMP/BLAS threads: on small matrices k-means' threads mostly wait for
    each other (a hundredfold slowdown was seen on a busy 2-core machine).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        return _cluster_gaps(matrix, k_min, k_max, n_bootstrap, seed, names, tolerance)


def _cluster_gaps(matrix, k_min, k_max, n_bootstrap, seed, names, tolerance) -> GapClusters:
    if len(matrix) < max(k_min, 2) + 1:
        raise ValueError(f"only {len(matrix)} employees with a gap: too few to cluster")
    x = matrix.to_numpy(dtype=float)
    k, criterion = choose_k(x, range(k_min, k_max + 1), seed, tolerance)
    raw, km, filled = _kpod(x, k, seed)
    # number clusters by size (1 = largest), deterministic
    order = pd.Series(raw).value_counts().sort_index(kind="stable").sort_values(ascending=False, kind="stable").index
    relabel = {old: new + 1 for new, old in enumerate(order)}
    labels = pd.Series([relabel[v] for v in raw], index=matrix.index, name="cluster")
    centres = pd.DataFrame(filled, index=matrix.index, columns=matrix.columns).groupby(labels).mean()
    stability = _stability(x, raw, k, n_bootstrap, seed)
    stability.update(structure_test(x, k, seed))
    stability["jaccard"] = {relabel[c]: v for c, v in stability["jaccard"].items()}
    return GapClusters(labels, k, criterion, centres, name_clusters(centres, names), stability,
                       pd.DataFrame(filled, index=matrix.index, columns=matrix.columns))


def _nearest_observed(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each row's nearest centre over the coordinates the row has (mean squared distance)."""
    observed = ~np.isnan(x)
    diff = np.where(observed[:, None, :], x[:, None, :] - centres[None, :, :], 0.0)
    return np.argmin((diff ** 2).sum(axis=2) / np.maximum(observed.sum(axis=1), 1)[:, None], axis=1)


def _stability(x: np.ndarray, labels: np.ndarray, k: int, n_boot: int, seed: int) -> dict:
    """Hennig's (2007) bootstrap on the raw data: each resample is clustered by the whole procedure,
    imputation included, and everyone is assigned to its nearest resample centre over their own
    observed coordinates; so the full-data clustering is never built into the data that tests it."""
    rng = np.random.default_rng(seed + 1)
    aris, jac = [], {c: [] for c in range(k)}
    for _ in range(n_boot):
        idx = rng.choice(len(x), len(x), replace=True)
        _, km, _ = _kpod(x[idx], k, int(rng.integers(1 << 31)), n_init=5)
        pred = _nearest_observed(x, km.cluster_centers_)
        aris.append(adjusted_rand_score(labels, pred))
        uniq = np.unique(idx)
        for c in range(k):
            a = set(uniq[labels[uniq] == c])
            if not a:
                continue
            best = max(len(a & set(uniq[pred[uniq] == d])) / len(a | set(uniq[pred[uniq] == d]))
                       for d in range(k))
            jac[c].append(best)
    return {"n_bootstrap": n_boot,
            "ari_mean": float(np.mean(aris)) if aris else None,
            "ari_p05": float(np.quantile(aris, 0.05)) if aris else None,
            "jaccard": {c: float(np.mean(v)) if v else None for c, v in jac.items()}}


N_NULL = 19  # reference data sets: the smallest p-value is 1/20 = 0.05
MAX_NULL_SAMPLE = 1500  # people in each reference silhouette


def structure_test(x: np.ndarray, k: int, seed: int) -> dict:
    """Is there cluster structure at all? The silhouette of the k-cluster solution against the same
    procedure on reference data with none: each column permuted on its own (its values and its
    missing cells kept, their links across columns broken). ``structure_p`` is the share of the
    ``N_NULL`` references plus this one at least as well separated; structure is claimed at 0.05."""
    rng = np.random.default_rng(seed + 2)
    n = min(len(x), MAX_NULL_SAMPLE)
    rows = rng.choice(len(x), n, replace=False)
    own = observed_silhouette(x[rows], _kpod(x[rows], k, seed)[0])
    null = []
    for _ in range(N_NULL):
        ref = np.column_stack([rng.permutation(x[rows, j]) for j in range(x.shape[1])])
        null.append(observed_silhouette(ref, _kpod(ref, k, seed)[0]))
    p = (1 + sum(v >= own for v in null)) / (1 + len(null))
    return {"silhouette_reference": float(np.nanmean(null)), "structure_p": float(p), "structure": bool(p <= 0.05)}


def name_clusters(centres: pd.DataFrame, competencies: pd.DataFrame | None) -> pd.DataFrame:
    """Name each cluster after its one or two dominant gaps, in Bahasa Indonesia and English."""
    lookup = {lang: {TECHNICAL: t("cluster.technical", lang)} for lang in ("id", "en")}
    if competencies is not None:
        for r in competencies.itertuples():
            lookup["id"][r.competency_code] = r.name_id
            lookup["en"][r.competency_code] = r.name_en
    rows = []
    for cluster, centre in centres.iterrows():
        ranked = centre.sort_values(ascending=False)
        top = [ranked.index[0]]
        if len(ranked) > 1 and ranked.iloc[1] >= 0.5 * ranked.iloc[0] and ranked.iloc[1] >= 0.3:
            top.append(ranked.index[1])
        rows.append({"cluster": cluster, "dominant": ";".join(top),
                     "name_id": " & ".join(lookup["id"].get(c, c) for c in top),
                     "name_en": " & ".join(lookup["en"].get(c, c) for c in top),
                     "mean_gap_dominant": float(ranked.iloc[:len(top)].mean())})
    out = pd.DataFrame(rows)
    for lang in ("id", "en"):  # two clusters with the same dominant gaps: tell them apart
        dup = out.duplicated(f"name_{lang}", keep=False)
        out.loc[dup, f"name_{lang}"] += " (" + out.loc[dup, "cluster"].astype(str) + ")"
    return out
