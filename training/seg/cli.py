"""``medpriv-train seg ...``: generate, train-teacher, distill, evaluate, export.

Every subcommand takes ``--config`` (YAML, see ``training/configs/seg_*.yaml``) and ``--set key=value`` overrides
(dotted keys, YAML values). Training resumes from ``run_dir/checkpoint.pt``; under ``torchrun`` it trains with DDP.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", help="YAML config (defaults when omitted)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set optim.steps=100 (repeatable)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _cfg(args: argparse.Namespace):
    from medpriv_desktop.core.errors import ConfigError
    from training.seg.config import load_config

    over = {}
    for item in args.overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects KEY=VALUE, got '{item}'")
        k, v = item.split("=", 1)
        over[k] = yaml.safe_load(v)
    return load_config(args.config, over)


def _drive(job, args):
    from medpriv_desktop.commands._common import drive

    return drive(job, args)


def _generate(args: argparse.Namespace) -> int:
    from training.seg.data import generate_phantoms
    from training.seg.phantom import PhantomSpec

    cfg = _cfg(args)
    spec = PhantomSpec(spacing=cfg.data.phantom_spacing_mm)
    paths = _drive(generate_phantoms(cfg.data.phantom_dir, cfg.data.n_phantoms, cfg.data.seed, spec), args)
    print(f"{len(paths)} phantoms in {cfg.data.phantom_dir}")
    return 0


def _train_teacher(args: argparse.Namespace) -> int:
    from training.seg.train import train_teacher

    ck = _drive(train_teacher(_cfg(args)), args)
    print(f"teacher checkpoint: {ck}")
    return 0


def _distill(args: argparse.Namespace) -> int:
    if getattr(args, "teacher", None):  # on-premises mode: an ONNX teacher bundle and unlabelled site scans
        from training.seg.onprem.cli_args import run_site_distill

        return run_site_distill(args)
    from training.seg.train import distill_student

    ck = _drive(distill_student(_cfg(args)), args)
    print(f"student checkpoint: {ck}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from training.seg.report import evaluate_models

    cfg = _cfg(args)
    models = dict(item.split("=", 1) for item in args.model)
    result = _drive(evaluate_models(cfg, models, Path(args.out), real_data=args.data, n_cases=args.cases,
                                    latency_threads=args.threads), args)
    print(json.dumps({k: v.get("summary", {}) for k, v in result["models"].items()}, indent=1)[:2000])
    return 0


def _export(args: argparse.Namespace) -> int:
    from training.seg.report import export_bundle

    cfg = _cfg(args)
    card = export_bundle(cfg, Path(args.checkpoint), args.model_id, Path(args.out), args.title,
                         eval_json=Path(args.eval_json) if args.eval_json else None, eval_name=args.eval_name,
                         teacher_id=args.teacher_id,
                         command=args.training_command or " ".join(["medpriv-train"] + sys.argv[1:]),
                         fp16=args.fp16, reuse_onnx=args.reuse_onnx)
    print(f"bundle {card.id}: {args.out} ({card.size_bytes} bytes, sha256 {card.sha256[:12]}...)")
    return 0


def _ablate(args: argparse.Namespace) -> int:
    from training.seg.ablation import run_ablation

    result = _drive(run_ablation(_cfg(args), Path(args.out), args.arms.split(",") if args.arms else None,
                                 n_cases=args.cases), args)
    for arm, r in result.items():
        print(f"{arm:12s} mean Dice {r['all']['mean_dice']:.3f}")
    return 0


def register(sub) -> None:
    """Add ``seg`` and its subcommands to ``medpriv-train``."""
    seg = sub.add_parser("seg", help="segmentation: phantoms, teacher, distillation, evaluation, export")
    ssub = seg.add_subparsers(dest="seg_command", metavar="SUBCOMMAND")
    seg.set_defaults(handler=lambda a: (seg.print_help(), 2)[1])
    p = ssub.add_parser("generate", help="generate the phantom label maps (resumable)")
    _common(p)
    p.set_defaults(handler=_generate)
    p = ssub.add_parser("train-teacher", help="train the teacher (Dice + CE); torchrun for DDP")
    _common(p)
    p.set_defaults(handler=_train_teacher)
    p = ssub.add_parser("distill", help="distil a width-scaled student from the teacher checkpoint (-c), or from "
                                        "an ONNX teacher bundle on unlabelled site scans (--teacher)")
    _common(p)
    from training.seg.onprem.cli_args import add_site_arguments

    add_site_arguments(p)
    p.set_defaults(handler=_distill)
    p = ssub.add_parser("evaluate", help="Dice/HD95 per structure, latency, real-volume Dice; Markdown + JSON")
    _common(p)
    p.add_argument("--model", action="append", required=True, metavar="NAME=PATH",
                   help="checkpoint (.pt) or bundle folder; repeat; the first is the reference (teacher)")
    p.add_argument("--out", required=True, help="output folder for results.json / results.md")
    p.add_argument("--data", help="shared data folder for the real-volume check (default: MEDPRIV_DATA or "
                                  "../shared/data when present)")
    p.add_argument("--cases", type=int, default=None, help="number of held-out phantoms (default: all)")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads for inference and latency")
    p.set_defaults(handler=_evaluate)
    p = ssub.add_parser("ablate", help="loss ablation on a small budget (seg, +kd, +region, +context, all)")
    _common(p)
    p.add_argument("--out", required=True, help="output folder (resumable: finished arms are kept)")
    p.add_argument("--arms", help="comma-separated subset of: seg, seg+kd, seg+region, seg+context, all")
    p.add_argument("--cases", type=int, default=2, help="held-out phantoms to score (each as CT and MR)")
    p.set_defaults(handler=_ablate)
    p = ssub.add_parser("export", help="export a checkpoint to an ONNX bundle with a filled model card")
    _common(p)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--model-id", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--out", required=True, help="bundle folder, e.g. resources/models/seg-torso-student-q")
    p.add_argument("--eval-json", help="results.json from 'seg evaluate' to fill the card's metrics")
    p.add_argument("--eval-name", help="name of this model in the evaluation (default: the model id)")
    p.add_argument("--teacher-id", help="id of the teacher bundle (students)")
    p.add_argument("--training-command", help="the command line(s) that trained the weights, for the card")
    p.add_argument("--fp16", action="store_true", help="store weights as float16 (half the size)")
    p.add_argument("--reuse-onnx", action="store_true", help="keep the bundle's model.onnx, rewrite only the card")
    p.set_defaults(handler=_export)
    from training.seg.nnunet.cli import register_import

    register_import(ssub)
