"""Synthetic regional-government dataset with planted truths.

``generate(SynthConfig(...))`` returns the twelve tables of the data contract
(contract column names) and a ``truth`` dict describing every planted effect;
``write(tables, truth, folder, fmt)`` writes them (csv, xlsx or parquet) with
``truth.json`` beside them, atomically. Everything is drawn from one seed:
each part of the generator gets its own child stream of
``numpy.random.SeedSequence(seed)``, so the parts are independent of one
another.

    from analysis.synth import SynthConfig, generate, write
    tables, truth = generate(SynthConfig(employees=6000, seed=20261122))
    write(tables, truth, Path("data/sample"), fmt="csv")
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.synth import writer
from analysis.synth.config import MIN_EMPLOYEES, STREAMS, VERSION, SynthConfig
from analysis.synth.generate import generate

__all__ = ["MIN_EMPLOYEES", "STREAMS", "VERSION", "SynthConfig", "generate", "write"]


def write(tables: dict[str, pd.DataFrame], truth: dict, out: Path | str, fmt: str = "csv") -> None:
    """Write every table as ``<table>.<fmt>`` plus ``truth.json`` into ``out`` (atomically)."""
    writer.write(tables, truth, out, fmt)

