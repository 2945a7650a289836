"""An order of the levels that keeps the iterative solver's memory reads local.

The conjugate-gradient solves of the iterative path multiply N_0r (people x raters: one entry per pair
that met) and its transpose by blocks of vectors. The levels come in the order of their codes, and codes
(NIPs) say nothing of who works with whom, so each entry reads a row of the block from an unrelated
place in memory. Once the block no longer fits in the processor's cache, that wait, not the arithmetic,
is the cost: at 500,000 employees (2.1 M rater-ratee pairs) a product and its transpose with 16 vectors
took 0.61 s in code order and 0.09 s in the order below (benchmarks/results/profile_100k.md, twelfth
session). The reverse Cuthill-McKee order of the bipartite graph of ratees and raters puts levels that
meet next to each other: a team's people and raters end up together.

The solver works in this order inside its products and solves and hands results back in code order, so
nothing outside it sees the order. Sums are then added in another order, which moves results in their
last bits only, far inside the solver's tolerance. Below ``LOCAL_ORDER_MIN_LEVELS`` rest levels the order
is not used: there it gains little (1.5 times on the products at 20,000 raters, less below), and smaller
fits stay the same to the last bit as before it, the hybrid path's among them (at most 8,000 levels at
the default ``max_dense``), which is the sample's rater model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee

# rest levels (the conjugate-gradient space) from which the order is used (see the module docstring)
LOCAL_ORDER_MIN_LEVELS = 20_000


@dataclass(frozen=True)
class LocalOrder:
    """Positions in the local order: ``p0[i]`` (``pr[i]``) is the code-order position of the i-th level
    of factor 0 (of the rest); ``inv0`` and ``inv_r`` map back; ``n0r`` is N_0r with its rows and
    columns in the local order."""

    p0: np.ndarray
    pr: np.ndarray
    inv0: np.ndarray
    inv_r: np.ndarray
    n0r: sp.csr_matrix


def local_order(n0r: sp.spmatrix) -> LocalOrder:
    """The reverse Cuthill-McKee order of the bipartite graph with N_0r as its adjacency (deterministic:
    the same design gives the same order)."""
    n0r = sp.csr_matrix(n0r)
    q0 = n0r.shape[0]
    graph = sp.bmat([[None, n0r], [n0r.T, None]], format="csr")
    perm = reverse_cuthill_mckee(graph, symmetric_mode=True).astype(np.int64)
    p0, pr = perm[perm < q0], perm[perm >= q0] - q0
    return LocalOrder(p0, pr, inverse(p0), inverse(pr), n0r[p0][:, pr].tocsr())


def inverse(perm: np.ndarray) -> np.ndarray:
    """The inverse of a permutation: ``inverse(p)[p[i]] == i``."""
    out = np.empty_like(perm)
    out[perm] = np.arange(len(perm), dtype=perm.dtype)
    return out
