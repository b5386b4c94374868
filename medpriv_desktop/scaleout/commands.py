"""The hand-over from ``medpriv deid``, ``medpriv classify`` (table in, folder of parts out) and ``medpriv segment``
(studies in, one folder per study out) to a scale-out run.

Each command checks its own scale-out options (a Parquet input, ``--cluster``, ``--shard``, and for deid
``--patient-column``/``--keep-columns``, for segment ``--studies``) and, when one is given, imports this module and
hands over its parsed arguments; otherwise its single-machine path runs unchanged. Shared steps: check the
scale-out options, guard the output, plan and shard the partitions, open the run manifest, start the executor (this
process, or a Dask cluster), drive the run with a progress bar, print a summary with counts only, write the audit
entry.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.scaleout.partitions import DEFAULT_CSV_ROWS, Partition, parse_shard, plan_table, shard_slice, \
    table_kind

def output_format(path: Path) -> str:
    """``parquet`` or ``csv`` from the ``-o`` name (a folder of parts of that format)."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InputError("-o must end in .parquet or .csv (a folder of parts of that format is made)", path=path)
    return suffix[1:]


def _columns_or_refuse(names: list[str], wanted: list[str], path: Path) -> None:
    from medpriv_desktop.core.csv_safety import describe_columns

    for c in wanted:
        if c not in names:
            raise InputError(f"the table has no column '{c}'", path=path, hint=describe_columns(names))


def check_options(args: argparse.Namespace) -> None:
    """Refuse a bad ``--cluster``, ``--shard`` or SLURM settings file before any output or model is touched."""
    from medpriv_desktop.scaleout.cluster import parse_cluster

    spec = parse_cluster(args.cluster, (args.tls_ca, args.tls_cert, args.tls_key))
    parse_shard(args.shard)
    if spec is not None and spec.kind == "slurm":
        from medpriv_desktop.scaleout.slurm import load_slurm_config

        load_slurm_config(args.cluster_config)


def _executor(args: argparse.Namespace, stack: ExitStack) -> tuple[Any, dict[str, Any]]:
    """The executor for ``--cluster`` (in-process without one) and the audit's description of it (counts only)."""
    from medpriv_desktop.scaleout.cluster import open_client, parse_cluster
    from medpriv_desktop.scaleout.runner import DaskExecutor, InProcess

    tls = (args.tls_ca, args.tls_cert, args.tls_key)
    spec = parse_cluster(args.cluster, tls)
    if spec is None:
        return InProcess(), {"cluster": {"none": True}}
    client = open_client(spec, stack, dashboard=args.dashboard, memory=args.worker_memory, tls_files=tls,
                         cluster_config=args.cluster_config)
    ex = DaskExecutor(client)
    return ex, {"cluster": {spec.kind: True}, "workers": ex.workers}


def _plan(args: argparse.Namespace, wanted: list[str]) -> tuple[str, list[Partition], list[Partition], tuple | None]:
    """Plan the input, check the columns, take this shard's partitions."""
    from medpriv_desktop.scaleout import require

    if "parquet" in (table_kind(args.input), output_format(args.output)):
        require("pyarrow")
    names, parts = plan_table(args.input, args.rows_per_partition or DEFAULT_CSV_ROWS)
    _columns_or_refuse(names, wanted, args.input)
    shard = parse_shard(args.shard)
    return output_format(args.output), parts, shard_slice(parts, shard), shard


def _print_run(summary: Any, unit: str, errors_table: Path) -> None:
    rate = summary.rows_done / summary.seconds if summary.seconds > 0 else 0.0
    print(f"  partitions: {summary.done} done now, {summary.already_done} already done, {len(summary.failed)} failed "
          f"(of {summary.partitions}); {rate:.1f} {unit}/s")
    if summary.peak_rss_mb:
        peak = max(summary.peak_rss_mb.values())
        print(f"  memory: peak {peak:.0f} MB per worker process ({len(summary.peak_rss_mb)} processes)")
    if summary.errors_table_rows:
        print(f"error: {summary.errors_table_rows} bad rows or partitions, listed in {errors_table}", file=sys.stderr)


