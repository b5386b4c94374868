"""``--cluster``: where partitions run, and the Dask client that runs them.

* ``local`` or ``local:N`` - a LocalCluster of N worker processes on this machine (default N: the cores), bound to
  the loopback address, one thread each;
* ``tcp://HOST:PORT`` - an existing scheduler on this machine (HOST must be a loopback address: 127.x, ::1,
  localhost); a scheduler elsewhere needs ``tls://HOST:PORT`` with ``--tls-ca``, ``--tls-cert`` and ``--tls-key``,
  because plain TCP would carry the site's work in clear across the network;
* ``slurm`` - workers as SLURM jobs through dask-jobqueue, settings from ``--cluster-config`` (:mod:`.slurm`).

No cluster serves a dashboard unless ``--dashboard`` asks (then on 127.0.0.1 only). Workers get the offline
environment before Python starts (``env``), import :mod:`medpriv_desktop` first (``preload``) and run
:func:`~medpriv_desktop.scaleout.worker.prepare_process` through a worker plugin; memory limit and spill thresholds
are set explicitly, with a private spill folder.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError

#: Spill and pause thresholds (fractions of the worker memory limit), set explicitly so that a site's own Dask
#: configuration cannot switch them off. Tasks return counts only, so what could be spilled never holds note text.
MEMORY_THRESHOLDS = {"target": 0.6, "spill": 0.7, "pause": 0.8, "terminate": 0.95}
DASHBOARD_ADDRESS = "127.0.0.1:8787"
_LOCAL = re.compile(r"local(?::(\d+))?\Z")
_REMOTE = re.compile(r"(tcp|tls)://(\[[^\]]+\]|[^:/]+):(\d+)\Z")


@dataclass(frozen=True)
class ClusterSpec:
    """A parsed ``--cluster`` value."""

    kind: str  # local | tcp | tls | slurm
    workers: int = 0
    address: str = ""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals; a name is never resolved (that would be a DNS query)."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


TlsFiles = tuple[str | None, str | None, str | None]


def parse_cluster(text: str | None, tls_files: TlsFiles = (None, None, None)) -> ClusterSpec | None:
    """Check a ``--cluster`` value (see the module docstring); None for no cluster."""
    if text is None:
        return None
    text = text.strip()
    m = _LOCAL.match(text)
    if m:
        n = int(m.group(1)) if m.group(1) else (os.cpu_count() or 1)
        if n < 1:
            raise InputError("--cluster local:N needs at least one worker")
        return ClusterSpec("local", workers=n)
    if text == "slurm":
        return ClusterSpec("slurm")
    m = _REMOTE.match(text)
    if not m:
        raise InputError(f"--cluster must be local, local:N, tcp://HOST:PORT, tls://HOST:PORT or slurm (got "
                         f"'{text[:40]}')")
    scheme, host = m.group(1), m.group(2)
    if scheme == "tcp" and not is_loopback(host):
        raise InputError("refusing a scheduler on another machine over plain tcp://: use tls://HOST:PORT with "
                         "--tls-ca, --tls-cert and --tls-key", hint="plain TCP would carry the work unencrypted")
    if scheme == "tls" and not all(tls_files):
        raise InputError("--cluster tls://... needs --tls-ca, --tls-cert and --tls-key")
    return ClusterSpec(scheme, address=text)


def worker_memory(limit: str | None, workers: int) -> str | int:
    """The memory limit per local worker: the given size ("4GB"), or the machine's memory shared out evenly."""
    if limit and limit != "auto":
        from dask.utils import parse_bytes

        try:
            return int(parse_bytes(limit))
        except (ValueError, TypeError):
            raise InputError(f"--worker-memory must be a size such as 4GB (got '{limit[:20]}')") from None
    import psutil

    return int(psutil.virtual_memory().total * 0.9 / max(workers, 1))


def _plugin() -> Any:
    from distributed.diagnostics.plugin import WorkerPlugin

    from medpriv_desktop.scaleout.worker import prepare_process

    class MedPrivWorkerSetup(WorkerPlugin):
        """Runs :func:`prepare_process` in every worker, also in workers that join later."""

        idempotent = True
        name = "medpriv-worker-setup"

        def setup(self, worker: Any) -> None:
            import os

            # A worker is one core's share (threads_per_worker=1): its ONNX sessions take one thread unless the
            # operator says otherwise, not the every-core default of a command (core/app/context.py).
            os.environ.setdefault("MEDPRIV_ORT_THREADS", "1")
            prepare_process()

    return MedPrivWorkerSetup()


def open_client(spec: ClusterSpec, stack: ExitStack, *, dashboard: bool = False, memory: str | None = None,
                tls_files: TlsFiles = (None, None, None),
                cluster_config: Path | None = None) -> Any:
    """Start (or connect to) the cluster and return a client; ``stack`` closes both at the end of the run."""
    from medpriv_desktop.scaleout import require

    require("distributed")
    import dask
    from distributed import Client

    from medpriv_desktop._offline import OFFLINE_ENVIRONMENT

    dask.config.set({f"distributed.worker.memory.{k}": v for k, v in MEMORY_THRESHOLDS.items()})
    if not dashboard:
        # Dask starts an HTTP server even without a dashboard (health, metrics, a link page): give it no routes
        dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []})
    # the dashboard needs bokeh and would serve on every interface: off unless asked, then loopback only
    dash = DASHBOARD_ADDRESS if dashboard else None
    if spec.kind == "local":
        from distributed import LocalCluster

        spill = stack.enter_context(tempfile.TemporaryDirectory(prefix="medpriv-dask-"))
        cluster = stack.enter_context(LocalCluster(
            n_workers=spec.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=dash, worker_dashboard_address=None, memory_limit=worker_memory(memory, spec.workers),
            local_directory=spill, env=dict(OFFLINE_ENVIRONMENT), preload=["medpriv_desktop"],
            silence_logs=40))
        client = stack.enter_context(Client(cluster))
    elif spec.kind == "slurm":
        from medpriv_desktop.scaleout.slurm import start_slurm

        client = start_slurm(cluster_config, stack, dashboard=dash)
    else:
        security = None
        if spec.kind == "tls":
            from distributed.security import Security

            ca, cert, key = tls_files
            security = Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
        client = stack.enter_context(Client(spec.address, security=security, timeout="30s"))
    client.register_plugin(_plugin())
    return client
