"""Speed and memory of the crossed random-effects fit against lme4 and statsmodels.

    .venv/bin/python benchmarks/crossed_speed.py            # everything (about an hour)
    .venv/bin/python benchmarks/crossed_speed.py --quick    # InstEval and the sample only
    .venv/bin/python benchmarks/crossed_speed.py --record   # and write benchmarks/results/crossed_speed.md

Each fit runs in a fresh process under an 8 GB address-space limit and a
10-minute timeout; time is wall-clock, memory is the process's peak resident
set. Every tool fits the same model to the same file:
score ~ aspect + role + (1|ratee) + (1|rater) (REML), or the lme4 reference
models for InstEval and the sample. lme4 needs Debian's r-cran-lme4 and
r-cran-jsonlite (see benchmarks/lme4/README.md); without Rscript its column is
left empty.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
REF = ROOT / "tests" / "reference" / "lme4"
TIMEOUT = 600
MEM_LIMIT = 8 * 1024 ** 3

MODELS = {
    # name: (response, groups, fixed)
    "synthetic": ("score", ["ratee", "rater"], ["aspect", "role"]),
    "insteval": ("y", ["s", "d", "dept_service"], ["service"]),
    "sample360": ("score", ["ratee_id", "rater_id"], ["aspect", "rater_role"]),
}


def r_formula(model: str) -> str:
    response, groups, fixed = MODELS[model]
    return f"{response} ~ {' + '.join(fixed) if fixed else '1'} + " + " + ".join(f"(1|{g})" for g in groups)


# --- workers (run in their own process) -------------------------------------------------


def _load(path: str, model: str):
    import pandas as pd

    df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path, dtype=str)
    response, groups, fixed = MODELS[model]
    df[response] = df[response].astype(float)
    return df


def worker(tool: str, path: str, model: str) -> dict:
    response, groups, fixed = MODELS[model]
    t0 = time.perf_counter()
    df = _load(path, model)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    if tool == "ours":
        from analysis.stats.mixed import fit_crossed

        fit = fit_crossed(df, response, groups, fixed)
        varcomp = fit.variance_components.to_dict()
        extra = {"solver": fit.solver, "evaluations": fit.n_evaluations}
    elif tool == "statsmodels":
        import warnings

        import statsmodels.formula.api as smf

        warnings.filterwarnings("ignore")
        df["_one"] = 1
        for g in groups:
            df[g] = df[g].astype(str)
        formula = f"{response} ~ " + (" + ".join(fixed) if fixed else "1")
        m = smf.mixedlm(formula, df, groups="_one", re_formula="0",
                        vc_formula={g: f"0 + C({g})" for g in groups})
        r = m.fit(reml=True)
        varcomp = dict(zip(r.model.exog_vc.names, map(float, r.vcomp))) | {"residual": float(r.scale)}
        extra = {}
    else:
        raise ValueError(tool)
    t_fit = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds_read": t_read, "seconds_fit": t_fit, "varcomp": varcomp, "peak_rss_mb": peak, **extra}


# --- driver ------------------------------------------------------------------------------


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))


def run_tool(tool: str, parquet: Path, csv: Path, model: str) -> dict:
    if tool == "lme4":
        if not shutil.which("Rscript"):
            return {"error": "Rscript not installed"}
        cmd = ["Rscript", str(ROOT / "benchmarks" / "lme4" / "time_lmer.R"), str(csv), r_formula(model), "TRUE"]
    else:
        cmd = [sys.executable, __file__, "--worker", tool, str(parquet), model]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {TIMEOUT} s"}
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not proc.stdout.strip():
        tail = (proc.stderr or "").strip().splitlines()[-1:] or ["?"]
        return {"error": f"failed ({tail[0][:120]})", "wall": wall}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall"] = wall
    return out


def dataset_files(name: str, tmp: Path, n: int | None = None, design: str = "org360") -> tuple[Path, Path, str]:
    import pandas as pd

    if name in ("insteval", "sample360"):
        csv = tmp / f"{name}.csv"
        with gzip.open(REF / f"{name}.csv.gz", "rb") as src, open(csv, "wb") as dst:
            shutil.copyfileobj(src, dst)
        df = pd.read_csv(csv, dtype=str)
        model = name
    else:
        import crossed_data

        df = getattr(crossed_data, design)(n)
        csv = tmp / f"{design}_{n}.csv"
        df.to_csv(csv, index=False)
        model = "synthetic"
    parquet = csv.with_suffix(".parquet")
    df.to_parquet(parquet)
    return parquet, csv, model


def rel_diff(a: dict, b: dict) -> float | None:
    try:
        return max(abs(a[k] / b[k] - 1) for k in b if k in a)
    except (KeyError, ZeroDivisionError, TypeError, ValueError):  # ValueError: nothing to compare
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", nargs=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--sizes", default="10000,30000,100000,300000,1000000,3000000,10000000,25000000")
    ap.add_argument("--design", default="org360", choices=["org360", "global_random"])
    ap.add_argument("--repeat", type=int, default=3, help="fits of InstEval and the sample (median)")
    ap.add_argument("--render", action="store_true",
                    help="only write the report again from the recorded benchmarks/results/crossed_speed.json")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    if args.render:
        rows = json.loads((ROOT / "benchmarks" / "results" / "crossed_speed.json").read_text())
        (ROOT / "benchmarks" / "results" / "crossed_speed.md").write_text(render(rows))
        return

    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cases = [("insteval", None), ("sample360", None)]
        if not args.quick:
            cases += [(f"{args.design}", int(float(s))) for s in args.sizes.split(",")]
        skip = set()
        for name, n in cases:
            parquet, csv, model = dataset_files(name, tmp, n, args.design)
            reps = args.repeat if n is None else 1
            row = {"case": name if n is None else f"{args.design} {n:,}"}
            for tool in ("ours", "lme4", "statsmodels"):
                if tool in skip:
                    row[tool] = {"error": "skipped (failed at a smaller size)"}
                    continue
                results = [run_tool(tool, parquet, csv, model) for _ in range(reps)]
                ok = [r for r in results if "error" not in r]
                row[tool] = (sorted(ok, key=lambda r: r["seconds_fit"])[len(ok) // 2] if ok else results[0])
                if not ok and n is not None:
                    skip.add(tool)
                print(row["case"], tool, {k: v for k, v in row[tool].items() if k != "varcomp"}, flush=True)
            row["n"] = n
            rows.append(row)
            for f in (parquet, csv):
                f.unlink()
    if args.record:  # the raw measurements first: a report that fails to render loses nothing
        raw = ROOT / "benchmarks" / "results" / "crossed_speed.json"
        raw.write_text(json.dumps(rows, indent=1, default=str) + "\n")
    report = render(rows)
    print(report)
    if args.record:
        (ROOT / "benchmarks" / "results" / "crossed_speed.md").write_text(report)


def _fmt(r: dict, key: str = "seconds_fit") -> str:
    if "error" in r:
        err = r["error"]
        if "MemoryError" in err:
            size = err.split("allocate ")[1].split(" for")[0] if "allocate " in err else ""
            return f"out of memory ({size} dense array)" if size else "out of memory"
        if err.startswith("skipped"):
            return "— (failed at a smaller size)"
        if "Execution halted" in err:
            return "failed (R stopped: 8 GiB limit)"
        return err
    return f"{r[key]:.2f}"


def render(rows: list[dict]) -> str:
    lines = ["# Crossed random-effects fit: ours vs lme4 vs statsmodels", "",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
             f"Python {platform.python_version()}. Re-run: `.venv/bin/python benchmarks/crossed_speed.py --record`.",
             "", _machine(), "",
             "Seconds to fit (data already in memory; REML; median of 3 for the first two rows), peak memory "
             "of the process, and the largest relative difference of our variance components from lme4's.",
             "", "| data | ours s | our solver | lme4 s | statsmodels s | lme4 s / ours s | ours MB | lme4 MB "
             "| ours vs lme4 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        o, l, s = r["ours"], r["lme4"], r["statsmodels"]
        speed = f"{l['seconds_fit'] / o['seconds_fit']:.2g}" if "error" not in o and "error" not in l else ""
        diff = rel_diff(o.get("varcomp", {}), l.get("varcomp", {}))
        mem = [f"{x['peak_rss_mb']:.0f}" if x.get("peak_rss_mb") else "" for x in (o, l)]
        lines.append(f"| {r['case']} | {_fmt(o)} | {o.get('solver', '')} | {_fmt(l)} | {_fmt(s)} | {speed} | "
                     f"{mem[0]} | {mem[1]} | {'' if diff is None else f'{diff:.1e}'} |")
    lines += ["", "Reading the table. Below about 100,000 ratings every tool takes about a second and lme4 is "
              "the quicker (our fixed costs: Python start-up is outside the timing, but the exact solver's "
              "sparse factorisation and the fixed-effects set-up are not). From 300,000 ratings our "
              "iterative solver (preconditioned conjugate gradients) is 3-10 times faster than lme4 and "
              "needs a quarter to two thirds of its memory; lme4 stops under the 8 GiB limit between 3 and 10 "
              "million ratings (benchmarks/lme4/timings_lme4.md: between 8 and 16 million on another "
              "design, 12.8 minutes and 9.8 GiB at 16 million without the limit). statsmodels MixedLM "
              "builds dense ratings × groups matrices and runs out of memory from about 70,000 ratings. "
              "The last column is the largest relative difference of the three variance components from "
              "lme4's: ~1e-6 on the exact path, ~1e-4 to 1e-3 on the iterative path (its stopping "
              "tolerance).", "",
              "Growth with size (ours): exponent of time and peak memory in the number of ratings between "
              "consecutive synthetic rows (small sizes are dominated by fixed costs and a change of solver).",
              ""]
    synth = [r for r in rows if r.get("n") and "error" not in r["ours"]]
    import math

    for a, b in zip(synth, synth[1:]):
        k = math.log(b["n"] / a["n"])
        t = math.log(b["ours"]["seconds_fit"] / a["ours"]["seconds_fit"]) / k
        m = math.log(b["ours"]["peak_rss_mb"] / a["ours"]["peak_rss_mb"]) / k
        lines.append(f"- {a['n']:,} → {b['n']:,}: time grows as n^{t:.2f}, memory as n^{m:.2f}")
    return "\n".join(lines) + "\n"


def _machine() -> str:
    try:
        cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()[:15]
    except OSError:
        cpu = []
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    return "```\n" + "\n".join(cpu) + f"\nMemory: {mem:.0f} GiB\n```"


if __name__ == "__main__":
    main()
