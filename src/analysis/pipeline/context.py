"""What a notebook sees of its run: params, validated tables, and where outputs go.

A notebook starts with ``ctx = RunContext.open(run_dir)`` and then only calls
the package and ``ctx.save_*``. Tables come from the run's validated Parquet
files (never from the raw dataset). Appraisal-cycle tables are limited to the
periods chosen in params; service outcomes keep their whole panel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from analysis.core import codes, disclosure, periods, privacy
from analysis.core.cells import spreadsheet_safe
from analysis.core.memory import release_memory
from analysis.core.params import Params
from analysis.core.plotting import plt
from analysis.core.runfolder import (  # notebooks run unattended; figures go to files
    DATA_DIR,
    DERIVED_DIR,
    PARAMS_FILE,
    PARTITIONED_DIR,
    TIMINGS_DIR,
)
from analysis.outcomes import bounds, predikat
from analysis.pipeline.display import ShownTable, present
from analysis.pipeline.results import write_results

FIGURE_DPI = 150
PERIOD_FILTERED = ("appraisals", "org_ratings", "targets", "feedback_360")


def _within(period: str, chosen: list[periods.Period]) -> bool:
    p = periods.parse_period(period)
    return p is not None and any(c.index <= p.index and p.index + p.months <= c.index + c.months
                                 for c in chosen)


def chosen_periods(df: pd.DataFrame, name: str, chosen: tuple[str, ...] | None) -> pd.DataFrame:
    """The rows of a table within the periods chosen in params (``chosen``; None: all of them)."""
    if chosen is None or name not in PERIOD_FILTERED or "period" not in df:
        return df
    wanted = [periods.parse_period(p) for p in chosen]
    return df[df["period"].map(lambda p: _within(p, wanted)).to_numpy(dtype=bool)]


@dataclass(frozen=True)
class PartReader:
    """Partition ``k`` of a validated table as a Dask worker reads it: the periods chosen in params only
    (a small object, sent to the workers with each task)."""

    folder: Path
    chosen: tuple[str, ...] | None

    def __call__(self, name: str, k: int) -> pd.DataFrame:
        from analysis.engine import partitioned

        return chosen_periods(partitioned.read_part(self.folder, name, k), name, self.chosen)


@dataclass
class RunContext:
    run_dir: Path
    params: Params
    out_dir: Path | None = None  # where outputs go; the run folder itself while the run is being built
    # tables read, by name, or by (name, columns) for a table read in part
    _cache: dict[str | tuple, pd.DataFrame | None] = field(default_factory=dict, repr=False)
    # engine: dask: the client of the run's cluster (None: Dask computes in this process), once
    _client: object = field(default=None, repr=False)
    _attached: bool = field(default=False, repr=False)
    values: dict = field(default_factory=dict)
    sections: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    circulated: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)  # tables as saved

    @classmethod
    def open(cls, run_dir: str | Path) -> "RunContext":
        """Open a run folder. A finished run is never changed: opened from JupyterLab to explore,
        its outputs go to ``outputs/scratch/<run_id>/`` instead."""
        run_dir = Path(run_dir).resolve()
        if not (run_dir / PARAMS_FILE).exists():
            raise FileNotFoundError(
                f"{run_dir} is not a run folder (no {PARAMS_FILE}). Set run_dir to a run folder, "
                "for instance '../outputs/latest', or run the pipeline with `workbench run`.")
        raw = yaml.safe_load((run_dir / PARAMS_FILE).read_text(encoding="utf-8"))
        ctx = cls(run_dir, Params(**raw))
        status = None
        if (run_dir / "manifest.json").exists():
            status = json.loads((run_dir / "manifest.json").read_text()).get("status")
        if status not in (None, "running"):
            ctx.out_dir = run_dir.parent / "scratch" / run_dir.name
            print(f"{run_dir.name} is a finished run: outputs of this session go to {ctx.out_dir}")
        return ctx

    # --- inputs --------------------------------------------------------------
    def has(self, name: str) -> bool:
        """Does the run have this validated table (a file, or only its parts: engine.validation)?"""
        return (self.run_dir / DATA_DIR / f"{name}.parquet").exists() or bool(self._parts_of(name))

    def _parts_of(self, name: str) -> list[Path]:
        return sorted((self.run_dir / DATA_DIR / PARTITIONED_DIR / name).glob("part-*.parquet"))

    @property
    def on_dask(self) -> bool:
        """Do the heavy computations run on Dask (``engine: dask``, the tables partitioned in the run)?"""
        return self.params.engine == "dask" and (self.run_dir / DATA_DIR / PARTITIONED_DIR).is_dir()

    def lazy_table(self, name: str, columns: list[str] | None = None):
        """A validated table as a lazy Dask DataFrame over its partitions, the periods chosen in params
        only, as ``table`` gives them; None unless the run uses ``engine: dask`` (or when the dataset
        lacks the table). Computations on it run on the run's cluster (``engine.cluster.attach``)."""
        from analysis.engine import partitioned  # (brings Dask: only for engine: dask)

        folder = self.run_dir / DATA_DIR / PARTITIONED_DIR
        if not self.on_dask or not partitioned.part_files(folder, name):
            return None
        self._attach()
        read = columns
        if columns is not None and name in PERIOD_FILTERED and "period" not in columns:
            read = [*columns, "period"]  # to choose the periods, dropped after
        df = partitioned.dask_frame(folder, name, read)
        if name in PERIOD_FILTERED and self.params.periods != "all":
            df = df.map_partitions(chosen_periods, name, self._chosen, meta=df._meta)
        return df if read == columns else df.drop(columns="period")

    def _attach(self) -> None:
        """The run's cluster, once (none, in a finished run opened by hand: Dask computes here)."""
        from analysis.engine import cluster

        if not self._attached:
            self._client, self._attached = cluster.attach(self.params.dask), True

    @property
    def _chosen(self) -> tuple[str, ...] | None:
        return None if self.params.periods == "all" else tuple(self.params.periods)

    def parts(self, names: list[str], func):
        """A lazy Dask DataFrame whose partition k is ``func`` of partition k of each named table (the
        periods chosen in params only): tables cut by the same region meet partition by partition
        (``engine.partitioned.from_parts``). On the run's cluster, as ``lazy_table``."""
        from analysis.engine import partitioned  # (brings Dask: only for engine: dask)

        self._attach()
        folder = self.run_dir / DATA_DIR / PARTITIONED_DIR
        return partitioned.from_parts(PartReader(folder, self._chosen), names, func, folder)

    def unit_counts(self) -> pd.DataFrame | None:
        """People per predikat for each unit and period (``bounds.unit_counts``; None without appraisals).
        With ``engine: dask`` counted on the run's cluster over the partitions
        (``outcomes.distributed.unit_counts``): the appraisal outcomes are never whole here."""
        return self._per_unit("unit_counts")

    def unit_totals(self) -> pd.DataFrame | None:
        """People appraised and rated Sangat Baik for each unit and period (``bounds.unit_totals``), on
        the run's cluster with ``engine: dask``, as ``unit_counts``."""
        return self._per_unit("unit_totals")

    def _per_unit(self, name: str) -> pd.DataFrame | None:
        if not self.has("appraisals"):
            return None
        if not self.on_dask:
            return getattr(bounds, name)(self.appraisal_outcomes())
        from analysis.outcomes import distributed  # (brings Dask: only for engine: dask)

        return getattr(distributed, name)(distributed.lazy_outcomes(self.parts))

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        """A validated table (None when the dataset does not have it).

        With ``columns``, only those of them the table has, in the table's order: a notebook that
        needs a few columns of a large table reads only those from the Parquet file (the 1.2 M
        targets at 100,000 employees are 168 MB whole, 90 MB in the columns SKP scores use)."""
        key = name if columns is None else (name, tuple(columns))
        if key in self._cache:
            return self._cache[key]
        if columns is not None and name in self._cache:  # read whole already: a view of it
            whole = self._cache[name]
            self._cache[key] = None if whole is None else whole[[c for c in whole.columns if c in columns]]
            return self._cache[key]
        path = self.run_dir / DATA_DIR / f"{name}.parquet"
        # a partitioned dataset validated on the cluster is only in its parts (engine.validation)
        source = path if path.exists() else self._parts_of(name)
        df = read_table(source, columns) if source else None
        if df is not None:
            df = chosen_periods(df, name, self._chosen)
        if df is not None and columns is not None and "period" not in columns and "period" in df:
            df = df.drop(columns="period")  # read only to choose the periods
        self._cache[key] = df
        release_memory()  # what decoding the file took (core.memory)
        return df

    def appraisal_outcomes(self) -> pd.DataFrame:
        """Predikat of every employee and period (``outcomes.predikat.appraisal_outcomes``).

        Computed once per run and shared: notebook 01 computes it and keeps it beside the validated
        tables; the notebooks after it read it back. A finished run opened to explore is never written
        to: without the file, the table is computed in memory.
        """
        if "appraisal_outcomes" not in self._cache:
            path = self.run_dir / DATA_DIR / DERIVED_DIR / "appraisal_outcomes.parquet"
            if path.exists():
                out = _read_shared(path)
            else:
                if self.on_dask:
                    from analysis.outcomes import distributed  # (brings Dask: only for engine: dask)

                    out = distributed.appraisal_outcomes(self.parts)
                else:
                    out = predikat.appraisal_outcomes(self.table("appraisals"), self.table("employees"),
                                                      self.table("units"))
                if self.out_dir is None:
                    _write_shared(out, path)
            self._cache["appraisal_outcomes"] = out
        return self._cache["appraisal_outcomes"]

    # --- language ------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.params.language

    def label(self, code_list: str, code: str) -> str:
        return codes.label(code_list, code, self.lang)

    # --- outputs -------------------------------------------------------------
    def _out(self, folder: str, name: str) -> Path:
        path = (self.out_dir or self.run_dir) / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def save_table(self, df: pd.DataFrame, name: str, index: bool = False) -> Path:
        """A circulated table (no names or NIPs; small groups already suppressed)."""
        path = self._out("tables", f"{name}.csv")
        # text from the data never reaches a spreadsheet as a formula (core.cells)
        spreadsheet_safe(df).to_csv(path, index=index, float_format="%.6g")
        return path

    def pseudonymise(self, ids: pd.Series) -> pd.Series:
        """Employee ids as restricted lists show them: keyed pseudonyms unless params allow NIPs."""
        if not self.params.privacy.pseudonymise:
            return ids
        # the runner stores key_file as an absolute path in the run's params
        return privacy.pseudonymise(ids, privacy.load_key(Path(self.params.privacy.key_file)))

    def _restricted_path(self, name: str) -> Path:
        notice = self._out("plans", "RESTRICTED.txt")
        if not notice.exists():
            notice.write_text(privacy.RESTRICTED_NOTICE, encoding="utf-8")
        return self._out("plans", name)

    def save_restricted(self, df: pd.DataFrame, name: str, id_columns: tuple[str, ...] = ("employee_id",)) -> Path:
        """A list that names people: to plans/, marked restricted, pseudonymised unless params allow."""
        out = df.copy()
        for col in id_columns:
            if col in out:
                out[col] = self.pseudonymise(out[col])
        if self.params.privacy.pseudonymise:
            out = out.drop(columns=[c for c in ("name",) if c in out])
        out = privacy.mark_restricted(out)
        path = self._restricted_path(f"{name}.csv")
        spreadsheet_safe(out).to_csv(path, index=False, float_format="%.6g")
        return path

    def brief_dir(self) -> Path:
        path = (self.out_dir or self.run_dir) / "brief"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save_figure(self, fig: plt.Figure, name: str) -> "SavedFigure":
        """Save a figure to ``figures/<name>.png`` and close it; what is returned shows the same PNG in a
        notebook (``display(ctx.save_figure(...))``, or as a cell's last line)."""
        path = self._out("figures", f"{name}.png")
        fig.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)  # an unattended run draws dozens: pyplot would keep every one open
        return SavedFigure(path)

    def save_figures(self, make, name: str, *args, **kwargs) -> "SavedFigure":
        """A figure in both languages: ``<name>.png`` in the run's, ``<name>_<other>.png`` in the other.

        For figures the brief shows, so that each language's brief has labels in its language.
        ``make(*args, lang=..., **kwargs)`` draws it. Returns the run's language's figure, for display.
        """
        shown = self.save_figure(make(*args, lang=self.lang, **kwargs), name)
        for other in ("id", "en"):
            if other != self.lang:
                self.save_figure(make(*args, lang=other, **kwargs), f"{name}_{other}")
        return shown

    def show(self, table: str | pd.DataFrame, columns: list[str] | None = None,
             rows: int | None = None) -> ShownTable | None:
        """A table formatted for reading (``pipeline.display``): a circulated table by name (as saved, small
        groups suppressed) or a DataFrame. Units are named where the table has only their ids. A name
        that no section of this notebook saved (a part that did not run) shows nothing."""
        source = None
        if isinstance(table, str):
            if table not in self.circulated:
                return None
            source = f"tables/{table}.csv"
            table = self.circulated[table]
        if "unit_id" in table and "unit_name" not in table and self.has("units"):
            names = self.table("units").drop_duplicates("unit_id").set_index("unit_id")["unit_name"]
            table = table.copy()
            table.insert(table.columns.get_loc("unit_id") + 1, "unit_name", table["unit_id"].map(names))
            if columns is not None and "unit_id" in columns and "unit_name" not in columns:
                at = columns.index("unit_id") + 1
                columns = [*columns[:at], "unit_name", *columns[at:]]
        return present(table, self.lang, columns=columns, rows=rows, source=source)

    def suppress(self, table: pd.DataFrame, n_col: str = "n") -> pd.DataFrame:
        return disclosure.protect(table, self.params.privacy.min_cell, n_col=n_col)

    def save(self, section) -> dict[str, pd.DataFrame]:
        """Save a section: its tables (suppressed), restricted lists and key figures.

        Returns the tables as circulated, for display.
        """
        shown = {}
        min_cell = self.params.privacy.min_cell
        for name, out in section.tables.items():
            df = out.data
            # one small-cell policy for every circulated table (core.disclosure)
            df = disclosure.protect(df, min_cell, n_col=out.n_col, value_cols=out.value_cols, counts=out.counts)
            self.save_table(df, name)
            shown[name] = self.circulated[name] = df
        for name, df in section.restricted.items():
            self.save_restricted(df, name, id_columns=("employee_id", "rater_id"))
        for name, writer in section.files.items():
            writer(self._restricted_path(name), self.pseudonymise)
        self.values[section.name] = section.key_figures
        self.sections[section.name] = section.status
        self.timings.update(section.timings)
        # what the section's work took, back to the system for the kernel running beside this one
        release_memory()
        return shown

    def record(self, key: str, value) -> None:
        """Keep a key number for results/<notebook>.json."""
        self.values[key] = value

    def section(self, name: str, status: str) -> None:
        """Say whether a part of the notebook ran ('ok') or why not."""
        self.sections[name] = status

    def save_results(self, notebook: str) -> Path:
        if self.timings:  # beside the results; the runner moves them into the manifest
            timings = self._out(TIMINGS_DIR, f"{notebook}.json")
            timings.write_text(json.dumps(self.timings, sort_keys=True) + "\n", encoding="utf-8")
        return write_results(self._out("results", f"{notebook}.json"), notebook, self.values,
                             sections=self.sections)


