"""Export a ``dp-rules-head`` checkpoint to a model bundle, measured through the app's runtime.

The bundle carries ``model.onnx`` (int8 encoder with reduce-range weights, float32 head; :mod:`.onnx_hybrid`),
``tokenizer.json``, the card, LICENSE and README. The card declares the rule inputs (label set, encoding, labeler
version), fixed 0.5 thresholds and every label supported (public decisions, no training counts). Test and validation
scores are measured, never used to choose: int8 ships when its decisions agree with float32 on synthetic reports
(public text), and the card lists test weighted F1 for float32 and for int8 with both ONNX Runtime kernel settings,
beside the rule labeler's on the same split.
"""

from __future__ import annotations

import datetime as _dt
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.models.card import (
    Dataset, Label, Metric, Metrics, ModelCard, Outputs, Privacy, RuleFeatureInput, Task, TextInput, TrainingInfo,
)
from medpriv_desktop.core.reports.labeler import LABELER_VERSION
from medpriv_desktop.core.reports.rule_features import ENCODING, INPUT_NAME
from training.reports.data import CTRATE_LICENSE, OPENI_LICENSE, ReportDataset, load_dataset, split_ids
from training.reports.export import MAX_BUNDLE_BYTES, _git_revision, _license_text
from training.reports.hybrid import HybridConfig, config_dict
from training.reports.metrics import multilabel_scores

MIN_INT8_AGREEMENT = 0.995  # int8 ships when it agrees with float32 on this share of synthetic decisions
STRIDE = 32
#: Card flags of ``reports train`` in the order they are written (config field -> flag).
COMMAND_FLAGS = (("target_epsilon", "--epsilon"), ("seed", "--seed"), ("steps", "--steps"), ("lr", "--lr"),
                 ("noise_lr", "--noise-lr"), ("momentum", "--momentum"), ("max_grad_norm", "--max-grad-norm"),
                 ("sampling_rate", "--sampling-rate"), ("pos_weight", "--pos-weight"), ("rule_init", "--rule-init"),
                 ("encoder_scale", "--encoder-scale"), ("num_layers", "--num-layers"), ("max_tokens", "--max-tokens"),
                 ("synthetic_n", "--synthetic-n"), ("accountant", "--accountant"))


def reproduce_command(dataset: str, cfg: HybridConfig) -> str:
    """The ``medpriv-train reports train`` command that regenerates ``cfg`` (every recipe value explicit)."""
    d = config_dict(cfg)
    parts = [f"medpriv-train reports train --dataset {dataset} --method {cfg.method}"]
    parts += [f"{flag} {d[name]!r}" if isinstance(d[name], str) and " " in d[name] else f"{flag} {d[name]}"
              for name, flag in COMMAND_FLAGS if d.get(name) is not None]
    if cfg.delta is not None:
        parts.append(f"--delta {cfg.delta}")
    return " ".join(parts) + " -o MODEL.pt"


