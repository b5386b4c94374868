"""Mutation fuzzer over the app's readers, with a fixed time budget: what does bad input do to each of them?

Readers: NIfTI, NRRD (attached, gzip, detached, ascii), MetaImage (.mha, .mhd + .raw), DICOM series (pydicom-written
slices), clinical notes (``core/text/reading.py: read_text``), report CSVs (``core/reports/batch.py:
read_reports``) and the de-identification CSV reader (``core/notes/batch.py: _csv_reader``). Every seed is made here,
small and valid; each case mutates one seed (bytes: flips, interesting values, inserts, deletes, truncation; text
header fields: numbers, encodings, data-file names such as ``../canary.raw``, ``/dev/zero``, huge patterns; DICOM
tags: sizes, geometry, UIDs) and is read in a worker process with a memory limit (``resource.setrlimit``) and a time
limit, so hangs and memory blow-ups are counted, not suffered.

Each case is classified:
- clean: parsed, or one ``MedPrivError`` (the contract);
- traceback: any other exception escaped the reader;
- hang: no answer within ``--timeout`` seconds (the worker is killed and restarted);
- memory: a ``MemoryError`` (raw, or turned into an error message) under a voxel limit that should have prevented it;
- escaped: a parse succeeded with the bytes of a canary file outside the case's folder (confinement broken);
- crash: the worker died without answering (a signal in a C extension).

Usage: ``python benchmarks/run.py fuzz_readers [--seconds=60] [--seed=0] [--timeout=10] [--memory-mb=1024]
[--baseline=DIR]`` (the runner passes on only ``--name=value`` options), or ``python benchmarks/bench_fuzz_readers.py``
with the same options. ``--baseline`` gives the same cases to another source tree of the app (for example
``git archive REV medpriv_desktop resources | tar -x -C DIR``) for a before/after table. Prints a table per reader and
writes ``benchmarks/results/fuzz_readers.json`` with each distinct finding and a small reproducer (synthetic bytes).
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _fuzz_seeds import CANARY_BYTE, TARGETS, make_case  # noqa: E402
from _machine import write_result  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("clean", "traceback", "hang", "memory", "escaped", "crash")
#: Columns of the table: cases tried, the classes, and how many clean cases parsed (the rest were refused).
COLUMNS = ("tried",) + CLASSES + ("parsed",)
#: Voxel limit inside the worker: every volume the readers accept fits the worker's memory limit many times over.
WORKER_MAX_VOXELS = 8 * 1024 * 1024


# -- worker side -------------------------------------------------------------------------------------------------


def _limit_memory(extra_mb: int) -> None:
    """Address-space limit = what the imports already take + ``extra_mb`` (set after the imports, so they fit)."""
    import resource

    vm_kb = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            vm_kb = int(line.split()[1])
    limit = vm_kb * 1024 + extra_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _read(kind: str, path: str):
    """Call the reader for ``kind`` on ``path``; return the parsed object."""
    if kind in ("nifti", "nrrd", "mha", "mhd", "dicom"):
        from medpriv_desktop.core.imaging.io import read_volume

        return read_volume(path)
    if kind == "note":
        from medpriv_desktop.core.text.reading import read_text as read_note

        return read_note(Path(path))
    if kind == "reports_csv":
        from medpriv_desktop.core.reports.batch import read_reports

        return read_reports(path, text_column="text", id_column="id")
    if kind == "deid_csv":
        from medpriv_desktop.core.notes import batch

        return batch._csv_reader(Path(path), None)
    raise ValueError(f"unknown reader {kind}")


def _escaped(result) -> bool:
    """True when a parsed volume holds only the canary's bytes (it was read from outside the case folder)."""
    import numpy as np

    arr = getattr(result, "array", None)
    if arr is None or arr.size == 0:
        return False
    raw = np.ascontiguousarray(arr).view(np.uint8)
    return bool(raw.size >= 4 and np.all(raw == CANARY_BYTE))


