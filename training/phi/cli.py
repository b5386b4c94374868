"""``medpriv-train phi ...``: synthetic notes, PHI model training and export."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``phi`` command."""
    p = sub.add_parser("phi", help="PHI model: lexicons, synthetic notes, training, export")
    ps = p.add_subparsers(dest="phi_command", metavar="ACTION", required=True)
    lx = ps.add_parser("lexicons", help="rebuild resources/lexicons from public packages")
    lx.add_argument("-o", "--out", type=Path, default=Path("resources/lexicons"))
    sy = ps.add_parser("synth", help="write synthetic notes with PHI spans as JSONL")
    sy.add_argument("-n", type=int, default=100)
    sy.add_argument("--seed", type=int, default=0)
    sy.add_argument("--styles", default=None,
                    help="comma-separated note styles (default: all 21; see training.phi.generator.STYLES)")
    sy.add_argument("--with-keeps", action="store_true", help="also write the hard-negative spans as 'keeps'")
    sy.add_argument("-o", "--out", type=Path, required=True)
    tr = ps.add_parser("train", help="train the PHI token classifier and export a bundle")
    tr.add_argument("-o", "--out", type=Path, required=True, help="bundle folder to write")
    tr.add_argument("--data", type=Path, default=None, help="PhysioNet deid folder (default ../shared/data/notes/physionet-deid)")
    tr.add_argument("--no-physionet", action="store_true", help="synthetic notes only")
    tr.add_argument("--holdout-fold", type=int, default=None, help="leave out the patients of this fold (0-4)")
    tr.add_argument("--folds", type=int, default=5)
    tr.add_argument("--layers", type=int, default=3)
    tr.add_argument("--epochs", type=int, default=3)
    tr.add_argument("--synthetic", type=int, default=800)
    tr.add_argument("--threads", type=int, default=1)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--model-id", default="phi-minilm-l3-int8")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    if args.phi_command == "lexicons":
        from training.phi.lexicons import build_lexicons

        print(json.dumps(build_lexicons(args.out), indent=2))
        return 0
    if args.phi_command == "synth":
        import itertools

        from medpriv_desktop.core.fileio import atomic_open
        from training.phi.generator import iter_notes

        notes = iter_notes(args.seed, args.styles)  # checks the style names before the file is opened
        with atomic_open(args.out) as fh:
            for n in itertools.islice(notes, args.n):
                row = {"text": n.text, "spans": [[s, e, lab] for s, e, lab in n.spans], "style": n.style}
                if args.with_keeps:
                    row["keeps"] = [[s, e, kind] for s, e, kind in n.keeps]
                fh.write(json.dumps(row) + "\n")
        print(f"wrote {args.n} notes to {args.out}")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from training.phi.bundle import export_phi_bundle
    from training.phi.physionet import patient_folds, read_physionet
    from training.phi.train import TrainConfig, token_f1, train_phi_model

    cfg = TrainConfig(layers=args.layers, epochs=args.epochs, synthetic=args.synthetic, seed=args.seed,
                      threads=args.threads)
    notes, held = [], []
    if not args.no_physionet:
        data = args.data or Path(__file__).resolve().parents[2].parent / "shared" / "data" / "notes" / "physionet-deid"
        notes = read_physionet(data)
        if args.holdout_fold is not None:
            fold = patient_folds(notes, args.folds)[args.holdout_fold]
            held = [n for n in notes if n.patient in fold]
            notes = [n for n in notes if n.patient not in fold]
    model, tok = train_phi_model(notes, cfg)
    metrics = []
    if held:
        f = token_f1(model, tok, held, cfg.max_len)
        print(f"held-out fold {args.holdout_fold}: token precision {f['precision']:.3f} recall {f['recall']:.3f}")
        metrics = [{"name": "token_recall_model_only", "value": f["recall"], "split": f"fold {args.holdout_fold}"},
                   {"name": "token_precision_model_only", "value": f["precision"], "split": f"fold {args.holdout_fold}"}]
    command = "medpriv-train phi train " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
        if k in ("out", "holdout_fold", "layers", "epochs", "synthetic", "seed", "model_id") and v is not None)
    card = export_phi_bundle(model, tok, args.out, cfg, len(notes), command, args.model_id, metrics)
    print(f"bundle {card.id} written to {args.out} (sha256 {card.sha256[:12]}...)")
    return 0