def export_hybrid(checkpoint: Path, dataset: str, data_root: Path, out_dir: Path, model_id: str, *,
                  version: str = "2.0.0", rationale: str | None = None, selection: str | None = None,
                  log: Callable[[str], Any] = print) -> ModelCard:
    """Write the bundle for ``checkpoint`` to ``out_dir`` and return its card."""
    from training.reports.hybrid_run import load_head
    from training.reports.model import load_backbone
    from training.reports.onnx_hybrid import HybridOnnx, export_onnx, quantize_int8, runtime_decisions
    from training.reports.synthetic import generate
    from training.text.export import save_tokenizer_json

    head, cfg, blob = load_head(Path(checkpoint))
    ds = load_dataset(dataset, data_root)
    if list(ds.label_names) != list(blob["label_names"]):
        raise ValueError("checkpoint labels differ from the dataset's labels")
    tr, va, te = split_ids(ds.ids)
    val, test = ds.subset(va), ds.subset(te)
    enc, tok = load_backbone(cfg.backbone, cfg.num_layers)
    weight, bias = head.export_weights()
    tmp = Path(tempfile.mkdtemp(prefix="rc-hybrid-"))
    try:
        fp32, int8 = tmp / "model.fp32.onnx", tmp / "model.onnx"
        rule_width = 3 * len(ds.label_names)
        export_onnx(HybridOnnx(enc, weight, bias), tok, fp32, rule_width)
        quantize_int8(fp32, int8)
        tok_path = save_tokenizer_json(tok, tmp)

        def decide(path: Path, texts: list[str], precise: bool = True) -> np.ndarray:
            return runtime_decisions(path, tok_path, texts, ds.label_names, ds.label_set, cfg.max_tokens, STRIDE,
                                     precise)[0]

        syn = generate(ds.label_set, 400, seed=7).texts  # public text: the int8 decision is made here
        agreement = float(np.mean(decide(fp32, syn) == decide(int8, syn)))
        chosen = "int8" if agreement >= MIN_INT8_AGREEMENT else "fp32"
        log(f"int8 agrees with float32 on {agreement:.4f} of synthetic decisions: shipping {chosen}")
        scores: dict[str, Any] = {}
        for name, path, precise in (("fp32", fp32, True), ("int8_precise", int8, True), ("int8_default", int8, False)):
            scores[name] = {part: multilabel_scores(sub.labels.astype(int), decide(path, sub.texts, precise),
                                                    ds.label_names) for part, sub in (("val", val), ("test", test))}
            log(f"{name}: test weighted F1 {scores[name]['test']['weighted_f1']:.3f}")
        rec = blob["record"]
        shipped = scores["int8_precise" if chosen == "int8" else "fp32"]
        src = int8 if chosen == "int8" else fp32
        if src.stat().st_size > MAX_BUNDLE_BYTES:
            raise ValueError(f"{chosen} model is {src.stat().st_size} bytes, over the 25 MB bundle limit")
        out_dir = Path(out_dir)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        shutil.copy(src, out_dir / "model.onnx")
        shutil.copy(tok_path, out_dir / "tokenizer.json")
        from medpriv_desktop.core.models.registry import sha256_file

        card = build_card(model_id, version, ds, len(tr), len(va), len(te), cfg, rec, shipped, scores, chosen,
                          agreement, dataset, sha256_file(out_dir / "model.onnx"),
                          (out_dir / "model.onnx").stat().st_size, int(sum(p.numel() for p in enc.parameters())),
                          rationale, selection)
        atomic_write_text(out_dir / "model_card.json", card.model_dump_json(indent=2, exclude_none=True) + "\n")
        atomic_write_text(out_dir / "LICENSE", _license_text(ds))
        atomic_write_text(out_dir / "README.md", readme(card))
        return card
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _metrics(shipped: dict, scores: dict, rec: dict) -> list[Metric]:
    t, v = shipped["test"], shipped["val"]
    out = [Metric(name="weighted_f1", value=round(t["weighted_f1"], 4), split="test", n=t["n"]),
           Metric(name="macro_f1", value=round(t["macro_f1"], 4), split="test", n=t["n"]),
           Metric(name="weighted_f1", value=round(v["weighted_f1"], 4), split="validation", n=v["n"]),
           Metric(name="rules_weighted_f1", value=round(rec["rules_test"]["weighted_f1"], 4), split="test"),
           Metric(name="rules_macro_f1", value=round(rec["rules_test"]["macro_f1"], 4), split="test")]
    out += [Metric(name=f"weighted_f1_{k}", value=round(scores[k]["test"]["weighted_f1"], 4), split="test")
            for k in ("fp32", "int8_precise", "int8_default")]
    for k, val in t["per_label"].items():
        out.append(Metric(name="f1", value=round(val["f1"], 4), split="test", label=k, n=val["support"]))
        out.append(Metric(name="rules_f1", value=round(rec["rules_test"]["per_label"][k]["f1"], 4), split="test",
                          label=k, n=val["support"]))
    return out


