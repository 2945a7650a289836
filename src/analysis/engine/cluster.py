"""The Dask client of a run with ``engine: dask`` (params ``dask``; docs/national.md).

``scheduler: local`` starts a ``LocalCluster`` on this machine (worker processes, threads and memory
per worker from params) and stops it when the run is done; an address connects to an agency's
scheduler, over TLS (``tls://``, with the CA, certificate and key from params) since appraisal data
is personal data. Within ``connect``, Dask computations run on that cluster; without it they run in
the calling process on Dask's threads, with the same results.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from analysis.core.params import Dask

# The run's scheduler, for the notebooks' kernels (they inherit the runner's environment)
SCHEDULER_ENV = "WORKBENCH_DASK_SCHEDULER"
# Dask's own log level in the runner, its workers and the kernels: its INFO and WARNING lines (a
# shuffle started, a worker registered) would fill the run's console and the notebooks
LOG_LEVEL = "error"


def quiet_logs() -> None:
    """Dask's logs at ``LOG_LEVEL`` here and in the processes started from here (through the environment)."""
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", LOG_LEVEL)
    logging.getLogger("distributed").setLevel(os.environ["DASK_LOGGING__DISTRIBUTED"].upper())


class ClusterError(RuntimeError):
    """The cluster could not be started or reached (the message says which and why)."""


def security(settings: Dask, address: str | None = None):
    """Dask's TLS settings for a tls:// scheduler (None otherwise): every connection encrypted and both
    ends authenticated by certificates signed by the given CA."""
    if not (address or settings.scheduler).startswith("tls://"):
        return None
    from distributed.security import Security

    return Security(tls_ca_file=settings.tls_ca_file, tls_client_cert=settings.tls_cert,
                    tls_client_key=settings.tls_key, require_encryption=True)


def describe(settings: Dask) -> dict:
    """What a run's manifest records of its cluster (never the TLS files' contents)."""
    if settings.scheduler == "local":
        return {"scheduler": "local", "workers": settings.workers, "threads_per_worker": settings.threads_per_worker,
                "memory_limit": settings.memory_limit}
    return {"scheduler": settings.scheduler, "tls": settings.scheduler.startswith("tls://")}


# No HTTP routes on the scheduler or the workers: with no dashboard they would still answer health and
# metrics requests on a port of this machine
NO_HTTP = {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}


@contextlib.contextmanager
def connect(settings: Dask, scratch: Path | None = None) -> Iterator:
    """The run's Dask client (see the module docstring); the local cluster is stopped on the way out,
    whatever happens. A scheduler that does not answer, or has no worker, within ``connect_seconds`` is
    a ``ClusterError``, not a hang. A local cluster spills to ``scratch`` (the run folder, where the
    personal data already is) rather than the system's temporary folder. While it is open,
    ``SCHEDULER_ENV`` holds the scheduler's address for the notebooks (``attach``)."""
    quiet_logs()
    import dask
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        stack.enter_context(dask.config.set(NO_HTTP))
        where = "a local cluster" if settings.scheduler == "local" else f"the scheduler at {settings.scheduler}"
        try:
            if settings.scheduler == "local":
                cluster = stack.enter_context(LocalCluster(
                    n_workers=settings.workers, threads_per_worker=settings.threads_per_worker,
                    memory_limit=settings.memory_limit, processes=True, dashboard_address=None,
                    local_directory=None if scratch is None else str(scratch)))
                client = stack.enter_context(Client(cluster))
            else:
                client = stack.enter_context(Client(settings.scheduler, security=security(settings),
                                                    timeout=settings.connect_seconds))
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"could not start or reach {where}: {exc}") from None
        try:
            client.wait_for_workers(1, timeout=settings.connect_seconds)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"{where} has no worker after {settings.connect_seconds:g} s ({exc})") from None
        stack.enter_context(_scheduler_in_environment(client.scheduler.address))
        stack.enter_context(client.as_current())
        yield client


@contextlib.contextmanager
def _scheduler_in_environment(address: str) -> Iterator[None]:
    before = os.environ.get(SCHEDULER_ENV)
    os.environ[SCHEDULER_ENV] = address
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SCHEDULER_ENV, None)
        else:
            os.environ[SCHEDULER_ENV] = before


def attach(settings: Dask):
    """In a notebook's kernel: a client of the run's cluster (the address ``connect`` put in
    ``SCHEDULER_ENV``), made the default for Dask's computations. None when there is none, as in a
    finished run opened by hand: Dask then computes in this process, with the same results."""
    address = os.environ.get(SCHEDULER_ENV)
    if not address:
        return None
    quiet_logs()
    from distributed import Client, default_client

    with contextlib.suppress(ValueError):  # this process has its client already (the runner's own)
        return default_client()
    try:
        return Client(address, security=security(settings, address), timeout=settings.connect_seconds,
                      set_as_default=True)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"could not reach the run's scheduler at {address}: {exc}") from None