def run_deid_table(args: argparse.Namespace, options: Any, engine_config: Any) -> int:
    """``medpriv deid TABLE --text-column T --id-column I [--patient-column P] [--keep-columns a,b] -o OUT``."""
    from medpriv_desktop.commands._common import drive, prepare_outputs
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.keys import key_id, load_key
    from medpriv_desktop.core.app import dates_option, detector_audit_fields, detector_identity
    from medpriv_desktop.core.notes.batch import DeidSummary
    from medpriv_desktop.core.notes.engine import DeidEngine
    from medpriv_desktop.scaleout.deid_job import DeidSpec, TableColumns, deidentify_partition, engine_key
    from medpriv_desktop.scaleout.parts import PartStore, refuse_file_output
    from medpriv_desktop.scaleout.runner import Task, run_tasks
    from medpriv_desktop.scaleout.worker import seed_cache

    if not args.text_column or not args.id_column:
        raise InputError("a table run needs --text-column and --id-column",
                         hint="--id-column names the note id; --patient-column the patient")
    if args.one_patient or args.patient_id:
        raise InputError("--one-patient and --patient-id are for a folder of notes",
                         hint="in a table name the patient column with --patient-column")
    keep = tuple(c.strip() for c in (args.keep_columns or "").split(",") if c.strip())
    cols = TableColumns(args.text_column, args.id_column, args.patient_column, keep)
    if args.text_column in keep:
        raise InputError("--keep-columns cannot keep the text column raw", hint="the text column is de-identified")
    check_options(args)
    refuse_file_output(args.output)
    prepare_outputs([args.input], folders=[("-o", args.output)])
    fmt, parts, own, shard = _plan(args, cols.to_read())
    store = PartStore(args.output, "notes.deid.table", fmt, shard)
    max_bytes = int(args.max_size * 1024 * 1024)
    opts = {"operator": options.name, "--keep-year setting": dates_option(options), "column choice": cols.output(),
            "id_column_kept": args.id_column in keep, "rows_per_partition": args.rows_per_partition,
            "output_format": fmt, "max_bytes": max_bytes, "shard": list(shard) if shard else None}
    done = store.open([p.index for p in own], {"input": store.manifest.mac_file(args.input)}, opts, args.restart)
    engine = DeidEngine(engine_config)  # the driver's engine: the detector's identity, and in-process work
    detector = detector_identity(engine)
    store.expect(options=detector)
    store.begin()
    seed_cache(engine_key(engine_config), engine)
    kid = key_id(load_key("deid"))
    tasks = [Task(p.index, p.n_rows, deidentify_partition,
                  DeidSpec(p, cols, options, engine_config, detector, kid, str(store.folder), fmt, max_bytes))
             for p in own if p.index not in done]
    with ExitStack() as stack:
        executor, where = _executor(args, stack)
        summary = drive(run_tasks(store, tasks, executor, [p.index for p in own], unit="notes"), args)
    deid = DeidSummary(options.name, getattr(engine, "model_id", None), done=summary.rows_done,
                       already_done=sum(p.n_rows for p in own if p.index in done),
                       failed=[("row", "bad")] * (summary.row_errors + len(summary.failed)), counts=summary.counts,
                       model_fields=detector_audit_fields(engine),
                       patient_source="id-column" if args.patient_column else "per-note",
                       patients=len(summary.patients), unplaced=summary.unplaced, keep_year=options.keep_year)
    AuditLog().record("notes.deid", **deid.as_audit_fields(),
                      scaleout={"partitions": summary.partitions, "partitions_done": summary.done,
                                "partitions_failed": len(summary.failed), "shard_k": shard[0] if shard else None,
                                "shard_n": shard[1] if shard else None, **where})
    years = " (years kept)" if deid.keep_year else ""
    print(f"de-identified {deid.done} notes ({deid.already_done} in partitions done before, {summary.row_errors} bad "
          f"rows); operator {deid.operator}{years}; model {deid.model_id or 'rules only'} -> {args.output}")
    print(f"  patients in the notes done now: {deid.patient_line()}")
    for cat, n in sorted(summary.counts.items()):
        print(f"  {cat:10s} {n}")
    _print_run(summary, "notes", store.errors_table)
    return 1 if summary.failed or summary.errors_table_rows else 0


