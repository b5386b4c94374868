"""One runner for every benchmark: ``python benchmarks/run.py [NAME ...]`` runs ``benchmarks/bench_NAME.py``.

Each benchmark prints a table and writes JSON to ``benchmarks/results/NAME.json`` with the machine's description.
Without names it lists what is available.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    """Run the named benchmarks one after another; exit non-zero if any failed."""
    available = sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    names = [a for a in argv if not a.startswith("-")]
    extra = [a for a in argv if a.startswith("-")]
    if not names:
        print("benchmarks:", ", ".join(available))
        print("usage: python benchmarks/run.py NAME [NAME ...] [--options passed to each]")
        return 0
    failed = 0
    for name in names:
        if name not in available:
            print(f"unknown benchmark '{name}'; available: {', '.join(available)}")
            failed += 1
            continue
        print(f"\n=== {name} ===", flush=True)
        r = subprocess.run([sys.executable, str(HERE / f"bench_{name}.py"), *extra], cwd=HERE.parent)
        failed += r.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
