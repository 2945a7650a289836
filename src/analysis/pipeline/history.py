"""The runs of an output folder, read from their manifests: history, "nothing changed", retention.

Every run folder carries ``manifest.json`` (status, times, params, the sha256 of every input file) and,
when it succeeded, ``results/*.json``. From these alone:

- ``read_runs``: one ``RunRecord`` per run folder, newest first, with the headline numbers
  (``HEADLINES``) a history or trend shows; ``history_frame`` as a table.
- ``unchanged_since``: the latest successful run made from the same input files and params, if any
  (``workbench run --if-changed`` then does nothing).
- ``prune_plan`` / ``prune``: which folders the retention params let go; ``latest`` and the runs the
  trend shows are never removed, nor a run being written (``.tmp-``) or the scratch folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.params import Params, Retention
from analysis.core.runfolder import TMP_PREFIX
from analysis.data.reading import find_files, sha256_of

SUFFIXES = {".failed": "failed", ".interrupted": "interrupted"}
NOT_RUNS = ("latest", "scratch")

# headline numbers: name -> (results file, path of keys in its values)
HEADLINES: dict[str, tuple[str, tuple[str, ...]]] = {
    "share_units_breaking_bounds": ("01_appraisal_outcomes", ("compliance", "share_non_compliant")),
    "raters_lenient": ("02_rater_bias", ("flags", "flagged", "lenient")),
    "raters_severe": ("02_rater_bias", ("flags", "flagged", "severe")),
    "raters_central_tendency": ("02_rater_bias", ("flags", "flagged", "central_tendency")),
    "raters_halo": ("02_rater_bias", ("flags", "flagged", "halo")),
    "share_with_gap": ("03_competency_gaps", ("gaps", "share_with_gap")),
    "plan_people_reached": ("03_competency_gaps", ("plans", "plan", "people_reached")),
    "plan_needs_covered": ("03_competency_gaps", ("plans", "plan", "needs_covered")),
    "plan_needs": ("03_competency_gaps", ("plans", "plan", "needs")),
    "ikm_effect": ("04_rollout_evaluation", ("ikm", "overall_att", "estimate")),
    "ikm_effect_low": ("04_rollout_evaluation", ("ikm", "overall_att", "ci_low")),
    "ikm_effect_high": ("04_rollout_evaluation", ("ikm", "overall_att", "ci_high")),
}
# the headlines that count people (flagged raters): the small-cell policy applies where they are shown
PEOPLE_COUNTS = ("raters_lenient", "raters_severe", "raters_central_tendency", "raters_halo")


@dataclass(frozen=True)
class RunRecord:
    """A run folder as its manifest describes it."""

    run_id: str
    folder: Path
    status: str  # success, failed, invalid_data, bad_params, interrupted, running (no final name yet)
    started_at: str | None
    seconds: float | None
    params_name: str | None
    data_fingerprint: str | None  # sha256 of the input files' names and hashes
    params_fingerprint: str | None  # sha256 of the resolved params
    error: str | None
    headlines: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict, repr=False)  # table -> sha256 of its file
    params: dict = field(default_factory=dict, repr=False)
    steps: tuple = ()  # the notebooks the run ran (or skipped)
    key: str | None = None  # fingerprint of the pseudonym key
    code: str | None = None  # the workbench's commit or version

    @property
    def succeeded(self) -> bool:
        return self.status == "success"


def fingerprint(obj) -> str:
    """sha256 of a JSON value with sorted keys (the same for the same content)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def input_hashes(manifest: dict) -> dict[str, str]:
    dataset = manifest.get("dataset")
    files = dataset.get("files") if isinstance(dataset, dict) else None
    if not isinstance(files, dict):
        return {}
    return {str(name): str(f.get("sha256")) for name, f in files.items() if isinstance(f, dict)}


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _seconds(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def current_inputs(dataset: Path) -> dict[str, str]:
    """table -> sha256 of the file a run would read for it now (no reading of the contents)."""
    found, _ = find_files(Path(dataset))
    return {name: sha256_of(path) for name, path in sorted(found.items())}


def _dig(node, keys: tuple[str, ...]):
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def headlines(folder: Path) -> dict:
    """The headline numbers of a successful run (None where a notebook or section did not give one)."""
    out, docs = {}, {}
    for name, (notebook, keys) in HEADLINES.items():
        if notebook not in docs:
            try:
                doc = json.loads((folder / "results" / f"{notebook}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                doc = None
            docs[notebook] = doc if isinstance(doc, dict) else None
        value = _dig((docs[notebook] or {}).get("values"), keys)
        out[name] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return out


def read_run(folder: Path) -> RunRecord | None:
    """The record of one run folder (None: not a run folder, or its manifest cannot be read). A folder
    still named ``.tmp-`` is never a success, whatever its manifest says (it was cut off before its
    rename: the next run marks it interrupted)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    status = _text(manifest.get("status")) or "unknown"
    if folder.name.startswith(TMP_PREFIX) and status != "running":
        status = "interrupted"
    params = manifest.get("params") if isinstance(manifest.get("params"), dict) else {}
    inputs = input_hashes(manifest)
    return RunRecord(
        run_id=_text(manifest.get("run_id")) or folder.name, folder=folder, status=status,
        started_at=_text(manifest.get("started_at")), seconds=_seconds(manifest.get("duration_seconds")),
        params_name=_text(params.get("name")), data_fingerprint=fingerprint(inputs) if inputs else None,
        params_fingerprint=fingerprint(params) if params else None, error=_text(manifest.get("error")),
        headlines=headlines(folder) if status == "success" else {}, inputs=inputs, params=params,
        steps=tuple(s.get("name") for s in manifest.get("steps") or [] if isinstance(s, dict)),
        key=_key_fingerprint(manifest), code=_code(manifest))


def read_runs(out_root: str | Path) -> list[RunRecord]:
    """Every run folder of ``out_root``, newest first (by start, then id)."""
    root = Path(out_root)
    if not root.is_dir():
        return []
    records = [r for p in root.iterdir() if p.is_dir() and not p.is_symlink() and p.name not in NOT_RUNS
               for r in [read_run(p.resolve())] if r is not None]
    return sorted(records, key=lambda r: (r.started_at or "", r.run_id), reverse=True)


def history_frame(records: list[RunRecord]) -> pd.DataFrame:
    """The runs as a table (newest first): what ``workbench history`` prints."""
    rows = [{"run_id": r.run_id, "status": r.status, "started_at": r.started_at, "seconds": r.seconds,
             "params": r.params_name, "data": (r.data_fingerprint or "")[:12] or None, "error": r.error,
             **{k: r.headlines.get(k) for k in HEADLINES}} for r in records]
    return pd.DataFrame(rows, columns=["run_id", "status", "started_at", "seconds", "params", "data", "error",
                                       *HEADLINES])


def _key_fingerprint(manifest: dict) -> str | None:
    key = manifest.get("pseudonym_key")
    return _text(key.get("fingerprint")) if isinstance(key, dict) else None


def _code(manifest: dict) -> str | None:
    code, env = manifest.get("code"), manifest.get("environment")
    commit = code.get("commit") if isinstance(code, dict) else None
    version = env.get("workbench") if isinstance(env, dict) else None
    return _text(commit) or _text(version)


def unchanged_since(out_root: str | Path, params: Params, dataset: Path, *, steps: tuple[str, ...] = (),
                    key: str | None = None, code: str | None = None) -> RunRecord | None:
    """The latest successful run made from the same input files, resolved params, notebooks (``steps``),
    pseudonym key and workbench code as these, or None (then the run must run)."""
    last = next((r for r in read_runs(out_root) if r.succeeded), None)
    if last is None or not last.inputs:
        return None
    if (steps and tuple(last.steps) != tuple(steps)) or last.key != key or last.code != code:
        return None
    if current_inputs(dataset) != last.inputs:
        return None
    return last if fingerprint(params.dump()) == last.params_fingerprint else None


def prune_plan(records: list[RunRecord], retention: Retention, latest: Path | None,
               protect: Path | None = None) -> list[RunRecord]:
    """The run folders the retention params let go (newest first): successful runs beyond
    ``keep_successful``, failed or interrupted ones beyond ``keep_failed``; never ``latest``, the runs the
    trend shows (the last ``trend_runs`` successful ones) or a run not yet finished."""
    finished = [r for r in records if r.status != "running" and not r.folder.name.startswith(TMP_PREFIX)]
    good = [r for r in finished if r.succeeded]
    bad = [r for r in finished if not r.succeeded]
    keep = {r.folder for r in good[:retention.trend_runs]}
    for kept in (latest, protect):  # ``protect``: the run that just ended, whatever its status
        if kept is not None:
            keep.add(Path(kept).resolve())
    drop = []
    if retention.keep_successful is not None:
        drop += good[retention.keep_successful:]
    if retention.keep_failed is not None:
        drop += bad[retention.keep_failed:]
    return sorted((r for r in drop if r.folder not in keep), key=lambda r: (r.started_at or "", r.run_id),
                  reverse=True)


def latest_target(out_root: str | Path) -> Path | None:
    link = Path(out_root) / "latest"
    try:
        return link.resolve(strict=True) if link.is_symlink() else None
    except OSError:
        return None


def prune(out_root: str | Path, retention: Retention, dry_run: bool = False,
          protect: Path | None = None) -> list[RunRecord]:
    """Remove (unless ``dry_run``) the folders ``prune_plan`` names; returns them."""
    plan = prune_plan(read_runs(out_root), retention, latest_target(out_root), protect)
    if not dry_run:
        for r in plan:
            shutil.rmtree(r.folder)
    return plan
