"""``medpriv-train phi train``: train on the tuning part, export, choose the threshold on validation, write the card.

Steps: (1) tuning notes split into tuning-train and tuning-val by patient (:mod:`training.phi.data`); (2) train on
tuning-train + generated notes (:mod:`training.phi.train`); (3) export int8 ONNX (:mod:`training.phi.bundle`);
(4) run the exported bundle through the app's runtime on tuning-val and the invented-dev notes, rules in union, and
choose the threshold (:mod:`training.phi.select`); (5) write the card with the threshold and the validation figures.
The locked part is not touched here: ``medpriv-train phi report-locked BUNDLE`` scores it afterwards, totals only.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from training.phi.data import (cross_fit_halves, default_invented_dev_dir, read_invented, tuning_notes,
                              tuning_train_val)


def _command(args: argparse.Namespace) -> str:
    keys = ("out", "layers", "epochs", "synthetic", "physionet_repeat", "max_len", "batch_size", "lr", "seed",
            "teacher", "init", "kd_weight", "entity_weight", "target_recall", "cross_fit", "model_id", "version")
    parts = [f"--{k.replace('_', '-')} {getattr(args, k)}" for k in keys if getattr(args, k, None) is not None]
    return ("medpriv-train phi train " + " ".join(parts) + (" --no-physionet" if args.no_physionet else "")
            + (" --all-tuning" if getattr(args, "all_tuning", False) else ""))


def load_recognizer(bundle: Path, threshold: float | None = 0.5):
    """The exported bundle as the app runs it (ONNX Runtime, tokenizer, windows), without the registry; with
    ``threshold=None`` the card's thresholds (per type), else ``threshold`` for every type."""
    from medpriv_desktop.core.models.card import ModelCard
    from medpriv_desktop.core.notes.model_recognizer import PhiModelRecognizer, card_thresholds
    from medpriv_desktop.core.text.encoder import TextEncoder

    card = ModelCard.model_validate_json((bundle / "model_card.json").read_text(encoding="utf-8"))
    ti = card.text_input
    enc = TextEncoder.from_files(bundle / card.model_file, bundle / ti.tokenizer_file, ti.max_tokens, ti.stride,
                                 threads=2, exact_int8=card.needs_exact_int8_kernels)
    labels = [lb.name for lb in sorted(card.outputs.labels, key=lambda lb: lb.value)]
    if threshold is None:
        default, per_type = card_thresholds(card.outputs.labels)
        return PhiModelRecognizer(enc, labels, card.id, default, thresholds=per_type)
    return PhiModelRecognizer(enc, labels, card.id, threshold)


def physionet_parts(notes: list, all_tuning: bool = False, cross_fit: int | None = None
                    ) -> tuple[list, list, str | None]:
    """``(train, validation, split description)`` of the tuning notes: tuning-train / tuning-val by default; every
    tuning note and no validation with ``all_tuning`` (thresholds then come out of fold, ``crossfit.py``); with
    ``cross_fit`` H the other half trains and half H is held out (a measurement tagger)."""
    if all_tuning:
        print(f"tuning part: all {len(notes)} notes train (thresholds: cross-fit-thresholds); locked part unread")
        return notes, [], ("every tuning note (core/notes/dev_split.py); per-type thresholds chosen out of fold by "
                           "medpriv-train phi cross-fit-thresholds; the locked part is never used for training or "
                           "choices")
    if cross_fit:
        halves = cross_fit_halves(notes)
        val, train = halves[cross_fit - 1], halves[2 - cross_fit]
        print(f"cross-fit {cross_fit}: trained on {len(train)} tuning notes, tuning half {cross_fit} ({len(val)} "
              "notes) held out for out-of-fold scoring; locked part unread")
        return train, val, (f"the tuning half other than half {cross_fit} (training/phi/data.py: cross_fit_halves): "
                            "a measurement tagger, not shipped")
    train, val = tuning_train_val(notes)
    print(f"tuning part: {len(train)} notes train, {len(val)} notes validation (by patient); locked part unread")
    return train, val, None


def run_training(args: argparse.Namespace) -> int:
    """Train, export, choose the threshold and write the card (module docstring); exit code 0."""
    from training.phi.bundle import export_phi_bundle, write_card
    from training.phi.train import TrainConfig, train_phi_model

    cfg = TrainConfig(layers=args.layers, epochs=args.epochs, synthetic=args.synthetic,
                      physionet_repeat=args.physionet_repeat, max_len=args.max_len, batch_size=args.batch_size,
                      lr=args.lr, seed=args.seed, threads=args.threads,
                      teacher=str(args.teacher) if args.teacher else None, kd_weight=args.kd_weight,
                      entity_weight=getattr(args, "entity_weight", 3.0),
                      init=str(args.init) if getattr(args, "init", None) else None)
    train, val, split = ([], [], None) if args.no_physionet else physionet_parts(
        tuning_notes(args.data), getattr(args, "all_tuning", False), getattr(args, "cross_fit", None))
    t0 = time.time()
    model, tok = train_phi_model(train, cfg)
    minutes = (time.time() - t0) / 60
    if args.save_torch:
        model.save_pretrained(str(args.save_torch))
        tok.save_pretrained(str(args.save_torch))
    card = export_phi_bundle(model, tok, args.out, cfg, len(train), _command(args), args.model_id, args.version,
                             split=split)
    card["training"]["config"]["train_minutes"] = round(minutes, 1)
    write_card(args.out, card)  # provisional threshold: the validation below reads the bundle as the app does

    choose_and_write(args.out, card, val, args.invented_dev, args.target_recall)
    print(f"bundle {card['id']} written to {args.out}")
    return 0


