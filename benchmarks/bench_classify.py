"""Report classification speed through the whole CLI, and ONNX Runtime against torch on the same windows.

For each bundled report classifier (``cxr-chestxray14-dp`` on Open-i reports, ``ctrate-chestct-dp`` on CT-RATE
reports from ``../shared/data/reports``; synthetic reports when the data is absent) it:
1. writes the reports to a temporary CSV (outside the repository) and times ``medpriv classify`` in a child process,
   start-up and model loading included -> reports/s;
2. times the shipped ONNX model and a torch model of the same architecture (the card's backbone and layer count,
   fp32) on exactly the same token windows, same thread count -> the ONNX/torch speed ratio;
3. times ``medpriv classify --model rules`` (the rule labeler alone, the models' rule inputs) on the same reports.
Writes ``benchmarks/results/classify.json``. Targets (issue 18): >= 150 Open-i and >= 15 CT-RATE reports/s through the
CLI on 2 cores, start-up and model loading included. The load average is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

CASES = {"cxr-chestxray14-dp": ("openi", 150.0), "ctrate-chestct-dp": ("ctrate", 15.0)}
RULE_SETS = {"openi": "ChestX-ray14", "ctrate": "CT-RATE"}


def _reports(kind: str, n: int) -> tuple[list[str], str]:
    env = os.environ.get("MEDPRIV_DATA")
    root = Path(env) if env else REPO.parent / "shared" / "data"
    if (root / "reports").is_dir():
        from training.reports.data import load_dataset

        ds = load_dataset(kind, root)
        texts = (ds.texts * (n // len(ds.texts) + 1))[:n]
        return texts, f"shared data ({ds.name})"
    import random

    rng = random.Random(0)
    words = "no pleural effusion small nodule right lung clear heart size normal atelectasis opacity".split()
    k = 40 if kind == "openi" else 350
    return [" ".join(rng.choice(words) for _ in range(k)) + "." for _ in range(n)], "synthetic"


def _cli(model_id: str, texts: list[str], threads: int, extra: tuple[str, ...] = ()) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one ``medpriv classify`` child process."""
    import resource

    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "in.csv", Path(d) / "out.csv"
        with open(src, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "report"])
            w.writerows((str(i), t) for i, t in enumerate(texts))
        env = dict(os.environ, MEDPRIV_ORT_THREADS=str(threads))
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "medpriv_desktop.cli", "classify", str(src), "--text-column", "report",
                        "--id-column", "id", "--model", model_id, *extra, "-o", str(out), "--quiet"], check=True,
                       env=env,
                       cwd=REPO, stdout=subprocess.DEVNULL)
        dt = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        rows = sum(1 for _ in open(out, encoding="utf-8")) - 1
        assert rows == len(texts), "CLI wrote a different number of rows"
        return dt, cpu


def _engines(entry, texts: list[str], threads: int) -> dict:
    import numpy as np
    import torch

    from medpriv_desktop.core.reports.classifier import ReportModel
    from medpriv_desktop.core.reports.sections import classification_text
    from medpriv_desktop.core.text.encoder import TextEncoder
    from training.reports.model import ReportClassifier, load_backbone

    prepared = [classification_text(t)[0] for t in texts]
    enc = TextEncoder.from_entry(entry, threads=threads)
    rm = ReportModel.from_entry(entry, threads=threads)
    chunks = [c for cs in enc.encode(prepared) for c in cs]
    t0 = time.perf_counter()
    rm.probabilities(prepared)
    t_onnx = time.perf_counter() - t0
    cfg = entry.card.training.config
    torch.set_num_threads(threads)
    backbone, _ = load_backbone(None, cfg.get("num_layers"))
    tm = ReportClassifier(backbone, len(entry.card.outputs.labels)).eval()
    chunks.sort(key=lambda c: len(c.ids))
    t0 = time.perf_counter()
    with torch.no_grad():
        for b in range(0, len(chunks), 32):
            part = chunks[b:b + 32]
            width = max(len(c.ids) for c in part)
            ids = np.zeros((len(part), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for i, c in enumerate(part):
                ids[i, :len(c.ids)] = c.ids
                mask[i, :len(c.ids)] = 1
            tm(torch.from_numpy(ids), torch.from_numpy(mask))
    t_torch = time.perf_counter() - t0
    return {"windows": len(chunks), "onnx_s": t_onnx, "torch_s": t_torch, "onnx_speedup": t_torch / t_onnx}


def main() -> int:
    """Run the benchmark and print the table."""
    from _machine import write_result

    ap = argparse.ArgumentParser()
    ap.add_argument("--n-openi", type=int, default=1000)
    ap.add_argument("--n-ctrate", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from medpriv_desktop.core.models.registry import ModelRegistry

    reg = ModelRegistry()
    rows = []
    for model_id, (kind, target) in CASES.items():
        try:
            entry = reg.get(model_id)
        except Exception:
            print(f"{model_id}: not installed, skipped")
            continue
        n = args.n_openi if kind == "openi" else args.n_ctrate
        texts, source = _reports(kind, n)
        load = os.getloadavg()[0]
        cli_s, cli_cpu = _cli(model_id, texts, args.threads)
        rules_s, _ = _cli("rules", texts, args.threads, ("--label-set", RULE_SETS[kind]))
        eng = _engines(entry, texts, args.threads)
        rows.append({"model": model_id, "reports": n, "source": source, "cli_s": cli_s, "cli_reports_per_s": n / cli_s,
                     "cli_cpu_s": cli_cpu, "reports_per_cpu_s": n / cli_cpu,
                     "target_reports_per_s": target, "meets_target": n / cli_s >= target,
                     "rules_cli_reports_per_s": n / rules_s, "load_average_before": load, **eng,
                     "meets_3x": eng["onnx_speedup"] >= 3.0, "threads": args.threads})
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")
    print(f"{'model':22s} {'reports':>7s} {'windows':>7s} {'CLI rep/s':>9s} {'rep/CPU-s':>9s} {'target':>6s} "
          f"{'onnx s':>7s} {'torch s':>7s} {'speedup':>7s} {'rules rep/s':>11s}")
    for r in rows:
        print(f"{r['model']:22s} {r['reports']:7d} {r['windows']:7d} {r['cli_reports_per_s']:9.1f} "
              f"{r['reports_per_cpu_s']:9.1f} "
              f"{r['target_reports_per_s']:6.0f} {r['onnx_s']:7.2f} {r['torch_s']:7.2f} {r['onnx_speedup']:6.1f}x "
              f"{r['rules_cli_reports_per_s']:11.1f}")
    path = write_result("classify", {"rows": rows, "load_average": os.getloadavg()})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
