"""The two engines on the same dataset: the same outputs, and what each costs.

    python benchmarks/engine_compare.py --employees 100000          # synthesises, then both runs
    python benchmarks/engine_compare.py --data DIR                  # a dataset of your own
    python benchmarks/engine_compare.py --render                    # re-render the report from the JSON

``workbench run`` with ``engine: pandas`` (the default params) and with ``engine: dask`` (a 2-worker
``LocalCluster``: the params below), one after the other, on one dataset. Then every file of each run's
``tables/``, ``results/`` and ``plans/`` is compared byte for byte (``results/00_run.json`` names the
params file, so it differs by that name only: the comparison reads it with the name removed). Per step
the seconds from each run's manifest, and the peak memory of each run's whole process tree (the
runner, its kernels, and with Dask the cluster's worker processes: they are the runner's children),
sampled as ``pipeline_scale.py`` does. Written to ``benchmarks/results/engine_compare.json`` and
rendered to ``benchmarks/results/engine_compare.md`` with the machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline_scale import WORKBENCH, PeakRSS, commit, machine  # noqa: E402 - the same measurements

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
JSON = RESULTS / "engine_compare.json"
REPORT = RESULTS / "engine_compare.md"
DASK_PARAMS = "engine: dask\ndask:\n  scheduler: local\n  workers: 2\n  threads_per_worker: 1\n  memory_limit: 4GiB\n"
COMPARED = ("tables", "results", "plans")


def run(params: Path, data: Path, out: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen([WORKBENCH, "run", "--params", str(params), "--data", str(data), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watch = PeakRSS(proc.pid)
    _, err = proc.communicate()
    watch.stop()
    record = {"exit_code": proc.returncode, "total_seconds": round(time.perf_counter() - t0, 1),
              "peak_rss_gib": round(watch.peak / 2**30, 2),
              "peak_pss_gib": round(watch.peak_pss / 2**30, 2) if watch.peak_pss else None, "steps": {}}
    manifest = json.loads((out / "latest" / "manifest.json").read_text(encoding="utf-8"))
    record["steps"]["validation"] = (manifest.get("validation") or {}).get("seconds")
    record["steps"]["derived outcomes"] = manifest.get("derived_seconds")
    if "engine" in manifest:
        record["steps"]["partitioned tables"] = manifest["engine"].get("partitioned_seconds")
    for s in manifest.get("steps", []):
        record["steps"][s["name"]] = s.get("seconds")
    if proc.returncode != 0:
        record["error"] = err.strip().splitlines()[-1] if err.strip() else "failed"
    return record


def _comparable(path: Path) -> bytes:
    if path.name == "00_run.json":  # names the params file, which differs on purpose
        data = json.loads(path.read_text(encoding="utf-8"))
        (data.get("values") or data).pop("params_name", None)
        return json.dumps(data, sort_keys=True).encode()
    return path.read_bytes()


def compare(a: Path, b: Path) -> dict:
    """Files of each compared folder: how many, and which differ or exist in one run only."""
    out = {}
    for folder in COMPARED:
        fa = {p.relative_to(a / folder) for p in (a / folder).rglob("*") if p.is_file()}
        fb = {p.relative_to(b / folder) for p in (b / folder).rglob("*") if p.is_file()}
        differ = sorted(str(p) for p in fa & fb if _comparable(a / folder / p) != _comparable(b / folder / p))
        out[folder] = {"files": len(fa | fb), "differ": differ, "only_in_one": sorted(str(p) for p in fa ^ fb)}
    return out


def render(data: dict) -> str:
    lines = ["# The two engines on one dataset", "",
             "`workbench run` with `engine: pandas` and with `engine: dask` (a 2-worker `LocalCluster`, "
             "one thread and 4 GiB each) on the same dataset, one after the other. Seconds per step from "
             "each run's manifest; peak memory of each run's whole process tree (runner, kernels and the "
             "cluster's workers). Produced by `python benchmarks/engine_compare.py`.", ""]
    for rec in data["records"]:
        lines += [f"## {rec['dataset']} ({rec['machine']}, commit {rec['commit']})", ""]
        steps = list(dict.fromkeys([*rec["pandas"]["steps"], *rec["dask"]["steps"]]))
        lines += ["| engine | " + " | ".join(steps) + " | total s | peak RSS GiB | peak PSS GiB | exit |",
                  "|---" * (len(steps) + 5) + "|"]
        for engine in ("pandas", "dask"):
            r = rec[engine]
            cells = [("–" if r["steps"].get(s) is None else f"{r['steps'][s]:.1f}") for s in steps]
            lines.append(f"| {engine} | " + " | ".join(cells) + f" | {r['total_seconds']:.0f} | "
                         f"{r['peak_rss_gib']:.2f} | {r['peak_pss_gib'] or 0:.2f} | {r['exit_code']} |")
        lines += ["", "Outputs compared byte for byte:", ""]
        for folder, c in rec["same"].items():
            verdict = "identical" if not c["differ"] and not c["only_in_one"] else (
                f"differ: {', '.join(c['differ'][:10])}; in one run only: {', '.join(c['only_in_one'][:10])}")
            lines.append(f"- `{folder}/`: {c['files']} files, {verdict}")
        if rec.get("note"):
            lines += ["", rec["note"]]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--employees", type=int, default=100_000)
    ap.add_argument("--data", help="a dataset folder (instead of synthesising one)")
    ap.add_argument("--render", action="store_true", help="only re-render the report from the JSON")
    ap.add_argument("--note", help="a sentence kept with the record and shown in the report")
    ap.add_argument("--name", help="how the report names a dataset given with --data")
    ap.add_argument("--keep", help="a new folder to keep both runs in (default: a temporary one, removed)")
    args = ap.parse_args(argv)
    if args.render:
        REPORT.write_text(render(json.loads(JSON.read_text(encoding="utf-8"))), encoding="utf-8")
        return 0
    with tempfile.TemporaryDirectory(prefix="engines-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        data = Path(args.data) if args.data else work / "data"
        if not args.data:
            subprocess.run([WORKBENCH, "synth", "--out", str(data), "--employees", str(args.employees)], check=True,
                           stdout=subprocess.DEVNULL)
        dask_params = work / "dask.yaml"
        dask_params.write_text(f"extends: {ROOT / 'params' / 'default.yaml'}\n{DASK_PARAMS}", encoding="utf-8")
        record = {"dataset": f"synth --employees {args.employees:,}" if not args.data else args.name or str(data),
                  "pandas": run(ROOT / "params" / "default.yaml", data, work / "pandas"),
                  "dask": run(dask_params, data, work / "dask")}
        record["same"] = compare(work / "pandas" / "latest", work / "dask" / "latest")
        if args.note:
            record["note"] = args.note
    record["machine"], record["commit"] = machine(), commit()
    # one record per dataset: a new measurement replaces the one of the same dataset, others are kept
    kept = json.loads(JSON.read_text(encoding="utf-8"))["records"] if JSON.exists() else []
    result = {"records": [r for r in kept if r["dataset"] != record["dataset"]] + [record]}
    JSON.write_text(json.dumps(result, indent=1), encoding="utf-8")
    REPORT.write_text(render(result), encoding="utf-8")
    print(REPORT.read_text(encoding="utf-8"))
    return 0 if all(not c["differ"] and not c["only_in_one"] for c in record["same"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