def choose_and_write(bundle: Path, card: dict, val: list, invented_dev: Path | None, target_recall: float) -> None:
    """Steps 4-5: score the exported bundle on the validation notes, choose the threshold, write the card and a
    ``<bundle>.validation.json`` beside it (not inside: every file in a bundle is part of its manifest)."""
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
    from training.phi.bundle import set_threshold, write_card
    from training.phi.data import from_physionet
    from training.phi.select import (PER_TYPE_CANDIDATES, TYPE_ORDER, raise_per_type, score_per_type,
                                     select_threshold)

    bundle = Path(bundle)
    val_sets = {}
    if val:
        val_sets["tuning-val"] = from_physionet(val)
    inv = invented_dev or default_invented_dev_dir()
    if (inv / "phi.json").is_file():
        val_sets["invented-dev"] = read_invented(inv)
    if not val_sets:
        print("no validation notes: the threshold stays at 0.5")
        return
    val_sets["all"] = [it for items in val_sets.values() for it in items]
    recognizer = load_recognizer(bundle)
    rules = DeidEngine(EngineConfig(use_model=False))
    choice = select_threshold(val_sets, recognizer, rules, decide_on="all", target_recall=target_recall)
    print(f"threshold {choice.threshold} ({choice.rule})")
    for name, scores in choice.scores.items():
        s = scores[choice.threshold]
        print(f"  {name:13s} recall {s['recall']:.4f} precision {s['precision']:.4f} span recall {s['span_recall']:.4f}"
              f"  (rules only: recall {choice.rules_only[name]['recall']:.4f} "
              f"precision {choice.rules_only[name]['precision']:.4f})")
    per_type = raise_per_type(val_sets["all"], recognizer, rules, choice.threshold)
    print(f"per-type thresholds above {choice.threshold}: {per_type or 'none'} (no validation PHI token lost)")
    set_threshold(card, choice.threshold, per_type)
    card["training"]["config"]["threshold_rule"] = choice.rule + " on tuning-val + invented-dev (rules in union)"
    card["training"]["config"]["per_type_threshold_rule"] = (
        "then, per type in the order " + ", ".join(TYPE_ORDER) + ": the highest of "
        + ", ".join(f"{c:g}" for c in PER_TYPE_CANDIDATES) + " at which tuning-val + invented-dev lose no PHI token")
    metrics = [m for m in card["metrics"]["values"] if "(validation" not in m["split"]]
    card["metrics"]["values"] = metrics
    for name in choice.scores:
        if name == "all":
            continue
        s, n = score_per_type(val_sets[name], recognizer, rules, choice.threshold, per_type), len(val_sets[name])
        print(f"  {name:13s} with per-type thresholds: recall {s['recall']:.4f} precision {s['precision']:.4f}")
        split = f"{name} (validation: chose the threshold), rules + tagger, word tokens"
        metrics += [{"name": "token_recall", "value": s["recall"], "split": split, "n": n},
                    {"name": "token_precision", "value": s["precision"], "split": split, "n": n},
                    {"name": "span_recall", "value": s["span_recall"], "split": split, "n": n}]
    write_card(bundle, card)
    (bundle.parent / f"{bundle.name}.validation.json").write_text(json.dumps(
        {"threshold": choice.threshold, "per_type": per_type, "rule": choice.rule,
         "scores": {k: {str(t): v for t, v in d.items()} for k, d in choice.scores.items()},
         "rules_only": choice.rules_only}, indent=2), encoding="utf-8")


def rechoose(args: argparse.Namespace) -> int:
    """``medpriv-train phi choose-threshold BUNDLE``: steps 4-5 again on an exported bundle (same validation notes)."""
    card = json.loads((Path(args.bundle) / "model_card.json").read_text(encoding="utf-8"))
    _, val = tuning_train_val(tuning_notes(args.data))
    choose_and_write(Path(args.bundle), card, val, args.invented_dev, args.target_recall)
    return 0


def reexport(args: argparse.Namespace) -> int:
    """``medpriv-train phi export TORCH_DIR -o BUNDLE``: export a saved torch tagger again (current export code),
    keep the training facts of the card it came with, choose the threshold on the validation notes."""
    from transformers import AutoTokenizer

    from training.phi.bundle import export_phi_bundle, write_card
    from training.phi.train import TrainConfig, load_teacher

    old = json.loads(Path(args.card).read_text(encoding="utf-8"))
    conf = old["training"]["config"]
    cfg = TrainConfig(**{k: conf[k] for k in ("layers", "epochs", "synthetic", "physionet_repeat", "max_len",
                                             "batch_size", "lr", "seed", "threads", "teacher", "kd_weight")
                         if k in conf})
    model, tok = load_teacher(args.torch), AutoTokenizer.from_pretrained(str(args.torch))
    n_train = next((d["n"] for d in old["training"]["datasets"] if not d.get("synthetic")), 0)
    card = export_phi_bundle(model, tok, args.out, cfg, n_train, old["training"]["command"], args.model_id or old["id"],
                             args.version or old["version"])
    card["training"]["date"] = old["training"]["date"]
    for k in ("train_minutes",):
        if k in conf:
            card["training"]["config"][k] = conf[k]
    write_card(args.out, card)
    _, val = tuning_train_val(tuning_notes(args.data))
    choose_and_write(Path(args.out), card, val, args.invented_dev, args.target_recall)
    return 0
