"""Kernels forked from the run's fork server (``pipeline.kernels``, ``pipeline.forkserver``): jupyter_client
drives them as kernels it started itself (cells, interrupt, shutdown, kill, exit code), each in its own
process group, folder and environment, with its own random state; a server that ends takes its kernels
with it, and one that cannot be used leaves the kernels to start the usual way."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

import pytest
from jupyter_client.manager import KernelManager

from analysis.pipeline import kernels
from analysis.pipeline.run import DEFAULT_KERNEL, check_kernel


def test_only_a_python_running_ipykernel_launcher_is_forked():
    assert kernels.interpreter_prefix(["/v/python", "-m", "ipykernel_launcher", "-f", "c.json"]) == ["/v/python"]
    assert kernels.interpreter_prefix(["py", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{c}"]) == [
        "py", "-Xfrozen_modules=off"]
    assert kernels.interpreter_prefix(["py", "-m", "ipykernel", "-f", "c.json"]) is None  # another launcher
    assert kernels.interpreter_prefix(["py", "script.py", "-m", "ipykernel_launcher"]) is None  # not an option
    assert kernels.interpreter_prefix(["R", "--slave", "-e", "IRkernel::main()", "--args", "c.json"]) is None
    assert kernels.interpreter_prefix([]) is None


def start_server() -> kernels.ForkServer:
    command = kernels.kernel_command(check_kernel(DEFAULT_KERNEL))
    srv = kernels.ForkServer.start(command, dict(os.environ))
    assert srv is not None, command
    return srv


@pytest.fixture(scope="module")
def server():
    """One server for the tests that leave it running (its imports take seconds)."""
    srv = start_server()
    yield srv
    srv.close()


@pytest.fixture
def own_server():
    """A server for a test that kills or closes it."""
    srv = start_server()
    yield srv
    srv.close()


def manager(server) -> KernelManager:
    class Forked(KernelManager):
        async def _async_pre_start_kernel(self, **kw):
            kernels.use_server(self, server)
            return await super()._async_pre_start_kernel(**kw)

    return Forked(kernel_name=DEFAULT_KERNEL)


def stop(km, kc, now: bool = True) -> None:
    kc.stop_channels()
    km.shutdown_kernel(now=now)


@contextlib.contextmanager
def running(km, cwd, env=None, stop_kernel: bool = True):
    """The kernel of ``km`` started in ``cwd`` and ready: its client (channels stopped afterwards, and
    the kernel shut down unless ``stop_kernel`` is False)."""
    km.start_kernel(cwd=str(cwd), **({"env": env} if env is not None else {}))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        yield kc
    finally:
        if stop_kernel:
            stop(km, kc)
        else:
            kc.stop_channels()


def run_cell(kc, code: str) -> tuple[str, dict]:
    out: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    reply = kc.execute_interactive(code, output_hook=hook, timeout=60)
    return "".join(out), reply["content"]


def test_a_forked_kernel_is_driven_as_a_kernel_jupyter_started(server, tmp_path):
    km = manager(server)
    km.start_kernel(cwd=str(tmp_path), env={**os.environ, "WORKBENCH_TEST_VAR": "from the manager"})
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        assert isinstance(km.provisioner.process, kernels.ForkedKernel)
        pid = km.provisioner.pid
        out, reply = run_cell(kc, "import os, sys\n"
                                  "print(os.getpid(), os.getpgid(0), os.getppid(), os.getcwd())\n"
                                  "print(os.environ['WORKBENCH_TEST_VAR'], os.environ['JPY_PARENT_PID'])\n"
                                  "print('pandas' in sys.modules, 'analysis.raters.sections' in sys.modules)")
        assert reply["status"] == "ok", reply
        ids, env, imported = out.splitlines()
        kernel_pid, group, parent, cwd = ids.split(" ", 3)
        server_pid = server.pid
        assert (int(kernel_pid), int(group), int(parent), cwd) == (pid, pid, server_pid, str(tmp_path))
        assert env == f"from the manager {server_pid}"  # the kernel watches the server, which watches the run
        assert imported == "True True"  # imported once, in the server

        # an interrupt reaches the cell through the kernel's process group
        kc.execute("import time; time.sleep(60)")
        time.sleep(1.0)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)["content"]
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
        out, reply = run_cell(kc, "print(6 * 7)")
        assert out.strip() == "42"
    finally:
        stop(km, kc, now=False)
    assert not km.is_alive()
    assert server.returncode(pid) == 0  # the exit code the server reported as the kernel's parent


def test_a_forked_kernel_sees_what_a_fresh_one_sees(server, tmp_path):
    """The module path, interpreter flags, folder, signal handlers and the kernel's environment
    (JPY_PARENT_PID names the server in one and the run in the other)."""
    code = ("import os, signal, sys\n"
            "print(repr(sys.path)); print(sys.flags); print(sys.argv[1:2]); print(os.getcwd())\n"
            "print([signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE)])\n"
            "print(sys.stdin.fileno(), os.isatty(0), os.path.samefile('/proc/self/fd/0', os.devnull))\n"
            "print(sorted(k for k in os.environ if k.startswith(('JPY', 'MPL', 'PYDEVD', 'WORKBENCH_TEST'))))")
    seen = []
    for km in (KernelManager(kernel_name=DEFAULT_KERNEL), manager(server)):
        with running(km, tmp_path, env={**os.environ, "WORKBENCH_TEST_VAR": "1"}) as kc:
            out, reply = run_cell(kc, code)
            assert reply["status"] == "ok", reply
            seen.append(out.splitlines())
    fresh, forked = seen
    assert len(fresh) == 7
    # standard input: nothing to read either way (a pipe nobody writes to in the one, /dev/null here)
    assert fresh.pop(5) == "0 False False" and forked.pop(5) == "0 False True"
    assert forked == fresh


def test_each_kernel_draws_its_own_random_numbers(server, tmp_path):
    draws = []
    for _ in range(2):
        with running(manager(server), tmp_path) as kc:
            out, _ = run_cell(kc, "import random, numpy as np\nprint(random.random(), np.random.random())")
            draws.append(out)
    assert draws[0] != draws[1]


def test_a_killed_kernel_reports_its_signal_and_the_server_ends_with_its_kernels(own_server, tmp_path):
    server = own_server
    km = manager(server)
    km.start_kernel(cwd=str(tmp_path))
    pid = km.provisioner.pid
    km.shutdown_kernel(now=True)  # killed
    assert server.wait(pid, timeout=30) == -signal.SIGKILL
    other = server.fork(["-f", str(tmp_path / "unused.json")], dict(os.environ), str(tmp_path))
    assert other is not None and other.poll() is None
    server.close()
    assert other.wait(timeout=30) == -signal.SIGKILL  # a run's kernels do not outlive it
    with pytest.raises(ProcessLookupError):
        os.kill(other.pid, 0)


def test_a_kernel_ends_when_its_server_is_killed(own_server, tmp_path):
    """A server killed outright cannot kill its kernels: each watches it (ipykernel's parent poller) and
    ends within seconds, as a kernel whose runner died does."""
    km = manager(own_server)
    with running(km, tmp_path, stop_kernel=False):
        pid = km.provisioner.pid
        os.kill(own_server.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(pid, signal.SIGKILL)
            pytest.fail("the kernel outlived its server")


def test_without_a_usable_server_kernels_start_the_usual_way(tmp_path, monkeypatch):
    command = kernels.kernel_command(check_kernel(DEFAULT_KERNEL))
    monkeypatch.setenv(kernels.ENABLE_ENV, "0")
    assert kernels.ForkServer.start(command, dict(os.environ)) is None
    monkeypatch.delenv(kernels.ENABLE_ENV)
    assert kernels.ForkServer.start(["R", "-e", "IRkernel::main()"], dict(os.environ)) is None
    # a server that died: the kernel is started as jupyter_client starts it
    srv = start_server()
    os.kill(srv.pid, signal.SIGKILL)
    km = manager(srv)
    km.start_kernel(cwd=str(tmp_path))
    try:
        assert not isinstance(km.provisioner.process, kernels.ForkedKernel)
        assert km.is_alive()
    finally:
        km.shutdown_kernel(now=True)
        srv.close()



def test_a_kernel_that_cannot_be_set_up_says_why(own_server, tmp_path, capfd):
    kernel = own_server.fork(["-f", str(tmp_path / "unused.json")], dict(os.environ), str(tmp_path / "missing"))
    assert kernel is not None
    assert kernel.wait(timeout=30) == 1
    err = capfd.readouterr().err
    assert "FileNotFoundError" in err and "missing" in err, err


def test_a_kernel_whose_spec_sets_environment_variables_is_not_forked(tmp_path, monkeypatch):
    """Its variables could not reach what the server imported before: it starts the usual way."""
    import json

    for name, env in (("plain", {}), ("with-env", {"OMP_NUM_THREADS": "4"})):
        folder = tmp_path / "kernels" / name
        folder.mkdir(parents=True)
        spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": name, "language": "python", "env": env}
        (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert kernels.kernel_command("plain")[1:] == ["-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert kernels.kernel_command("with-env") == []
    assert kernels.ForkServer.start(kernels.kernel_command("with-env"), dict(os.environ)) is None
