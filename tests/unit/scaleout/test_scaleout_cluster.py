"""``--cluster`` values, the SLURM settings file, and what a local cluster's workers look like: offline switches set,
the app's log filter installed, no dashboard, loopback only, memory limits set."""

from __future__ import annotations

import logging

import pytest

from medpriv_desktop.core.errors import ConfigError, InputError
from medpriv_desktop.scaleout.cluster import ClusterSpec, is_loopback, parse_cluster
from medpriv_desktop.scaleout.slurm import cluster_kwargs, load_slurm_config

TLS = ("ca.pem", "cert.pem", "key.pem")


@pytest.mark.parametrize("text,tls,expected", [
    ("local:3", (None, None, None), ClusterSpec("local", workers=3)),
    ("tcp://127.0.0.1:8786", (None, None, None), ClusterSpec("tcp", address="tcp://127.0.0.1:8786")),
    ("tcp://localhost:8786", (None, None, None), ClusterSpec("tcp", address="tcp://localhost:8786")),
    ("tcp://[::1]:8786", (None, None, None), ClusterSpec("tcp", address="tcp://[::1]:8786")),
    ("tls://10.1.2.3:8786", TLS, ClusterSpec("tls", address="tls://10.1.2.3:8786")),
    ("slurm", (None, None, None), ClusterSpec("slurm")),
])
def test_accepted_cluster_values(text, tls, expected):
    assert parse_cluster(text, tls) == expected


@pytest.mark.parametrize("text,tls,message", [
    ("tcp://10.1.2.3:8786", (None, None, None), "another machine over plain tcp"),
    ("tcp://scheduler.hospital.org:8786", (None, None, None), "another machine over plain tcp"),
    ("tcp://127.0.0.1.evil.org:8786", (None, None, None), "another machine over plain tcp"),
    ("tls://10.1.2.3:8786", (None, "cert.pem", "key.pem"), "needs --tls-ca"),
    ("local:0", (None, None, None), "at least one worker"),
    ("kubernetes", (None, None, None), "must be local"),
    ("tcp://10.1.2.3", (None, None, None), "must be local"),
])
def test_refused_cluster_values(text, tls, message):
    with pytest.raises(InputError, match=message):
        parse_cluster(text, tls)


def test_loopback_is_judged_without_resolving_names():
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("LOCALHOST")
    assert not is_loopback("10.0.0.1") and not is_loopback("myhost")


GOOD_YAML = """
queue: normal
account: radiology
jobs: 4
cores: 8
processes: 4
memory: 32GB
walltime: "02:00:00"
python: /opt/medpriv/bin/python
key_dir: /shared/medpriv/keys
local_directory: /tmp
job_extra_directives: ["--qos=low"]
"""


def test_slurm_settings_map_to_jobqueue_arguments(tmp_path):
    path = tmp_path / "slurm.yaml"
    path.write_text(GOOD_YAML)
    cfg = load_slurm_config(path)
    kw = cluster_kwargs(cfg)
    assert (kw["queue"], kw["account"], kw["cores"], kw["processes"], kw["memory"]) == ("normal", "radiology", 8, 4,
                                                                                         "32GB")
    assert "export ORT_DISABLE_TELEMETRY=1" in kw["job_script_prologue"]
    assert "export MEDPRIV_KEY_DIR=/shared/medpriv/keys" in kw["job_script_prologue"]
    assert kw["worker_extra_args"][:2] == ["--preload", "medpriv_desktop"]
    assert kw["protocol"] == "tls://" and kw["dashboard_address"] is None
    assert cfg.jobs == 4 and cfg.tls == "temporary"
    from dask_jobqueue import SLURMCluster
    import inspect

    accepted = set(inspect.signature(SLURMCluster.__init__).parameters)
    from dask_jobqueue.slurm import SLURMJob

    accepted |= set(inspect.signature(SLURMJob.__init__).parameters)
    from dask_jobqueue.core import Job

    accepted |= set(inspect.signature(Job.__init__).parameters)
    assert set(kw) <= accepted  # every argument is one dask-jobqueue knows


