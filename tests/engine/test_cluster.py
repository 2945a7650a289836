"""The Dask cluster of ``engine: dask`` (``engine.cluster``) and its params."""

from __future__ import annotations

import os

import pytest

from analysis.core.params import Dask, ParamsError, load_params
from analysis.engine import cluster


@pytest.mark.parametrize("address", ["local", "tcp://10.0.0.5:8786", "tcp://scheduler.bkn.go.id:8786",
                                     "tcp://[::1]:8786"])
def test_a_scheduler_is_local_or_an_address(address):
    assert Dask(scheduler=address).scheduler == address


@pytest.mark.parametrize("address", ["", "localhost", "http://x:8786", "tcp://x", "tcp://x:8786/path",
                                     "tcp://x:8786; rm -rf /", "tls://", "tcp://x:8786\n", "tcp://x:0",
                                     "tcp://x:99999", "tcp://..:8786", "tcp://-:8786", "tcp://[:]:8786",
                                     "tcp://a..b:8786"])
def test_anything_else_is_refused_with_the_forms_it_can_take(address):
    with pytest.raises(ValueError, match="tls://10.0.0.5:8786"):
        Dask(scheduler=address)


def test_a_blank_tls_file_is_refused():
    with pytest.raises(ValueError, match="blank"):
        Dask(scheduler="tls://x:8786", tls_ca_file=" ", tls_cert="c.pem", tls_key="k.pem")


def test_tls_needs_all_three_files_and_the_files_need_tls():
    with pytest.raises(ValueError, match="missing: tls_cert, tls_key"):
        Dask(scheduler="tls://x:8786", tls_ca_file="ca.pem")
    with pytest.raises(ValueError, match="not a tls:// address"):
        Dask(scheduler="tcp://x:8786", tls_ca_file="ca.pem", tls_cert="c.pem", tls_key="k.pem")


@pytest.mark.parametrize("size", ["4GiB", "2.5 GB", "512MiB", "1000000000B", "4G", "4gib", "1PiB"])
def test_memory_per_worker_as_dask_writes_it(size):
    assert Dask(memory_limit=size).memory_limit == size


@pytest.mark.parametrize("size", ["4", "lots", "-1GiB", "4 gigs", "0B", "0GiB", "100MB", "4 XB"])
def test_memory_per_worker_without_a_unit_is_refused(size):
    with pytest.raises(ValueError, match="memory_limit"):
        Dask(memory_limit=size)


def test_relative_tls_files_are_relative_to_the_params_file(tmp_path):
    folder = tmp_path / "params"
    folder.mkdir()
    (folder / "national.yaml").write_text(
        "engine: dask\ndask:\n  scheduler: tls://10.0.0.5:8786\n  tls_ca_file: certs/ca.pem\n"
        "  tls_cert: certs/client.pem\n  tls_key: /etc/workbench/client.key\n", encoding="utf-8")
    p = load_params(folder / "national.yaml")
    assert p.engine == "dask"
    assert p.dask.tls_ca_file == str(folder / "certs" / "ca.pem")
    assert p.dask.tls_cert == str(folder / "certs" / "client.pem")
    assert p.dask.tls_key == "/etc/workbench/client.key"


def test_an_unknown_engine_is_a_params_error(tmp_path):
    (tmp_path / "p.yaml").write_text("engine: spark\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="engine"):
        load_params(tmp_path / "p.yaml")


def test_tls_settings_encrypt_and_authenticate_every_connection(tmp_path):
    s = cluster.security(Dask(scheduler="tls://x:8786", tls_ca_file=str(tmp_path / "ca.pem"),
                              tls_cert=str(tmp_path / "c.pem"), tls_key=str(tmp_path / "k.pem")))
    assert s.require_encryption
    assert (s.tls_ca_file, s.tls_client_cert, s.tls_client_key) == (
        str(tmp_path / "ca.pem"), str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    assert cluster.security(Dask(scheduler="tcp://x:8786")) is None


def test_the_manifest_says_which_cluster_and_never_the_tls_files():
    assert cluster.describe(Dask(workers=3)) == {"scheduler": "local", "workers": 3, "threads_per_worker": 1,
                                                 "memory_limit": "4GiB"}
    d = cluster.describe(Dask(scheduler="tls://x:8786", tls_ca_file="ca", tls_cert="c", tls_key="k"))
    assert d == {"scheduler": "tls://x:8786", "tls": True}


def test_a_local_cluster_has_the_workers_params_ask_for_and_is_stopped_after(tmp_path):
    from distributed import Client

    assert cluster.SCHEDULER_ENV not in os.environ
    with cluster.connect(Dask(workers=2, memory_limit="1GiB"), scratch=tmp_path) as client:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        assert len(workers) == 2
        assert {w["nthreads"] for w in workers.values()} == {1}
        assert {w["memory_limit"] for w in workers.values()} == {2**30}
        assert client.submit(sum, [1, 2, 3]).result() == 6
        address = os.environ[cluster.SCHEDULER_ENV]  # for the notebooks' kernels
        assert address == client.scheduler.address and address.startswith("tcp://127.0.0.1:")
        assert cluster.attach(Dask()) is client  # this process's client, not a second one
        spill = {w["local_directory"] for w in workers.values()}
        assert all(str(tmp_path) in d for d in spill), spill  # spilled data stays in the run folder
    assert client.status == "closed" and cluster.SCHEDULER_ENV not in os.environ
    with pytest.raises(OSError):  # nothing is left listening
        Client(address, timeout=1)


def test_a_failure_inside_stops_the_local_cluster_too():
    from distributed import Client

    with pytest.raises(RuntimeError, match="boom"):
        with cluster.connect(Dask(workers=1, memory_limit="1GiB")) as client:
            address = client.scheduler.address
            raise RuntimeError("boom")
    with pytest.raises(OSError):
        Client(address, timeout=1)


def test_a_scheduler_that_does_not_answer_is_one_clear_error():
    with pytest.raises(cluster.ClusterError, match="tcp://127.0.0.1:1"):
        with cluster.connect(Dask(scheduler="tcp://127.0.0.1:1", connect_seconds=2)):
            pass


def test_a_scheduler_without_workers_is_an_error_not_a_hang():
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, dashboard_address=None, processes=True) as empty:
        with pytest.raises(cluster.ClusterError, match="has no worker after 2 s"):
            with cluster.connect(Dask(scheduler=empty.scheduler_address, connect_seconds=2)):
                pass


def test_without_a_run_cluster_a_kernel_computes_in_its_own_process(monkeypatch):
    monkeypatch.delenv(cluster.SCHEDULER_ENV, raising=False)
    assert cluster.attach(Dask()) is None
