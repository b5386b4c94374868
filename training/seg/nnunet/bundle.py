"""The card, LICENSE and README of an imported nnU-Net teacher bundle.

An imported bundle is never shipped: a site makes it from weights it fetched itself, so the card says where they came
from (``--source``) and under which licence (``--license``); both default to "unknown: ask the provider", which the
CLI prints as a warning and the card repeats in its limitations.
"""

from __future__ import annotations

import colorsys
import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.models.card import (
    CARD_FILE, Dataset, ImageInput, IntensityNormalization, Label, Metric, Metrics, ModelCard, Outputs, TrainingInfo,
)
from training.seg.bundle import code_revision, sha256_file
from training.seg.nnunet.plans import NnunetPart

UNKNOWN = "unknown: ask the provider"
INTENDED_USE = (
    "Teacher for on-premises distillation and for research: an nnU-Net v2 model trained elsewhere, imported at this "
    "site from weights the site fetched. Not for diagnostic use; its accuracy on this site's scans is not measured "
    "by the import.")


def kebab(text: str) -> str:
    """A kebab-case id from any text (``Dataset291_TotalSeg`` -> ``dataset291-totalseg``)."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return re.sub(r"-+", "-", s) or "nnunet-import"


def label_colour(i: int) -> tuple[int, int, int]:
    """A distinct colour per label (golden-angle hues), the same for the same index on every import."""
    r, g, b = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.65, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def card_labels(parts: list[NnunetPart]) -> list[Label]:
    """Background, then each part's labels in value order (the merged output channels)."""
    out = [Label(value=0, name="background", color=(0, 0, 0))]
    for part in parts:
        for name, value in part.labels:
            maps = {"nnunet": [f"{part.dataset_name}:{value}"]}
            if "totalsegmentator" in part.dataset_name.lower():  # its label names are TotalSegmentator's classes
                maps["totalsegmentator"] = [name]
            out.append(Label(value=len(out), name=name, color=label_colour(len(out)), mappings=maps))
    return out


def intensity(parts: list[NnunetPart], in_graph: bool) -> IntensityNormalization:
    """The card's normalisation: CTNormalization's statistics, per-image z-score, or none (normalised in-graph)."""
    p = parts[0]
    if p.normalization == "CTNormalization" and not in_graph:
        return IntensityNormalization(kind="ct-clip-zscore", clip_min=p.ct.low, clip_max=p.ct.high,  # type: ignore
                                      mean=p.ct.mean, std=max(p.ct.std, 1e-8))  # type: ignore[union-attr]
    if p.normalization == "ZScoreNormalization":
        return IntensityNormalization(kind="zscore")
    return IntensityNormalization(kind="none")


def divisible_by(parts: list[NnunetPart]) -> int:
    """The largest total stride of any axis that divides every patch side (the network's size constraint)."""
    best = 1
    for part in parts:
        totals = [1, 1, 1]
        for stride in part.arch_kwargs.get("strides", []):
            for ax, s in enumerate(stride if isinstance(stride, (list, tuple)) else [stride] * 3):
                totals[ax] *= int(s)
        best = max(best, max(totals))
    patch = parts[0].patch_card
    while best > 1 and any(p % best for p in patch):
        best //= 2
    return best


def mirror_axes(parts: list[NnunetPart], info: list[dict[str, Any]]) -> list[int]:
    """Bundle axes along which every part was trained on mirrored images (nnU-Net's allowed mirroring axes, mapped
    from network to voxel-axis order); [] when any part was trained without mirroring (TotalSegmentator's)."""
    common: set[int] | None = None
    for part, facts in zip(parts, info):
        axes = {part.card_axis_of_net[a] for a in (facts.get("mirroring_axes") or [])}
        common = axes if common is None else common & axes
    return sorted(common or [])


def label_pairs(labels: list[Label], orientation: str, mirrored: list[int]) -> list[tuple[int, int]]:
    """Left/right pairs by TotalSegmentator's naming (``kidney_left`` / ``kidney_right``).

    nnU-Net mirrors without swapping labels, so a model trained with left-right mirroring gets no pairs: the app
    then flips as nnU-Net's own test-time mirroring does.
    """
    lr_axis = next((i for i, c in enumerate(orientation) if c in "RL"), None)
    if lr_axis in mirrored:
        return []
    by_name = {lb.name: lb.value for lb in labels}
    return [(v, by_name[n[: -len("_left")] + "_right"]) for n, v in by_name.items()
            if n.endswith("_left") and n[: -len("_left")] + "_right" in by_name]


