"""Probing's blocks of columns (``stats.mixed.probing``): bounded in bytes at national size, and the same
estimates whatever the block width."""

from __future__ import annotations

import numpy as np

from analysis.stats.mixed.probing import BLOCK_BYTES, CHUNK, MIN_CHUNK, chunk_columns, probe_diagonal


def test_blocks_are_chunk_wide_until_they_would_pass_their_bytes():
    assert chunk_columns(1_000) == CHUNK
    assert chunk_columns(300_000) == CHUNK  # the 500,000-employee country's raters and ratees
    n = 2_600_000  # raters of a national run
    assert chunk_columns(n) < CHUNK and 8 * n * chunk_columns(n) <= BLOCK_BYTES
    assert chunk_columns(10 ** 9) == MIN_CHUNK


def test_the_estimates_do_not_depend_on_the_block_width():
    rng = np.random.default_rng(4)
    n = 300
    a = rng.normal(size=(n, n))
    x = np.linalg.inv(a @ a.T / n + np.eye(n))  # an SPD inverse, solved exactly
    groups = [np.arange(0, 200), np.arange(200, n)]
    colours = [rng.integers(0, 12, 200), np.r_[rng.integers(0, 5, 90), np.full(10, -1)]]
    widths = []

    def solve(p):
        widths.append(p.shape[1])
        return x @ p

    wide = probe_diagonal(solve, n, groups, colours, reps=4, seed=1)
    assert max(widths) == CHUNK
    widths.clear()
    narrow = probe_diagonal(solve, n, groups, colours, reps=4, seed=1, block_bytes=8 * n * MIN_CHUNK)
    assert max(widths) == MIN_CHUNK
    np.testing.assert_allclose(narrow[0], wide[0], rtol=1e-12)
    np.testing.assert_allclose(narrow[1], wide[1], rtol=1e-9, atol=1e-15)
    # unit-vector rows are exact, and the estimates are near the truth
    np.testing.assert_allclose(wide[0][290:], np.diag(x)[290:], rtol=1e-12)
    assert (wide[1][290:] == 0).all()
    assert np.abs(wide[0] / np.diag(x) - 1).max() < 0.5
