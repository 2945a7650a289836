"""The whole pipeline at the sizes agencies have: seconds per step and peak memory.

    python benchmarks/pipeline_scale.py                      # 6 k, 30 k and 100 k employees
    python benchmarks/pipeline_scale.py --sizes 6000 300000 1000000   # the large sizes on request
    python benchmarks/pipeline_scale.py --render             # re-render the report from the JSON
    python benchmarks/pipeline_scale.py --render --note "..."  # say what changed since the commit before

Each size: ``workbench synth`` (not timed as part of the pipeline) then ``workbench run`` with the
default params in a fresh process; the per-step seconds come from the run's manifest (validation,
then each notebook); peak memory is the largest resident set of the run's whole process tree (the
runner and its notebook kernels), sampled every 0.2 s. Results are written to
``benchmarks/results/pipeline_scale.json`` (one record per size of this invocation) and rendered to
``benchmarks/results/pipeline_scale.md`` with, per step, the growth exponent between the two largest
sizes measured (log time ratio / log size ratio; 1 is linear). The previous measurement, when it was of
another commit, is kept in the JSON and the report beside the new one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
JSON = RESULTS / "pipeline_scale.json"
REPORT = RESULTS / "pipeline_scale.md"
WORKBENCH = str(Path(sys.executable).with_name("workbench"))


def machine() -> str:
    mem = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class PeakRSS:
    """The largest summed memory of a process and its descendants while it runs: resident set (RSS,
    which counts pages shared by forked workers once per process) and, where the system reports
    it, proportional set (PSS, shared pages split among their processes: the memory really used)."""

    def __init__(self, pid: int):
        self.proc, self.peak, self.peak_pss, self._stop = psutil.Process(pid), 0, 0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = pss = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                        pss += getattr(p.memory_full_info(), "pss", 0)
                    except psutil.Error:
                        pass
                self.peak, self.peak_pss = max(self.peak, total), max(self.peak_pss, pss)
            except psutil.Error:
                return
            time.sleep(0.5)

    def stop(self) -> int:
        self._stop.set()
        self.thread.join(timeout=2)
        return self.peak


def run_size(employees: int, work: Path) -> dict:
    data, out = work / f"data_{employees}", work / f"out_{employees}"
    t0 = time.perf_counter()
    subprocess.run([WORKBENCH, "synth", "--out", str(data), "--employees", str(employees)], check=True,
                   stdout=subprocess.DEVNULL)
    synth_s = time.perf_counter() - t0
    rows = sum(sum(1 for _ in open(f, "rb")) - 1 for f in data.glob("*.csv"))
    t0 = time.perf_counter()
    proc = subprocess.Popen([WORKBENCH, "run", "--params", str(ROOT / "params" / "default.yaml"), "--data", str(data),
                             "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watch = PeakRSS(proc.pid)
    _, err = proc.communicate()
    peak = watch.stop()
    total = time.perf_counter() - t0
    record = {"employees": employees, "rows": rows, "synth_seconds": round(synth_s, 1), "exit_code": proc.returncode,
              "total_seconds": round(total, 1), "peak_rss_gib": round(peak / 2**30, 2),
              "peak_pss_gib": round(watch.peak_pss / 2**30, 2) if watch.peak_pss else None, "steps": {}}
    manifest = out / "latest" / "manifest.json"
    if not manifest.exists():  # a failed run keeps its folder under another name
        found = sorted(out.glob("*/manifest.json"))
        manifest = found[-1] if found else manifest
    if manifest.exists():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        record["steps"]["validation"] = (m.get("validation") or {}).get("seconds")
        for s in m.get("steps", []):
            record["steps"][s["name"]] = s.get("seconds")
    if proc.returncode != 0:
        record["error"] = err.strip().splitlines()[-1] if err.strip() else "failed"
    return record


def growth(records: list[dict]) -> dict[str, float | None]:
    """Per step: the exponent of time in size between the two largest sizes measured."""
    done = sorted((r for r in records if r["exit_code"] == 0), key=lambda r: r["employees"])
    if len(done) < 2:
        return {}
    a, b = done[-2], done[-1]
    out = {}
    for step in b["steps"]:
        ta, tb = a["steps"].get(step), b["steps"].get(step)
        out[step] = (round(math.log(tb / ta) / math.log(b["employees"] / a["employees"]), 2)
                     if ta and tb and ta > 0.5 else None)
    size_ratio = math.log(b["employees"] / a["employees"])
    out["total"] = round(math.log(b["total_seconds"] / a["total_seconds"]) / size_ratio, 2)
    return out


def _gib(value) -> str:
    return f"{value:.2f}" if value is not None else "–"


def render(data: dict) -> str:
    text = _table(data, f"# The pipeline at scale ({data['machine']}, commit {data['commit']})")
    before = data.get("before")
    if before:
        text += "\n" + _table(before, f"## The commit before ({before['commit']}), for comparison")
    if data.get("note"):
        text += "\n" + data["note"].strip() + "\n"
    return text


def _table(data: dict, title: str) -> str:
    records = data["records"]
    steps = []
    for r in records:
        steps += [s for s in r["steps"] if s not in steps]
    head = "| employees | rows | " + " | ".join(steps) + " | total s | peak RSS GiB | peak PSS GiB | exit |"
    lines = [title, "",
             "Seconds per step from each run's manifest (validation, then the notebooks; notebooks 01-04 run "
             "two at a time, so a step's seconds include waiting for the CPU the other uses); peak memory of "
             "the runner, its kernels and their workers together: RSS counts pages shared by forked workers "
             "once per process (an overcount), PSS splits them. Produced by "
             "`python benchmarks/pipeline_scale.py`.", "",
             head, "|" + "---|" * (len(steps) + 6)]
    for r in sorted(records, key=lambda r: r["employees"]):
        cells = [f"{r['steps'].get(s):.1f}" if r["steps"].get(s) is not None else "–" for s in steps]
        lines.append(f"| {r['employees']:,} | {r['rows']:,} | " + " | ".join(cells)
                     + f" | {r['total_seconds']:.0f} | {r['peak_rss_gib']:.2f} | {_gib(r.get('peak_pss_gib'))}"
                     + f" | {r['exit_code']} |")
    g = growth(records)
    if g:
        lines += ["", "Growth exponent between the two largest sizes (time ∝ size^e; e ≤ 1.1 is the goal): "
                  + ", ".join(f"{k} {v}" for k, v in g.items() if v is not None) + "."]
    errors = [f"{r['employees']:,}: {r['error']}" for r in records if r.get("error")]
    if errors:
        lines += ["", "Failed runs: " + "; ".join(errors)]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[6000, 30000, 100000])
    ap.add_argument("--render", action="store_true", help="only re-render the report from the JSON")
    ap.add_argument("--keep", action="store_true", help="keep the generated data and runs")
    ap.add_argument("--note", help="what changed since the measurement before: kept in the JSON, shown in the report")
    args = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.render:
        work = Path(tempfile.mkdtemp(prefix="pipeline_scale_"))
        records = []
        try:
            for n in args.sizes:
                rec = run_size(n, work)
                print(json.dumps(rec), flush=True)
                records.append(rec)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        new = {"machine": machine(), "commit": commit(), "records": records}
        previous = json.loads(JSON.read_text(encoding="utf-8")) if JSON.exists() else None
        if previous and previous.get("commit") != new["commit"]:
            # the last measurement of another commit stays beside this one, for comparison
            new["before"] = {k: previous[k] for k in ("machine", "commit", "records") if k in previous}
            # (a note said what changed since the one before that: it does not carry over)
        elif previous and "before" in previous:
            new["before"] = previous["before"]
        JSON.write_text(json.dumps(new, indent=1) + "\n", encoding="utf-8")
    data = json.loads(JSON.read_text(encoding="utf-8"))
    if args.note:
        data["note"] = args.note
        JSON.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    REPORT.write_text(render(data), encoding="utf-8")
    print(REPORT.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
