"""The fork server: one interpreter that imports the workbench's stack once and forks a notebook kernel
per request (``python -m analysis.pipeline.forkserver <reply fd>``, started by ``pipeline.kernels``).

A kernel started the usual way (``python -m ipykernel_launcher``) spends 5 s importing pandas, SciPy,
scikit-learn, statsmodels and the workbench before its first cell does anything: a run of five
notebooks pays it five times, and the test suite's runs hundreds of times. Here the imports happen once,
when the run's first kernel is asked for, and each kernel is a fork of this interpreter that then runs
``ipykernel_launcher`` as ``python -m`` would: its own process group, the runner's standard output and
error, the environment and folder jupyter_client gives it. It differs from a fresh interpreter in four
ways only, none of which a result may depend on: the modules are already imported, having read at
import the environment the server started with (the runner's, thread counts included); the kernels of
a run share one string-hash seed; and standard input is /dev/null (jupyter_client gives a pipe it
never writes to). (``random`` and NumPy's global generator are re-seeded from the system's entropy in
every kernel, as a fresh interpreter seeds them.)

The protocol, one JSON line each way: a request ``{"args", "env", "cwd"}`` on standard input; the
replies on the descriptor given as argument: ``{"ready": true}`` once imported, ``{"forked": pid}``
per request, ``{"exit": pid, "code": c}`` when a kernel ends. When standard input closes (the runner
finished, or died), the kernels still running are killed and the server ends.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import sys

# what the notebooks import (their first cells), so that a kernel finds it imported
PRELOAD = (
    # ipykernel's kernel and shell, but not its kernelapp: that module reads the kernel's environment
    # (JPY_PARENT_PID) when imported, so each kernel imports it (7 ms)
    "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython.display",
    "analysis.pipeline.context", "analysis.core.i18n",
    "analysis.outcomes.sections", "analysis.outcomes.figures", "analysis.outcomes.pp30",
    "analysis.raters.sections", "analysis.raters.figures",
    "analysis.training.sections", "analysis.training.figures",
    "analysis.rollout.sections", "analysis.rollout.figures",
    "analysis.report.brief", "weasyprint",  # (the brief's PDFs: 1.2 s)
)
REAP_SECONDS = 0.05  # how often ended kernels are looked for between requests


def _reply(fd: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data):]


def _become_kernel(request: dict, reply_fd: int) -> None:
    """In the forked child: the kernel's process group, streams, folder and environment, then
    ``ipykernel_launcher`` as ``python -m`` runs it. Never returns: the interpreter ends as a kernel's
    does (its exit code, its shutdown)."""
    try:
        os.setpgid(0, 0)
        os.close(reply_fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own stdin, for its life
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # the kernel watches its parent (ipykernel's poller): this server, which ends with the runner
        os.environ["JPY_PARENT_PID"] = str(os.getppid())
        import random

        import numpy as np

        random.seed()
        np.random.seed()
        import ipykernel_launcher

        sys.argv = [ipykernel_launcher.__file__, *request["args"]]
        sys.path[0] = os.getcwd()  # as `python -m` puts the folder it starts in
    except BaseException:  # noqa: BLE001 - a kernel that could not be set up ends at once, saying why
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    import runpy

    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
    sys.exit(0)


def serve(reply_fd: int) -> None:
    # the runner stops its kernels itself (and this server by closing its input), whatever signal it got
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    _reply(reply_fd, {"ready": True})
    children: set[int] = set()
    pending: bytes | None = b""
    while True:
        readable, _, _ = select.select([0], [], [], REAP_SECONDS)
        try:
            for pid in list(children):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    children.discard(pid)
                    _reply(reply_fd, {"exit": pid, "code": os.waitstatus_to_exitcode(status)})
        except BrokenPipeError:  # the runner is gone
            break
        if not readable:
            continue
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            sys.stdout.flush()
            sys.stderr.flush()
            # the imported objects to the permanent generation: a kernel's collections then do not walk
            # (and copy, page by page) what it shares with this process
            gc.freeze()
            try:
                pid = os.fork()
            except OSError:  # no memory or processes left: the runner starts this kernel the usual way
                pid = None
            if pid == 0:
                _become_kernel(request, reply_fd)
            if pid is not None:
                try:
                    os.setpgid(pid, pid)  # also here: a signal to the group can come before the child ran
                except OSError:
                    pass  # the child got there first (or has already ended: its exit is reported)
                children.add(pid)
            try:
                _reply(reply_fd, {"forked": pid})
            except BrokenPipeError:
                pending = None  # the runner is gone
                break
        if pending is None:
            break
    for pid in children:  # the runner is gone: so are its kernels
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
