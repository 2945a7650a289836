"""The national run's steps at national size on this machine, and what they would take on a cluster.

    python benchmarks/national.py --employees 4700000 --workers 2           # synthesises, then the steps
    python benchmarks/national.py --data DIR --workers 1                    # a partitioned dataset already made
    python benchmarks/national.py --render                                  # the report from the JSON

1. ``workbench synth --format partitioned`` writes the country (instansi of 50,000 employees, one part
   each), in its own process: seconds and that process's peak memory.
2. On a ``LocalCluster`` of ``--workers`` single-threaded workers (``--memory-limit`` each), the steps
   of ``engine: dask`` that run distributed today, as the runner and notebook 02 call them:
   - validation of the partitioned dataset (``engine.validation.validate_partitioned``), the typed
     parts written to a run-like folder;
   - the appraisal outcomes (``outcomes.distributed.appraisal_outcomes``), joined part by part and
     returned to the client in the regional order;
   - the crossed rater model (``raters.spec.feedback_model`` on the partitioned 360 feedback): its
     sufficient statistics gathered on the cluster, the fit on the client.
   Per step: seconds, the peak memory of the client process and of each worker process (sampled every
   half second), whether a worker went above its memory limit (Dask would then have restarted it: the
   step fails), and every task's compute time from Dask's task stream.
3. From the task times, the time on a cluster of W workers: ``client + max(longest task, sum of task
   times / W)`` (greedy list scheduling reaches this within the longest task). The assumptions are
   written in the report.

4. With ``--runner``: ``workbench run --only 04`` with ``engine: dask`` on the same dataset, the run as
   an agency would start it (validation on the cluster, the appraisal outcomes derived, then notebook
   04, the rollout evaluation, whose inputs are one row per unit or per unit and period): per step
   the seconds the manifest records, and the peak memory of the whole process tree.

Not measured, because they cannot run at this size yet: notebooks 01-03, which read whole tables of
people in one kernel (docs/national.md says which). Written to benchmarks/results/national.json
(one record per dataset size and worker count) and rendered to benchmarks/results/national.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline_scale import WORKBENCH, PeakRSS, commit, machine  # noqa: E402 - the same measurements

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
JSON = RESULTS / "national.json"
REPORT = RESULTS / "national.md"
CLUSTER_SIZES = (1, 2, 8, 32)


class ProcessPeaks:
    """Peak resident memory of this process (the client) and of each of its descendants (the cluster's
    worker processes and their nannies), sampled every half second until ``stop``."""

    def __init__(self):
        self.me, self.peaks, self._stop = psutil.Process(), {}, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            for p in [self.me, *self.me.children(recursive=True)]:
                try:
                    rss = p.memory_info().rss
                    role = "client" if p.pid == self.me.pid else _role(p)
                except psutil.Error:
                    continue
                key = (role, p.pid)
                self.peaks[key] = max(self.peaks.get(key, 0), rss)
            time.sleep(0.5)

    def stop(self) -> dict:
        self._stop.set()
        self.thread.join(timeout=2)
        workers = [v for (role, _), v in self.peaks.items() if role == "worker"]
        return {"client_gib": round(self.peaks.get(("client", self.me.pid), 0) / 2**30, 2),
                "worker_max_gib": round(max(workers, default=0) / 2**30, 2),
                "workers_gib": sorted(round(v / 2**30, 2) for v in workers)}


def _role(p: psutil.Process) -> str:
    """A worker process holds the data; its nanny (which starts it) and the scheduler's helper processes
    hold little: the largest child processes are the workers."""
    try:
        line = " ".join(p.cmdline())
    except psutil.Error:
        return "other"
    if "resource_tracker" in line:
        return "other"
    return "worker" if "multiprocessing" in line or "spawn" in line or "forkserver" in line else "other"


def task_times(stream: list[dict]) -> list[float]:
    """Compute seconds of every task in a Dask task stream."""
    return [sum(s["stop"] - s["start"] for s in t.get("startstops", ()) if s.get("action") == "compute")
            for t in stream]


def step(name: str, func, client) -> tuple[dict, object]:
    """Run one step, measured; a failure (a worker killed above its memory limit) is recorded with its
    error rather than raised, and the result is then None."""
    from distributed import get_task_stream

    peaks = ProcessPeaks()
    t0 = time.perf_counter()
    result, error, stream = None, None, []
    try:
        with get_task_stream(client) as ts:
            result = func()
        stream = ts.data
    except Exception as exc:  # noqa: BLE001 - the failure is the measurement
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
    memory = peaks.stop()
    seconds = time.perf_counter() - t0
    tasks = task_times(stream)
    record = {"step": name, "seconds": round(seconds, 1), "tasks": len(tasks),
              "task_seconds": round(sum(tasks), 1), "longest_task": round(max(tasks, default=0), 2),
              "client_seconds": round(max(0.0, seconds - _span(stream)), 1), **memory}
    if error:
        record["error"] = error
    return record, result


def _span(stream: list[dict]) -> float:
    """Wall seconds from the first task's start to the last task's end."""
    times = [(s["start"], s["stop"]) for t in stream for s in t.get("startstops", ()) if s.get("action") == "compute"]
    return max(b for _, b in times) - min(a for a, _ in times) if times else 0.0


def estimate(rec: dict, workers: int) -> float:
    """Seconds of a step on ``workers`` workers like this machine's cores (see the module docstring)."""
    return rec["client_seconds"] + max(rec["longest_task"], rec["task_seconds"] / workers)