@pytest.mark.parametrize("edit,message", [
    ("walltme: '01:00:00'", "walltme"),  # a misspelt key is refused, not ignored
    ("memory: lots", "memory"),
    ("cores: 0", "cores"),
    ("walltime: 'two hours'", "walltime"),
    ("tls: off", "tls"),
])
def test_bad_slurm_settings_are_refused_naming_the_setting(tmp_path, edit, message):
    key = edit.split(":")[0]
    lines = [ln for ln in GOOD_YAML.splitlines() if not ln.startswith(key + ":")]
    path = tmp_path / "slurm.yaml"
    path.write_text("\n".join(lines + [edit]) + "\n")
    with pytest.raises(ConfigError, match=message):
        load_slurm_config(path)


def test_slurm_settings_need_the_shared_key_folder(tmp_path):
    path = tmp_path / "slurm.yaml"
    path.write_text("\n".join(ln for ln in GOOD_YAML.splitlines() if not ln.startswith("key_dir")))
    with pytest.raises(ConfigError, match="key_dir"):
        load_slurm_config(path)
    with pytest.raises(ConfigError, match="--cluster-config"):
        load_slurm_config(None)


def test_worker_log_filter_withholds_dask_messages_with_note_text():
    from medpriv_desktop.scaleout.worker import install_log_filter

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep()
    logger = logging.getLogger("distributed.worker")
    dist = logging.getLogger("distributed")
    dist.addHandler(handler)
    try:
        install_log_filter()
        try:
            raise ValueError("Patient Zebediah Quux, MRN 1234567")
        except ValueError:
            logger.warning("Compute Failed\nKey: %s\nTask: %r", "k", "deid('Patient Zebediah Quux')", exc_info=True)
    finally:
        dist.removeHandler(handler)
    assert records and "Zebediah" not in "".join(records)
    assert "ValueError at" in records[0]  # the frames stay: where it happened, not what it held


def test_local_cluster_workers_are_offline_filtered_and_loopback_only():
    from contextlib import ExitStack

    from medpriv_desktop.scaleout.cluster import open_client
    from medpriv_desktop.scaleout.worker import prepare_process

    with ExitStack() as stack:
        client = open_client(ClusterSpec("local", workers=2), stack, memory="1GB")
        info = client.scheduler_info()
        assert info["address"].startswith("tcp://127.0.0.1:")
        port = info.get("services", {}).get("dashboard")
        if port:  # Dask's HTTP server still listens (loopback only) but serves no page: no dashboard, no metrics
            import urllib.error
            import urllib.request

            for route in ("/status", "/health", "/metrics", "/info/main/workers.html"):
                with pytest.raises(urllib.error.HTTPError, match="404"):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{route}", timeout=5)
        assert all(addr.startswith("tcp://127.0.0.1:") for addr in info["workers"])
        assert {w["memory_limit"] for w in info["workers"].values()} == {10 ** 9}  # dask sizes: 1GB = 10**9 bytes
        # the worker plugin already ran on every worker: Dask's handlers carry the app's filter before any task
        filtered = client.run(lambda: any(
            type(f).__name__ == "RedactingFilter" for name in ("", "distributed")
            for h in __import__("logging").getLogger(name).handlers for f in h.filters))
        assert set(filtered.values()) == {True}
        telemetry = client.run(lambda: __import__("os").environ.get("ORT_DISABLE_TELEMETRY"))
        assert set(telemetry.values()) == {"1"}
        # a worker is one core's share: its sessions take one thread, not a command's every-core default
        threads = client.run(lambda: __import__("medpriv_desktop.core.app.context", fromlist=["x"]).SessionFactory
                             .from_settings(__import__("medpriv_desktop.core.settings", fromlist=["x"]).Settings())
                             .threads)
        assert set(threads.values()) == {1}
        states = client.run(prepare_process)
        assert len(states) == 2
        assert {s["ORT_DISABLE_TELEMETRY"] for s in states.values()} == {"1"}
        assert all(s["filtered_handlers"] >= 1 for s in states.values())
        spill = client.run(lambda dask_worker: dask_worker.memory_manager.memory_spill_fraction)
        assert set(spill.values()) == {0.7}


def test_cli_refuses_plain_tcp_to_another_machine_before_any_output(tmp_path, capsys):
    from medpriv_desktop.cli import main
    from tests.unit.scaleout.tables import note_rows, write_table

    src = write_table(note_rows(4), tmp_path / "n.parquet")
    out = tmp_path / "o.parquet"
    assert main(["deid", str(src), "--text-column", "text", "--id-column", "note_id", "--rules-only", "-q",
                 "-o", str(out), "--cluster", "tcp://10.2.3.4:8786"]) == 2
    assert "plain tcp" in capsys.readouterr().err
    assert not out.exists()
