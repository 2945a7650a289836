"""What changed since the previous report: ``results/06_changes.json``, which the brief's section
"Sejak laporan sebelumnya / Since the previous report" reads.

The previous report is the latest successful run in the same output folder made with the same params
name (a params file is a report series: another name is another report). The comparison uses only
what both runs circulate: their results files and ``tables/distribution_compliance.csv`` (units, not
people). Every figure is given with both values and the difference:

- units newly breaking, or newly within, the SE 3/2023 distribution bounds in the latest period of
  each run, with their count by region and the units named (the brief names units; people never);
- flagged raters by kind; the share of employees with a competency gap; the workshop plan's reach;
- the rollout's IKM effect (and its interval) then and now.

Written by the runner before the brief runs (``write_changes``), so a run without a previous comparable
run has no such file, and the brief leaves the section out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.core.periods import sort_periods
from analysis.pipeline.history import PEOPLE_COUNTS, RunRecord, headlines, read_runs
from analysis.pipeline.results import write_results

NAME = "06_changes"
COMPLIANCE = "distribution_compliance.csv"
SHARES = ("share_units_breaking_bounds", "share_with_gap")


def previous_comparable(out_root: Path, current: Path, params_name: str) -> RunRecord | None:
    """The latest successful run of ``out_root`` with the same params name, other than ``current``."""
    current = Path(current).resolve()
    return next((r for r in read_runs(out_root)
                 if r.succeeded and r.params_name == params_name and r.folder != current), None)


def _pair(then, now) -> dict | None:
    if then is None and now is None:
        return None
    diff = now - then if then is not None and now is not None else None
    return {"then": then, "now": now, "difference": diff}


def _latest_compliance(run_dir: Path) -> pd.DataFrame | None:
    path = Path(run_dir) / "tables" / COMPLIANCE
    if not path.exists():
        return None
    table = pd.read_csv(path, dtype={"unit_id": str, "period": str})
    # only units checked against a bound (a unit without an org predikat has no compliance)
    table = table[table["compliant"].isin([True, False, "True", "False"])]
    if table.empty:
        return None
    table = table.assign(compliant=table["compliant"].isin([True, "True"]))
    latest = sort_periods(table["period"].dropna())[-1]
    return table[table["period"] == latest]


def bounds_change(then_dir: Path, now_dir: Path) -> dict | None:
    """Units newly breaking / newly within the bounds, latest period of each run against the other's."""
    then, now = _latest_compliance(then_dir), _latest_compliance(now_dir)
    if then is None or now is None:
        return None
    keys = ["unit_id"]
    both = now[["unit_id", "unit_name", "region", "compliant"]].merge(
        then[["unit_id", "compliant"]], on=keys, how="inner", suffixes=("", "_then"))
    breaking = both[~both["compliant"] & both["compliant_then"]].sort_values(["region", "unit_id"])
    within = both[both["compliant"] & ~both["compliant_then"]].sort_values(["region", "unit_id"])
    regions = sorted(set(both["region"].dropna()))
    by_region = [{"region": r, "newly_breaking": int((breaking["region"] == r).sum()),
                  "newly_within": int((within["region"] == r).sum())} for r in regions]
    return {
        "period_then": str(then["period"].iloc[0]), "period_now": str(now["period"].iloc[0]),
        "units_compared": int(len(both)),
        "newly_breaking": int(len(breaking)), "newly_within": int(len(within)),
        "breaking": _pair(int((~then["compliant"].astype(bool)).sum()), int((~now["compliant"].astype(bool)).sum())),
        "by_region": by_region,
        "units_newly_breaking": breaking[["unit_id", "unit_name", "region"]].to_dict(orient="records"),
        "units_newly_within": within[["unit_id", "unit_name", "region"]].to_dict(orient="records"),
    }


def compare(then_dir: Path, now_dir: Path) -> dict:
    """The changes between two successful runs' circulated outputs (the module docstring)."""
    a, b = headlines(Path(then_dir)), headlines(Path(now_dir))
    coverage = {k: (h["plan_needs_covered"] / h["plan_needs"] if h.get("plan_needs_covered") is not None
                    and h.get("plan_needs") else None) for k, h in (("then", a), ("now", b))}
    ikm = {k: ({"estimate": h["ikm_effect"], "ci_low": h["ikm_effect_low"], "ci_high": h["ikm_effect_high"]}
               if h.get("ikm_effect") is not None else None) for k, h in (("then", a), ("now", b))}
    return {
        "bounds": bounds_change(Path(then_dir), Path(now_dir)),
        "share_units_breaking_bounds": _pair(a.get("share_units_breaking_bounds"),
                                             b.get("share_units_breaking_bounds")),
        "raters": {k.removeprefix("raters_"): _pair(a.get(k), b.get(k)) for k in PEOPLE_COUNTS},
        "share_with_gap": _pair(a.get("share_with_gap"), b.get("share_with_gap")),
        "plan_people_reached": _pair(a.get("plan_people_reached"), b.get("plan_people_reached")),
        "plan_coverage": _pair(coverage["then"], coverage["now"]),
        "ikm_effect": {"then": ikm["then"], "now": ikm["now"],
                       "difference": (ikm["now"]["estimate"] - ikm["then"]["estimate"]
                                      if ikm["then"] and ikm["now"] else None)},
    }


def write_changes(work: Path, out_root: Path, params_name: str) -> Path | None:
    """``results/06_changes.json`` of the run being built in ``work`` against the previous comparable
    run; None (nothing written) when there is none."""
    previous = previous_comparable(out_root, work, params_name)
    if previous is None:
        return None
    values = {"previous_run": previous.run_id, "previous_started_at": previous.started_at,
              **compare(previous.folder, Path(work))}
    return write_results(Path(work) / "results" / f"{NAME}.json", NAME, values)
