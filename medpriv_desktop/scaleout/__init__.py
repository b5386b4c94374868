"""Scale-out: run de-identification, classification and segmentation over whole archives, by partition or by study.

This package sits outside ``core`` on purpose: it is the only place that imports Dask (``dask.distributed`` and
``dask-jobqueue``, the ``cluster`` extra), and the commands import it lazily, only when a scale-out option is used
(a Parquet input, ``--shard``, ``--cluster``, ``--patient-column``, ``--keep-columns``, a study list). The desktop
app and the frozen installer never load it.

Pieces:

* :mod:`.partitions` - plan a table as partitions (Parquet row groups, or CSV cut only between complete records, so
  notes with line breaks inside quotes stay whole), the ``--shard K/N`` slice, reading one partition;
* :mod:`.parts` - the output folder of parts, the resume manifest (``core/resume.py``) and the errors table;
* :mod:`.runner` - run the planned tasks in this process or on a Dask cluster, with progress for the whole run;
* :mod:`.cluster` and :mod:`.slurm` - ``--cluster local[:N] | tcp://HOST:PORT | tls://... | slurm``;
* :mod:`.worker` - what every worker process does first (offline switches, the app's log filter, one engine per
  process);
* :mod:`.deid_job`, :mod:`.classify_job`, :mod:`.segment_job` - the partition (or study) jobs;
* :mod:`.commands` - the hand-over from ``medpriv deid|classify|segment``.

The partition jobs call the same core functions the single-machine commands call (the operators, the engine, the
report batch job, the imaging pipeline), never copies of them. When the application layer ``core.app`` exists, each
partition job here is the function its ``core.app`` job will replace.
"""

from __future__ import annotations

from medpriv_desktop.core.errors import ConfigError

#: The pip line that installs what this package needs.
CLUSTER_EXTRA_HINT = 'install the cluster extra: pip install "medpriv-desktop[cluster]"'


def require(module: str) -> None:
    """Import ``module`` (dask, distributed, pyarrow, dask_jobqueue) or raise one :class:`ConfigError` naming the
    extra to install; the app-only install has none of them."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"scale-out needs the Python package '{module}', which is not installed",
                          hint=CLUSTER_EXTRA_HINT) from None
