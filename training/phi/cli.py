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
    tr = ps.add_parser("train", help="train the PHI tagger on generated notes + the tuning part, choose its threshold "
                                      "on validation notes, export an int8 bundle")
    tr.add_argument("-o", "--out", type=Path, required=True, help="bundle folder to write")
    tr.add_argument("--data", type=Path, default=None,
                    help="PhysioNet deid folder (default ../shared/data/notes/physionet-deid); only its tuning part "
                         "is read (medpriv_desktop/core/notes/dev_split.py)")
    tr.add_argument("--invented-dev", type=Path, default=None,
                    help="invented-notes folder for validation (default ../shared/data/notes/invented-dev)")
    tr.add_argument("--no-physionet", action="store_true", help="generated notes only")
    notes_mode = tr.add_mutually_exclusive_group()
    notes_mode.add_argument("--all-tuning", action="store_true",
                            help="train on every tuning note (no tuning-val); the per-type thresholds then come "
                                 "from cross-fit-thresholds")
    notes_mode.add_argument("--cross-fit", type=int, choices=(1, 2), default=None,
                            help="train on the other half of the tuning patients and hold out half H "
                                 "(training/phi/data.py: cross_fit_halves) to read the recipe's over-reach out of "
                                 "fold; such a bundle is for measurement, not for shipping")
    tr.add_argument("--layers", type=int, default=3, help="MiniLM layers kept (6 = full depth)")
    tr.add_argument("--epochs", type=int, default=2)
    tr.add_argument("--synthetic", type=int, default=6000, help="generated notes (scale up on real hardware)")
    tr.add_argument("--physionet-repeat", type=int, default=3, help="times the tuning-train notes are repeated")
    tr.add_argument("--max-len", type=int, default=128, help="word pieces per window (the card's max_tokens)")
    tr.add_argument("--batch-size", type=int, default=16)
    tr.add_argument("--lr", type=float, default=1e-4)
    tr.add_argument("--threads", type=int, default=2)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--teacher", type=Path, default=None,
                    help="distil from this trained tagger (a --save-torch folder of an earlier run)")
    tr.add_argument("--kd-weight", type=float, default=0.5)
    tr.add_argument("--entity-weight", type=float, default=3.0,
                    help="loss weight of PHI word pieces against O ones (higher: recall over precision)")
    tr.add_argument("--init", type=Path, default=None,
                    help="continue from a trained tagger (a --save-torch folder) instead of the bare backbone")
    tr.add_argument("--save-torch", type=Path, default=None, help="also save the torch model here (for --teacher)")
    tr.add_argument("--target-recall", type=float, default=0.97,
                    help="threshold rule: the highest threshold reaching this validation token recall")
    tr.add_argument("--model-id", default="phi-minilm-l3-int8")
    tr.add_argument("--version", default="1.0.0")
    ch = ps.add_parser("choose-threshold", help="choose the threshold of an exported bundle on the validation notes "
                                                "again and rewrite its card")
    ch.add_argument("bundle", type=Path)
    ch.add_argument("--data", type=Path, default=None)
    ch.add_argument("--invented-dev", type=Path, default=None)
    ch.add_argument("--target-recall", type=float, default=0.97)
    ex = ps.add_parser("export", help="export a saved torch tagger (a --save-torch folder) again with the current "
                                      "export code and choose its threshold")
    ex.add_argument("torch", type=Path)
    ex.add_argument("--card", type=Path, required=True, help="the card of the run that trained it")
    ex.add_argument("-o", "--out", type=Path, required=True)
    ex.add_argument("--model-id", default=None)
    ex.add_argument("--version", default=None)
    ex.add_argument("--data", type=Path, default=None)
    ex.add_argument("--invented-dev", type=Path, default=None)
    ex.add_argument("--target-recall", type=float, default=0.97)
    cf = ps.add_parser("cross-fit-thresholds",
                       help="choose per-type thresholds on all tuning notes out of fold (two --cross-fit bundles) "
                            "and write them into a bundle's card (training/phi/crossfit.py)")
    cf.add_argument("--fold1", type=Path, required=True, help="bundle trained with --cross-fit 1")
    cf.add_argument("--fold2", type=Path, required=True, help="bundle trained with --cross-fit 2")
    cf.add_argument("--apply-to", type=Path, default=None, help="bundle whose card gets the thresholds")
    cf.add_argument("--version", default=None, help="new version for that card")
    cf.add_argument("--start", type=Path, default=None,
                    help="bundle whose card's thresholds the search starts from (default: --apply-to, else --fold1)")
    cf.add_argument("--min-recall", type=float, default=0.97)
    cf.add_argument("--inv-slack", type=float, default=0.01)
    cf.add_argument("--target-floor", type=float, default=0.0,
                    help="the --apply-to bundle's own invented-dev token recall may not fall below this")
    cf.add_argument("--target-max-surviving", type=int, default=None,
                    help="at most this many planted invented-dev strings may survive the --apply-to bundle "
                         "(the release gate's counting rule; 1.2.0 lets 6 survive)")
    cf.add_argument("--data", type=Path, default=None)
    cf.add_argument("--invented-dev", type=Path, default=None)
    cf.add_argument("--out", type=Path, default=None, help="write the path taken and the scores here (JSON)")
    of = ps.add_parser("out-of-fold",
                       help="score every tuning note with the cross-fit tagger that never saw its patient, at a "
                            "bundle's thresholds, through the engine's rules and vetoes; counts, and with --list "
                            "each false-positive word in its context (tuning part only; training/phi/crossfit.py)")
    of.add_argument("--fold1", type=Path, required=True, help="bundle trained with --cross-fit 1")
    of.add_argument("--fold2", type=Path, required=True, help="bundle trained with --cross-fit 2")
    of.add_argument("--thresholds-of", type=Path, default=None,
                    help="bundle whose card's per-type thresholds are used (default: the shipped PHI tagger)")
    of.add_argument("--list", action="store_true", help="print each false-positive word with 40 characters around it")
    of.add_argument("--data", type=Path, default=None,
                    help="the PhysioNet deid folder (default: ../shared/data/notes/physionet-deid)")
    lk = ps.add_parser("report-locked", help="score a bundle on the locked part (totals only) and write the figures "
                                             "into its card")
    lk.add_argument("bundle", type=Path)
    lk.add_argument("--data", type=Path, default=None)
    lk.add_argument("--invented-test", type=Path, default=None,
                    help="also the project's own invented test notes (default tests/fixtures/invented_notes)")
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
    if args.phi_command == "export":
        from training.phi.run import reexport

        return reexport(args)
    if args.phi_command == "choose-threshold":
        from training.phi.run import rechoose

        return rechoose(args)
    if args.phi_command == "cross-fit-thresholds":
        from training.phi.crossfit import run

        return run(args)
    if args.phi_command == "out-of-fold":
        from training.phi.crossfit import out_of_fold

        return out_of_fold(args)
    if args.phi_command == "report-locked":
        from training.phi.locked import report_locked

        return report_locked(args)
    from training.phi.run import run_training

    return run_training(args)