def _signature(exc: BaseException) -> str:
    """Exception type and the innermost frame in the project (else the innermost frame at all)."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "medpriv_desktop" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


def _memory_in_chain(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, MemoryError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def worker(memory_mb: int) -> int:
    """Answer one JSON line per request line ``{"kind", "path"}`` on stdin."""
    os.environ["MEDPRIV_MAX_VOXELS"] = str(WORKER_MAX_VOXELS)
    import logging

    import medpriv_desktop  # noqa: F401  (switches network features off first)
    from medpriv_desktop.core.errors import MedPrivError
    from medpriv_desktop.core.imaging import io  # noqa: F401  (imports done before the limit)
    from medpriv_desktop.core.notes import batch  # noqa: F401
    from medpriv_desktop.core.text import reading  # noqa: F401
    from medpriv_desktop.core.reports import batch as rbatch  # noqa: F401

    import nibabel  # noqa: F401
    import pydicom  # noqa: F401

    logging.disable(logging.CRITICAL)  # third-party warnings about the mutated files are not what is measured
    import warnings

    warnings.simplefilter("ignore")
    _limit_memory(memory_mb)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            result = _read(req["kind"], req["path"])
            answer = {"status": "escaped" if _escaped(result) else "clean", "parsed": True}
            del result
        except MemoryError:
            answer = {"status": "memory", "sig": "MemoryError"}
        except MedPrivError as exc:
            memory = _memory_in_chain(exc.__context__)
            answer = {"status": "memory" if memory else "clean", "sig": "MemoryError (reported)" if memory else ""}
        except RecursionError as exc:
            answer = {"status": "traceback", "sig": _signature(exc)}
        except Exception as exc:  # what the fuzzer is looking for
            answer = {"status": "traceback", "sig": _signature(exc)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


# -- driver side -------------------------------------------------------------------------------------------------


class Worker:
    """A worker subprocess that can be killed and replaced when a case hangs or crashes it."""

    def __init__(self, memory_mb: int, source: Path | None = None) -> None:
        self.memory_mb = memory_mb
        self.source = source  # another source tree of the app (a baseline), or None for this checkout
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def _start(self) -> None:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore",
                   ORT_DISABLE_TELEMETRY="1")
        if self.source is not None:
            env["PYTHONPATH"] = str(self.source)  # before the editable install's finder on sys.path
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", "--memory-mb", str(self.memory_mb)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, cwd=REPO, env=env)
        self.starts += 1

    def ask(self, kind: str, path: Path, timeout: float) -> dict:
        """One case; a timeout kills the worker ("hang"), a dead worker is a "crash"."""
        started = self.proc is None or self.proc.poll() is not None
        if started:
            self._start()
        assert self.proc and self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write(json.dumps({"kind": kind, "path": str(path)}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.stop()
            return {"status": "crash", "sig": "worker gone"}
        # The first case after a start also waits for the worker's imports.
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout + (60 if started else 0))
        if not ready:
            self.stop()
            return {"status": "hang", "sig": "timeout"}
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self.stop()
            return {"status": "crash", "sig": f"worker exit {code}"}
        return json.loads(line)

    def stop(self) -> None:
        """Kill the worker (it is replaced on the next case)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def run(seconds: float, seed: int, timeout: float, memory_mb: int, baseline: Path | None = None) -> dict:
    """Fuzz every reader round-robin for ``seconds``; the same cases go to ``baseline`` (another source tree of the
    app) when given. Returns counts per tree and reader, and the distinct findings."""
    rng = random.Random(seed)
    workers = {"current": Worker(memory_mb)}
    if baseline is not None:
        workers["baseline"] = Worker(memory_mb, baseline)
    counts = {label: {name: collections.Counter() for name in TARGETS} for label in workers}
    sigs: dict[str, dict] = {}
    base = Path(tempfile.mkdtemp(prefix="medpriv-fuzz-"))
    (base / "canary.raw").write_bytes(bytes([CANARY_BYTE]) * (1 << 20))  # outside every case folder
    case_dir = base / "case"
    names = list(TARGETS)
    n = 0
    try:
        # Self-check: every unmutated seed must parse with the current readers, or the fuzzer measures nothing.
        for name in names:
            _fresh(case_dir)
            target, _ = make_case(name, case_dir, rng, mutate=False)
            answer = workers["current"].ask(TARGETS[name].kind, target, timeout)
            if not answer.get("parsed"):
                raise RuntimeError(f"the seed of {name} does not parse: {answer}")
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            name = names[n % len(names)]
            n += 1
            _fresh(case_dir)
            target, mutation = make_case(name, case_dir, rng)
            for label, worker in workers.items():
                answer = worker.ask(TARGETS[name].kind, target, timeout)
                status = answer["status"]
                row = counts[label][name]
                row["tried"] += 1
                row[status] += 1
                row["parsed"] += bool(answer.get("parsed"))
                if status != "clean":
                    key = f"{label}|{name}|{status}|{answer.get('sig', '')}"
                    entry = sigs.setdefault(key, {"tree": label, "reader": name, "status": status,
                                                  "signature": answer.get("sig", ""), "count": 0,
                                                  "mutation": mutation, "reproducer": _reproducer(case_dir)})
                    entry["count"] += 1
        elapsed = time.monotonic() - t0
    finally:
        for worker in workers.values():
            worker.stop()
        shutil.rmtree(base, ignore_errors=True)
    return {"seconds": round(elapsed, 1), "cases": n, "cases_per_second": round(n / max(elapsed, 1e-9), 1),
            "worker_starts": {k: w.starts for k, w in workers.items()}, "timeout_s": timeout,
            "memory_limit_mb": memory_mb, "worker_max_voxels": WORKER_MAX_VOXELS, "seed": seed,
            "baseline": str(baseline) if baseline else None,
            "per_reader": {label: {k: {c: v.get(c, 0) for c in COLUMNS} for k, v in rows.items()}
                           for label, rows in counts.items()},
            "findings": sorted(sigs.values(), key=lambda e: (e["tree"], -e["count"], e["reader"]))}


