"""The runner: validate once, execute the notebooks with papermill, record everything.

A run is built in ``outputs/.tmp-<run_id>`` and renamed when it ends:
``outputs/<run_id>`` when every step succeeded (and ``outputs/latest`` then
points at it), ``outputs/<run_id>.failed`` when a step failed or the data was
invalid, ``outputs/<run_id>.interrupted`` when it was stopped. A run killed
outright leaves its ``.tmp-`` folder, which the next run renames to
``.interrupted``. So a folder without a suffix is always a finished, good run.

One run at a time writes to an output folder: a run holds an exclusive lock
(``flock``) on ``<out>/.lock`` from before it looks at the folder until its run
folder has its final name; a second run waits for it (``wait=True``) or stops
with exit 3. Run ids are claimed atomically (``os.mkdir`` of the ``.tmp-``
folder; a suffix ``-2``, ``-3``… when taken).

After validation the runner derives the appraisal outcomes once, then executes
up to ``parallel_notebooks`` notebooks side by side (threads, each waiting on its
own kernel), the longest first; the brief runs last. A stop signal kills the running kernels.

Before anything is written, the params, the notebooks asked for, the kernel
and the pseudonym key are checked (exit 2). Every expected failure is one
line of text, never a traceback; a failure once the run folder exists leaves
it marked ``.failed`` where the file system still allows it.

Exit codes: 0 success; 1 a notebook failed, or the run could not write its
folder (disk full, file system read-only); 2 bad params, bad data or an
unusable output folder, kernel or key; 3 another run is writing to the output
folder; 130 interrupted (SIGINT or SIGTERM).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from analysis.core import privacy
from analysis.core.memory import release_memory
from analysis.core.params import Params, ParamsError, load_params, shorten
from analysis.core.runfolder import DATA_DIR, PARAMS_FILE, PARTITIONED_DIR, TIMINGS_DIR, TMP_PREFIX
from analysis.data.exclusion import exclude_rows
from analysis.data.validation import Dataset, load_dataset
from analysis.engine.cluster import ClusterError
from analysis.pipeline import changes, history, history_page, kernels, notify
from analysis.pipeline import manifest as mf
from analysis.pipeline.kernels import ForkServer
from analysis.pipeline.results import write_results
from analysis.pipeline.steps import Step, select

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked against each other
    fcntl = None

EXIT_OK, EXIT_STEP_FAILED, EXIT_BAD_INPUT, EXIT_BUSY, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
LOCK_FILE = ".lock"  # in the output folder; held (flock) by the run writing there
DEFAULT_KERNEL = Params.model_fields["kernel"].default  # registered for this interpreter when missing
KERNEL_DEATH_GRACE = 1.0  # seconds to wait, after a kernel died, for the stop signal that may have killed it
# libraries whose log lines (a kernel that died, asyncio tasks left behind by an interrupted cell) would
# only repeat, as noise or tracebacks, what the run reports in one line
NOISY_LOGGERS = ("asyncio", "papermill", "nbclient", "traitlets")


class Interrupted(BaseException):
    """The run was asked to stop (SIGINT/Ctrl-C or SIGTERM from a scheduler).

    A BaseException, like KeyboardInterrupt, so that no library's ``except Exception`` takes it
    for an error of its own."""


class _Unusable(Exception):
    """Something the run needs (kernel, key, output folder) cannot be used; the message is one line."""


@dataclass
class RunOutcome:
    exit_code: int
    status: str
    run_dir: Path | None
    message: str


def notebooks_dir() -> Path:
    return mf.project_root() / "notebooks"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _reason(exc: BaseException) -> str:
    """An OSError as one short line: 'No space left on device (path)'."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return shorten(f"{exc.strerror}{where}")
    return shorten(str(exc) or type(exc).__name__)


def quiet_notebook_logs() -> dict[str, int]:
    """Silence the notebook libraries' own log lines (see NOISY_LOGGERS); the previous levels."""
    previous = {}
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        previous[name] = logger.level
        logger.setLevel(logging.CRITICAL + 1)
    return previous


def _safe_echo(echo: Callable[[str], None]) -> Callable[[str], None]:
    """``echo`` that stops, rather than stopping the run, once its output is gone (closed pipe, full disk)."""
    gone = False

    def say(message: str) -> None:
        nonlocal gone
        if gone:
            return
        try:
            echo(message)
        except OSError:
            gone = True

    return say


class _StopSignals:
    """SIGTERM and SIGINT end the run as interrupted.

    The first signal raises ``Interrupted`` where the run is; once the run is ``finishing``
    (recording and renaming its folder) signals are only noted, so that the folder is never left
    half-marked. Previous handlers come back on exit."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.finishing = False
        self._raised = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopSignals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread: signals stay as they were
                pass
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handler(self, signum, frame) -> None:
        if self.received is None:
            self.received = signum
        if not self.finishing and not self._raised:
            self._raised = True
            raise Interrupted(f"stopped by {signal.Signals(signum).name}")

    def check(self) -> None:
        """Raise ``Interrupted`` if a signal came but the run went on (a library swallowed it)."""
        if self.received is not None and not self.finishing:
            raise Interrupted(f"stopped by {signal.Signals(self.received).name}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_abandoned(out_root: Path) -> list[Path]:
    """Rename the temporary folders of runs whose process is gone to ``<run_id>.interrupted``.

    Called by a run that holds the output folder's lock, so no other run is being set up there."""
    renamed = []
    for tmp in sorted(out_root.glob(f"{TMP_PREFIX}*")):
        try:
            pid = int((tmp / ".pid").read_text().strip())
        except (OSError, ValueError):
            pid = -1
        if pid > 0 and _alive(pid):
            continue
        target = _free_name(out_root, tmp.name[len(TMP_PREFIX):] + ".interrupted")
        manifest_path = tmp / "manifest.json"
        try:
            m = json.loads(manifest_path.read_text())
            m["status"] = "interrupted"
            m["error"] = m.get("error") or "the run's process ended before the run finished"
            mf.write_manifest(manifest_path, m)
        except (OSError, ValueError):
            pass
        (tmp / ".pid").unlink(missing_ok=True)
        tmp.rename(target)
        renamed.append(target)
    return renamed


