"""Notebook kernels for the runner: forked from the run's fork server (``pipeline.forkserver``) where the
kernel is the workbench's own Python, started the usual way otherwise.

``ForkServer.start(argv, env)`` gives the run's server for a kernel spec's command (None when the
command is not ``<python> [options] -m ipykernel_launcher …``, or when ``WORKBENCH_FORK_KERNELS=0``); its
process starts with the first kernel the runner's kernel managers ask it for (``use_server``).
jupyter_client sees a process as it would see its own child: a process id that is its own process
group (signals and kill go there, as with a kernel it started itself), and an exit code, which the
server reports since it is the parent.
If the server cannot start or dies, kernels are started the usual way.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from functools import cache

ENABLE_ENV = "WORKBENCH_FORK_KERNELS"  # "0": every kernel a fresh interpreter (e.g. to compare the two)
READY_TIMEOUT = 300.0  # seconds the first kernel waits for the server's imports (5 s on a quiet machine)
LAUNCHER = ("-m", "ipykernel_launcher")


def interpreter_prefix(argv: list[str]) -> list[str] | None:
    """The interpreter and its options in a kernel command ``<python> [-X…] -m ipykernel_launcher …``,
    or None for any other command (another launcher, another language)."""
    for i in range(1, len(argv) - 1):
        if tuple(argv[i:i + 2]) == LAUNCHER:
            prefix = argv[:i]
            return prefix if all(a.startswith("-") and a != "-m" for a in prefix[1:]) else None
    return None


def kernel_command(name: str) -> list[str]:
    """The command jupyter_client starts the kernel ``name`` with (before its arguments are filled in);
    empty when the kernel's spec sets environment variables: a forked kernel would have imported its
    libraries before seeing them."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(name)
    if spec.env:
        return []
    argv = list(spec.argv or [])
    # as jupyter_client's format_kernel_cmd: a bare python is the running interpreter
    if argv and argv[0] in {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2]}:
        argv[0] = sys.executable
    return argv