def _fresh(case_dir: Path) -> None:
    shutil.rmtree(case_dir, ignore_errors=True)
    case_dir.mkdir()


def _reproducer(case_dir: Path, limit: int = 4096) -> dict:
    """The case's files (names and base64 bytes, each cut to ``limit``), to replay a finding."""
    out = {}
    for p in sorted(case_dir.rglob("*")):
        if p.is_file() and not p.is_symlink():
            data = p.read_bytes()
            out[str(p.relative_to(case_dir))] = {"size": len(data), "b64": base64.b64encode(data[:limit]).decode()}
        elif p.is_symlink():
            out[str(p.relative_to(case_dir))] = {"link_to": os.readlink(p)}
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse options; run the worker loop or the fuzzer and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="time budget (default 60)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds before a case counts as a hang")
    ap.add_argument("--memory-mb", type=int, default=1024, help="memory a case may use beyond the worker's imports")
    ap.add_argument("--baseline", type=Path, help="another source tree of the app (e.g. 'git archive' of a revision) "
                                                  "that gets the same cases, for a before/after table")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.memory_mb)
    res = run(args.seconds, args.seed, args.timeout, args.memory_mb, args.baseline)
    print(f"{res['cases']} cases in {res['seconds']} s ({res['cases_per_second']}/s per tree), worker starts "
          f"{res['worker_starts']}, timeout {args.timeout} s, memory limit +{args.memory_mb} MB")
    for label, rows in res["per_reader"].items():
        print(f"\n{label}{' (' + str(args.baseline) + ')' if label == 'baseline' else ''}")
        print(f"{'reader':14s}" + "".join(f"{c:>10s}" for c in COLUMNS))
        total = collections.Counter()
        for name, row in rows.items():
            total.update(row)
            print(f"{name:14s}" + "".join(f"{row[c]:>10d}" for c in COLUMNS))
        print(f"{'all':14s}" + "".join(f"{total[c]:>10d}" for c in COLUMNS))
    if res["findings"]:
        print("\nfindings (tree, class, count, reader: signature, first mutation)")
    for f in res["findings"]:
        print(f"  {f['tree']:8s} {f['status']:9s} {f['count']:5d}  {f['reader']}: {f['signature']}  "
              f"(e.g. {f['mutation']})")
    path = write_result("fuzz_readers", res)
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