def _free_name(root: Path, name: str) -> Path:
    path, i = root / name, 2
    while path.exists() or (root / f"{TMP_PREFIX}{name}").exists():
        path = root / f"{name}-{i}"
        i += 1
    return path


def _claim_run_dir(out_root: Path, name: str, started: datetime) -> tuple[str, Path]:
    """A run id and its ``.tmp-`` folder, claimed atomically: ``os.mkdir`` fails if another run has
    it, and the next suffix is tried. An id whose finished folder exists is skipped."""
    base = f"{started:%Y%m%dT%H%M%SZ}_{name}"
    taken = {p.name for p in out_root.iterdir()}
    for i in itertools.count(1):
        run_id = base if i == 1 else f"{base}-{i}"
        if run_id in taken or any(t.startswith(run_id + ".") for t in taken):
            continue
        work = out_root / f"{TMP_PREFIX}{run_id}"
        try:
            os.mkdir(work)
        except FileExistsError:
            continue
        return run_id, work
    raise AssertionError("unreachable")


def _update_latest(out_root: Path, run_dir: Path) -> None:
    link = out_root / "latest"
    tmp = out_root / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    try:
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # no symlinks (some Windows setups): a text pointer instead
        (out_root / "latest.txt").write_text(run_dir.name + "\n")


_IMPORT_CHECKED: set[str] = set()  # interpreters known to import the workbench and ipykernel


def check_kernel(name: str) -> str:
    """The kernel's name once it is known to be usable; ``_Unusable`` (one line) otherwise.

    The kernel must be registered (the default kernel is registered for this interpreter when it is
    missing, as ``make`` does), run Python, and its interpreter must exist and have the workbench
    and ipykernel installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    try:
        spec = ksm.get_kernel_spec(name)
    except NoSuchKernel:
        if name != DEFAULT_KERNEL:
            known = ", ".join(sorted(ksm.find_kernel_specs())) or "none"
            raise _Unusable(f"kernel: no Jupyter kernel called {name!r} is registered (registered: {known}); "
                            "`jupyter kernelspec list` shows them") from None
        try:
            from ipykernel.kernelspec import install

            install(kernel_name=name, display_name="ASN Workbench (Python)", prefix=sys.prefix)
            spec = ksm.get_kernel_spec(name)
        except Exception as exc:
            raise _Unusable(f"kernel: {name!r} is not registered and could not be registered: "
                            f"{_reason(exc)}") from None
    except Exception as exc:  # a kernel.json that is not valid
        raise _Unusable(f"kernel: the kernel {name!r} cannot be read: {_reason(exc)}") from None
    if (spec.language or "").lower() != "python":
        raise _Unusable(f"kernel: the kernel {name!r} runs {spec.language or 'an unknown language'}; "
                        "the notebooks need Python")
    argv = list(spec.argv or [])
    exe = shutil.which(os.path.expanduser(argv[0])) if argv else None
    if exe is None:
        raise _Unusable(f"kernel: the kernel {name!r} starts {argv[0] if argv else 'nothing'!r}, which does not "
                        "exist; register it again (`make setup`, or `python -m ipykernel install`)")
    if os.path.basename(exe).startswith("python") and exe not in _IMPORT_CHECKED:
        probe = ("import importlib.util as u, sys; "
                 "sys.exit(0 if all(u.find_spec(m) for m in ('analysis', 'ipykernel')) else 1)")
        try:
            ok = subprocess.run([exe, "-c", probe], capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if not ok:
            raise _Unusable(f"kernel: the kernel {name!r} runs {exe}, which does not have the workbench and "
                            "ipykernel installed")
        _IMPORT_CHECKED.add(exe)
    return name


def _check_key(params: Params, say: Callable[[str], None]) -> dict | None:
    """Load (or create) the pseudonym key before anything runs: where it comes from and its
    fingerprint, for the manifest. None when pseudonyms are switched off."""
    if not params.privacy.pseudonymise:
        return None
    path = Path(params.privacy.key_file).expanduser()
    try:
        key = privacy.load_key(path, create=True, warn=lambda m: say(f"Warning: {m}"))
    except privacy.PseudonymKeyError as exc:
        raise _Unusable(f"privacy.key_file: {exc}") from None
    from_env = bool((os.environ.get(privacy.KEY_ENV) or "").strip())
    return {"source": privacy.KEY_ENV if from_env else str(path.resolve()),
            "fingerprint": privacy.key_fingerprint(key)}


def _console_key(params: Params) -> bytes | None:
    """The pseudonym key for console messages (checked before the run started), or None."""
    if not params.privacy.pseudonymise:
        return None
    try:
        return privacy.load_key(Path(params.privacy.key_file).expanduser(), create=False)
    except (privacy.PseudonymKeyError, OSError):
        return None


def _resolved_params(params: Params, dataset: Path) -> dict:
    data = params.dump()
    data["dataset"] = str(dataset)
    key = Path(params.privacy.key_file).expanduser()
    data["privacy"]["key_file"] = str(key if key.is_absolute() else (Path.cwd() / key).resolve())
    return data


def _write_tables(tables: dict, folder: Path) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, df in tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=True)
        rows[name] = int(len(df))
    return rows


HEARTBEAT_SECONDS = 30.0  # a long notebook says which cell it is in this often


class Heartbeat:
    """While a notebook runs, say every ``HEARTBEAT_SECONDS`` which of its cells is executing, so that a
    long run does not look frozen (read from the notebook papermill saves as each cell starts)."""

    def __init__(self, notebook: Path, head: str, echo: Callable[[str], None], every: float = HEARTBEAT_SECONDS):
        self.notebook, self.head, self.echo, self.every = notebook, head, echo, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self):
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            where = running_cell(self.notebook)
            if where:
                self.echo(f"{self.head}: still running after {time.perf_counter() - self._t0:.0f} s, {where}")


def running_cell(notebook: Path) -> str | None:
    """'cell k of n: <its first line>' for the code cell papermill marks as running, or None."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    code = [c for c in cells if c.get("cell_type") == "code"]
    for k, c in enumerate(code, 1):
        if c.get("metadata", {}).get("papermill", {}).get("status") == "running":
            src = "".join(c.get("source", "")).strip().splitlines()
            first = src[0][:70] if src else ""
            return f"cell {k} of {len(code)}: {first}"
    return None