def run_classify_table(args: argparse.Namespace) -> int:
    """``medpriv classify TABLE --text-column T [--id-column I] --model ID|rules -o OUT.parquet|OUT.csv``."""
    from medpriv_desktop.commands._common import drive, prepare_outputs
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.reports.batch import text_columns
    from medpriv_desktop.core.reports.rules_model import RULES_MODEL_ID
    from medpriv_desktop.scaleout.classify_job import ClassifySpec, classify_partition, load_report_model
    from medpriv_desktop.scaleout.parts import PartStore, refuse_file_output
    from medpriv_desktop.scaleout.runner import Task, run_tasks
    from medpriv_desktop.scaleout.worker import seed_cache

    if args.compare or args.evidence:
        raise InputError("a table run writes labels (and --probabilities) only",
                         hint="drop --compare and --evidence, or classify a CSV without scale-out options")
    if not args.text_column:
        raise InputError("a table run needs --text-column")
    if args.model == RULES_MODEL_ID and args.probabilities:
        raise InputError("the rule labeler gives decisions, not probabilities", hint="drop --probabilities")
    if args.label_set and args.model != RULES_MODEL_ID:
        raise InputError("--label-set applies to --model rules only (a model's card names its label set)")
    check_options(args)
    texts = tuple(text_columns(args.text_column))
    refuse_file_output(args.output)
    prepare_outputs([args.input], folders=[("-o", args.output)])
    fmt, parts, own, shard = _plan(args, list(texts) + ([args.id_column] if args.id_column else []))
    model, fields = load_report_model(args.model or _default_report_model(), args.label_set)
    model_id = fields["model_id"]
    seed_cache(("report-model", args.model or model_id, args.label_set), (model, fields))
    store = PartStore(args.output, "reports.classify.table", fmt, shard)
    opts = {"model": fields, "text columns": list(texts), "id column": args.id_column,
            "probabilities": args.probabilities, "rows_per_partition": args.rows_per_partition,
            "output_format": fmt, "shard": list(shard) if shard else None}
    done = store.open([p.index for p in own], {"input": store.manifest.mac_file(args.input)}, opts, args.restart)
    store.begin()
    tasks = [Task(p.index, p.n_rows, classify_partition,
                  ClassifySpec(p, texts, args.id_column, args.model or model_id, args.label_set, fields,
                               args.probabilities, args.batch_size, str(store.folder), fmt))
             for p in own if p.index not in done]
    with ExitStack() as stack:
        executor, where = _executor(args, stack)
        summary = drive(run_tasks(store, tasks, executor, [p.index for p in own], unit="reports"), args)
    positives = {k[len("positive "):]: v for k, v in summary.counts.items() if k.startswith("positive ")}
    AuditLog().record("reports.classify", **fields, n_reports=summary.rows_done,
                      n_empty=summary.counts.get("empty reports", 0), positives=positives,
                      scaleout={"partitions": summary.partitions, "partitions_done": summary.done,
                                "partitions_failed": len(summary.failed), "bad_rows": summary.row_errors,
                                "shard_k": shard[0] if shard else None, "shard_n": shard[1] if shard else None,
                                **where})
    print(f"classified {summary.rows_done} reports with {model_id} -> {args.output} ({summary.row_errors} bad rows)")
    _print_run(summary, "reports", store.errors_table)
    return 1 if summary.failed or summary.errors_table_rows else 0


def _default_report_model() -> str:
    """The id of the first installed report classifier (what ``medpriv classify`` uses without ``--model``)."""
    from medpriv_desktop.core.app import Context, report_model_entry

    return report_model_entry(Context.build()).card.id


def _study_stamp(path: Path) -> str:
    """What identifies a study's input cheaply for the manifest: its path, and the names, sizes and times of its
    files (hashing every byte of thousands of studies would read the archive twice)."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    parts = [str(path)]
    for f in files:
        try:
            st = f.stat()
            parts.append(f"{f.relative_to(path) if path.is_dir() else f.name}|{st.st_size}|{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{f.name}|missing")
    return "\n".join(parts)


def run_segment_studies(args: argparse.Namespace, entry: Any, options: Any) -> int:
    """``medpriv segment STUDIES (--studies | --cluster ... | --shard K/N) --model ID -o OUT``: one task per study,
    one output folder per study, a summary table and an errors table."""
    from dataclasses import replace

    from medpriv_desktop.commands._common import drive
    from medpriv_desktop.scaleout.parts import PartStore
    from medpriv_desktop.scaleout.runner import Task, run_tasks
    from medpriv_desktop.scaleout.segment_job import SegmentSpec, list_studies, segment_study, study_table_name, \
        write_study_table

    if args.meshes:
        raise InputError("--meshes is not available for a batch of studies", hint="run meshes per study")
    check_options(args)
    studies = list_studies(args.input)
    shard = parse_shard(args.shard)
    own = shard_slice(list(range(len(studies))), shard)
    store = PartStore(args.output, "imaging.segment.studies", "", shard, extra_tables=(study_table_name(shard),))
    fields = dict(entry.audit_fields())
    opts = {"model": fields, "options": repr(sorted(vars(options).items())), "fit check": not args.force,
            "shard": list(shard) if shard else None}
    inputs = {str(i): store.manifest.mac_bytes("study", _study_stamp(studies[i]).encode("utf-8", "surrogateescape"))
              for i in own}
    done = store.open(own, inputs, opts, getattr(args, "restart", False))
    store.begin()
    # one inference thread per worker unless --threads says otherwise: a worker is one core's share
    opts_run = replace(options, threads=options.threads or 1)
    # the body-region check runs on the worker for each study: a study that does not fit is an errors-table line
    tasks = [Task(i, 1, segment_study, SegmentSpec(i, str(studies[i]), entry.card.id, fields, opts_run,
                                                   str(store.folder), fit_check=not args.force))
             for i in own if i not in done]
    with ExitStack() as stack:
        executor, _where = _executor(args, stack)
        summary = drive(run_tasks(store, tasks, executor, own, unit="studies"), args)
    table = write_study_table(store.folder, study_table_name(shard), studies, own,
                              {e.partition: e.reason for e in summary.failed})
    print(f"segmented {summary.done} studies with {entry.card.id} ({summary.already_done} already done, "
          f"{len(summary.failed)} failed) -> {args.output}; summary in {table}")
    _print_run(summary, "studies", store.errors_table)
    return 1 if summary.failed else 0
