"""Scale-out benchmark: ``medpriv deid`` over a generated notes table, in one process and on 1 and 2 local Dask
workers, side by side in one run.

Notes come from the demo generator (``medpriv_desktop/core/demo.py``: invented names, dates, phones, MRNs, places),
``--count`` of them (the issue asks for 200,000; at the PHI tagger's ~45 notes/s per core that is over an hour on a
2-core machine, so ``--rules-only`` and a smaller count fit a few minutes), one patient per four notes, written as
Parquet with ``--rows-per-group`` rows per row group (= per partition). Each configuration runs the whole CLI in a
fresh process (start-up, engine load on every worker, cluster start and shutdown included) into a new output folder;
reported: wall time, notes/s over the whole command, notes/s while partitions ran (the runner's own rate), and the
peak resident memory of each process that ran partitions.

Usage: python benchmarks/run.py scaleout [--count=200000] [--rules-only] [--workers=1,2] [--rows-per-group=2000]
Prints a table and writes ``benchmarks/results/scaleout.json`` (``scaleout-rules.json`` with ``--rules-only``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import medpriv_desktop  # noqa: F401  - offline switches before anything else

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import write_result  # noqa: E402


def make_table(path: Path, count: int, rows_per_group: int) -> None:
    """``count`` generated notes (note_id, mrn, text) as Parquet, four notes per patient."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from medpriv_desktop.core.demo import demo_notes

    batch = 1000
    writer = None
    try:
        for start in range(0, count, batch):
            notes = demo_notes(min(batch, count - start), seed=start)
            table = pa.table({"note_id": [f"N{start + i:08d}" for i in range(len(notes))],
                              "mrn": [f"{5000000 + (start + i) // 4}" for i in range(len(notes))],
                              "text": [n.text for n in notes]})
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=rows_per_group)
    finally:
        if writer is not None:
            writer.close()


def run_one(table: Path, out: Path, cluster: str | None, rules_only: bool, env: dict[str, str]) -> dict:
    """One CLI run; its wall time and the figures it prints."""
    cmd = [sys.executable, "-m", "medpriv_desktop.cli", "deid", str(table), "-o", str(out), "--text-column", "text",
           "--id-column", "note_id", "--patient-column", "mrn", "--operator", "surrogate", "-q"]
    cmd += ["--rules-only"] if rules_only else []
    cmd += ["--cluster", cluster] if cluster else []
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if res.returncode not in (0, 1):
        raise SystemExit(f"run failed ({cluster}): {res.stderr[-800:]}")
    notes = int(re.search(r"de-identified (\d+) notes", res.stdout).group(1))
    rate = float(re.search(r"; ([\d.]+) notes/s", res.stdout).group(1))
    mem = re.search(r"peak (\d+) MB per worker process \((\d+) processes\)", res.stdout)
    return {"config": cluster or "in-process (no Dask)", "notes": notes, "wall_s": round(wall, 1),
            "notes_per_s_whole_command": round(notes / wall, 1), "notes_per_s_partitions": rate,
            "peak_rss_mb_per_process": int(mem.group(1)) if mem else None,
            "processes": int(mem.group(2)) if mem else None}


def main(argv: list[str]) -> int:
    """Generate the table, run each configuration, print and save the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--rules-only", action="store_true")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--rows-per-group", type=int, default=2000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="medpriv-bench-scaleout-") as tmp:
        root = Path(tmp)
        table = root / "notes.parquet"
        t = time.perf_counter()
        make_table(table, args.count, args.rows_per_group)
        print(f"generated {args.count} notes in {time.perf_counter() - t:.1f}s "
              f"({table.stat().st_size / 1e6:.1f} MB Parquet, {args.rows_per_group} rows per partition)")
        env = {**os.environ, "MEDPRIV_HOME": str(root / "home")}  # a fresh key and audit log, not the user's
        configs: list[str | None] = [None] + [f"local:{n}" for n in args.workers.split(",")]
        rows = [run_one(table, root / f"out{i}.parquet", c, args.rules_only, env) for i, c in enumerate(configs)]
    print(f"\n{'configuration':24s} {'notes':>8s} {'wall s':>8s} {'notes/s':>8s} {'in parts':>9s} {'MB/proc':>8s}")
    for r in rows:
        print(f"{r['config']:24s} {r['notes']:8d} {r['wall_s']:8.1f} {r['notes_per_s_whole_command']:8.1f} "
              f"{r['notes_per_s_partitions']:9.1f} {r['peak_rss_mb_per_process'] or 0:8d}")
    load = os.getloadavg()
    print(f"load average (1, 5, 15 min) at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} "
          "cores: other processes share them, so the worker speed-up is a floor")
    base = rows[1]["notes_per_s_partitions"] if len(rows) > 1 else None
    for r in rows[2:]:
        print(f"speed-up {r['config']} over local:1 (partition rate): {r['notes_per_s_partitions'] / base:.2f}x")
    name = "scaleout-rules" if args.rules_only else "scaleout"
    write_result(name, {"count": args.count, "rules_only": args.rules_only, "rows_per_partition": args.rows_per_group,
                        "runs": rows, "load_average_end": [round(x, 2) for x in load]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