def skip_iri_format_checks() -> None:
    """Import jsonschema (papermill -> nbformat -> jsonschema) without its IRI format checkers.

    jsonschema registers them when ``rfc3987_syntax`` is installed (JupyterLab's dependencies install
    it), and that package builds 38 grammars with lark when imported: about 3 s of every run's start,
    before the first notebook. Notebook files are validated without format checks, so those checkers
    are never used here. Has no effect once jsonschema is imported; after it, jsonschema in this
    process has no IRI checks (the runner's and the tests' processes, never JupyterLab's)."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # None in sys.modules: its import fails at once


def _execute_step(step: Step, work: Path, kernel: str, progress: bool,
                  server: ForkServer | None = None) -> tuple[str, str | None]:
    """Run one notebook; ('ok', None) or ('failed', short error)."""
    skip_iri_format_checks()
    import papermill as pm

    source = notebooks_dir() / step.notebook
    if not source.exists():
        return "failed", f"notebook {source} not found"
    target = work / "notebooks" / step.notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(
            str(source), str(target), parameters={"run_dir": "."}, kernel_name=kernel,
            # the kernel starts in the run folder; papermill's own ``cwd`` would change the directory of
            # the whole process, under the other notebooks running beside this one
            resources={"metadata": {"path": str(work.resolve())}},
            progress_bar=progress, log_output=False, kernel_manager_class=_kernel_manager_class(server),
            # the kernel's own start-up warnings (e.g. about its local TCP transport) are noise here
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except pm.PapermillExecutionError as exc:
        where = f" (cell [{exc.exec_count}])" if exc.exec_count else ""
        evalue = str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ""
        return "failed", shorten(f"{exc.ename}: {evalue}{where}")
    except Exception as exc:  # kernel died, kernel missing, timeout, notebook not writable…
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return "failed", shorten(f"{type(exc).__name__}: {text}")
    return "ok", None


def run_pipeline(params_file: str | Path | None = None, data: str | Path | None = None,
                 out_root: str | Path = "outputs", only: str | None = None,
                 echo: Callable[[str], None] = print, argv: list[str] | None = None,
                 wait: bool = False, if_changed: bool = False) -> RunOutcome:
    """Validate, execute the notebooks, publish the run folder. Never raises for bad input.

    ``wait``: when another run is writing to ``out_root``, wait for it instead of exiting 3.
    ``if_changed``: when the input files and the resolved params are those of the latest successful
    run, do nothing (exit 0, status ``unchanged``). After a run, the retention params prune the output
    folder and the notify params' command is run (``pipeline.history``, ``pipeline.notify``)."""
    say = _safe_echo(echo)
    overrides = {"dataset": str(data)} if data else None
    try:
        params = load_params(params_file, overrides=overrides)
        steps = select(only)
    except ParamsError as exc:
        say(f"Bad parameters: {exc}" if len(exc.problems) == 1 else f"Bad parameters:\n{exc}")
        return RunOutcome(EXIT_BAD_INPUT, "bad_params", None, str(exc))
    except ValueError as exc:
        say(str(exc))
        return RunOutcome(EXIT_BAD_INPUT, "bad_params", None, str(exc))
    try:
        kernel = check_kernel(params.kernel)
        key_info = _check_key(params, say)
    except _Unusable as exc:
        where = params_file or "defaults"
        say(f"Bad parameters: {where}: {exc}")
        return _after(RunOutcome(EXIT_BAD_INPUT, "bad_params", None, str(exc)), params, Path(out_root), say)

    out_root = Path(out_root)
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(out_root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        why = "it is a file, not a folder" if out_root.exists() and not out_root.is_dir() else _reason(exc)
        msg = f"Cannot use {out_root} as the output folder: {why}"
        say(msg)
        return _after(RunOutcome(EXIT_BAD_INPUT, "bad_output", None, msg), params, out_root, say)
    previous_logs = quiet_notebook_logs()
    try:
        with _StopSignals() as signals:
            try:
                try:
                    _lock(lock_fd, out_root, wait, say)
                except _Unusable as exc:
                    say(str(exc))
                    return RunOutcome(EXIT_BUSY, "busy", None, str(exc))
                if if_changed:
                    same = _unchanged(out_root, params, steps, key_info, say)
                    if same is not None:
                        say(f"Nothing changed since run {same.run_id} (the same input files and params): "
                            "nothing to do.")
                        return RunOutcome(EXIT_OK, "unchanged", same.folder, "")
                # the run starts once it has the folder: its id and times do not count the wait
                outcome = _start(params, steps, params_file, out_root, _now(), argv, kernel, key_info, say, signals)
                return _after(outcome, params, out_root, say)
            except Interrupted:  # before its run folder existed (or in the instant it was created)
                say("Interrupted before the run started: nothing was written.")
                return RunOutcome(EXIT_INTERRUPTED, "interrupted", None, "interrupted")
    finally:
        os.close(lock_fd)  # releases the lock
        for name, level in previous_logs.items():
            logging.getLogger(name).setLevel(level)


def _unchanged(out_root: Path, params: Params, steps: list[Step], key_info: dict | None,
               say: Callable[[str], None]):
    """The latest successful run made from these input files, params, notebooks, pseudonym key and
    workbench code (``history.unchanged_since``), or None; when the comparison itself cannot be made,
    None (the run goes ahead)."""
    try:
        mark_abandoned(out_root)  # a run cut off before its rename is not "the latest run"
        code = mf.git_info().get("commit") or mf.environment()["workbench"]
        return history.unchanged_since(out_root, params, Path(params.dataset).expanduser().resolve(),
                                       steps=tuple(s.name for s in steps),
                                       key=(key_info or {}).get("fingerprint"), code=code)
    except Exception as exc:  # noqa: BLE001 - whatever the old folders hold, the run goes ahead
        say(f"Note: could not compare with the previous run ({_reason(exc)}): running.")
        return None


def _after(outcome: RunOutcome, params: Params, out_root: Path, say: Callable[[str], None]) -> RunOutcome:
    """Once a run has ended (under the lock where it got it): retention, the history page
    (``<out>/index.html``), then the notifier. None of them changes the outcome; a problem with any is
    one line."""
    retention = params.retention
    # whatever the old folders hold, the outcome stands: each step is one line when it cannot be done
    if retention.keep_successful is not None or retention.keep_failed is not None:
        try:
            for gone in history.prune(out_root, retention, protect=outcome.run_dir):
                say(f"Removed {gone.folder.name} (retention: params retention)")
        except Exception as exc:  # noqa: BLE001
            say(f"Note: old run folders could not be removed: {_reason(exc)}")
    try:
        if out_root.is_dir():
            history_page.write_index(out_root, retention, params.privacy.min_cell)
    except Exception as exc:  # noqa: BLE001
        say(f"Note: {out_root / history_page.PAGE} could not be rewritten: {_reason(exc)}")
    try:
        notify.run_notifier(params.notify, outcome.status, outcome.exit_code, outcome.run_dir, outcome.message,
                            out_root, say)
    except Exception as exc:  # noqa: BLE001
        say(f"Note: the notifier could not be run: {_reason(exc)}; the run's status is unchanged.")
    return outcome


def lock_holder(fd: int) -> str:
    """The process id a run holding the output folder's lock wrote into it ("" when it cannot be told)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


def _lock(fd: int, out_root: Path, wait: bool, say: Callable[[str], None]) -> None:
    """Hold the output folder's lock (released when ``fd`` is closed); ``_Unusable`` when busy and not waiting."""
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = lock_holder(fd)
        by = f" (process {holder})" if holder else ""
        if not wait:
            raise _Unusable(f"Another run is writing to {out_root}{by}: try again when it has finished, "
                            "or pass --wait to wait for it.") from None
        say(f"Waiting for the run writing to {out_root}{by} to finish…")
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:  # who holds it, for the message of a run that finds it busy
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        pass


def _start(params: Params, steps: list[Step], params_file, out_root: Path, started: datetime,
           argv: list[str] | None, kernel: str, key_info: dict | None, say: Callable[[str], None],
           signals: _StopSignals) -> RunOutcome:
    """Claim a run folder in the locked output folder, run, and give the folder its final name."""
    try:
        for old in mark_abandoned(out_root):
            say(f"Note: an earlier run was cut off; its folder is now {old}")
    except OSError as exc:
        say(f"Note: the folder of an earlier run that was cut off could not be marked interrupted: {_reason(exc)}")
    try:
        run_id, work = _claim_run_dir(out_root, params.name, started)
    except OSError as exc:
        unusable = exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
        msg = (f"Cannot use {out_root} as the output folder: {_reason(exc)}" if unusable
               else f"The run could not start: cannot create its folder in {out_root}: {_reason(exc)}")
        say(msg)
        return RunOutcome(EXIT_BAD_INPUT if unusable else EXIT_STEP_FAILED, "bad_output" if unusable else "failed",
                          None, msg)
    manifest: dict = {"run_id": run_id, "status": "running"}
    manifest_path = work / "manifest.json"

    def finish(status: str, code: int, error: str | None = None) -> RunOutcome:
        """Record the end in the manifest and rename the folder, as far as the file system allows."""
        signals.finishing = True  # from here a signal is only noted: the folder gets its name
        ended = _now()
        manifest.update(status=status, error=error, finished_at=_iso(ended),
                        duration_seconds=round((ended - started).total_seconds(), 2))
        try:
            manifest["outputs"] = _list_outputs(work)
        except OSError:
            pass
        try:
            mf.write_manifest(manifest_path, manifest)
        except OSError as exc:
            say(f"Note: the manifest could not record the end of the run: {_reason(exc)}")
        try:
            (work / ".pid").unlink(missing_ok=True)
        except OSError:
            pass
        suffix = "" if status == "success" else (".interrupted" if status == "interrupted" else ".failed")
        try:
            final = _free_name(out_root, run_id + suffix) if suffix else out_root / run_id
            work.rename(final)
        except OSError as exc:
            say(f"The run folder could not be renamed ({_reason(exc)}); it stays {work}, "
                "which the next run marks interrupted.")
            if status == "success":
                status, code = "failed", EXIT_STEP_FAILED
                error = f"the run folder could not be published: {_reason(exc)}"
            return RunOutcome(code, status, work, error or "")
        if status == "success":
            try:
                _update_latest(out_root, final)
            except OSError as exc:
                say(f"Note: {out_root / 'latest'} could not be updated: {_reason(exc)}")
        return RunOutcome(code, status, final, error or "")

    try:
        (work / ".pid").write_text(str(os.getpid()))
        try:
            params_text = Path(params_file).read_text(encoding="utf-8") if params_file else None
        except (OSError, UnicodeDecodeError):
            params_text = None
        manifest.update({
            "error": None,
            "started_at": _iso(started),
            "finished_at": None,
            "duration_seconds": None,
            "command": argv if argv is not None else sys.argv,
            "params_file": str(params_file) if params_file else None,
            "params_sha256": mf.sha256_text(params_text) if params_text is not None else None,
            "params": params.dump(),
            "pseudonym_key": key_info,
            "dataset": None,
            "validation": None,
            "steps": [],
            "outputs": {},
            "code": mf.git_info(),
            "environment": mf.environment(),
        })
        mf.write_manifest(manifest_path, manifest)
        return _run(params, steps, work, manifest, manifest_path, finish, say, kernel, signals)
    except (Interrupted, KeyboardInterrupt) as exc:
        say("Interrupted: the run is kept as interrupted and is not the latest run.")
        return finish("interrupted", EXIT_INTERRUPTED, f"interrupted: {exc}" if str(exc) else "interrupted")
    except OSError as exc:  # the run folder cannot be written: disk full, file system read-only…
        msg = f"The run failed: cannot write its folder: {_reason(exc)}"
        say(msg)
        return finish("failed", EXIT_STEP_FAILED, msg)
    except Exception as exc:  # a bug, not bad input: keep the trace in the run folder
        try:
            (work / "error.log").write_text(traceback.format_exc())
        except OSError:
            pass
        say(f"The run failed unexpectedly: {type(exc).__name__}: {shorten(str(exc))} (details in error.log)")
        return finish("failed", EXIT_STEP_FAILED, shorten(f"{type(exc).__name__}: {exc}"))


def _run(params: Params, steps: list[Step], work: Path, manifest: dict, manifest_path: Path,
         finish: Callable[..., RunOutcome], echo: Callable[[str], None], kernel: str,
         signals: _StopSignals) -> RunOutcome:
    # engine: dask: the run's cluster, from validation to the last notebook (the kernels find its
    # address in their environment: engine.cluster.attach)
    engine = contextlib.ExitStack()
    try:
        engine.enter_context(_engine(params, work / DATA_DIR))
    except ClusterError as exc:
        echo(f"engine: dask: {exc}")
        return finish("failed", EXIT_STEP_FAILED, f"engine: dask: {exc}")
    with engine:
        status, code, error = _run_with_engine(params, steps, work, manifest, manifest_path, echo, kernel, signals)
    # published only now, the cluster stopped: its workers spill into the run folder
    outcome = finish(status, code, error or None)
    if status == "success":
        echo(f"Run finished: {outcome.run_dir}")
    elif error.startswith(FAILED_STEPS):
        echo(f"Run failed; its folder is {outcome.run_dir} (not the latest run).")
    return outcome


def _validate(params: Params, dataset_path: Path, work: Path, echo: Callable[[str], None]):
    """The dataset validated: whole (``load_dataset``), or with ``engine: dask`` and a partitioned
    dataset, partition by partition on the cluster, the typed partitions written into the run
    (``engine.validation``)."""
    if params.engine == "dask" and dataset_path.is_dir():
        from analysis.engine.validation import NO_PARTS, layout, validate_partitioned  # (brings Dask)

        parts, why = layout(dataset_path)
        if parts is None and why != NO_PARTS:
            echo(f"  the dataset's parts cannot be validated part by part ({why}): it is read whole")
        return validate_partitioned(dataset_path, work / DATA_DIR / PARTITIONED_DIR)
    return load_dataset(dataset_path)


def _without_data(work: Path, ending: tuple[str, int, str]) -> tuple[str, int, str]:
    """A run that analyses nothing keeps no copy of the data: the typed parts a validation on the
    cluster wrote go (a regional run writes its tables only once they are valid)."""
    shutil.rmtree(work / DATA_DIR / PARTITIONED_DIR, ignore_errors=True)
    return ending


FAILED_STEPS = "failed step(s): "


def _run_with_engine(params: Params, steps: list[Step], work: Path, manifest: dict, manifest_path: Path,
                     echo: Callable[[str], None], kernel: str, signals: _StopSignals) -> tuple[str, int, str]:
    """Validation, the tables written and the notebooks run; returns how the run ends (status, exit
    code, error) for the caller to publish the run folder with."""
    dataset_path = Path(params.dataset).expanduser().resolve()
    echo(f"Run {manifest['run_id']}: validating {dataset_path}")
    t0 = time.perf_counter()
    try:
        ds = _validate(params, dataset_path, work, echo)
    except Exception as exc:  # noqa: BLE001 - on a cluster: a worker lost; bad data is a report, not this
        if params.engine != "dask":
            raise
        # the library's message may quote a cell (a NIP): it goes to error.log, in the run folder only
        (work / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
        message = (f"engine: dask: the cluster could not validate the dataset: {type(exc).__name__} "
                   "(details in error.log)")
        echo(message)
        return _without_data(work, ("failed", EXIT_STEP_FAILED, message))
    on_parts = not isinstance(ds, Dataset)  # validated partition by partition: no table is whole here
    ds.report.write_csv(work / "validation.csv")
    manifest["dataset"] = {"path": str(dataset_path), "files": ds.report.files}
    manifest["validation"] = ds.report.summary_dict() | {"seconds": round(time.perf_counter() - t0, 2)}
    mf.write_manifest(manifest_path, manifest)
    echo(f"  {ds.report.n_errors} error(s), {ds.report.n_warnings} warning(s) "
         f"in {sum(f.get('rows', 0) for f in ds.report.files.values())} rows of {len(ds.tables)} tables"
         + (f", on the cluster in {ds.parts} partitions" if on_parts else ""))
    exclusion = None
    if not ds.ok and params.validation.on_error == "exclude":
        if on_parts:
            echo("The rows with errors cannot be set aside in a partitioned dataset (validation.on_error: "
                 "exclude needs the tables whole: engine: pandas).")
        else:
            exclusion = exclude_rows(ds.tables, ds.report.to_frame(), params.validation.max_excluded_share)
            if not exclusion.ok:
                echo(f"The rows with errors cannot be set aside: {exclusion.stop}.")
                exclusion = None
    if not ds.ok and exclusion is None:
        # consoles and logs circulate: NIPs in the messages are shown as their pseudonyms
        ds.report.print_summary(echo, key=_console_key(params))
        echo("The data has errors: nothing was analysed. Fix them and run again "
             "(the full report is validation.csv in the failed run folder).")
        return _without_data(work, ("invalid_data", EXIT_BAD_INPUT, f"the dataset has {ds.report.n_errors} error(s)"))
    if exclusion is not None:
        ds = Dataset(ds.folder, exclusion.tables, ds.report)
        manifest["exclusion"] = {"rows": int(len(exclusion.excluded)),
                                 "max_share": params.validation.max_excluded_share,
                                 "by_table": {n: c for n, c in exclusion.counts.items() if c["excluded"]}}
        mf.write_manifest(manifest_path, manifest)
        echo(f"  {len(exclusion.excluded)} row(s) with errors, or depending on them, set aside "
             "(plans/excluded_rows.csv; validation.csv says why): the analysis runs on the rest")

    if params.periods != "all":
        available = set(ds.periods if on_parts else ds.tables["appraisals"]["period"].dropna())
        missing = [p for p in params.periods if p not in available]
        if missing:
            msg = (f"params: periods: {', '.join(missing)} not in the appraisals "
                   f"(available: {', '.join(sorted(available))})")
            echo(msg)
            return _without_data(work, ("bad_params", EXIT_BAD_INPUT, msg))

    row_counts = ds.rows_used if on_parts else {name: int(len(df)) for name, df in ds.tables.items()}
    if on_parts:
        manifest["dataset"]["rows_written"] = dict(row_counts)
        manifest["engine"] = {"name": "dask", **_cluster_description(params), "partitions": ds.parts,
                              "partitioned_by": "the dataset's parts",
                              "partition_files": len(list((work / DATA_DIR / PARTITIONED_DIR).glob("*/part-*")))}
        echo(f"  engine: dask ({manifest['engine']['scheduler']}), the tables in the dataset's {ds.parts} parts")
    else:
        manifest["dataset"]["rows_written"] = _write_tables(ds.tables, work / DATA_DIR)
    if params.engine == "dask" and not on_parts:
        t0 = time.perf_counter()
        from analysis.engine import partitioned

        files = partitioned.write_partitioned(ds.tables, work / DATA_DIR / PARTITIONED_DIR, params.dask.partitions)
        manifest["engine"] = {"name": "dask", **_cluster_description(params), "partitions": params.dask.partitions,
                              "partitioned_by": "region",
                              "partition_files": sum(files.values()),
                              "partitioned_seconds": round(time.perf_counter() - t0, 2)}
        echo(f"  engine: dask ({manifest['engine']['scheduler']}), the tables in "
             f"{params.dask.partitions} partitions by region")
    # what the brief may say about the run and its data: counts only, never the report's messages,
    # and nothing that changes between two runs of the same inputs (the run id is in the manifest)
    write_results(work / "results" / "00_run.json", "00_run", {
        "params_name": params.name, "language": params.language,
        "min_cell": params.privacy.min_cell, "alpha": params.alpha, "fdr": params.fdr,
        "periods": params.periods, "tables": row_counts,
        "validation": ds.report.summary_dict(),
        "steps": [s.name for s in steps],
        # only when rows were set aside, so that a run without it writes what it always wrote
        **({"excluded": {n: c["excluded"] for n, c in exclusion.counts.items() if c["excluded"]}}
           if exclusion is not None else {}),
    })
    (work / PARAMS_FILE).write_text(
        yaml.safe_dump(_resolved_params(params, dataset_path), sort_keys=False, allow_unicode=True),
        encoding="utf-8")
    # notebook kernels inherit this: one thread per numeric library unless WORKBENCH_THREADS says
    # otherwise (on small machines, threads of different libraries mostly contend)
    threads = os.environ.get("WORKBENCH_THREADS", "1")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)
    progress = sys.stderr.isatty()
    # the kernels' imports, once (the server's environment is the kernels', threads included: what a
    # library reads when imported)
    server = kernels.ForkServer.start(kernels.kernel_command(kernel), dict(os.environ)) if steps else None
    try:
        return _notebooks(params, steps, ds, exclusion, work, manifest, manifest_path, echo, kernel, signals,
                          progress, server)
    finally:
        if server is not None:
            server.close()
        # how the kernels started (pipeline.kernels): the others were fresh interpreters
        manifest["kernels_forked"] = server.forked if server is not None else 0


def _notebooks(params: Params, steps: list[Step], ds, exclusion, work: Path, manifest: dict,
               manifest_path: Path, echo: Callable[[str], None], kernel: str, signals: _StopSignals,
               progress: bool, server: ForkServer | None) -> tuple[str, int, str]:
    """The run's derived tables, then its notebooks; returns how the run ends (status, exit code, error)."""

    if exclusion is not None:
        from analysis.pipeline.context import RunContext  # (brings plotting: not for the other commands)

        RunContext.open(work).save_restricted(exclusion.excluded, "excluded_rows",
                                              id_columns=("employee_id", "rater_id", "ratee_id"))
    if "appraisals" in ds.tables:
        from analysis.pipeline.context import RunContext  # (brings plotting: not for the other commands)

        # derived once here, so that notebooks running side by side read it rather than race to write it
        t0 = time.perf_counter()
        try:
            RunContext.open(work).appraisal_outcomes()
        except Exception as exc:  # noqa: BLE001 - on a cluster: a worker lost, files it cannot read
            if params.engine != "dask":
                raise
            message = f"engine: dask: the cluster could not compute the appraisal outcomes: {_reason(exc)}"
            echo(message)
            return "failed", EXIT_STEP_FAILED, message
        manifest["derived_seconds"] = round(time.perf_counter() - t0, 2)

    def since_previous() -> None:  # before the brief, which reads it
        try:
            if changes.write_changes(work, work.parent, params.name) is not None:
                echo("  compared with the previous report: results/06_changes.json")
        except Exception as exc:  # noqa: BLE001 - a previous run folder that cannot be read: no comparison
            echo(f"Note: the changes since the previous report could not be computed: {_reason(exc)}")

    tables = set(ds.tables)
    # the notebooks read the tables from the run folder: the runner's copy is handed back first
    del ds, exclusion
    release_memory(collect=True)  # the validated tables: 0.8 GB at 100,000 employees, held for nothing
    failed = _run_steps(steps, tables, work, kernel, progress, manifest, manifest_path, echo, signals,
                        max(1, params.parallel_notebooks), before_last=since_previous, server=server)
    if failed:
        return "failed", EXIT_STEP_FAILED, FAILED_STEPS + ", ".join(sorted(failed))
    return "success", EXIT_OK, ""


def _cluster_description(params: Params) -> dict:
    from analysis.engine import cluster  # (brings Dask: only for engine: dask)

    return cluster.describe(params.dask)


@contextlib.contextmanager
def _engine(params: Params, scratch: Path):
    """The run's Dask client with ``engine: dask`` (``engine.cluster``; a local cluster spills under
    ``scratch``, in the run folder), else nothing to start."""
    if params.engine != "dask":
        yield
        return
    from analysis.engine import cluster  # (brings Dask: only for engine: dask)

    try:
        with cluster.connect(params.dask, scratch=scratch):
            yield
    finally:
        # the workers are gone: what they spilled (personal data, also of a worker that crashed) and
        # their lock files go with them
        shutil.rmtree(scratch / "dask-scratch-space", ignore_errors=True)


_KERNELS: set = set()  # kernel managers of the notebooks running now (stopped when the run is interrupted)
_KERNELS_LOCK = threading.Lock()
POLL_SECONDS = 0.2  # how often the runner looks at its running notebooks (and lets signals in)


def _kernel_manager_class(server: ForkServer | None = None):
    """A kernel manager that registers its kernel while it runs, so an interrupted run can stop it, and
    starts it from the run's fork server when there is one (``pipeline.kernels``)."""
    from jupyter_client.manager import AsyncKernelManager

    class TrackedKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            kernels.use_server(self, server)
            return await super()._async_pre_start_kernel(**kw)

        async def _async_start_kernel(self, **kw):
            with _KERNELS_LOCK:
                _KERNELS.add(self)
            return await super()._async_start_kernel(**kw)

        async def _async_shutdown_kernel(self, *a, **kw):
            try:
                return await super()._async_shutdown_kernel(*a, **kw)
            finally:
                with _KERNELS_LOCK:
                    _KERNELS.discard(self)

    return TrackedKernelManager


def _stop_kernels() -> None:
    """Kill the kernels of the notebooks still running (their threads then end with a dead kernel)."""
    with _KERNELS_LOCK:
        managers = list(_KERNELS)
    for km in managers:
        try:
            pid = getattr(km.provisioner, "pid", None) if km.provisioner is not None else None
            if pid:
                os.kill(pid, signal.SIGKILL)
        except (OSError, AttributeError):
            pass


def _run_steps(steps: list[Step], tables: set[str], work: Path, kernel: str, progress: bool, manifest: dict,
               manifest_path: Path, echo: Callable[[str], None], signals: _StopSignals, workers: int,
               before_last: Callable[[], None] | None = None, server: ForkServer | None = None) -> set[str]:
    """Execute the steps, up to ``workers`` at once, an ``early`` step first and the rest in step
    order (a ``last`` step waits for all before it; ``before_last`` is called just before it, or at the
    end when there is no last step); returns the failed ones. The manifest lists the
    steps in step order and is written by this thread only. On a stop signal the running kernels are
    killed and their threads awaited before it goes on."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    failed: set[str] = set()
    records: dict[str, dict] = {}
    pending = list(enumerate(steps, 1))
    order = {s.name: i for i, s in pending}
    if workers > 1:  # the longest step first (stable otherwise): the run lasts about as long as it does
        pending.sort(key=lambda item: not item[1].early)
    running: dict = {}  # future -> (console head, step, start time)
    progress = progress and workers == 1  # progress bars of notebooks side by side would garble each other

    def ready(k: int) -> bool:
        step = pending[k][1]
        if step.last:
            return k == 0 and not running
        before = {s.name for _, s in pending if order[s.name] < order[step.name]}
        unfinished = {r[1].name for r in running.values()} | before
        return not set(step.after) & unfinished

    def launch(pool, i: int, step: Step) -> None:
        if step.last and before_last is not None:
            before_last()
        record = {"name": step.name, "status": None, "seconds": None, "error": None, "reason": None,
                  "timings": {}}
        records[step.name] = record
        manifest["steps"].append(record)
        manifest["steps"].sort(key=lambda r: order[r["name"]])  # in step order, whatever the start order
        head = f"[{i}/{len(steps)}] {step.name}"
        missing_tables = [t for t in step.requires if t not in tables]
        blocked = [a for a in step.after if a in failed]
        if missing_tables or blocked:
            reason = (f"table(s) absent: {', '.join(missing_tables)}" if missing_tables
                      else f"depends on failed step(s): {', '.join(blocked)}")
            record.update(status="skipped", reason=reason, seconds=0.0)
            write_results(work / "results" / f"{step.name}.json", step.name, {}, status="skipped", reason=reason)
            echo(f"{head}: skipped ({reason})")
            mf.write_manifest(manifest_path, manifest)
            return
        echo(f"{head}: running…")
        mf.write_manifest(manifest_path, manifest)

        def execute() -> tuple[str, str | None]:
            with Heartbeat(work / "notebooks" / step.notebook, head, echo):
                return _execute_step(step, work, kernel, progress, server)

        running[pool.submit(execute)] = (head, step, time.perf_counter())

    def settle(future) -> None:
        head, step, t0 = running.pop(future)
        status, error = future.result()
        if status == "failed" and error and ("DeadKernelError" in error or "Kernel died" in error):
            # a scheduler stopping the run signals the kernel and the runner together: if the
            # runner's signal follows, the run was stopped, not failed
            time.sleep(KERNEL_DEATH_GRACE)
        signals.check()
        record = records[step.name]
        record.update(status=status, error=error, seconds=round(time.perf_counter() - t0, 2))
        record["timings"] = _take_timings(work, step.name)
        mf.write_manifest(manifest_path, manifest)
        if status == "failed":
            failed.add(step.name)
            echo(f"{head}: FAILED after {record['seconds']} s: {error}")
        else:
            echo(f"{head}: done in {record['seconds']} s")

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notebook")
    try:
        while pending or running:
            k = 0
            while k < len(pending) and len(running) < workers:
                if ready(k):
                    launch(pool, *pending.pop(k))
                elif pending[k][1].last:
                    break  # nothing after the last step starts before it
                else:
                    k += 1
            if running:
                done, _ = wait(list(running), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: running[f][1].name):
                    settle(future)
            signals.check()
    except BaseException:
        _stop_kernels()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if before_last is not None and not any(s.last for s in steps):
        before_last()
    return failed


def _take_timings(work: Path, step: str) -> dict:
    """The timings a notebook left beside its results (moved into the manifest, file removed)."""
    path = work / TIMINGS_DIR / f"{step}.json"
    if not path.exists():
        return {}
    try:
        timings = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:  # cut short (a notebook that failed while writing it)
        timings = {}
    path.unlink()
    if not any(path.parent.iterdir()):
        path.parent.rmdir()
    return timings


def _list_outputs(work: Path) -> dict:
    def files(sub: str) -> list[str]:
        folder = work / sub
        return sorted(str(p.relative_to(work)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []

    return {
        "results": files("results"), "tables": files("tables"), "figures": files("figures"),
        "notebooks": files("notebooks"), "brief": files("brief"),
        "restricted": files("plans"),
    }
