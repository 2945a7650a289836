"""Tell someone how a run ended: the commands of params ``notify`` (an agency wires them to its mail
relay or chat). The command gets the run in environment variables; whatever it does, the run's status
and exit code stay what they were (a failing or hanging notifier is logged, and stopped at its
timeout).

Environment: ``WORKBENCH_STATUS`` (success, failed, invalid_data, bad_params, bad_output,
interrupted), ``WORKBENCH_EXIT_CODE``, ``WORKBENCH_RUN_ID`` and ``WORKBENCH_RUN_DIR`` (empty when no run
folder was made), ``WORKBENCH_ERROR`` (one line, empty on success), ``WORKBENCH_OUTPUT_DIR``.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from analysis.core.params import Notify
from analysis.data.problems import console_text

LOG_FILE = "notify.log"  # in the output folder: one line per notifier run
FAILURES = ("failed", "invalid_data", "bad_params", "bad_output", "interrupted")


def command_for(notify: Notify, status: str) -> str | None:
    if status == "success":
        return notify.on_success
    return notify.on_failure if status in FAILURES else None


def run_notifier(notify: Notify, status: str, code: int, run_dir: Path | None, error: str | None,
                 out_root: Path, say: Callable[[str], None]) -> bool | None:
    """Run the command for ``status`` (None: none configured). True when it ran and exited 0."""
    command = command_for(notify, status)
    if command is None:
        return None
    # nothing of the runner's own WORKBENCH_* settings (the pseudonym key among them) reaches the command
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(WORKBENCH_STATUS=status, WORKBENCH_EXIT_CODE=str(code),
               WORKBENCH_RUN_ID=run_dir.name if run_dir else "", WORKBENCH_RUN_DIR=str(run_dir or ""),
               WORKBENCH_ERROR=console_text(" ".join((error or "").replace("\x00", " ").split())[:500]),
               WORKBENCH_OUTPUT_DIR=str(out_root))
    try:
        # its own process group, so that a timeout stops a whole pipeline (``echo … | mail …``)
        proc = subprocess.Popen(command, shell=True, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except (OSError, ValueError) as exc:
        ok, what, detail = False, f"could not start: {getattr(exc, 'strerror', None) or exc}", ""
    else:
        try:
            _, stderr = proc.communicate(timeout=notify.timeout_seconds)
            ok, what = proc.returncode == 0, f"exit {proc.returncode}"
            detail = " ".join(stderr.decode("utf-8", "replace").split())[:300]
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.communicate()
            ok, what, detail = False, f"stopped after {notify.timeout_seconds:g} s", ""
    line = f"{datetime.now(timezone.utc).isoformat(timespec='seconds')} {status} {run_dir.name if run_dir else '-'} " \
           f"notifier {what}" + (f": {detail}" if detail and not ok else "")
    if not ok:
        say(f"Note: the {status} notifier failed ({what}); the run's status is unchanged.")
    try:
        with open(out_root / LOG_FILE, "a", encoding="utf-8") as log:
            log.write(line + "\n")
    except OSError:
        pass
    return ok
