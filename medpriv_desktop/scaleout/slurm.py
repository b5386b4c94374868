"""``--cluster slurm``: Dask workers as SLURM jobs (dask-jobqueue), from a YAML file hospital IT writes once.

The file is validated strictly (unknown keys refused, so a misspelt ``walltime`` is an error, not a silent default)
and mapped to ``SLURMCluster`` arguments. Every worker job exports the offline environment before Python starts,
points ``MEDPRIV_KEY_DIR`` at the shared key folder (surrogates and date shifts are keyed: every node needs the same
``deid`` key, and the workers check it), preloads :mod:`medpriv_desktop`, and talks to the scheduler over TLS:
either the site's own certificates or ``tls: temporary`` (certificates made for this run, shared through
``shared_temp_directory``; needs the ``cryptography`` package). Example (``medpriv-slurm.yaml``)::

    queue: normal
    account: radiology-research
    jobs: 8                  # SLURM jobs to start
    cores: 4                 # per job
    processes: 4             # Dask workers per job (one thread each)
    memory: 16GB             # per job; split among its workers
    walltime: "04:00:00"
    python: /opt/medpriv/venv/bin/python
    key_dir: /shared/medpriv/keys
    local_directory: /tmp     # node-local spill folder
    shared_temp_directory: /shared/medpriv/tmp
    interface: ib0
    job_extra_directives: ["--qos=low"]
    tls: temporary            # or {ca_file: ..., cert: ..., key: ...}
"""

from __future__ import annotations

import shlex
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medpriv_desktop.core.errors import ConfigError


class TlsFiles(BaseModel):
    """The site's own certificates for scheduler-worker TLS."""

    model_config = ConfigDict(extra="forbid")
    ca_file: str
    cert: str
    key: str


class SlurmConfig(BaseModel):
    """The YAML file of ``--cluster slurm`` (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    queue: str | None = None
    account: str | None = None
    jobs: int = Field(1, ge=1, le=10_000)
    cores: int = Field(ge=1, le=1024)
    processes: int = Field(1, ge=1, le=1024)
    memory: str
    walltime: str = "01:00:00"
    python: str | None = None
    key_dir: str
    local_directory: str | None = None
    shared_temp_directory: str | None = None
    interface: str | None = None
    job_extra_directives: list[str] = Field(default_factory=list)
    tls: Literal["temporary"] | TlsFiles = "temporary"

    @field_validator("memory")
    @classmethod
    def _size(cls, value: str) -> str:
        from dask.utils import parse_bytes

        try:
            parse_bytes(value)
        except (ValueError, TypeError):
            raise ValueError("must be a size such as 16GB") from None
        return value

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"(\d+-)?\d{1,3}:\d\d(:\d\d)?", value):
            raise ValueError("must look like HH:MM:SS or D-HH:MM:SS")
        return value


def load_slurm_config(path: Path | None) -> SlurmConfig:
    """Read and validate the YAML file; one :class:`ConfigError` naming the file and the first problem."""
    import yaml

    if path is None:
        raise ConfigError("--cluster slurm needs --cluster-config FILE.yaml", hint="see the README's IT section")
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the SLURM settings ({type(exc).__name__})", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError("the SLURM settings file must hold a mapping of settings", path=path)
    try:
        return SlurmConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "file"
        raise ConfigError(f"SLURM settings: {where}: {first['msg']}", path=path) from None


def cluster_kwargs(cfg: SlurmConfig, dashboard: str | None = None) -> dict[str, Any]:
    """``SLURMCluster`` keyword arguments for ``cfg`` (without ``security``, which :func:`start_slurm` adds)."""
    from medpriv_desktop._offline import OFFLINE_ENVIRONMENT

    prologue = [f"export {k}={shlex.quote(v)}" for k, v in sorted(OFFLINE_ENVIRONMENT.items())]
    prologue.append(f"export MEDPRIV_KEY_DIR={shlex.quote(cfg.key_dir)}")
    kw: dict[str, Any] = {
        "queue": cfg.queue, "account": cfg.account, "cores": cfg.cores, "processes": cfg.processes,
        "memory": cfg.memory, "walltime": cfg.walltime, "job_script_prologue": prologue,
        "worker_extra_args": ["--preload", "medpriv_desktop", "--nthreads", "1"],
        "job_extra_directives": list(cfg.job_extra_directives), "dashboard_address": dashboard,
        "protocol": "tls://",
    }
    for name in ("python", "local_directory", "shared_temp_directory", "interface"):
        value = getattr(cfg, name)
        if value is not None:
            kw[name] = value
    return {k: v for k, v in kw.items() if v is not None or k == "dashboard_address"}


def start_slurm(path: Path | None, stack: ExitStack, dashboard: str | None = None) -> Any:
    """Start the SLURM cluster described by ``path`` and return a client (closed by ``stack``)."""
    from medpriv_desktop.scaleout import require

    require("dask_jobqueue")
    from dask_jobqueue import SLURMCluster
    from distributed import Client
    from distributed.security import Security

    cfg = load_slurm_config(path)
    if cfg.tls == "temporary":
        require("cryptography")
        security = Security.temporary()
    else:
        security = Security(tls_ca_file=cfg.tls.ca_file, tls_client_cert=cfg.tls.cert, tls_client_key=cfg.tls.key,
                            tls_scheduler_cert=cfg.tls.cert, tls_scheduler_key=cfg.tls.key,
                            tls_worker_cert=cfg.tls.cert, tls_worker_key=cfg.tls.key, require_encryption=True)
    cluster = stack.enter_context(SLURMCluster(security=security, **cluster_kwargs(cfg, dashboard)))
    cluster.scale(jobs=cfg.jobs)
    return stack.enter_context(Client(cluster, security=security))
