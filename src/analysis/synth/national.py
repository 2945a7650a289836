"""A national dataset: many regional governments (instansi), generated one after another and written
as partitioned Parquet, so that memory holds one instansi's tables and never the country's.

Each instansi is a regional dataset of ``generate`` with its own seed (child ``k`` of
``SeedSequence(seed)``) and its share of the employees. Three things make the instansi one country:

- **sizes**: ``employees // per_instansi`` instansi, as equal as whole numbers allow (none smaller
  than ``per_instansi``);
- **codes**: instansi ``k`` is ``I001``, ``I002``…; its unit codes and region names carry the code
  (``I007-U0042``, ``Polonia I007``), so no two instansi share a unit or a region;
- **NIPs**: two instansi can draw the same NIP (same birth date, appointment month and sex, same
  sequence number). A NIP already given to an earlier instansi takes the next free sequence number
  of its prefix, so it stays a valid NIP. The NIPs given so far are kept as one sorted int64 array
  (8 bytes a person: 38 MB for 4.7 million);
- **reference tables**: the competency dictionary and the training catalogue are the first
  instansi's; the competency standards are the union over instansi (the same class and job family
  always have the same standard).

Layout: ``<out>/<table>/part-NNNNN.parquet``, partition ``k`` of every cut table holding instansi
``k`` (so a region, and an instansi, lies in one partition number of every table, as the run's own
partitions do); reference tables one file ``part-00000.parquet``. ``truth.json`` lists the instansi
with their sizes and row counts; each instansi's planted truths, in national codes, are in
``truth/<code>.json``. The folder is written beside ``out`` and put in place only when complete.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.folders import replaced_folder
from analysis.core.jsonsafe import json_default
from analysis.synth.config import MIN_EMPLOYEES, VERSION, SynthConfig
from analysis.synth.generate import generate
from analysis.synth.writer import write_parquet

PER_INSTANSI = 50_000  # employees of one instansi when the caller does not say
PART_FILE = "part-{:05d}.parquet"
REFERENCE_TABLES = ("competencies", "competency_standards", "training_catalog")
NIP_COLUMNS = {"employees": ("employee_id",), "appraisals": ("employee_id", "rater_id"),
               "targets": ("employee_id",), "feedback_360": ("ratee_id", "rater_id"),
               "competency_assessments": ("employee_id",)}
UNIT_TABLES = ("units", "employees", "org_ratings", "rollout", "service_outcomes")
SEQUENCE = 1000  # the NIP's last three digits: sequence 001-999


@dataclass(frozen=True)
class Instansi:
    """One regional government of the national dataset."""

    index: int  # 0-based: its partition
    code: str  # I001…
    employees: int
    seed: int  # the instansi's own seed, drawn from the national seed


def plan(employees: int, per_instansi: int, seed: int) -> list[Instansi]:
    """The instansi of a national dataset: ``employees // per_instansi`` of them (so none is smaller
    than ``per_instansi``), sizes as equal as whole numbers allow, each with its own child seed."""
    if per_instansi < MIN_EMPLOYEES:
        raise ValueError(f"an instansi needs at least {MIN_EMPLOYEES} employees, not {per_instansi}")
    if employees < per_instansi:
        raise ValueError(f"employees ({employees}) must be at least the size of one instansi ({per_instansi})")
    k = employees // per_instansi
    sizes = [employees // k + (1 if i < employees % k else 0) for i in range(k)]
    width = max(3, len(str(k)))
    seeds = [int(s.generate_state(1, np.uint64)[0]) for s in np.random.SeedSequence(seed).spawn(k)]
    return [Instansi(i, f"I{i + 1:0{width}d}", sizes[i], seeds[i]) for i in range(k)]


def next_sequence(nips: np.ndarray) -> np.ndarray:
    """The NIP with the next sequence number of the same prefix (999 wraps to 001)."""
    seq = nips % SEQUENCE
    return np.where(seq >= SEQUENCE - 1, nips - seq + 1, nips + 1)


def contains(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each value is in ``sorted_values`` (sorted int64), by binary search."""
    at = np.searchsorted(sorted_values, values)
    found = np.zeros(len(values), dtype=bool)
    inside = at < len(sorted_values)
    found[inside] = sorted_values[at[inside]] == values[inside]
    return found


