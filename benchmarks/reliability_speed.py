"""Speed of analysis.stats.reliability against pingouin.intraclass_corr and the krippendorff package.

    .venv/bin/pip install pingouin krippendorff                  # benchmark-only, never imported by src/
    .venv/bin/python benchmarks/reliability_speed.py                 # 1k, 10k, 100k targets x 5 raters
    .venv/bin/python benchmarks/reliability_speed.py --sizes 1000    # chosen sizes
    .venv/bin/python benchmarks/reliability_speed.py --record        # also writes the results file:
                                                                     # benchmarks/results/reliability_speed.md

Data: integer ratings 1-5 (a target effect, a rater severity and noise),
complete for the ICC, with 10% of values missing for Krippendorff's alpha.
Each timing is the best of ``--repeat`` runs on the same data. Both sides get
the shape they take: long data for the ICCs (ours also on the wide array),
a coders x units array for alpha (ours also on long data). Every result is
compared with the other package's; the table shows the largest absolute
difference (pingouin rounds its interval bounds to 2 decimals, so those are
compared separately).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis.stats import reliability as rel  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
RATERS = 5
LEVELS = rel.LEVELS


def best(fn, repeat: int) -> tuple[float, object]:
    """Shortest wall time of ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def make(n: int, seed: int) -> tuple[np.ndarray, pd.DataFrame, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    x = (3 + rng.normal(0, 1, (n, 1)) + rng.normal(0, 0.4, (1, RATERS)) + rng.normal(0, 0.8, (n, RATERS)))
    x = np.clip(np.rint(x), 1, 5)
    long = pd.DataFrame({"target": np.repeat(np.arange(n), RATERS), "rater": np.tile(np.arange(RATERS), n),
                         "rating": x.ravel()})
    m = x.T.copy()  # coders x units
    m[rng.random(m.shape) < 0.10] = np.nan
    c, u = np.nonzero(~np.isnan(m))
    klong = pd.DataFrame({"unit": u, "coder": c, "value": m[c, u]})
    return x, long, m, klong


def run(n: int, seed: int, repeat: int) -> list[dict]:
    import krippendorff
    import pingouin as pg

    x, long, m, klong = make(n, seed)
    rows = []
    t_ours, ours = best(lambda: rel.icc(long, "target", "rater", "rating"), repeat)
    t_wide, _ = best(lambda: rel.icc_matrix(x), repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pingouin's pandas deprecation warnings
        t_pg, theirs = best(lambda: pg.intraclass_corr(long, targets="target", raters="rater", ratings="rating"),
                            repeat)
    ci = theirs["CI95" if "CI95" in theirs else "CI95%"]
    diff = max(np.max(np.abs(ours.table["icc"].to_numpy() - theirs["ICC"].to_numpy())),
               np.max(np.abs(ours.table["F"].to_numpy() - theirs["F"].to_numpy())))
    ci_diff = np.max(np.abs(ours.table[["ci_low", "ci_high"]].to_numpy() - np.vstack(ci.to_numpy())))
    rows.append({"n": n, "what": "ICC, 6 forms + CIs", "ours": t_ours, "ours_alt": t_wide, "ref": t_pg,
                 "ref_name": "pingouin.intraclass_corr", "diff": diff, "ci_diff": ci_diff})
    for level in LEVELS:
        t_m, a = best(lambda: rel.krippendorff_alpha_matrix(m, level), repeat)
        t_l, a_long = best(lambda: rel.krippendorff_alpha(klong, "unit", "coder", "value", level), repeat)
        t_k, b = best(lambda: krippendorff.alpha(reliability_data=m, level_of_measurement=level), repeat)
        rows.append({"n": n, "what": f"alpha {level}", "ours": t_m, "ours_alt": t_l, "ref": t_k,
                     "ref_name": "krippendorff.alpha", "diff": max(abs(a - b), abs(a_long - b)), "ci_diff": np.nan})
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        f"| targets/units x {RATERS} | statistic | ours (ms) | ours, other input (ms) | reference | reference (ms) "
        "| reference / ours | max abs diff | CI bound diff |",
        "|---:|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        ci = "" if np.isnan(r["ci_diff"]) else f"{r['ci_diff']:.1e}"
        lines.append(f"| {r['n']:,} | {r['what']} | {1000 * r['ours']:.1f} | {1000 * r['ours_alt']:.1f} | "
                     f"`{r['ref_name']}` | {1000 * r['ref']:.1f} | {r['ref'] / r['ours']:.1f} | "
                     f"{r['diff']:.1e} | {ci} |")
    return "\n".join(lines)


def machine() -> str:
    try:
        cpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        cpu = "\n".join(cpu.splitlines()[:15])
    except (OSError, subprocess.CalledProcessError):
        cpu = platform.processor() or platform.machine()
    pkgs = []
    for p in ("numpy", "scipy", "pandas", "pingouin", "krippendorff"):
        try:
            pkgs.append(f"{p} {version(p)}")
        except PackageNotFoundError:
            pkgs.append(f"{p} (not installed)")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"```\n$ lscpu | head -15\n{cpu}\n\nPython {platform.python_version()} ({platform.platform()})\n"
            f"{', '.join(pkgs)}\n"
            f"load average when recorded: {load} ({time.strftime('%Y-%m-%d %H:%M %Z')})\n```")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="write benchmarks/results/reliability_speed.md")
    args = ap.parse_args(argv)
    rows = []
    for n in args.sizes:
        rows += run(n, args.seed, args.repeat)
        print(f"n={n:,}: done", file=sys.stderr)
    md = table(rows)
    print(md)
    worst = max(r["diff"] for r in rows)
    worst_ci = np.nanmax([r["ci_diff"] for r in rows])
    print(f"max abs difference, all statistics: {worst:.2e}; ICC interval bounds vs pingouin: {worst_ci:.2e}")
    if args.record:
        out = ROOT / "benchmarks" / "results" / "reliability_speed.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            "# Reliability: speed against pingouin and krippendorff\n\n"
            "`.venv/bin/python benchmarks/reliability_speed.py --record` (after "
            "`.venv/bin/pip install pingouin krippendorff`, which the workbench itself does not need). "
            f"Seed {args.seed}; best of {args.repeat} runs. Integer ratings 1-5 from {RATERS} raters; "
            "complete for the ICC, 10% missing for alpha.\n\n"
            "- ICC: ours = `icc` on long data (one row per target and rater, as pingouin takes it); "
            "other input = `icc_matrix` on the targets x raters array.\n"
            "- alpha: ours = `krippendorff_alpha_matrix` on the coders x units array (as the krippendorff "
            "package takes it); other input = `krippendorff_alpha` on long data.\n"
            "- max abs diff: ICC values and F against pingouin; alpha (both of ours) against "
            "`krippendorff.alpha`. CI bound diff: pingouin prints its bounds rounded to 2 decimals.\n\n"
            f"{md}\n\nLargest difference over all statistics: {worst:.1e}; interval bounds: {worst_ci:.1e}.\n\n"
            f"## Machine\n\n{machine()}\n", encoding="utf-8")
        print(f"recorded in {out.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
