"""The Dask client of a run with ``engine: dask`` (params ``dask``; docs/national.md).

``scheduler: local`` starts a ``LocalCluster`` on this machine (worker processes, threads and memory
per worker from params) and stops it when the run is done; an address connects to an agency's
scheduler, over TLS (``tls://``, with the CA, certificate and key from params) since appraisal data
is personal data. Within ``connect``, Dask computations run on that cluster; without it they run in
the calling process on Dask's threads, with the same results.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from analysis.core.params import Dask


class ClusterError(RuntimeError):
    """The cluster could not be started or reached (the message says which and why)."""


def security(settings: Dask):
    """Dask's TLS settings for a tls:// scheduler (None otherwise): every connection encrypted and both
    ends authenticated by certificates signed by the given CA."""
    if not settings.scheduler.startswith("tls://"):
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


@contextlib.contextmanager
def connect(settings: Dask) -> Iterator:
    """The run's Dask client (see the module docstring); the local cluster is stopped on the way out.
    A scheduler that does not answer within ``connect_seconds`` is a ``ClusterError``, not a hang."""
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if settings.scheduler == "local":
            # no dashboard: a run is not a service, and a port opened on the machine is a door
            cluster = LocalCluster(n_workers=settings.workers, threads_per_worker=settings.threads_per_worker,
                                   memory_limit=settings.memory_limit, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(settings.scheduler, security=security(settings),
                            timeout=settings.connect_seconds)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        where = "a local cluster" if settings.scheduler == "local" else f"the scheduler at {settings.scheduler}"
        raise ClusterError(f"could not start or reach {where}: {exc}") from None
    try:
        with client.as_current():
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
