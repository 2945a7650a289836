"""Speed and memory of the restricted Excel workbooks: the openpyxl writer (as it was) against the
XlsxWriter one (``analysis.training.workbook`` now).

    python benchmarks/workbook_speed.py                      # 6,000 / 30,000 / 100,000; prints a markdown table
    python benchmarks/workbook_speed.py --sizes 6000         # chosen sizes
    python benchmarks/workbook_speed.py --record             # also writes benchmarks/results/workbook_speed.md

Two workbooks, as notebook 03 writes them:

- ``development_plans.xlsx`` (``write_table``): one row per employee, the 29 columns of the
  development plans. The rows are those of ``--csv`` (a run's ``plans/development_plans.csv``; by
  default /tmp/run_new/latest/plans/development_plans.csv when it is there, never committed),
  repeated (employee ids made unique) up to the size; without that file, made-up rows of the same
  columns and kinds of value.
- ``workshop_plan.xlsx`` (``write_workbook``): a plan for 600 employees solved once (the generator
  of tests/training/test_workbook.py, scaled up), repeated with its regions and employee ids
  renamed, so that N employees give N/600 times its cohorts' sheets, non-classroom places and
  left-out needs.

The old writer is the module as it was at ``--old-ref`` (default 2200d21, the last openpyxl
version), read with ``git show`` and imported from a temporary file. Each (workbook, size, writer)
runs in a fresh Python process: the times are the call's wall time and the process's CPU time (less
moved by other work on the machine); memory is the process's resident
set, sampled every 10 ms during the call, its peak minus what it held just before (the data).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (6_000, 30_000, 100_000)
SAMPLE_CSV = Path("/tmp/run_new/latest/plans/development_plans.csv")
OLD_REF = "2200d21"
MONEY = ("cost", "cost_funded", "cost_unfunded")
ONE_DECIMAL = ("total_gap", "gap_closed", "jp_total")
BASE_EMPLOYEES = 600  # the solved plan that is repeated


# --- data -------------------------------------------------------------------------------------


def plans_table(n: int, csv: Path | None):
    """``n`` rows of development plans (29 columns)."""
    import numpy as np
    import pandas as pd

    if csv is not None and csv.exists():
        base = pd.read_csv(csv)
    else:
        base = made_up_plans(6_000, np.random.default_rng(7))
    reps = -(-n // len(base))
    df = pd.concat([base] * reps, ignore_index=True).head(n)
    df["employee_id"] = [f"{e}-{i // len(base)}" for i, e in enumerate(df["employee_id"].astype(str))]
    return df


def made_up_plans(n: int, rng):
    """Rows shaped like plans/development_plans.csv (for a machine without a run's file)."""
    import numpy as np
    import pandas as pd

    gaps = rng.integers(0, 6, n)
    text = "M.05 Pelayanan Publik (1.0, target); M.06 Pengembangan Diri dan Orang Lain (1.0, target); "
    cost = np.where(gaps > 0, rng.uniform(0, 5e6, n), 0.0)
    return pd.DataFrame({
        "classification": "TERBATAS / RESTRICTED", "employee_id": [f"ASN-{i:012X}" for i in range(n)],
        "employment_type": rng.choice(["PNS", "PPPK"], n), "unit_id": [f"U{i % 300:04d}" for i in range(n)],
        "region": rng.choice(["Palu", "Rakumpit", "Andir", "Alak"], n), "position_class": "ahli_madya",
        "cluster": np.where(gaps > 0, rng.integers(1, 5, n), np.nan).astype(float),
        "cluster_name": np.where(gaps > 0, "Klaster pelayanan", None),
        "cluster_name_en": np.where(gaps > 0, "Service cluster", None), "n_gaps": gaps,
        "total_gap": gaps * 0.7, "gaps": [text * int(g // 2) or None for g in gaps],
        "activities": [("M.05: PRG-013 Lokakarya Pelayanan Publik (15 JP, didanai); " * int(g)) or None for g in gaps],
        "n_funded": gaps, "gap_closed": gaps * 0.23, "jp_funded": gaps * 10, "jp_unfunded": 0, "jp_inhouse": 12,
        "inhouse": "Coaching internal tanpa biaya katalog: 6 × 2 JP = 12 JP", "jp_total": gaps * 10 + 12.0,
        "cost_funded": cost, "cost_unfunded": 0.0, "cost": cost, "min_jp_applies": True,
        "meets_min_jp": gaps > 1, "jp_shortfall": np.where(gaps > 1, 0, 8), "over_jp_cap": False,
        "reason": np.where(gaps > 1, None, "inhouse_capacity"),
        "reason_text": np.where(gaps > 1, None, "kurang 8 JP: kapasitas kegiatan internal atasannya tidak cukup"),
    })


def base_plan():
    """A plan for BASE_EMPLOYEES employees (the generator of test_workbook's ``case``, larger)."""
    import numpy as np
    import pandas as pd

    from analysis.core.codes import TRAINING_FORMS
    from analysis.core.params import Costs, Workshops
    from analysis.training import workshops as W

    def prog(pid, code, form, jp, fee, lo, hi):
        return {"program_id": pid, "competency_code": code, "name": f"Program {form} {code}",
                "mode": TRAINING_FORMS[form], "form": form, "jp": float(jp), "cost_per_participant": float(fee),
                "min_participants": lo, "max_participants": hi, "provider": "Universitas Tadulako"}

    rng = np.random.default_rng(3)
    rows = []
    for i in range(BASE_EMPLOYEES):
        cluster = pd.NA if i % 11 == 0 else 1 + i % 2
        for code in ("M.01", "M.02", "T.guru.1", "T.x.1"):
            if rng.random() < 0.6:
                gap = float(rng.choice([0.5, 1.0, 1.5]))
                rows.append({"employee_id": f"ASN-{i:012X}", "competency_code": code, "required_level": 3.0,
                             "level": 3 - gap, "gap": gap, "basis": "target" if i % 7 == 0 else "current",
                             "unit_id": f"U{i % 60:04d}", "position_class": "ahli_pertama", "job_family": "guru",
                             "employment_type": "PNS", "region": ["Palu", "Alak", "Sigi", "Donggala"][i % 4],
                             "competency_name_id": f"Nama {code}", "competency_name_en": f"Name {code}",
                             "kind": "manajerial", "cluster": cluster,
                             "cluster_name_id": None if cluster is pd.NA else f"Klaster {cluster}",
                             "cluster_name_en": None if cluster is pd.NA else f"Cluster {cluster}"})
    needs = pd.DataFrame(rows)
    needs["cluster"] = needs["cluster"].astype("Int64")
    cat = pd.DataFrame([prog("P01", "M.01", "workshop", 12, 1_450_000, 8, 38),
                        prog("P02", "M.01", "coaching", 8, 750_000, 1, 3),
                        prog("P03", "M.02", "e_learning", 10, 100_000, 1, 500),
                        prog("P04", "T.guru.1", "bimtek", 13, 2_900_000, 12, 28)])
    cands = W.candidate_workshops(needs, cat, Workshops(max_cohort=20), Costs())
    return W.plan_workshops(cands, 300_000_000, needs), cands, needs


def scaled_plan(n: int):
    """The base plan repeated n / BASE_EMPLOYEES times, each copy with its own regions and ids."""
    import dataclasses

    import pandas as pd

    plan, cands, needs = base_plan()
    k = max(1, round(n / BASE_EMPLOYEES))

    def copy(df, j):
        out = df.copy()
        if "employee_id" in out:
            out["employee_id"] = out["employee_id"].astype(str) + f"-{j}"
        if "participants" in out:
            out["participants"] = out["participants"].map(lambda xs: [f"{x}-{j}" for x in xs])
        if "region" in out:
            out["region"] = out["region"].astype(str) + f" {j:03d}"
        if "option_id" in out:
            out["option_id"] = out["option_id"].astype(str).where(out["option_id"].isna(), f"{j:03d}/" + out[
                "option_id"].astype(str))
        return out

    def many(df):
        return pd.concat([copy(df, j) for j in range(k)], ignore_index=True)

    big = dataclasses.replace(plan, budget=plan.budget * k, selected=many(plan.selected),
                              coverage=many(plan.coverage), left_out=many(plan.left_out), cost=plan.cost * k,
                              value=plan.value * k, people=plan.people * k, jp=plan.jp * k,
                              n_candidates=plan.n_candidates * k)
    return big, many(cands), many(needs), k


# --- one measurement --------------------------------------------------------------------------


def load_old(ref: str):
    """The workbook module as it was at ``ref``."""
    source = subprocess.run(["git", "show", f"{ref}:src/analysis/training/workbook.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_workbook.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_workbook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRSS:
    """The peak resident set while the block runs, sampled every 10 ms."""

    def __enter__(self):
        self.before = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def run_one(kind: str, writer: str, n: int, csv: Path | None, ref: str) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from analysis.training import workbook as new

    module = load_old(ref) if writer == "old" else new
    out = {"kind": kind, "writer": writer, "n": n}
    if kind == "table":
        df = plans_table(n, csv)
        out.update(rows=len(df), columns=df.shape[1], cells=int(df.shape[0] * df.shape[1]))

        def call(path):
            module.write_table(df, path, "Rencana pengembangan individu", "id", restricted=True, money=MONEY,
                               one_decimal=ONE_DECIMAL)
    else:
        plan, cands, needs, k = scaled_plan(n)
        out.update(copies=k, employees=k * BASE_EMPLOYEES, cohorts=int((plan.selected["mode"] == "klasikal").sum()),
                   left_out=len(plan.left_out),
                   nonclassroom=int(plan.selected.loc[plan.selected["mode"] != "klasikal", "n"].sum()))

        def call(path):
            module.write_workbook(plan, cands, needs, path, lang="id", min_cell=5, restricted=True)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.xlsx"
        gc.collect()
        with PeakRSS() as mem:
            t0, c0 = time.perf_counter(), time.process_time()
            call(path)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        out.update(seconds=seconds, cpu_seconds=cpu, rss_before_mb=mem.before, peak_extra_mb=mem.peak - mem.before,
                   file_mb=path.stat().st_size / 2**20)
    return out


# --- the whole run ----------------------------------------------------------------------------


def measure(kind: str, writer: str, n: int, csv: Path | None, ref: str) -> dict:
    cmd = [sys.executable, __file__, "--one", kind, writer, str(n), "--old-ref", ref]
    if csv is not None:
        cmd += ["--csv", str(csv)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def times(r: dict) -> str:
    return f"{r['seconds']:.1f} / {r['cpu_seconds']:.1f}"


def speedup(old: dict, new: dict) -> str:
    return f"{old['seconds'] / new['seconds']:.1f}x / {old['cpu_seconds'] / new['cpu_seconds']:.1f}x"


def report(results: list[dict]) -> str:
    by = {(r["kind"], r["n"], r["writer"]): r for r in results}
    sizes = sorted({r["n"] for r in results})
    lines = ["### development_plans.xlsx (`write_table`)", "",
             "| rows | cells | openpyxl wall / CPU (s) | XlsxWriter wall / CPU (s) | speed-up wall / CPU | "
             "openpyxl peak +RSS (MB) | XlsxWriter peak +RSS (MB) | file MB (old / new) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        o, w = by.get(("table", n, "old")), by.get(("table", n, "new"))
        if o and w:
            lines.append(f"| {o['rows']:,} | {o['cells']:,} | {times(o)} | {times(w)} | {speedup(o, w)} | "
                         f"{o['peak_extra_mb']:.0f} | {w['peak_extra_mb']:.0f} | "
                         f"{o['file_mb']:.1f} / {w['file_mb']:.1f} |")
    lines += ["", "### workshop_plan.xlsx (`write_workbook`, restricted)", "",
              "| employees | cohort sheets | non-classroom places | left-out needs | openpyxl wall / CPU (s) | "
              "XlsxWriter wall / CPU (s) | speed-up wall / CPU | openpyxl peak +RSS (MB) | XlsxWriter peak +RSS (MB) "
              "| file MB (old / new) |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        o, w = by.get(("plan", n, "old")), by.get(("plan", n, "new"))
        if o and w:
            lines.append(f"| {o['employees']:,} | {o['cohorts']:,} | {o['nonclassroom']:,} | {o['left_out']:,} | "
                         f"{times(o)} | {times(w)} | {speedup(o, w)} | "
                         f"{o['peak_extra_mb']:.0f} | {w['peak_extra_mb']:.0f} | "
                         f"{o['file_mb']:.1f} / {w['file_mb']:.1f} |")
    return "\n".join(lines)


def machine() -> str:
    import openpyxl
    import pandas
    import xlsxwriter

    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "?")
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "?")
    return "\n".join([
        f"- {platform.machine()} (`uname -m`), {os.cpu_count()} cores ({model}), "
        f"{int(mem) / 2**20:.0f} GB of memory",
        f"- Python {platform.python_version()} on {platform.platform()}",
        f"- openpyxl {openpyxl.__version__}, XlsxWriter {xlsxwriter.__version__}, pandas {pandas.__version__}",
        f"- load average when recorded: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
    ])


def record(results: list[dict], csv: Path | None, ref: str, machine_text: str) -> str:
    """The results file's text."""
    source = f"the rows of `{csv}` repeated" if csv else "made-up rows of the same columns"
    return "\n".join([
        "# Restricted workbooks: openpyxl against XlsxWriter", "",
        f"`python benchmarks/workbook_speed.py --record` — each (workbook, size, writer) in a fresh process; "
        f"old = `src/analysis/training/workbook.py` at {ref} (openpyxl, cell by cell), new = the "
        "module now (XlsxWriter, `constant_memory`). Times: the call's wall time and the process's CPU time "
        "(less moved by other work on the machine). Memory: the resident set "
        "sampled every 10 ms during the call, its peak minus what the process held before (the data). "
        f"development_plans: {source}, 29 columns, formatted as notebook 03 does. workshop_plan: a solved "
        f"{BASE_EMPLOYEES}-employee plan repeated to the size (see the script's docstring).", "",
        report(results), "", "## Machine", "", machine_text, "",
        "## Raw", "", "```json", json.dumps(results, indent=1), "```", ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--kinds", nargs="+", default=["table", "plan"], choices=["table", "plan"])
    ap.add_argument("--csv", type=Path, default=SAMPLE_CSV if SAMPLE_CSV.exists() else None)
    ap.add_argument("--old-ref", default=OLD_REF)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--one", nargs=3, metavar=("KIND", "WRITER", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        kind, writer, n = args.one
        print(json.dumps(run_one(kind, writer, int(n), args.csv, args.old_ref)))
        return
    results = []
    for kind in args.kinds:
        for n in args.sizes:
            for writer in ("old", "new"):
                r = measure(kind, writer, n, args.csv, args.old_ref)
                print(f"{kind} {n:>7,} {writer}: {r['seconds']:.1f} s ({r['cpu_seconds']:.1f} s CPU), "
                      f"+{r['peak_extra_mb']:.0f} MB", file=sys.stderr)
                results.append(r)
    table = report(results)
    print(table)
    if args.record:
        text = record(results, args.csv, args.old_ref, machine())
        out = ROOT / "benchmarks" / "results" / "workbook_speed.md"
        out.write_text(text, encoding="utf-8")
        print(f"written {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
