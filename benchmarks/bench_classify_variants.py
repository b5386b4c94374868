"""Which ONNX build of the report classifier is fastest, and how far from torch: a study behind the 3x speed aim.

The shipped report models are a 3-layer MiniLM encoder + mean pooling + a linear head, dynamically quantised to int8
(per-channel weight scales). This benchmark rebuilds that architecture from the pretrained backbone (weights do not
change speed; no trained checkpoint needed), exports it with the project's encoder export, and times on exactly the
same length-sorted token windows, same thread count:

- torch fp32 (eager, the training model class), the reference;
- ONNX fp32; int8 per-tensor; int8 per-channel (what ships);
- ONNX Runtime's transformer optimiser (fused attention, SkipLayerNorm, BiasGelu) in fp32, then with int8
  per-channel MatMuls, then with int8 MatMuls and quantised fused attention (QAttention).

Windows come from Open-i reports in ``../shared/data/reports`` (synthetic text when absent), 128 tokens as shipped.
Writes ``benchmarks/results/classify_variants.json``. Run on an idle machine: ``python benchmarks/run.py
classify_variants``.
"""

from __future__ import annotations

import medpriv_desktop  # noqa: F401  - first: switches ONNX Runtime's telemetry off before it is imported

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))


def _variants(fp32: Path, tmp: Path, hidden: int, heads: int) -> dict[str, Path]:
    """Every ONNX build to time, by name (the fused ones only when the optimiser recognises the graph)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = {"onnx fp32": fp32}
    for name, per_channel in (("int8 per-tensor", False), ("int8 per-channel (shipped)", True)):
        p = tmp / f"{name.split()[1]}.onnx"
        quantize_dynamic(str(fp32), str(p), weight_type=QuantType.QInt8, per_channel=per_channel)
        out[name] = p
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        opt = optimize_model(str(fp32), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1)
        fused = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
        print(f"optimiser fused: {fused}")
        of = tmp / "fused.onnx"
        opt.save_model_to_file(str(of))
    except Exception as exc:  # an optimiser that does not know the graph: report and time the rest
        print(f"transformer optimiser failed ({type(exc).__name__}); fused variants skipped")
        return out
    out["fused fp32"] = of
    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}  # fused contrib ops defeat shape inference otherwise
    p = tmp / "fused_pc.onnx"
    quantize_dynamic(str(of), str(p), weight_type=QuantType.QInt8, per_channel=True, extra_options=extra)
    out["fused + int8 per-channel"] = p
    p = tmp / "fused_qattn.onnx"
    quantize_dynamic(str(of), str(p), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Attention"],
                     extra_options=extra)
    out["fused + int8 + QAttention"] = p
    return out


def main() -> int:
    """Run the study and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="Open-i reports")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-sizes", default="16,32")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np
    import onnxruntime as ort
    import torch
    from _machine import write_result
    from bench_classify import _reports

    from medpriv_desktop.core.reports.sections import classification_text
    from medpriv_desktop.core.text.encoder import TextEncoder
    from training.reports.model import LogitsOutput, ReportClassifier, load_backbone
    from training.text.export import export_encoder

    torch.set_num_threads(args.threads)
    texts, source = _reports("openi", args.n)
    backbone, tok = load_backbone(None, 3)
    model = ReportClassifier(backbone, 14).eval()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        res = export_encoder(LogitsOutput(model), tok, tmp, "sequence-classification", quantize=False, max_len=128,
                             include_token_type_ids=False)
        cfg = backbone.config
        variants = _variants(res.model_path, tmp, cfg.hidden_size, cfg.num_attention_heads)
        enc = TextEncoder.from_files(res.model_path, res.tokenizer_path, 128, 0, threads=args.threads)
        chunks = sorted((c for cs in enc.encode([classification_text(t)[0] for t in texts]) for c in cs),
                        key=lambda c: len(c.ids))
        rows = []
        for bs in (int(x) for x in args.batch_sizes.split(",") if x):
            batches = []
            for b in range(0, len(chunks), bs):
                part = chunks[b:b + bs]
                ids = np.zeros((len(part), max(len(c.ids) for c in part)), np.int64)
                mask = np.zeros_like(ids)
                for i, c in enumerate(part):
                    ids[i, :len(c.ids)], mask[i, :len(c.ids)] = c.ids, 1
                batches.append((ids, mask))
            with torch.no_grad():
                model(torch.from_numpy(batches[0][0]), torch.from_numpy(batches[0][1]))
                t0 = time.perf_counter()
                for ids, mask in batches:
                    model(torch.from_numpy(ids), torch.from_numpy(mask))
            t_torch = time.perf_counter() - t0
            row = {"batch_size": bs, "torch fp32": t_torch}
            for name, path in variants.items():
                so = ort.SessionOptions()
                so.intra_op_num_threads, so.inter_op_num_threads = args.threads, 1
                so.log_severity_level = 3
                sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
                sess.run(None, {"input_ids": batches[0][0], "attention_mask": batches[0][1]})
                t0 = time.perf_counter()
                for ids, mask in batches:
                    sess.run(None, {"input_ids": ids, "attention_mask": mask})
                row[name] = time.perf_counter() - t0
            rows.append(row)
    names = [k for k in rows[0] if k != "batch_size"]
    print(f"{len(chunks)} windows from {args.n} reports ({source}), {args.threads} threads; "
          "seconds (speed-up vs torch)")
    for r in rows:
        print(f"batch {r['batch_size']}: " + " | ".join(
            f"{k} {r[k]:.2f}" + ("" if k == "torch fp32" else f" ({r['torch fp32'] / r[k]:.2f}x)") for k in names))
    best = max((r["torch fp32"] / r[k], k, r["batch_size"]) for r in rows for k in names if k != "torch fp32")
    print(f"best: {best[1]} at batch {best[2]}, {best[0]:.2f}x torch")
    path = write_result("classify_variants", {"rows": rows, "windows": len(chunks), "source": source,
                                              "threads": args.threads, "best": {"variant": best[1],
                                                                                "batch_size": best[2],
                                                                                "speedup": best[0]},
                                              "load_average": os.getloadavg()})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
