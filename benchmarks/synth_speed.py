"""Speed and peak memory of the synthetic data generator: generate + write (csv).

    python benchmarks/synth_speed.py                 # N = 6,000, 25,000, 100,000; prints a markdown table
    python benchmarks/synth_speed.py --sizes 6000    # chosen sizes
    python benchmarks/synth_speed.py --record        # also writes benchmarks/results/synth_speed.md

Each size runs in a fresh Python process, so its peak resident memory
(``resource.getrusage`` ru_maxrss) is its own; the dataset is written to a
temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (6_000, 25_000, 100_000)


def run_one(n: int, seed: int) -> dict:
    """Generate and write one dataset in this process; timings and sizes."""
    sys.path.insert(0, str(ROOT / "src"))
    from analysis.synth import SynthConfig, generate, write

    t0 = time.perf_counter()
    tables, truth = generate(SynthConfig(employees=n, seed=seed))
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "data"
        write(tables, truth, out, fmt="csv")
        t2 = time.perf_counter()
        size = sum(p.stat().st_size for p in out.iterdir())
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {
        "employees": n, "generate_s": t1 - t0, "write_s": t2 - t1, "total_s": t2 - t0,
        "peak_rss_mb": rss_kb / 1024, "rows": sum(len(t) for t in tables.values()),
        "feedback_rows": len(tables["feedback_360"]), "csv_mb": size / 2**20,
    }


def table(results: list[dict]) -> str:
    lines = [
        "| employees | generate (s) | write csv (s) | total (s) | peak RSS (MB) | rows, all tables | feedback_360 rows | csv size (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['employees']:,} | {r['generate_s']:.2f} | {r['write_s']:.2f} | {r['total_s']:.2f} | "
                     f"{r['peak_rss_mb']:.0f} | {r['rows']:,} | {r['feedback_rows']:,} | {r['csv_mb']:.0f} |")
    return "\n".join(lines)


def machine() -> str:
    try:
        cpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        cpu = "\n".join(cpu.splitlines()[:10])
    except (OSError, subprocess.CalledProcessError):
        cpu = platform.processor() or platform.machine()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"```\n$ lscpu | head\n{cpu}\n\nPython {platform.python_version()} ({platform.platform()})\n"
            f"load average when recorded: {load} ({time.strftime('%Y-%m-%d %H:%M %Z')})\n```")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--record", action="store_true", help="write benchmarks/results/synth_speed.md")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size in this process
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.seed)))
        return 0
    results = []
    for n in args.sizes:
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--seed", str(args.seed)],
                              capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"N={n:,}: {results[-1]['total_s']:.1f} s", file=sys.stderr)
    md = table(results)
    print(md)
    if args.record:
        out = ROOT / "benchmarks" / "results" / "synth_speed.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            "# Synthetic data generator: speed and memory\n\n"
            "`python benchmarks/synth_speed.py --record` — `analysis.synth.generate` then `write(..., fmt=\"csv\")`, "
            f"seed {args.seed}, each size in a fresh process (peak RSS = `ru_maxrss`). "
            "Target: 100,000 employees generated and written in under a minute on a 2-core machine.\n\n"
            f"{md}\n\n## Machine\n\n{machine()}\n", encoding="utf-8")
        print(f"recorded in {out.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