def read_table(path: Path | list[Path], columns: list[str] | None = None) -> pd.DataFrame:
    """A validated table, each text column one Arrow array: Parquet gives a column in pieces (one per
    row group, 32 for the 360 feedback at 100,000 employees), and taking rows from a column in
    pieces costs a pass over every piece (10 ms against 0.2 ms for 1,700 rows of 4.1 M), which
    grouping and selecting rows do thousands of times. The values are the same. With ``columns``,
    those of them the file has (with ``period``, which choosing periods needs, where the file has it).
    ``path`` may be a list of the parts of one table, read as the one table they make, in order."""
    paths = path if isinstance(path, list) else [path]
    if columns is not None:
        have = pq.read_schema(paths[0]).names
        wanted = set(columns) | {"period"}
        columns = [c for c in have if c in wanted]
    if len(paths) == 1:
        frame = pd.read_parquet(paths[0], columns=columns)
    else:
        frame = pa.concat_tables([pq.read_table(p, columns=columns, use_pandas_metadata=True)
                                  for p in paths]).to_pandas()
    for col in frame.columns:
        values = frame[col].array
        if isinstance(values, pd.arrays.ArrowExtensionArray):
            pieces = values.__arrow_array__()
            if pieces.num_chunks > 1:
                frame[col] = pd.array(pieces.combine_chunks(), dtype=frame[col].dtype)
    return frame


def _write_shared(frame: pd.DataFrame, path: Path) -> None:
    """A table shared between notebooks, atomically, with the columns that are Python objects named
    (Parquet would give them back as strings, with NaN where they held None)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    objects = [str(c) for c in frame.columns if frame[c].dtype == object]
    frame.to_parquet(tmp)
    path.with_suffix(".objects.json").write_text(json.dumps(objects), encoding="utf-8")
    tmp.replace(path)


def _read_shared(path: Path) -> pd.DataFrame:
    """The table as ``_write_shared`` was given it: object columns as objects, None where missing."""
    frame = read_table(path)
    for col in json.loads(path.with_suffix(".objects.json").read_text(encoding="utf-8")):
        values = frame[col].astype(object)
        frame[col] = values.where(values.notna(), None)
    return frame


class SavedFigure:
    """A figure saved as PNG, shown inline by Jupyter from the same file (at screen size)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __fspath__(self) -> str:
        return str(self.path)

    def _repr_png_(self):
        data = self.path.read_bytes()
        width = int.from_bytes(data[16:20], "big")  # the PNG header's width, in pixels
        return data, {"width": round(width * 96 / FIGURE_DPI)}

    def __repr__(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"