def build_card(*, parts: list[NnunetPart], model_id: str, title: str, onnx_path: Path, modality: str,
               orientation: str, in_graph_norm: bool, license_: str, source: str, command: str,
               checkpoint: str, info: list[dict[str, Any]], parity: tuple[float, float], parameters: int,
               family: str | None, version: str = "1.0.0") -> ModelCard:
    """A validated card for the imported teacher."""
    p0 = parts[0]
    labels = card_labels(parts)
    mirrored = mirror_axes(parts, info)
    # mirror_axes / label_pairs arrived with issue 19's QC work; older card schemas have neither.
    extra_in = {"mirror_axes": mirrored} if "mirror_axes" in ImageInput.model_fields else {}
    extra_out = {"label_pairs": label_pairs(labels, orientation, mirrored)} \
        if "label_pairs" in Outputs.model_fields else {}
    image_input = ImageInput(
        modalities=[modality], channels=1, spacing_mm=p0.spacing_card, orientation=orientation,
        intensity={modality: intensity(parts, in_graph_norm)}, patch_size=p0.patch_card, overlap=0.5, batch_size=1,
        input_name="image", divisible_by=divisible_by(parts), **extra_in)
    datasets = [Dataset(name=f"{p.dataset_name} (the provider's nnU-Net training data; not seen by this site)",
                        license=license_, citation=source) for p in parts]
    config = {
        "imported_from": "nnU-Net v2", "source": source, "checkpoint": checkpoint,
        "merge": ("single model" if len(parts) == 1 else
                  "TotalSegmentator part-after-part rule as merged logits (training/seg/nnunet/graph.py)"),
        "parts": [{"dataset": p.dataset_name, "trainer": i.get("trainer_name", p.trainer), "plans": p.plans_name,
                   "configuration": p.configuration, "folds": p.folds, "normalization": p.normalization,
                   "transpose_forward": list(p.transpose_forward), "mirroring_axes": i.get("mirroring_axes"),
                   "checkpoint_sha256": [sha256_file(c) for c in p.checkpoints], "labels": len(p.labels)}
                  for p, i in zip(parts, info)],
        "predictor_settings": {"tile_step_size": 0.5, "gaussian_sigma_scale": 0.125,
                               "fold_average": "logits (as nnU-Net's predictor)"},
    }
    limitations = [f"Imported weights: licence '{license_}', source '{source}'. Check that the licence allows use "
                   "at this site before using the model or its students."] if UNKNOWN in (license_, source) else []
    limitations += [
        f"Expects images whose voxel axes point {orientation} as the provider's training images did (the app "
        "reorients to that before inference).",
        "The app resamples linearly to the model spacing; nnU-Net resamples with third-order splines, so results "
        "differ slightly from nnU-Net's on scans of another spacing.",
    ]
    if mirrored:
        limitations.append(f"The trainer mirrored images along bundle axes {mirrored}: --tta averages those flips "
                           "as nnU-Net's test-time mirroring does; the app runs without it by default.")
    limitations.append("Scans shorter than one tile along an axis are padded by the app at the far end with air; "
                       "nnU-Net pads both ends with the mean intensity, so results near such edges can differ.")
    if any(p.use_mask_for_norm for p in parts):
        limitations.append("The plans normalise inside the non-zero mask; the app normalises over the whole image.")
    limitations.append("Not for diagnostic use.")
    names = ", ".join(p.dataset_name for p in parts)
    return ModelCard(
        id=model_id, title=title, version=version, task="segmentation",
        description=(f"nnU-Net v2 model(s) {names} imported as one ONNX graph: {len(parts)} part(s), folds "
                     f"{', '.join('/'.join(p.folds) for p in parts)}, checkpoint '{checkpoint}'."),
        intended_use=INTENDED_USE, not_for_diagnostic_use=True, license=license_, authors=[source],
        model_file="model.onnx", sha256=sha256_file(onnx_path), size_bytes=onnx_path.stat().st_size,
        family=family or model_id, role="teacher", image_input=image_input,
        outputs=Outputs(label_set=f"nnunet:{names}", labels=labels, activation="softmax", output_name="logits",
                        **extra_out),
        training=TrainingInfo(datasets=datasets, command=command, date=_dt.date.today().isoformat(),
                              code_revision=code_revision(), config=config),
        metrics=Metrics(values=[Metric(name="onnx_vs_torch_max_abs_logit_diff", value=parity[0], split="random tile"),
                                Metric(name="onnx_vs_torch_logit_diff_q9999", value=parity[1], split="random tile")],
                        parameters=parameters),
        limitations=limitations)


def write_bundle_files(card: ModelCard, out: Path) -> None:
    """Write ``model_card.json``, ``LICENSE`` and ``README.md`` beside ``model.onnx``."""
    atomic_write_text(out / CARD_FILE, json.dumps(card.model_dump(mode="json", exclude_none=True), indent=2) + "\n")
    atomic_write_text(out / "LICENSE", f"Licence of these weights: {card.license}\nSource: {card.authors[0]}\n\n"
                      "Imported at this site with `medpriv-train seg import-nnunet`; the weights were not made by "
                      "the MedPriv Desktop developers. NOT FOR DIAGNOSTIC USE.\n")
    lines = [f"# {card.title} (`{card.id}`)", "", card.description, "", f"**Intended use.** {card.intended_use}", "",
             "## Labels", "", "| value | name |", "|---|---|"]
    lines += [f"| {lb.value} | {lb.name} |" for lb in card.outputs.labels]
    lines += ["", "## Limitations", ""] + [f"- {x}" for x in card.limitations]
    lines += ["", "## Made with", "", f"    {card.training.command}", ""]
    atomic_write_text(out / "README.md", "\n".join(lines))
