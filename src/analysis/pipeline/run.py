"""The runner: validate once, execute the notebooks with papermill, record everything.

A run is built in ``outputs/.tmp-<run_id>`` and renamed when it ends:
``outputs/<run_id>`` when every step succeeded (and ``outputs/latest`` then
points at it), ``outputs/<run_id>.failed`` when a step failed or the data was
invalid, ``outputs/<run_id>.interrupted`` when it was stopped. A run killed
outright leaves its ``.tmp-`` folder, which the next run renames to
``.interrupted``. So a folder without a suffix is always a finished, good run.

Exit codes: 0 success; 1 a notebook failed; 2 bad params or bad data;
130 interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from analysis.core.params import Params, ParamsError, load_params
from analysis.core.runfolder import DATA_DIR, PARAMS_FILE, TIMINGS_DIR, TMP_PREFIX
from analysis.data.validation import load_dataset
from analysis.pipeline import manifest as mf
from analysis.pipeline.results import write_results
from analysis.pipeline.steps import Step, select

EXIT_OK, EXIT_STEP_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class Interrupted(Exception):
    """The run was asked to stop (Ctrl-C or SIGTERM from a scheduler)."""


@dataclass
class RunOutcome:
    exit_code: int
    status: str
    run_dir: Path | None
    message: str


def notebooks_dir() -> Path:
    return mf.project_root() / "notebooks"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def _stop_on_sigterm():
    """Turn SIGTERM into an exception so the run can record that it was stopped."""
    def handler(signum, frame):
        raise Interrupted(f"stopped by signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_abandoned(out_root: Path) -> list[Path]:
    """Rename the temporary folders of runs whose process is gone to ``<run_id>.interrupted``."""
    renamed = []
    for tmp in sorted(out_root.glob(f"{TMP_PREFIX}*")):
        try:
            pid = int((tmp / ".pid").read_text().strip())
        except (OSError, ValueError):
            pid = -1
        if pid > 0 and _alive(pid):
            continue
        target = _free_name(out_root, tmp.name[len(TMP_PREFIX):] + ".interrupted")
        manifest_path = tmp / "manifest.json"
        try:
            import json

            m = json.loads(manifest_path.read_text())
            m["status"] = "interrupted"
            m["error"] = m.get("error") or "the run's process ended before the run finished"
            mf.write_manifest(manifest_path, m)
        except (OSError, ValueError):
            pass
        (tmp / ".pid").unlink(missing_ok=True)
        tmp.rename(target)
        renamed.append(target)
    return renamed


def _free_name(root: Path, name: str) -> Path:
    path, i = root / name, 2
    while path.exists() or (root / f"{TMP_PREFIX}{name}").exists():
        path = root / f"{name}-{i}"
        i += 1
    return path


def _new_run_id(out_root: Path, name: str, started: datetime) -> str:
    base = f"{started:%Y%m%dT%H%M%SZ}_{name}"
    run_id, i = base, 2
    while any(out_root.glob(f"{run_id}*")) or (out_root / f"{TMP_PREFIX}{run_id}").exists():
        run_id = f"{base}-{i}"
        i += 1
    return run_id


def _update_latest(out_root: Path, run_dir: Path) -> None:
    link = out_root / "latest"
    tmp = out_root / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    try:
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # no symlinks (some Windows setups): a text pointer instead
        (out_root / "latest.txt").write_text(run_dir.name + "\n")


def _ensure_kernel(name: str) -> str:
    """Register the named kernel for this interpreter if it is missing."""
    from jupyter_client.kernelspec import KernelSpecManager

    if name in KernelSpecManager().find_kernel_specs():
        return name
    from ipykernel.kernelspec import install

    install(kernel_name=name, display_name="ASN Workbench (Python)", prefix=sys.prefix)
    return name


def _resolved_params(params: Params, dataset: Path) -> dict:
    data = params.dump()
    data["dataset"] = str(dataset)
    key = Path(params.privacy.key_file)
    data["privacy"]["key_file"] = str(key if key.is_absolute() else (Path.cwd() / key).resolve())
    return data


def _write_tables(tables: dict, folder: Path) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, df in tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=True)
        rows[name] = int(len(df))
    return rows


def _execute_step(step: Step, work: Path, kernel: str, progress: bool) -> tuple[str, str | None]:
    """Run one notebook; ('ok', None) or ('failed', short error)."""
    import papermill as pm

    source = notebooks_dir() / step.notebook
    if not source.exists():
        return "failed", f"notebook {source} not found"
    target = work / "notebooks" / step.notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(
            str(source), str(target), parameters={"run_dir": "."}, kernel_name=kernel,
            cwd=str(work), progress_bar=progress, log_output=False,
            # the kernel's own start-up warnings (e.g. about its local TCP transport) are noise here
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except pm.PapermillExecutionError as exc:
        where = f" (cell [{exc.exec_count}])" if exc.exec_count else ""
        evalue = str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ""
        return "failed", f"{exc.ename}: {evalue}{where}"
    except (KeyboardInterrupt, Interrupted):
        raise
    except Exception as exc:  # kernel died, kernel missing, timeout…
        return "failed", f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return "ok", None


def run_pipeline(params_file: str | Path | None = None, data: str | Path | None = None,
                 out_root: str | Path = "outputs", only: str | None = None,
                 echo: Callable[[str], None] = print, argv: list[str] | None = None) -> RunOutcome:
    """Validate, execute the notebooks, publish the run folder. Never raises for bad input."""
    started = _now()
    overrides = {"dataset": str(data)} if data else None
    try:
        params = load_params(params_file, overrides=overrides)
        steps = select(only)
    except ParamsError as exc:
        echo(f"Bad parameters:\n{exc}")
        return RunOutcome(EXIT_BAD_INPUT, "bad_params", None, str(exc))
    except ValueError as exc:
        echo(str(exc))
        return RunOutcome(EXIT_BAD_INPUT, "bad_params", None, str(exc))

    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    for old in mark_abandoned(out_root):
        echo(f"Note: an earlier run was cut off; its folder is now {old}")
    run_id = _new_run_id(out_root, params.name, started)
    work = out_root / f"{TMP_PREFIX}{run_id}"
    work.mkdir()
    (work / ".pid").write_text(str(os.getpid()))
    params_text = Path(params_file).read_text(encoding="utf-8") if params_file else ""
    manifest: dict = {
        "run_id": run_id,
        "status": "running",
        "error": None,
        "started_at": _iso(started),
        "finished_at": None,
        "duration_seconds": None,
        "command": argv if argv is not None else sys.argv,
        "params_file": str(params_file) if params_file else None,
        "params_sha256": mf.sha256_text(params_text) if params_file else None,
        "params": params.dump(),
        "dataset": None,
        "validation": None,
        "steps": [],
        "outputs": {},
        "code": mf.git_info(),
        "environment": mf.environment(),
    }
    manifest_path = work / "manifest.json"
    mf.write_manifest(manifest_path, manifest)

    def finish(status: str, code: int, error: str | None = None) -> RunOutcome:
        ended = _now()
        manifest.update(status=status, error=error, finished_at=_iso(ended),
                        duration_seconds=round((ended - started).total_seconds(), 2))
        manifest["outputs"] = _list_outputs(work)
        mf.write_manifest(manifest_path, manifest)
        (work / ".pid").unlink(missing_ok=True)
        suffix = "" if status == "success" else (".interrupted" if status == "interrupted" else ".failed")
        final = _free_name(out_root, run_id + suffix) if suffix else out_root / run_id
        work.rename(final)
        if status == "success":
            _update_latest(out_root, final)
        return RunOutcome(code, status, final, error or "")

    try:
        with _stop_on_sigterm():
            return _run(params, steps, work, manifest, manifest_path, finish, echo)
    except (KeyboardInterrupt, Interrupted) as exc:
        echo("Interrupted: the run is kept as interrupted and is not the latest run.")
        return finish("interrupted", EXIT_INTERRUPTED, f"interrupted: {exc}" if str(exc) else "interrupted")
    except Exception as exc:  # a bug, not bad input: keep the trace in the run folder
        (work / "error.log").write_text(traceback.format_exc())
        echo(f"The run failed unexpectedly: {type(exc).__name__}: {exc} (details in error.log)")
        return finish("failed", EXIT_STEP_FAILED, f"{type(exc).__name__}: {exc}")


def _run(params: Params, steps: list[Step], work: Path, manifest: dict, manifest_path: Path,
         finish: Callable[..., RunOutcome], echo: Callable[[str], None]) -> RunOutcome:
    dataset_path = Path(params.dataset).expanduser().resolve()
    echo(f"Run {manifest['run_id']}: validating {dataset_path}")
    t0 = time.perf_counter()
    ds = load_dataset(dataset_path)
    ds.report.write_csv(work / "validation.csv")
    manifest["dataset"] = {"path": str(dataset_path), "files": ds.report.files}
    manifest["validation"] = ds.report.summary_dict() | {"seconds": round(time.perf_counter() - t0, 2)}
    mf.write_manifest(manifest_path, manifest)
    echo(f"  {ds.report.n_errors} error(s), {ds.report.n_warnings} warning(s) "
         f"in {sum(f.get('rows', 0) for f in ds.report.files.values())} rows of {len(ds.tables)} tables")
    if not ds.ok:
        ds.report.print_summary(echo)
        echo("The data has errors: nothing was analysed. Fix them and run again "
             "(the full report is validation.csv in the failed run folder).")
        return finish("invalid_data", EXIT_BAD_INPUT, f"the dataset has {ds.report.n_errors} error(s)")

    if params.periods != "all":
        available = set(ds.tables["appraisals"]["period"].dropna())
        missing = [p for p in params.periods if p not in available]
        if missing:
            msg = (f"params: periods: {', '.join(missing)} not in the appraisals "
                   f"(available: {', '.join(sorted(available))})")
            echo(msg)
            return finish("bad_params", EXIT_BAD_INPUT, msg)

    manifest["dataset"]["rows_written"] = _write_tables(ds.tables, work / DATA_DIR)
    # what the brief may say about the run and its data: counts only, never the report's messages,
    # and nothing that changes between two runs of the same inputs (the run id is in the manifest)
    write_results(work / "results" / "00_run.json", "00_run", {
        "params_name": params.name, "language": params.language,
        "min_cell": params.privacy.min_cell, "alpha": params.alpha, "fdr": params.fdr,
        "periods": params.periods, "tables": {name: int(len(df)) for name, df in ds.tables.items()},
        "validation": ds.report.summary_dict(),
        "steps": [s.name for s in steps],
    })
    (work / PARAMS_FILE).write_text(
        yaml.safe_dump(_resolved_params(params, dataset_path), sort_keys=False, allow_unicode=True),
        encoding="utf-8")
    kernel = _ensure_kernel(params.kernel)
    # notebook kernels inherit this: one thread per numeric library unless WORKBENCH_THREADS says
    # otherwise (on small machines, threads of different libraries mostly contend)
    threads = os.environ.get("WORKBENCH_THREADS", "1")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)
    progress = sys.stderr.isatty()

    failed: set[str] = set()
    for i, step in enumerate(steps, 1):
        record = {"name": step.name, "status": None, "seconds": None, "error": None, "reason": None,
                  "timings": {}}
        manifest["steps"].append(record)
        missing_tables = [t for t in step.requires if t not in ds.tables]
        blocked = [a for a in step.after if a in failed]
        head = f"[{i}/{len(steps)}] {step.name}"
        if missing_tables or blocked:
            reason = (f"table(s) absent: {', '.join(missing_tables)}" if missing_tables
                      else f"depends on failed step(s): {', '.join(blocked)}")
            record.update(status="skipped", reason=reason, seconds=0.0)
            write_results(work / "results" / f"{step.name}.json", step.name, {}, status="skipped", reason=reason)
            echo(f"{head}: skipped ({reason})")
            mf.write_manifest(manifest_path, manifest)
            continue
        echo(f"{head}: running…")
        t0 = time.perf_counter()
        status, error = _execute_step(step, work, kernel, progress)
        record.update(status=status, error=error, seconds=round(time.perf_counter() - t0, 2))
        record["timings"] = _take_timings(work, step.name)
        mf.write_manifest(manifest_path, manifest)
        if status == "failed":
            failed.add(step.name)
            echo(f"{head}: FAILED after {record['seconds']} s: {error}")
        else:
            echo(f"{head}: done in {record['seconds']} s")

    if failed:
        outcome = finish("failed", EXIT_STEP_FAILED, "failed step(s): " + ", ".join(sorted(failed)))
        echo(f"Run failed; its folder is {outcome.run_dir} (not the latest run).")
        return outcome
    outcome = finish("success", EXIT_OK)
    echo(f"Run finished: {outcome.run_dir}")
    return outcome


def _take_timings(work: Path, step: str) -> dict:
    """The timings a notebook left beside its results (moved into the manifest, file removed)."""
    path = work / TIMINGS_DIR / f"{step}.json"
    if not path.exists():
        return {}
    timings = json.loads(path.read_text(encoding="utf-8"))
    path.unlink()
    if not any(path.parent.iterdir()):
        path.parent.rmdir()
    return timings


def _list_outputs(work: Path) -> dict:
    def files(sub: str) -> list[str]:
        folder = work / sub
        return sorted(str(p.relative_to(work)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []

    return {
        "results": files("results"), "tables": files("tables"), "figures": files("figures"),
        "notebooks": files("notebooks"), "brief": files("brief"),
        "restricted": files("plans"),
    }
