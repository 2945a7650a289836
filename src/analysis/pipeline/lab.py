"""JupyterLab on the repository: the one place its command line is built (``make lab``, ``workbench lab``).

JupyterLab serves the repository root, so that both ``notebooks/`` and ``outputs/`` are reachable
(a notebook's ``run_dir = "../outputs/latest"`` is relative to the notebook's folder), and opens
with the file browser on ``notebooks/``. ``--allow-root`` is added only when running as root, which
JupyterLab otherwise refuses ("Running as root is not recommended").

``LabApp.default_url`` sets the landing page: JupyterLab 4 overrides ``ServerApp.default_url``
with its own (``/lab``), so giving the server's has no effect.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from analysis.pipeline.manifest import project_root
from analysis.pipeline.run import DEFAULT_KERNEL, check_kernel

NOTEBOOKS = "notebooks"  # the folder the file browser opens on


def running_as_root() -> bool:
    """Whether the effective user is root (never on systems without user ids)."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def lab_argv(root: str | Path, *, kernel: str = DEFAULT_KERNEL, as_root: bool, port: int | None = None,
             open_browser: bool = True, token: str | None = None, python: str = sys.executable,
             extra: Sequence[str] = ()) -> list[str]:
    """The command that starts JupyterLab on the repository ``root``, file browser on ``notebooks/``.

    ``kernel``: the kernel new notebooks get; ``as_root``: whether the process runs as root (adds
    ``--allow-root``); ``port``: a fixed port, never another one if taken (default: 8888 or the next
    free one); ``open_browser``: open a browser tab; ``token``: the access token (default: one
    JupyterLab draws and prints); ``python``: the interpreter that has JupyterLab; ``extra``:
    further JupyterLab options, last.
    """
    argv = [
        python, "-m", "jupyterlab",
        f"--ServerApp.root_dir={Path(root).resolve()}",
        f"--LabApp.default_url=/lab/tree/{NOTEBOOKS}",
        f"--MappingKernelManager.default_kernel_name={kernel}",
    ]
    if as_root:
        argv.append("--allow-root")
    if port is not None:
        argv += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if not open_browser:
        argv.append("--no-browser")
    if token is not None:
        argv.append(f"--IdentityProvider.token={token}")
    return argv + list(extra)


def main(root: str | Path | None = None, *, kernel: str | None = None, port: int | None = None,
         open_browser: bool = True, extra: Sequence[str] = (), execv=os.execv) -> int:
    """Start JupyterLab in place of this process (so that Ctrl-C and its prompt reach JupyterLab).

    Returns 2, with a sentence, when the root has no notebooks or the kernel cannot be used.
    ``execv`` is replaceable for tests; it does not return when it is ``os.execv``.
    """
    root = Path(root) if root is not None else project_root()
    kernel = kernel or DEFAULT_KERNEL
    if not (root / NOTEBOOKS).is_dir():
        print(f"{root.resolve()} has no {NOTEBOOKS}/ folder: give the repository's root (--root).")
        return 2
    try:
        check_kernel(kernel)  # registers the default kernel for this interpreter when it is missing
    except Exception as exc:  # the runner's one-line reason the kernel cannot be used
        print(f"Cannot open JupyterLab: {exc}.")
        return 2
    argv = lab_argv(root, kernel=kernel, as_root=running_as_root(), port=port, open_browser=open_browser,
                    extra=extra)
    sys.stdout.flush()
    sys.stderr.flush()
    execv(argv[0], argv)
    return 0
