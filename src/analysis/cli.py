"""The ``workbench`` command: synth, validate, import, run, history, prune, doctor, lab.

Exit codes, the same for every command:

- 0 success;
- 1 the data has errors (``validate``), or the run failed: a notebook failed,
  or the run could not write its folder (disk full, file system read-only);
- 2 bad usage: bad parameters (params file, kernel, pseudonym key), bad data
  given to ``run``, an output folder that cannot be used, an export or a
  profile that ``import`` cannot read;
- 3 another run is writing to the same output folder (``run`` without ``--wait``);
- 130 interrupted (Ctrl-C, SIGINT or SIGTERM).

Every expected failure is reported as a sentence, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BUSY, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def cmd_validate(args: argparse.Namespace) -> int:
    from analysis.data.validation import load_dataset

    dataset = load_dataset(Path(args.data))
    report_path = Path(args.report)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    dataset.report.write_csv(report_path)
    # consoles and logs circulate: NIPs show as their pseudonyms when the key is at hand, else masked
    dataset.report.print_summary(print, key=_console_key(args.params))
    for name, rows in dataset.row_counts().items():
        print(f"  {name}: {rows} rows")
    print(f"Full report: {report_path}")
    return EXIT_OK if dataset.ok else EXIT_FAILED


def _console_key(params_file: str | None) -> bytes | None:
    """The pseudonym key of ``params_file`` (or of WORKBENCH_PSEUDONYM_KEY), never created here."""
    from analysis.core import privacy
    from analysis.core.params import ParamsError, load_params

    try:
        if params_file:
            params = load_params(params_file)
            if not params.privacy.pseudonymise:
                return None
            return privacy.load_key(Path(params.privacy.key_file).expanduser(), create=False)
        return privacy.load_key(Path("-"), create=False) if os.environ.get(privacy.KEY_ENV, "").strip() else None
    except (ParamsError, privacy.PseudonymKeyError, OSError):
        return None


def cmd_synth(args: argparse.Namespace) -> int:
    import time

    from analysis import synth

    if args.employees < synth.MIN_EMPLOYEES:
        print(f"--employees must be at least {synth.MIN_EMPLOYEES}: fewer cannot fill the units of a "
              "regional government with realistic teams")
        return EXIT_BAD_INPUT
    if args.format == "partitioned":
        return _synth_national(args)
    t0 = time.perf_counter()
    out = Path(args.out)
    try:
        tables, truth = synth.generate(synth.SynthConfig(employees=args.employees, seed=args.seed))
        synth.write(tables, truth, out, fmt=args.format)
    except ValueError as exc:  # e.g. a table too long for one Excel sheet
        print(f"Cannot write the sample: {exc}")
        return EXIT_BAD_INPUT
    rows = ", ".join(f"{name} {len(df):,}" for name, df in tables.items())
    print(f"Sample dataset written to {out} in {time.perf_counter() - t0:.1f} s ({rows}).")
    print(f"Planted truths: {out / 'truth.json'}")
    return EXIT_OK


def _synth_national(args: argparse.Namespace) -> int:
    """``synth --format partitioned``: one instansi at a time, each a partition (synth.national)."""
    import time

    from analysis.synth import MIN_EMPLOYEES, national

    per = national.PER_INSTANSI if args.per_instansi is None else args.per_instansi
    if per < MIN_EMPLOYEES:
        print(f"--per-instansi must be at least {MIN_EMPLOYEES}")
        return EXIT_BAD_INPUT
    t0 = time.perf_counter()
    out = Path(args.out)

    def progress(inst, total):
        print(f"  {inst.code}: {inst.employees:,} employees ({inst.index + 1}/{total}, "
              f"{time.perf_counter() - t0:.0f} s)", flush=True)

    try:
        summary = national.write_national(out, args.employees, min(per, args.employees), args.seed,
                                          progress=progress)
    except ValueError as exc:
        print(f"Cannot write the dataset: {exc}")
        return EXIT_BAD_INPUT
    rows = ", ".join(f"{name} {n:,}" for name, n in summary["row_counts"].items())
    print(f"National dataset of {len(summary['instansi'])} instansi written to {out} as partitioned Parquet "
          f"in {time.perf_counter() - t0:.1f} s ({rows}).")
    print(f"Planted truths: {out / 'truth.json'} and {out / 'truth'}/")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from analysis.data.problems import console_text
    from analysis.imports.jabatan import RulesError
    from analysis.imports.profiles import ProfileError
    from analysis.imports.report import ImportFailure
    from analysis.imports.run import import_exports

    out = Path(args.out)
    region, population = args.region, None
    if args.params:
        from analysis.core.params import ParamsError, load_params

        try:
            given = load_params(args.params).imports
            region, population = region if region is not None else given.region, given.skm_population
        except ParamsError as exc:
            print(f"Bad parameters: {exc}. Nothing was written.")
            return EXIT_BAD_INPUT
    try:
        outcome = import_exports(args.inputs, out, profile=args.profile, region=region, fmt=args.format,
                                 rules_file=args.rules, skm_population=population)
    except (ImportFailure, ProfileError, RulesError) as exc:
        # the console circulates: NIPs in a message are masked, as validate does
        print(f"Cannot import: {console_text(str(exc))}. Nothing was written.")
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"Cannot import: {exc.strerror or exc} ({exc.filename or out}). Nothing was written.")
        return EXIT_BAD_INPUT
    outcome.report.print_summary(print)
    for name in outcome.skipped:
        print(f"  skipped (not a .csv, .txt or .xlsx): {name}")
    rows = ", ".join(f"{name} {len(df):,}" for name, df in outcome.tables.items())
    print(f"Dataset written to {out} ({rows or 'no tables'}); report: {out / 'import_report.csv'} (it names NIPs: "
          "keep it restricted)")
    missing = [t for t in ("units", "employees", "appraisals") if t not in outcome.tables]
    if missing:
        print(f"Required table(s) not produced by these exports: {', '.join(missing)}; import the exports that "
              "give them (SIASN Data ASN, e-Kinerja Laporan Penilaian SKP) before a run.")
    print(f"Next: workbench validate --data {out}   then   workbench run --data {out}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from analysis.pipeline.run import quiet_notebook_logs, run_pipeline

    # for the life of the process: an interrupted notebook's left-over asyncio tasks are collected
    # as the process ends, and would log "Task exception was never retrieved" and a traceback
    quiet_notebook_logs()
    outcome = run_pipeline(args.params, data=args.data, out_root=args.out, only=args.only,
                           argv=["workbench", *sys.argv[1:]], wait=args.wait, if_changed=args.if_changed)
    if outcome.exit_code == EXIT_OK and outcome.run_dir is not None and outcome.status == "success":
        print(f"Run folder: {outcome.run_dir.resolve()}")
        print(f"Latest run: {(Path(args.out) / 'latest').resolve()}")
        briefs = [outcome.run_dir / "brief" / f"brief_{lang}.pdf" for lang in ("id", "en")]
        briefs = [b for b in briefs if b.exists()]
        if briefs:
            print("Policy brief: " + ", ".join(str(b.resolve()) for b in briefs))
    return outcome.exit_code


def cmd_history(args: argparse.Namespace) -> int:
    import json

    from analysis.pipeline.history import history_frame, read_runs

    records = read_runs(args.out)
    table = history_frame(records)
    if args.json:
        print(json.dumps(json.loads(table.to_json(orient="records")), indent=2, ensure_ascii=False))
    elif table.empty:
        print(f"No runs in {args.out}.")
    else:
        shown = table.drop(columns=["error"]).rename(columns=lambda c: c.replace("_", " "))
        print(shown.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3g}"))
        for r in records:
            if r.error and not r.succeeded:
                print(f"{r.run_id} ({r.status}): {r.error}")
    return EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    from analysis.core.params import ParamsError, load_params
    from analysis.pipeline.history import prune

    try:
        params = load_params(args.params)
    except ParamsError as exc:
        print(f"Bad parameters: {exc}")
        return EXIT_BAD_INPUT
    r = params.retention
    if r.keep_successful is None and r.keep_failed is None:
        print("The params keep every run (retention.keep_successful and retention.keep_failed are not set): "
              "nothing to remove.")
        return EXIT_OK
    from analysis.pipeline.run import LOCK_FILE, lock_holder

    out = Path(args.out)
    lock = None
    try:
        if not args.dry_run and out.is_dir():  # never beside a run writing there (it prunes when it ends)
            import fcntl

            lock = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = lock_holder(lock)
                print(f"A run is writing to {out}" + (f" (process {holder})" if holder else "")
                      + ": try again when it has finished (it applies the same retention when it ends).")
                return EXIT_BUSY
        gone = prune(out, r, dry_run=args.dry_run)
        if not args.dry_run and gone:
            from analysis.pipeline.history_page import write_index

            write_index(out, r, params.privacy.min_cell)
    except OSError as exc:
        print(f"Cannot remove old runs from {out}: {exc.strerror or exc}")
        return EXIT_FAILED
    finally:
        if lock is not None:
            os.close(lock)
    verb = "Would remove" if args.dry_run else "Removed"
    for rec in gone:
        print(f"{verb} {rec.folder.name} ({rec.status}, started {rec.started_at})")
    if not gone:
        print("Nothing to remove.")
    return EXIT_OK


def cmd_lab(args: argparse.Namespace) -> int:
    from analysis.pipeline.lab import main as lab

    return lab(args.root, kernel=args.kernel, port=args.port, open_browser=not args.no_browser,
               extra=args.jupyter_args)


def cmd_doctor(args: argparse.Namespace) -> int:
    from analysis.pipeline.doctor import exit_code, run_checks, summary

    checks = run_checks(args.params, out=args.out, data=args.data)
    for check in checks:
        print(check.line(), flush=True)
    print(summary(checks))
    return exit_code(checks)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="ASN appraisal and training-needs workbench.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a dataset folder against the data contract")
    p.add_argument("--data", required=True, help="dataset folder (one file per table)")
    p.add_argument("--report", default="validation_report.csv",
                   help="where to write the full report (CSV); default ./validation_report.csv")
    p.add_argument("--params", default=None,
                   help="params file whose pseudonym key shows NIPs on the console as pseudonyms")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("synth", help="generate the sample dataset of a regional government")
    p.add_argument("--out", required=True, help="dataset folder to write (replaced when complete)")
    p.add_argument("--employees", type=int, default=6000, help="number of employees (default 6000)")
    p.add_argument("--seed", type=int, default=20261122, help="random seed (same seed, same data)")
    p.add_argument("--format", choices=("csv", "xlsx", "parquet", "partitioned"), default="csv",
                   help="file format; partitioned: one folder of Parquet parts per table, one part per "
                        "instansi, generated one instansi at a time (a national dataset)")
    p.add_argument("--per-instansi", type=int, default=None,
                   help="with --format partitioned: employees of one instansi (default 50000)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("import", help="turn agency exports (e-Kinerja, SIASN, training history, SKM) into a "
                                      "dataset folder")
    p.add_argument("inputs", nargs="+", metavar="FILE_OR_FOLDER", help="exports (.csv, .txt, .xlsx) or folders of them")
    p.add_argument("--out", required=True, help="dataset folder to write (replaced only when complete)")
    p.add_argument("--profile", default=None,
                   help="the layout of every input: a shipped profile's name or your own profile file (YAML); "
                        "default: recognised from each file's header")
    p.add_argument("--region", default=None, help="region of the units when the exports name none "
                                                   "(default: the params' import.region)")
    p.add_argument("--params", default=None, help="params file (YAML) whose import.region gives the region")
    p.add_argument("--rules", default=None, help="your own jabatan rule table (YAML), tried before the shipped one")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format of the tables")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("run", help="validate the data and run the notebooks into a run folder")
    p.add_argument("--params", default="params/default.yaml", help="params file (YAML)")
    p.add_argument("--data", default=None, help="dataset folder (overrides the params' dataset)")
    p.add_argument("--out", default="outputs", help="folder that holds the run folders")
    p.add_argument("--only", default=None,
                   help="comma-separated notebooks to run (names or numbers, e.g. 01)")
    p.add_argument("--wait", action="store_true",
                   help="if another run is writing to the output folder, wait for it (default: exit 3)")
    p.add_argument("--if-changed", action="store_true",
                   help="do nothing (exit 0) when the input files and params are those of the latest successful run")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("history", help="the runs of an output folder, newest first, with their headline numbers")
    p.add_argument("--out", default="outputs", help="folder that holds the run folders")
    p.add_argument("--json", action="store_true", help="as JSON, for machines")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("prune", help="remove old run folders as the params' retention says")
    p.add_argument("--params", default="params/default.yaml", help="params file (YAML) with retention")
    p.add_argument("--out", default="outputs", help="folder that holds the run folders")
    p.add_argument("--dry-run", action="store_true", help="only show what would be removed")
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("lab", help="open JupyterLab on the repository, file browser on notebooks/, with the "
                                   "workbench kernel")
    p.add_argument("--root", default=None, help="the repository's root (default: the checkout the workbench runs from)")
    p.add_argument("--kernel", default=None, help="kernel of new notebooks (default: the params' default, "
                                                 "asn-workbench)")
    p.add_argument("--port", type=int, default=None, help="port to serve on (default: 8888 or the next free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab (print the address)")
    p.add_argument("jupyter_args", nargs="*", metavar="JUPYTER_OPTION",
                   help="further JupyterLab options, after --  (e.g. -- --ServerApp.ip=0.0.0.0)")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("doctor", help="check what a server needs before its first scheduled run (exit 2: "
                                      "something to fix)")
    p.add_argument("--params", default="params/default.yaml", help="params file (YAML) the scheduled run uses")
    p.add_argument("--out", default="outputs", help="folder that holds the run folders (the scheduled run's --out)")
    p.add_argument("--data", default=None, help="dataset folder (the scheduled run's --data; default: the params')")
    p.set_defaults(func=cmd_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into `head` or similar, which stopped reading
        # Python's documented remedy: point stdout at devnull so the flush at exit does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
