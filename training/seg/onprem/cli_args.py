"""The options of ``medpriv-train seg distill --teacher BUNDLE --unlabelled DIR -o RUN`` and their handler.

``seg distill`` without ``--teacher`` keeps its config mode (a torch teacher checkpoint, phantoms); with it, the
on-premises run of :mod:`.run` starts.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _floats(text: str) -> list[float]:
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not vals or any(not 0 < v <= 1 for v in vals):
        raise argparse.ArgumentTypeError(f"width fractions must be in (0, 1], got {text!r}")
    return vals


def _ints(text: str) -> list[int]:
    try:
        vals = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    if not vals or any(v < 1 for v in vals):
        raise argparse.ArgumentTypeError(f"expected positive whole numbers, got {text!r}")
    return vals


def _weights(text: str) -> dict[str, float]:
    from training.seg.onprem.run import DEFAULT_WEIGHTS

    out = dict(DEFAULT_WEIGHTS)
    for item in text.split(","):
        key, _, val = item.partition("=")
        if key.strip() not in out:
            raise argparse.ArgumentTypeError(f"unknown loss term {key.strip()!r}; terms: {', '.join(out)}")
        try:
            out[key.strip()] = float(val)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected TERM=NUMBER, got {item!r}") from None
    return out


def add_site_arguments(p: argparse.ArgumentParser) -> None:
    """Add the on-premises options to the ``distill`` parser."""
    from medpriv_desktop.commands._common import int_at_least, non_negative_int, positive_float, positive_int

    g = p.add_argument_group("on-premises distillation (with --teacher)")
    g.add_argument("--teacher", help="teacher bundle folder or installed model id (any ONNX segmentation bundle)")
    g.add_argument("--unlabelled", help="folder of unlabelled scans: DICOM studies and/or .nii/.nii.gz/.nrrd/.mha")
    g.add_argument("-o", "--out", help="run folder (resumable): cache/, students/, bundles/, report.md/.json")
    g.add_argument("--widths", type=_floats, default=[0.5, 0.25, 0.125], help="student width fractions of the base")
    g.add_argument("--steps", type=positive_int, default=300, help="training steps per student")
    g.add_argument("--max-minutes", type=positive_float, default=None, help="training time cap per student")
    g.add_argument("--holdout", type=non_negative_int, default=None, help="scans held back (default 20%%, >= 1)")
    g.add_argument("--cache-budget-mb", type=positive_float, default=20000.0, help="disk cap of RUN/cache")
    g.add_argument("--top-k", type=int_at_least(1), default=None, help="store only the k likeliest classes")
    g.add_argument("--base-channels", type=_ints, default=[32, 64, 128, 256, 320],
                   help="channels per stage of the full-width network the widths scale (default nnU-Net's)")
    g.add_argument("--min-channels", type=positive_int, default=4, help="floor of a student's stage width")
    g.add_argument("--patch", type=_ints, default=None, help="training patch X,Y,Z (default the teacher's)")
    g.add_argument("--batch-size", type=positive_int, default=2)
    g.add_argument("--lr", type=positive_float, default=3e-3)
    g.add_argument("--loss-weights", type=_weights, default=None,
                   help="e.g. seg=1,kd=1,region=1,context=1 (0 switches a term off)")
    g.add_argument("--temperature", type=positive_float, default=2.0)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--threads", type=positive_int, default=2, help="torch and ONNX Runtime threads")
    g.add_argument("--id-prefix", help="student ids: PREFIX-w0500 ... (default TEACHER-site)")


def _command(args: argparse.Namespace) -> str:
    """The command that reproduces this run, every option spelt out; the scan folder's path is written DIR (paths
    can carry patient names)."""
    def join(v):
        return ",".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v)

    parts = ["medpriv-train seg distill", f"--teacher {args.teacher}", "--unlabelled DIR", f"-o {args.out}",
             f"--widths {join(args.widths)}", f"--steps {args.steps}", f"--base-channels {join(args.base_channels)}",
             f"--min-channels {args.min_channels}", f"--batch-size {args.batch_size}", f"--lr {args.lr:g}",
             f"--temperature {args.temperature:g}", f"--seed {args.seed}", f"--threads {args.threads}",
             f"--cache-budget-mb {args.cache_budget_mb:g}"]
    if args.loss_weights:
        parts.append("--loss-weights " + ",".join(f"{k}={v:g}" for k, v in args.loss_weights.items()))
    for name in ("max_minutes", "holdout", "top_k", "id_prefix"):
        if getattr(args, name) is not None:
            parts.append(f"--{name.replace('_', '-')} {getattr(args, name)}")
    if args.patch:
        parts.append(f"--patch {join(args.patch)}")
    return " ".join(parts)


def run_site_distill(args: argparse.Namespace) -> int:
    """Handler of ``seg distill --teacher ...``."""
    from medpriv_desktop.commands._common import drive
    from medpriv_desktop.core.errors import ConfigError
    from training.seg.onprem.run import DEFAULT_WEIGHTS, DistillOptions, distill_on_site

    if not args.unlabelled or not args.out:
        raise ConfigError("seg distill --teacher needs --unlabelled DIR and -o RUN")
    if args.patch is not None and len(args.patch) != 3:
        raise ConfigError("--patch needs three sizes X,Y,Z")
    opts = DistillOptions(
        teacher=args.teacher, unlabelled=Path(args.unlabelled), out=Path(args.out), widths=args.widths,
        steps=args.steps, max_minutes=args.max_minutes, holdout=args.holdout, cache_budget_mb=args.cache_budget_mb,
        top_k=args.top_k, base_channels=args.base_channels, min_channels=args.min_channels, patch=args.patch,
        batch_size=args.batch_size, lr=args.lr, weights=args.loss_weights or dict(DEFAULT_WEIGHTS),
        temperature=args.temperature, seed=args.seed, threads=args.threads, id_prefix=args.id_prefix,
        command=_command(args))
    report = drive(distill_on_site(opts), args)
    for sid, path in report["bundles"].items():
        ev = ((report.get("evaluation") or {}).get("students") or {}).get(sid) or {}
        ratio = ev.get("mean_dice_ratio")
        print(f"{sid}: {path}" + (f" (Dice ratio to teacher {ratio:.3f}, end-to-end speed-up "
                                  f"{ev.get('scan_speedup') or 0:.2f}x)" if ratio is not None else ""))
    print(f"report: {Path(args.out) / 'report.md'}")
    return 0
