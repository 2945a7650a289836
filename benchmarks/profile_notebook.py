"""Seconds per code cell of a notebook, run in this process against a run folder (where a step's time goes).

    python benchmarks/profile_notebook.py notebooks/03_competency_gaps.ipynb outputs/latest
    python benchmarks/profile_notebook.py notebooks/02_rater_bias.ipynb outputs/latest --cprofile 02.prof

The run folder is opened as a finished run, so nothing in it changes (outputs go to
``outputs/scratch/<run_id>/``). Displays are skipped. Each cell's line also gives the process's resident
memory after it and its peak so far. With ``--cprofile FILE`` the whole notebook runs
under cProfile and the statistics are written to FILE (``python -m pstats FILE``, or ``snakeviz FILE``
for a flame graph).
"""

from __future__ import annotations

import argparse
import cProfile
import resource
import time

import nbformat


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebook")
    ap.add_argument("run_dir")
    ap.add_argument("--cprofile", metavar="FILE", help="write cProfile statistics of the whole notebook")
    args = ap.parse_args(argv)
    nb = nbformat.read(args.notebook, as_version=4)
    scope: dict = {"__name__": "__main__"}
    profiler = cProfile.Profile() if args.cprofile else None
    total = time.perf_counter()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        source = cell.source
        if "parameters" in (cell.metadata.get("tags") or []):
            source = f"run_dir = {args.run_dir!r}"
        # no displays: the cost measured is the analysis, not rendering in a front end
        source = source.replace("from IPython.display import Markdown, display",
                                "from IPython.display import Markdown\ndisplay = lambda *a, **k: None")
        code = compile(source, f"cell {i}", "exec")
        t0 = time.perf_counter()
        if profiler:
            profiler.runctx(code, scope, scope)
        else:
            exec(code, scope)
        first = source.strip().splitlines()[0][:90] if source.strip() else ""
        print(f"{time.perf_counter() - t0:8.2f} s  {_rss_gib():5.2f} GiB now  {_peak_gib():5.2f} GiB peak  "
              f"cell {i}: {first}", flush=True)
    print(f"{time.perf_counter() - total:8.2f} s  in all")
    if profiler:
        profiler.dump_stats(args.cprofile)
    return 0


def _rss_gib() -> float:
    """Resident memory of this process now (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**30
    except OSError:
        return 0.0


def _peak_gib() -> float:
    """Peak resident memory of this process so far (forked workers not included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


if __name__ == "__main__":
    raise SystemExit(main())
