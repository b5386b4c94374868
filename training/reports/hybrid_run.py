"""One run of the rules + encoder recipe on a dataset: features, training, scores beside the rules, checkpoint.

A run's record carries, on the same validation and test splits, the model's weighted, macro and per-label F1 at the
fixed threshold 0.5 and the rule labeler's (``rules``), so every table puts the two side by side. Validation is
measured and reported only; nothing is tuned on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from training.reports.data import ReportDataset, split_ids
from training.reports.features import prepare, pooled_features, public_standardisation, rule_inputs
from training.reports.hybrid import THRESHOLD, HybridConfig, config_dict, predict, train_hybrid
from training.reports.metrics import multilabel_scores

#: Window per dataset: Open-i reports fit in 128 tokens; CT-RATE reports are long (median ~370 tokens) and name
#: findings throughout, so they are read in 512-token windows. A length fact about the texts, not a tuned value.
MAX_TOKENS = {"openi": 128, "ctrate": 512}


def hybrid_recipe(dataset: str, **changes: Any) -> HybridConfig:
    """The fixed recipe for ``dataset`` (``openi``, ``ctrate`` or a path: 512 tokens), with ``changes`` applied."""
    key = dataset.lower().replace("-", "")
    return replace(HybridConfig(max_tokens=MAX_TOKENS.get(key, 512)), **changes)


@dataclass
class HybridData:
    """A dataset's cached inputs (all reports), its split positions and the public standardisation constants."""

    ds: ReportDataset
    pooled: np.ndarray
    rules: np.ndarray
    split: tuple[np.ndarray, np.ndarray, np.ndarray]
    mean: np.ndarray
    std: np.ndarray


def load_hybrid_data(ds: ReportDataset, cfg: HybridConfig, cache_dir: Path | None,
                     log: Callable[[str], Any] = print) -> HybridData:
    """Inputs of every report of ``ds`` for ``cfg``'s encoder depth and window (cached), and the splits."""
    from medpriv_desktop.core.errors import InputError
    from medpriv_desktop.core.reports.labeler import MENTIONS
    from training.reports.synthetic import SYNTHETIC_SETS

    if ds.label_set not in MENTIONS:
        raise InputError(f"the rules + encoder recipe needs a label set the rule labeler knows ({', '.join(MENTIONS)})",
                         hint="use --method dp-head or dp-lora for other label sets")
    if cfg.encoder_scale > 0 and ds.label_set not in SYNTHETIC_SETS:
        raise InputError(f"no synthetic {ds.label_set} reports to standardise the encoder features with",
                         hint="pass --encoder-scale 0 (rule calibration only)")
    texts = prepare(ds.texts)
    pooled = pooled_features(texts, cfg.num_layers, cfg.max_tokens, cfg.backbone, cache_dir, log=log)
    rules = rule_inputs(texts, ds.label_set)
    if cfg.encoder_scale > 0:
        mean, std = public_standardisation(ds.label_set, cfg.num_layers, cfg.max_tokens, cfg.synthetic_n,
                                           cfg.backbone, cache_dir, log=log)
    else:  # no encoder residual: the features are not read
        mean, std = np.zeros(pooled.shape[1], np.float32), np.ones(pooled.shape[1], np.float32)
    return HybridData(ds, pooled, rules, split_ids(ds.ids), mean, std)


def rule_decisions(rules: np.ndarray) -> np.ndarray:
    """The rule labeler's 0/1 decisions (positive or uncertain) from ``status-v1`` values."""
    r = rules.reshape(rules.shape[0], -1, 3)
    return ((r[:, :, 0] + r[:, :, 1]) > 0).astype(int)


def _scores(labels: np.ndarray, decisions: np.ndarray, names: list[str]) -> dict[str, Any]:
    return multilabel_scores(labels.astype(int), decisions, names)


def run_hybrid(cfg: HybridConfig, data: HybridData, log: Callable[[str], Any] = print,
               save_to: Path | None = None) -> dict[str, Any]:
    """Train on the training split, score validation and test (model and rules); return the run's record."""
    tr, va, te = data.split
    ds = data.ds
    res = train_hybrid(cfg, data.pooled[tr], data.rules[tr], ds.labels[tr], data.mean, data.std, log)
    rec: dict[str, Any] = {"config": config_dict(cfg), "thresholds": [THRESHOLD] * len(ds.label_names),
                           "seconds": res.seconds, "steps": res.privacy.get("steps", 0), "n_train": len(tr),
                           "n_val": len(va), "n_test": len(te)}
    rec["privacy"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in res.privacy.items()}
    for part, idx in (("val", va), ("test", te)):
        probs = predict(res.head, data.pooled[idx], data.rules[idx])
        rec[part] = _scores(ds.labels[idx], (probs >= THRESHOLD).astype(int), ds.label_names)
        rec[f"rules_{part}"] = _scores(ds.labels[idx], rule_decisions(data.rules[idx]), ds.label_names)
    if save_to is not None:
        import torch

        save_to.parent.mkdir(parents=True, exist_ok=True)
        tmp = save_to.with_suffix(".part")
        torch.save({"state_dict": res.head.state_dict(), "config": config_dict(cfg), "label_names": ds.label_names,
                    "label_set": ds.label_set, "hidden": int(data.pooled.shape[1]), "record": rec}, tmp)
        tmp.replace(save_to)
        rec["checkpoint"] = str(save_to)
    return rec


def load_head(path: Path) -> tuple[Any, HybridConfig, dict[str, Any]]:
    """A saved head, its config and the rest of the checkpoint."""
    import torch

    from training.reports.hybrid import HybridHead, config_from_dict

    blob = torch.load(path, map_location="cpu", weights_only=False)
    cfg = config_from_dict(blob["config"])
    head = HybridHead(blob["hidden"], len(blob["label_names"]), encoder_scale=cfg.encoder_scale,
                      rule_init=cfg.rule_init)
    head.load_state_dict(blob["state_dict"])
    return head.eval(), cfg, blob


def write_per_label(records: list[dict[str, Any]], out_dir: Path, method: str = "dp-rules-head",
                    epsilon: str = "10", seed: int = 0) -> str:
    """``per_label.md``: per-label test F1 of one run per dataset (by default the shipped one) beside the rule
    labeler's on the same split, with support; empty when no such run exists."""
    from medpriv_desktop.core.fileio import atomic_write_text

    lines = [f"Per-label test F1: `{method}` at epsilon {epsilon}, seed {seed} (the shipped models) against the rule "
             "labeler on the same test split.", ""]
    for r in sorted(records, key=lambda r: r.get("dataset", "")):
        if r.get("method") != method or str(r.get("target_epsilon")) != epsilon or r.get("seed") != seed:
            continue
        if "rules_test" not in r:
            continue
        t, ru = r["test"], r["rules_test"]
        lines += [f"### {r['dataset']}", "", "| label | model F1 | rules F1 | test positives |", "|---|---|---|---|"]
        lines += [f"| {k} | {v['f1']:.3f} | {ru['per_label'][k]['f1']:.3f} | {v['support']} |"
                  for k, v in t["per_label"].items()]
        lines += [f"| **weighted** | {t['weighted_f1']:.3f} | {ru['weighted_f1']:.3f} | |",
                  f"| **macro** | {t['macro_f1']:.3f} | {ru['macro_f1']:.3f} | |", ""]
    md = "\n".join(lines) + "\n"
    atomic_write_text(Path(out_dir) / "per_label.md", md)
    return md