def unused_nips(nips: np.ndarray, taken: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``nips`` (distinct, int64) made distinct from ``taken`` (sorted): a NIP already taken moves to the
    next free sequence number of its prefix. Returns the new NIPs and ``taken`` with them added."""
    out = nips.copy()
    pending = contains(taken, out)
    taken = np.sort(np.concatenate([taken, out[~pending]]))
    for _ in range(SEQUENCE):
        if not pending.any():
            return out, taken
        idx = np.flatnonzero(pending)
        cand = next_sequence(out[idx])
        out[idx] = cand
        _, first = np.unique(cand, return_index=True)
        free = np.zeros(len(idx), dtype=bool)
        free[first] = True
        free &= ~contains(taken, cand)
        taken = np.sort(np.concatenate([taken, cand[free]]))
        pending[idx[free]] = False
    raise ValueError("every sequence number of a NIP prefix is taken: the dataset is too large for "
                     "distinct NIPs")


def _recode(value, strings: dict[str, str]):
    """``value`` (a truth dict, list or string) with every string that is a NIP, unit code or region
    of the instansi replaced by its national form (dict keys too)."""
    if isinstance(value, str):
        return strings.get(value, value)
    if isinstance(value, dict):
        return {strings.get(k, k) if isinstance(k, str) else k: _recode(v, strings) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_recode(v, strings) for v in value]
    return value


def _renamed(column: pd.Series, mapping: dict[str, str]) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.rename_categories([mapping.get(c, c) for c in column.cat.categories])
    return column.map(lambda v: mapping.get(v, v))


def nationalise(tables: dict[str, pd.DataFrame], truth: dict, inst: Instansi,
                taken: np.ndarray) -> tuple[dict[str, pd.DataFrame], dict, np.ndarray]:
    """One instansi's tables and truth in national codes (see the module's docstring), and the NIPs
    taken so far with this instansi's added."""
    # every NIP of the instansi (employees and the appraised who left) is a category of the appraisals
    local = np.asarray(tables["appraisals"]["employee_id"].cat.categories, dtype=object)
    national, taken = unused_nips(local.astype(np.int64), taken)
    nip = dict(zip(local, national.astype(str)))
    units = tables["units"]
    unit = {u: f"{inst.code}-{u}" for u in units["unit_id"]}
    region = {r: f"{r} {inst.code}" for r in units["region"].unique()}
    out = dict(tables)
    for name, columns in NIP_COLUMNS.items():
        out[name] = out[name].assign(**{c: _renamed(out[name][c], nip) for c in columns})
    for name in UNIT_TABLES:
        out[name] = out[name].assign(unit_id=_renamed(out[name]["unit_id"], unit))
    out["units"] = out["units"].assign(region=_renamed(out["units"]["region"], region))
    changed = {k: v for k, v in {**nip, **unit, **region}.items() if k != v}
    return out, _recode(truth, changed), taken


def instansi_tables(instansi: list[Instansi], config: SynthConfig
                    ) -> Iterator[tuple[Instansi, dict[str, pd.DataFrame], dict]]:
    """Each instansi's tables and truth in national codes, one instansi at a time."""
    taken = np.empty(0, dtype=np.int64)
    for inst in instansi:
        tables, truth = generate(replace(config, employees=inst.employees, seed=inst.seed))
        tables, truth, taken = nationalise(tables, truth, inst, taken)
        yield inst, tables, truth
        del tables, truth  # before the next instansi is generated, not after


def write_national(out: Path | str, employees: int, per_instansi: int = PER_INSTANSI, seed: int = 20261122,
                   config: SynthConfig | None = None,
                   progress: Callable[[Instansi, int], None] | None = None) -> dict:
    """Generate and write a national dataset into ``out`` (atomically); returns the summary written as
    ``truth.json``. ``progress(instansi, total)`` is called after each instansi is written."""
    base = config or SynthConfig()
    instansi = plan(employees, per_instansi, seed)
    summary = {"generator": {"name": "analysis.synth.national", "version": VERSION, "seed": seed,
                             "employees": employees, "per_instansi": per_instansi,
                             "config": {k: v for k, v in asdict(base).items() if k not in ("employees", "seed")}},
               "layout": "<table>/part-NNNNN.parquet: partition k holds instansi k of every table cut by region; "
                         "reference tables (" + ", ".join(REFERENCE_TABLES) + ") one file",
               "instansi": [], "row_counts": {}}
    standards: list[pd.DataFrame] = []
    with replaced_folder(Path(out)) as tmp:
        (tmp / "truth").mkdir()
        for inst, tables, truth in instansi_tables(instansi, base):
            for name, df in tables.items():
                if name in REFERENCE_TABLES:
                    continue
                (tmp / name).mkdir(exist_ok=True)
                write_parquet(df, tmp / name / PART_FILE.format(inst.index))
                summary["row_counts"][name] = summary["row_counts"].get(name, 0) + len(df)
            standards.append(tables["competency_standards"])
            if inst.index == 0:
                reference = {k: tables[k] for k in ("competencies", "training_catalog")}
            (tmp / "truth" / f"{inst.code}.json").write_text(
                json.dumps(truth, indent=1, ensure_ascii=False, default=json_default), encoding="utf-8")
            summary["instansi"].append({"code": inst.code, "partition": inst.index, "employees": inst.employees,
                                        "regions": sorted(tables["units"]["region"].unique().tolist()),
                                        "row_counts": truth["row_counts"], "truth": f"truth/{inst.code}.json"})
            if progress:
                progress(inst, len(instansi))
            del tables, truth  # the loop would hold them while the next instansi is generated
        reference["competency_standards"] = (pd.concat(standards, ignore_index=True)
                                             .drop_duplicates(["position_class", "job_family", "competency_code"])
                                             .reset_index(drop=True))
        for name, df in reference.items():
            (tmp / name).mkdir()
            write_parquet(df, tmp / name / PART_FILE.format(0))
            summary["row_counts"][name] = len(df)
        (tmp / "truth.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=json_default),
                                        encoding="utf-8")
    return summary