class ForkServer:
    """The runner's end of a fork server (thread-safe), started with the first kernel it is asked for
    (a run whose notebooks never start a kernel pays nothing). ``close()`` ends it and its kernels."""

    def __init__(self, prefix: list[str], env: dict[str, str]):
        self.prefix = list(prefix)
        self._env = dict(env)
        self._proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._dead = threading.Event()
        self._forked: queue.Queue[int | None] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._exited = threading.Condition()
        self._lock = threading.Lock()
        self.forked = 0  # kernels started by forking (the manifest says how many)

    def _spawn(self) -> subprocess.Popen:
        """The server's process, started on first use (under ``_lock``)."""
        if self._proc is None:
            read_fd, write_fd = os.pipe()
            prefix = self.prefix
            command = [os.path.expanduser(prefix[0]), *prefix[1:], "-m", "analysis.pipeline.forkserver", str(write_fd)]
            try:
                # its own session: a signal to the runner's process group (a scheduler, a closed terminal)
                # is the runner's to handle; the server goes when its input closes
                self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, pass_fds=(write_fd,), env=self._env,
                                              start_new_session=True)
            except OSError:
                os.close(read_fd)
                self._dead.set()
                raise
            finally:
                os.close(write_fd)
            replies = os.fdopen(read_fd, "rb")
            threading.Thread(target=self._read, args=(replies,), name="forkserver-replies", daemon=True).start()
        return self._proc

    @classmethod
    def start(cls, argv: list[str], env: dict[str, str]) -> ForkServer | None:
        prefix = interpreter_prefix(argv)
        if prefix is None or os.environ.get(ENABLE_ENV, "1") == "0" or not hasattr(os, "fork"):
            return None
        return cls(prefix, env)

    def _read(self, replies) -> None:
        for line in replies:
            message = json.loads(line)
            if "ready" in message:
                self._ready.set()
            elif "forked" in message:
                with self._exited:
                    self._exits.pop(message["forked"], None)  # a process id used again
                self._forked.put(message["forked"])
            elif "exit" in message:
                with self._exited:
                    self._exits[message["exit"]] = message["code"]
                    self._exited.notify_all()
        self._dead.set()  # the server ended: kernels not reported ended with it
        self._ready.set()
        self._forked.put(None)
        with self._exited:
            self._exited.notify_all()

    def fork(self, args: list[str], env: dict[str, str], cwd: str) -> ForkedKernel | None:
        """A kernel forked with ``ipykernel_launcher``'s arguments ``args``, or None when the server is
        not usable (the caller starts the kernel the usual way)."""
        with self._lock:
            try:
                self._spawn()
            except OSError:  # the interpreter cannot be started: kernels start the usual way
                return None
        self._ready.wait(READY_TIMEOUT)
        with self._lock:
            if self._dead.is_set() or not self._ready.is_set():
                return None
            request = json.dumps({"args": args, "env": dict(env), "cwd": str(cwd)}) + "\n"
            try:
                self._proc.stdin.write(request.encode())
                self._proc.stdin.flush()
            except (OSError, ValueError):  # the server ended, or was closed
                return None
            pid = self._forked.get()
            if pid is not None:
                self.forked += 1
        return None if pid is None else ForkedKernel(pid, self)

    @property
    def pid(self) -> int:
        with self._lock:
            return self._spawn().pid

    def returncode(self, pid: int) -> int | None:
        with self._exited:
            if pid in self._exits:
                return self._exits[pid]
            return -signal.SIGKILL if self._dead.is_set() else None

    def wait(self, pid: int, timeout: float | None = None) -> int | None:
        with self._exited:
            self._exited.wait_for(lambda: self.returncode(pid) is not None, timeout)
        return self.returncode(pid)

    def close(self) -> None:
        with self._lock:
            proc = self._proc
        if proc is None:
            return
        if not self._ready.is_set():  # still importing, no kernel yet: nothing to wait for
            proc.kill()
        try:
            proc.stdin.close()  # the server then kills the kernels still running, and ends
        except OSError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ForkedKernel:
    """What jupyter_client uses of a ``Popen``, for a kernel the fork server started."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, server: ForkServer):
        self.pid = pid
        self._server = server

    @property
    def returncode(self) -> int | None:
        return self._server.returncode(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self._server.wait(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(["ipykernel"], timeout)
        return code

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:  # ended, its exit not yet reported: as Popen, nothing to do
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


@cache
def provisioner_class():
    """jupyter_client's local provisioner, launching through a fork server where it has one."""
    import asyncio
    import pathlib

    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class ForkedProvisioner(LocalProvisioner):
        server: ForkServer | None = None

        async def launch_kernel(self, cmd: list[str], **kwargs):
            server = self.server
            prefix = interpreter_prefix(cmd)
            process = None
            if server is not None and prefix == server.prefix:
                args = cmd[len(prefix) + len(LAUNCHER):]
                env = kwargs.get("env") or dict(os.environ)
                cwd = kwargs.get("cwd") or os.getcwd()
                process = await asyncio.to_thread(server.fork, args, env, cwd)
            if process is None:
                return await super().launch_kernel(cmd, **kwargs)
            self.process = process
            self.pid = self.pgid = process.pid
            self.cwd = kwargs.get("cwd", pathlib.Path.cwd())
            return self.connection_info

    return ForkedProvisioner


def use_server(manager, server: ForkServer | None) -> None:
    """Before a kernel manager starts its kernel: launch it through ``server`` (when there is one)."""
    if server is None or manager.provisioner is not None:
        return
    import uuid

    manager.kernel_id = manager.kernel_id or str(uuid.uuid4())
    provisioner = provisioner_class()(kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec,
                                      parent=manager)
    provisioner.server = server
    manager.provisioner = provisioner