def build_card(model_id: str, version: str, ds: ReportDataset, n_train: int, n_val: int, n_test: int,
               cfg: HybridConfig, rec: dict, shipped: dict, scores: dict, chosen: str, agreement: float,
               dataset: str, sha: str, size: int, n_params: int, rationale: str | None,
               selection: str | None) -> ModelCard:
    """The card of a ``dp-rules-head`` bundle."""
    priv = rec["privacy"]
    labels = [Label(value=j, name=n, threshold=0.5) for j, n in enumerate(ds.label_names)]
    if ds.label_set == "ChestX-ray14":
        from medpriv_desktop.core.reports.labels import CHESTXRAY14_TO_CHEXPERT

        labels = [lb.model_copy(update={"mappings": {"CheXpert": list(CHESTXRAY14_TO_CHEXPERT.get(lb.name, ()))}})
                  for lb in labels]
    eps = priv.get("epsilon")
    privacy = None
    if cfg.private() and eps is not None and math.isfinite(eps):
        privacy = Privacy(
            epsilon=round(float(eps), 4), delta=float(priv["delta"]), accountant=cfg.accountant,
            noise_multiplier=float(priv["noise_multiplier"]), max_grad_norm=cfg.max_grad_norm,
            sampling_rate=float(priv["sampling_rate"]), epochs=float(priv["epochs"]), steps=int(priv["steps"]),
            n_train=int(priv["n_train"]),
            covers=("every use of the private training reports: the trained head (rule calibration and encoder "
                    "residual) is the only thing fitted to them. Decision thresholds are fixed at 0.5, the feature "
                    "standardisation comes from synthetic reports, every label is supported, the encoder is the "
                    "public MiniLM unchanged and the rule inputs are public code: none of these read private data. "
                    "Validation and test reports were only measured"),
            target_epsilon_reached=bool(priv.get("target_epsilon_reached", True)), rationale=rationale,
            selection=selection)
    lic = CTRATE_LICENSE if ds.label_set == "CT-RATE" else OPENI_LICENSE
    t = shipped["test"]
    return ModelCard(
        id=model_id, version=version, task=Task.REPORT_CLASSIFICATION,
        title=f"{ds.label_set} report classifier (DP rules + encoder head, {ds.name})",
        description=(f"Multi-label {ds.label_set} classifier of radiology reports: the rule labeler's per-label "
                     f"outputs (positive / uncertain / negated) and the pooled features of all-MiniLM-L6-v2's first "
                     f"{cfg.num_layers} layers (frozen) feed a linear head that starts at the rule labeler and is "
                     f"trained under differential privacy (DP-SGD, opacus); ONNX ({chosen}"
                     f"{', reduce-range weights' if chosen == 'int8' else ''}), fixed 0.5 thresholds."),
        intended_use=("Research and quality-assurance labelling of de-identified radiology reports; a second opinion "
                      "beside the rule-based labeler. Not for diagnostic use."),
        license=f"inherits the training data licence: {lic}", authors=["MedPriv Desktop developers"], sha256=sha,
        size_bytes=size,
        text_input=TextInput(max_tokens=cfg.max_tokens, stride=STRIDE, lowercase=True,
                             input_names=["input_ids", "attention_mask", INPUT_NAME],
                             sections=["findings", "impression"],
                             rule_features=RuleFeatureInput(input_name=INPUT_NAME, label_set=ds.label_set,
                                                            encoding=ENCODING, labeler_version=LABELER_VERSION,
                                                            width=3 * len(ds.label_names))),
        outputs=Outputs(label_set=ds.label_set, labels=labels, activation="sigmoid", output_name="logits"),
        training=TrainingInfo(
            datasets=[Dataset(name=ds.name, license=lic, n=n_train, citation=ds.citation,
                              split=f"train {n_train} / validation {n_val} / test {n_test}, split by report id hash"),
                      Dataset(name="synthetic reports (training/reports/synthetic.py)",
                              license="Apache-2.0 (generated)",
                              n=cfg.synthetic_n, synthetic=True)],
            command=reproduce_command(dataset, cfg), date=_dt.date.today().isoformat(),
            code_revision=_git_revision(), seed=cfg.seed, hardware="CPU (2 shared cores)",
            config={k: v for k, v in config_dict(cfg).items() if k != "backbone"}),
        privacy=privacy,
        metrics=Metrics(values=_metrics(shipped, scores, rec), parameters=n_params),
        limitations=[
            f"Trained on {n_train} public reports from one institution; expect lower accuracy on other sites.",
            "Reads the rule labeler's outputs: where the rules miss a wording, the model mostly misses it too.",
            f"Test weighted F1 {t['weighted_f1']:.3f} against the rule labeler's "
            f"{rec['rules_test']['weighted_f1']:.3f} on the same {t['n']} reports; rare labels have few test "
            "positives, so their F1 is uncertain.",
            f"int8 decisions agree with float32 on {agreement:.4f} of synthetic report labels.",
        ],
    )


def readme(card: ModelCard) -> str:
    """The bundle README."""
    p = card.privacy
    m = {(x.name, x.split, x.label): x.value for x in card.metrics.values}
    lines = [f"# {card.title}", "", card.description, "", f"Intended use: {card.intended_use}", "",
             f"Label set: {card.outputs.label_set} ({len(card.outputs.labels)} labels, all supported, threshold 0.5).",
             "", "| label | F1 (model) | F1 (rules) | test positives |", "|---|---|---|---|"]
    for v in card.metrics.values:
        if v.name == "f1":
            lines.append(f"| {v.label} | {v.value:.3f} | {m.get(('rules_f1', 'test', v.label), float('nan')):.3f} | "
                         f"{v.n} |")
    lines += ["", f"Test weighted F1 {m[('weighted_f1', 'test', None)]:.3f} (rules "
                  f"{m[('rules_weighted_f1', 'test', None)]:.3f}), macro F1 {m[('macro_f1', 'test', None)]:.3f} "
                  f"(rules {m[('rules_macro_f1', 'test', None)]:.3f}); float32 "
                  f"{m[('weighted_f1_fp32', 'test', None)]:.3f}, int8 with ONNX Runtime's precise kernels "
                  f"{m[('weighted_f1_int8_precise', 'test', None)]:.3f} and default kernels "
                  f"{m[('weighted_f1_int8_default', 'test', None)]:.3f}."]
    if p is not None:
        lines += ["", f"Privacy: DP-SGD, epsilon {p.epsilon} at delta {p.delta:.2e} ({p.accountant.upper()} "
                      f"accountant), noise multiplier {p.noise_multiplier:.3f}, clip norm {p.max_grad_norm}, "
                      f"sampling rate {p.sampling_rate:.4f}, {p.steps} steps, N = {p.n_train}. Epsilon covers "
                      f"{p.covers}.", "", f"Why this epsilon: {p.rationale}", "", f"How the recipe was chosen: "
                      f"{p.selection}"]
    lines += ["", f"Licence: {card.license}", "", f"Reproduce: `{card.training.command}` then "
              "`medpriv-train reports export MODEL.pt --dataset ... --model-id ...`.", ""]
    return "\n".join(lines)
