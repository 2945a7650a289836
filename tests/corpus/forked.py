"""The ``workbench`` command in processes forked from one interpreter that has imported the package.

A fresh ``python -m analysis validate`` spends most of its two seconds importing pandas, pandera and
pyarrow; the broken-input corpus runs the command once per case. Here one interpreter (started as
``python -m analysis`` would be, with the caller's environment) imports the package once and forks a
child per command: each child runs the package's ``__main__`` as ``python -m analysis`` does
(``runpy``), with its own standard output and error, and ends as that interpreter would (exit code,
traceback of an uncaught exception, shutdown). The parent interpreter itself runs nothing of the
package, so every child starts from the same state. Unlike fresh interpreters, the children share one
string-hash seed. The corpus's base case and its missing-folder case still start a new interpreter
(``builders.run_cli``), so the command's own start-up stays tested.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# The forking interpreter: requests (argv, output files, timeout) on stdin, one JSON line each; the
# exit code of each command on the descriptor its standard output had (the children's fd 1 and 2 are
# files). Its Python code runs in one thread (the numeric libraries' own worker threads are idle
# between commands; a child re-creates what it needs).
_SERVER = r"""
import gc, json, os, runpy, signal, sys, time
import analysis.cli, analysis.data.validation  # the imports every command needs, once
reply = os.fdopen(os.dup(1), "w")
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
for line in sys.stdin:
    req = json.loads(line)
    sys.stdout.flush(); sys.stderr.flush()
    # the imported objects to the permanent generation: a child's collections, and its shutdown, then do
    # not walk (and copy, page by page) the parent's modules: 1.5 -> 1.0 s a command
    gc.freeze()
    pid = os.fork()
    if pid == 0:
        reply.close()
        for fd, path in ((1, req["stdout"]), (2, req["stderr"])):
            f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(f, fd)
            os.close(f)
        sys.stdin = open(os.devnull)
        sys.argv = ["-m", *req["argv"]]
        # as `python -m analysis` runs it: its __main__ calls sys.exit(main()); the SystemExit, or an
        # uncaught exception, then ends this child as it ends an interpreter (exit code, traceback,
        # shutdown: atexit, threads, the final flush)
        runpy.run_module("analysis", run_name="__main__", alter_sys=True)
        sys.exit(0)
    deadline = time.monotonic() + req["timeout"]
    timed_out = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            timed_out, status = True, 9
            break
        time.sleep(0.005)
    code = -9 if timed_out else os.waitstatus_to_exitcode(status)
    reply.write(json.dumps({"returncode": code, "timed_out": timed_out}) + "\n")
    reply.flush()
"""


class ForkedCli:
    """``run(argv)`` as ``subprocess.run([python, "-m", "analysis", *argv], capture_output=True,
    text=True)`` would give it, from a child of one pre-imported interpreter. Thread-safe (one command
    at a time); ``close()`` ends the interpreter."""

    def __init__(self):
        self._proc = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="forked-cli-"))
        self._n = 0

    def run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        with self._lock:
            self._n += 1
            out, err = self._dir / f"{self._n}.out", self._dir / f"{self._n}.err"
            request = {"argv": [str(a) for a in argv], "stdout": str(out), "stderr": str(err),
                       "timeout": timeout}
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the forking interpreter ended (exit {self._proc.poll()})")
            reply = json.loads(line)
            args = [sys.executable, "-m", "analysis", *request["argv"]]
            stdout, stderr = (p.read_text(encoding="utf-8") for p in (out, err))
            if reply["timed_out"]:
                raise subprocess.TimeoutExpired(args, timeout, stdout, stderr)
            return subprocess.CompletedProcess(args, reply["returncode"], stdout, stderr)

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc.stdout.close()
        for p in self._dir.iterdir():
            p.unlink()
        self._dir.rmdir()
