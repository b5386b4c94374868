"""``medpriv-train phi report-locked BUNDLE``: the figures a card may publish, measured once on data nobody tuned on.

Runs the app's engine with the bundle (rules in union) on (a) the **locked** part of the development notes, totals
and patient-bootstrap intervals only (:mod:`medpriv_desktop.core.notes.eval_parts`), and (b) the project's own
invented test notes (``tests/fixtures/invented_notes``: planted PHI strings that survive, counted by the same rule as
``../shared/tools/leak_check.py``). Both go into the card's metrics; nothing here prints a note or a miss. Run it on
the bundle that ships, after every choice has been made on validation notes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def report_locked(args: argparse.Namespace) -> int:
    """Measure the bundle on the locked part and the invented test notes; write the figures into its card."""
    from medpriv_desktop.core.notes import eval_parts
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
    from medpriv_desktop.core.notes.evaluation import read_physionet_corpus
    from medpriv_desktop.core.notes.leaks import count_leaks
    from medpriv_desktop.core.notes.operators import apply_operator
    from training.phi.data import default_physionet_dir
    from training.phi.run import load_recognizer

    bundle = Path(args.bundle)
    card_path = bundle / "model_card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    engine = DeidEngine(EngineConfig(use_model=False))
    engine.model_recognizer = load_recognizer(bundle, None)  # the card's thresholds, per type
    docs = eval_parts.select_part(read_physionet_corpus(args.data or default_physionet_dir()), "locked")
    predicted = [engine.analyze(d.text) for d in docs]
    per_doc = eval_parts.per_document(docs, predicted)
    table = eval_parts.bootstrap_table(docs, per_doc)
    print(eval_parts.format_table(table, len({eval_parts.patient_of(d) for d in docs}), len(docs)))
    split = (f"locked part of the PhysioNet development notes ({len(docs)} notes, "
             f"{len({eval_parts.patient_of(d) for d in docs})} patients; never used for training or choices)")
    values = [m for m in card["metrics"]["values"] if not m["split"].startswith("locked part")
              and not m["split"].startswith("project's invented test")]
    all_row = table["ALL"]
    values += [{"name": "token_recall", "value": round(all_row["recall"].value, 4), "split": split, "n": len(docs)},
               {"name": "token_recall_ci_low", "value": round(all_row["recall"].low, 4), "split": split},
               {"name": "token_precision", "value": round(all_row["precision"].value, 4), "split": split},
               {"name": "span_leak_rate", "value": round(all_row["leak"].value, 4), "split": split}]
    for cat, row in table.items():
        if cat != "ALL" and row["tokens"]:
            values.append({"name": "token_recall", "value": round(row["recall"].value, 4), "split": split,
                           "label": cat, "n": row["tokens"]})
    inv = Path(args.invented_test or REPO / "tests" / "fixtures" / "invented_notes")
    if (inv / "phi.json").is_file():
        outputs = {}
        for f in sorted(inv.glob("*.txt")):
            text = f.read_text(encoding="utf-8")
            outputs[f.name] = apply_operator("tag", text, engine.analyze(text))
        leaks = count_leaks(inv, outputs)
        kept, keep_total = leaks.pop("KEEP")
        leaked, n = sum(v[0] for v in leaks.values()), sum(v[1] for v in leaks.values())
        print(f"invented test notes: {leaked} of {n} planted PHI strings survive "
              + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(leaks.items()))
              + f"; look-alikes kept {kept}/{keep_total}")
        isplit = f"project's invented test notes ({len(outputs)} notes, tests/fixtures/invented_notes; held out)"
        values.append({"name": "planted_phi_surviving", "value": round(leaked / max(n, 1), 4), "split": isplit,
                       "n": n})
    card["metrics"]["values"] = values
    from training.phi.bundle import write_card

    write_card(bundle, card)
    print(f"figures written into {card_path}; re-pin bundled models with scripts/pin_bundled_models.py")
    return 0