def synthesise(employees: int, per_instansi: int, out: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen([WORKBENCH, "synth", "--format", "partitioned", "--employees", str(employees),
                             "--per-instansi", str(per_instansi), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watch = PeakRSS(proc.pid)
    _, err = proc.communicate()
    watch.stop()
    if proc.returncode != 0:
        raise SystemExit(f"synth failed: {err.strip()[-500:]}")
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_gib": round(watch.peak / 2**30, 2)}


def cluster_steps(data: Path, work: Path, workers: int, memory_limit: str, model: bool, keep) -> list[dict]:
    """The steps on a LocalCluster; ``keep(records)`` after each, so that a step that fails (a worker
    above its memory limit) leaves the ones before it recorded."""
    import functools

    from analysis.core.params import Dask
    from analysis.engine import cluster
    from analysis.engine import partitioned as P
    from analysis.engine.validation import validate_partitioned
    from analysis.outcomes import distributed
    from analysis.raters import spec

    out = work / "partitioned"
    shutil.rmtree(out, ignore_errors=True)
    records = []
    with cluster.connect(Dask(workers=workers, threads_per_worker=1, memory_limit=memory_limit),
                         scratch=work) as client:
        limit = client.run(lambda dask_worker: dask_worker.memory_manager.memory_limit)
        limit_gib = round(min(limit.values()) / 2**30, 2)

        def save(steps: list[dict]) -> None:  # each step with the workers' limit, and whether one went above
            for r in steps:
                r.update(memory_limit_gib=limit_gib, above_limit=r["worker_max_gib"] > limit_gib)
            keep(steps)

        rec, ds = step("validation", lambda: validate_partitioned(data, out), client)
        rec["ok"] = bool(ds is not None and ds.ok)
        rec["rows"] = int(sum(ds.rows_used.values())) if ds is not None else None
        records.append(rec)
        save(records)
        if not rec["ok"]:
            return records
        parts = functools.partial(P.from_parts, functools.partial(P.read_part, out), folder=out)
        rec, outcomes = step("appraisal outcomes", lambda: distributed.appraisal_outcomes(parts), client)
        rec["rows"] = len(outcomes) if outcomes is not None else None
        records.append(rec)
        save(records)
        del outcomes
        if model:
            feedback = P.dask_frame(out, "feedback_360")
            rec, fit = step("rater model", lambda: spec.feedback_model(feedback, method="reml"), client)
            if fit is not None:
                rec.update(rows=int(fit.n), fit_seconds=round(fit.seconds, 1), solver=fit.solver)
            records.append(rec)
            save(records)
    return records


def runner(data: Path, work: Path, workers: int, memory_limit: str) -> dict:
    """``workbench run --only 04`` with engine: dask on the dataset (see the module docstring)."""
    params = work / "national.yaml"
    params.write_text(f"extends: {ROOT / 'params' / 'default.yaml'}\nengine: dask\ndask:\n  scheduler: local\n"
                      f"  workers: {workers}\n  threads_per_worker: 1\n  memory_limit: {memory_limit}\n",
                      encoding="utf-8")
    out = work / "runs"
    t0 = time.perf_counter()
    proc = subprocess.Popen([WORKBENCH, "run", "--params", str(params), "--data", str(data), "--out", str(out),
                             "--only", "04"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watch = PeakRSS(proc.pid)
    _, err = proc.communicate()
    watch.stop()
    record = {"exit_code": proc.returncode, "seconds": round(time.perf_counter() - t0, 1),
              "peak_rss_gib": round(watch.peak / 2**30, 2),
              "peak_pss_gib": round(watch.peak_pss / 2**30, 2) if watch.peak_pss else None}
    runs = sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink())
    manifest = json.loads((runs[-1] / "manifest.json").read_text(encoding="utf-8")) if runs else {}
    record["steps"] = {"validation": (manifest.get("validation") or {}).get("seconds"),
                       "derived outcomes": manifest.get("derived_seconds"),
                       **{s["name"]: s.get("seconds") for s in manifest.get("steps", [])}}
    if proc.returncode != 0:
        record["error"] = err.strip().splitlines()[-1] if err.strip() else manifest.get("error", "failed")
    shutil.rmtree(out, ignore_errors=True)
    return record


def render(data: dict) -> str:
    lines = ["# The national run's steps at national size", "",
             "Made by `benchmarks/national.py` (its docstring says how). Each record: a dataset written by "
             "`workbench synth --format partitioned`, then the steps of `engine: dask` that run distributed "
             "today on a `LocalCluster` of single-threaded workers on this machine.", ""]
    for rec in data["records"]:
        lines += [f"## {rec['employees']:,} employees, {rec['workers']} worker(s) of {rec['memory_limit']}",
                  "", f"Machine: {rec['machine']}; commit {rec['commit']}; {rec['date']}.", ""]
        if rec.get("synth"):
            s = rec["synth"]
            lines += [f"Synthesis: {s['seconds']:,.0f} s, peak {s['peak_rss_gib']} GiB RSS ({rec['instansi']} "
                      f"instansi; {rec['rows']:,} rows, {rec['bytes'] / 2**30:.1f} GiB of Parquet).", ""]
        lines += ["| step | rows | seconds | tasks | task seconds | longest task | client seconds | client peak GiB "
                  "| worker peak GiB (limit) |", "|---|---|---|---|---|---|---|---|---|"]
        for r in rec["steps"]:
            if r.get("error"):
                lines.append(f"| {r['step']} | failed after {r['seconds']:,.0f} s: {r['error']} | | | | | | "
                             f"{r['client_gib']} | {r['worker_max_gib']} |")
                continue
            lines.append(f"| {r['step']} | {r.get('rows') or 0:,} | {r['seconds']:,.0f} | {r['tasks']} | "
                         f"{r['task_seconds']:,.0f} | {r['longest_task']:.1f} | {r['client_seconds']:,.0f} | "
                         f"{r['client_gib']} | {r['worker_max_gib']} ({r['memory_limit_gib']})"
                         + (" **above the limit**" if r["above_limit"] else "") + " |")
        for note in rec.get("notes", []):  # what the script could not measure, added by hand
            lines += ["", f"Note: {note}"]
        if rec.get("runner"):
            r = rec["runner"]
            steps = ", ".join(f"{k} {v:,.0f} s" for k, v in r["steps"].items() if v is not None)
            lines += ["", f"`workbench run --only 04` (engine: dask, a cluster of the same size): exit "
                      f"{r['exit_code']} in {r['seconds']:,.0f} s ({steps}); peak {r['peak_pss_gib']} GiB PSS, "
                      f"{r['peak_rss_gib']} GiB RSS, for the runner, its cluster and the notebook's kernel together"
                      + (f"; error: {r['error']}" if r.get("error") else "") + "."]
        lines += ["", "Estimated seconds on W workers like this machine's cores (below):", "",
                  "| step | " + " | ".join(f"W = {w}" for w in CLUSTER_SIZES) + " |",
                  "|---|" + "---|" * len(CLUSTER_SIZES)]
        for r in [r for r in rec["steps"] if not r.get("error")]:
            lines.append(f"| {r['step']} | " + " | ".join(f"{estimate(r, w):,.0f}" for w in CLUSTER_SIZES) + " |")
        lines.append("")
    lines += [
        "## How the estimates are made, and what they assume", "",
        "A step's time on W workers is `client + max(longest task, task seconds / W)`: the client's own "
        "share (reading the small tables, the keys and references across parts, the rater model's "
        "optimisation, putting the outcomes in order), which does not shrink with more workers, plus the "
        "tasks spread over W workers (greedy list scheduling finishes within one longest task of this). "
        "It assumes workers as fast as one core of this machine, one thread each; storage every worker "
        "reads at the speed of this machine's disk (the parts are read by their path: a shared file "
        "system that cannot serve 32 workers at once makes it longer); a network that carries what "
        "returns to the client (the outcomes: one row per employee and period; the model's per-level "
        "statistics) at least as fast as the client takes it; and no task slowed by spilling. The "
        "client's share is measured, not modelled: with many workers it dominates (the validation's "
        "whole tables and cross-part lookups; the model's fit; the outcomes' ordering).", "",
        "What does not run at national size yet: notebooks 01 to 03 (the PP 30 scheme scores, rater flags, "
        "reliability, fairness, the adjusted scores, gaps and clusters, the workshop plan) read whole tables "
        "of people in one kernel. docs/national.md keeps the list.", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--employees", type=int, default=4_700_000)
    ap.add_argument("--per-instansi", type=int, default=50_000)
    ap.add_argument("--data", type=Path, help="a partitioned dataset to use instead of synthesising one")
    ap.add_argument("--work", type=Path, help="folder for the dataset and the run (default: a temporary one)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="6GiB")
    ap.add_argument("--no-model", action="store_true", help="skip the rater model")
    ap.add_argument("--runner", action="store_true", help="also `workbench run --only 04` on the dataset")
    ap.add_argument("--render", action="store_true", help="only render the report from the JSON")
    args = ap.parse_args()
    data = json.loads(JSON.read_text()) if JSON.exists() else {"records": []}
    if not args.render:
        work = args.work or Path(tempfile.mkdtemp(prefix="national_"))
        work.mkdir(parents=True, exist_ok=True)
        dataset, synth = args.data, None
        if dataset is None:
            dataset = work / "data"
            if not (dataset / "truth.json").exists():
                synth = synthesise(args.employees, args.per_instansi, dataset)
        summary = json.loads((dataset / "truth.json").read_text())
        rec = {"employees": summary["generator"]["employees"], "instansi": len(summary["instansi"]),
               "rows": sum(summary["row_counts"].values()),
               "bytes": sum(f.stat().st_size for f in dataset.rglob("*.parquet")),
               "workers": args.workers, "memory_limit": args.memory_limit, "synth": synth,
               "machine": machine(), "commit": commit(), "date": time.strftime("%Y-%m-%d")}
        def save(steps: list[dict]) -> None:
            rec["steps"] = steps
            data["records"] = [r for r in data["records"]
                               if (r["employees"], r["workers"]) != (rec["employees"], rec["workers"])] + [rec]
            data["records"].sort(key=lambda r: (r["employees"], r["workers"]))
            JSON.write_text(json.dumps(data, indent=1) + "\n")
            REPORT.write_text(render(data))

        save(cluster_steps(dataset, work / "run", args.workers, args.memory_limit, not args.no_model, save))
        shutil.rmtree(work / "run", ignore_errors=True)
        if args.runner:
            rec["runner"] = runner(dataset, work, args.workers, args.memory_limit)
            save(rec["steps"])
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    REPORT.write_text(render(data))
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
