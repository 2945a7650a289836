"""release_memory hands freed memory back and never fails where an allocator lacks the call."""

import ctypes

import numpy as np

from analysis.core import memory


def test_runs_and_keeps_live_objects():
    kept = np.arange(1000)
    garbage = [np.ones(10_000) for _ in range(50)]
    del garbage
    memory.release_memory(collect=True)
    memory.release_memory()
    assert kept.sum() == 499500


def test_without_malloc_trim(monkeypatch):
    class NoTrim:  # a C library without glibc's malloc_trim (musl, macOS)
        pass

    monkeypatch.setattr(ctypes, "CDLL", lambda name: NoTrim())
    memory.release_memory()


def test_without_a_c_library(monkeypatch):
    def fails(name):
        raise OSError("no C library")

    monkeypatch.setattr(ctypes, "CDLL", fails)
    memory.release_memory()
