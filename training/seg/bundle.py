"""Bundle writer: ``model.onnx`` + a filled ``model_card.json`` + ``LICENSE`` + ``README.md`` in one folder.

The card carries the label table (colours, TotalSegmentator names, reference volumes from published adult norms,
connected-component hints), the input contract (CT and MR normalisation, spacing, RAS, patch), the measured metrics,
the training data and the command that produced the weights, and the sha256 of ``model.onnx``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.models.card import (
    CARD_FILE, Dataset, ImageInput, Label, Metric, Metrics, ModelCard, Outputs, ReferenceRange, TrainingInfo,
)
from training.seg.config import CT_NORM, MR_NORM
from training.seg.labels import LABEL_PAIRS, SEG_LABELS

FAMILY = "seg-phantom-torso"
LABEL_SET = "medpriv-phantom-torso-v1"
INTENDED_USE = (
    "Research and demonstration of on-premises segmentation with compact distilled models. Trained only on "
    "synthetic computational phantoms (procedural torso label maps with simulated CT and MR-like images); not for "
    "diagnostic use and not validated on patients."
)
LIMITATIONS = [
    "Trained on synthetic phantoms only: analytic organ shapes, no pathology, no contrast-phase realism, no "
    "implants; expect errors on real scans, especially for small structures (adrenal glands, gallbladder).",
    "'body' means all other tissue inside the skin; TotalSegmentator has no such class, so it is not compared.",
    "'vertebrae' and 'ribs' are single classes (no per-level numbering).",
    "Expects a torso scan (abdomen and/or chest) at any resolution; the app resamples to the card's spacing "
    "({spacing:g} mm), so label maps are coarse on finer scans (a {spacing:g} mm block per model voxel).",
    "Not for diagnostic use.",
]


def limitations(spacing: float, metrics: list[Metric] | None = None) -> list[str]:
    """The card's limitations for a model working at ``spacing`` mm; with held-out per-structure Dice in
    ``metrics``, the structures it rarely finds (Dice below 0.2) are named."""
    out = [x.format(spacing=spacing) for x in LIMITATIONS]
    weak = [m.label for m in (metrics or []) if m.name == "dice" and m.split == "held-out-phantoms-ct+mr"
            and m.label and m.value < 0.2]
    if weak:
        out.insert(1, "Small CPU training budget: on held-out phantoms these structures have Dice below 0.2 and "
                      f"should not be relied on: {', '.join(weak)} (per-structure Dice in the metrics).")
    return out


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def card_labels() -> list[Label]:
    """The card's label table from :data:`training.seg.labels.SEG_LABELS`."""
    out = []
    for lb in SEG_LABELS:
        ref = ReferenceRange(min_ml=lb.reference[0], max_ml=lb.reference[1], source=lb.reference[2]) \
            if lb.reference else None
        out.append(Label(value=lb.value, name=lb.name, title=lb.title, color=lb.color, reference_volume=ref,
                         volume_note=lb.volume_note, keep_largest_component=lb.keep_largest, expected_components=lb.components,
                         mappings={"totalsegmentator": list(lb.totalseg)} if lb.totalseg else {}))
    return out


def code_revision() -> str | None:
    """Current git commit of the repository, when available."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              check=True).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def build_card(*, model_id: str, title: str, onnx_path: Path, role: str, width_fraction: float,
               patch: tuple[int, int, int], spacing: float, divisible_by: int, metrics: list[Metric],
               parameters: int, flops: float, latency_ms: float | None, latency_note: str | None,
               n_phantoms: int, command: str, seed: int, config: dict[str, Any], teacher_id: str | None,
               description: str, version: str = "1.0.0", mirror_axes: tuple[int, ...] = ()) -> ModelCard:
    """A validated :class:`ModelCard` for one network of the family.

    ``mirror_axes``: the RAS axes the training mirrored images along (with left/right labels swapped). The family's
    recipe mirrors nothing (a torso is not symmetric and the label set has left/right pairs), so the card says
    ``[]`` and the app neither averages flips nor takes a flipped image as QC's second opinion.
    """
    image_input = ImageInput(
        modalities=["CT", "MR"], channels=1, spacing_mm=(spacing, spacing, spacing), orientation="RAS",
        intensity={"CT": CT_NORM, "MR": MR_NORM}, patch_size=patch, overlap=0.5, batch_size=1,
        input_name="image", divisible_by=divisible_by, mirror_axes=list(mirror_axes))
    training = TrainingInfo(
        datasets=[Dataset(name="MedPriv procedural torso phantoms (CT and MR-like synthesis)",
                          license="Apache-2.0 (generated by this project)", n=n_phantoms, synthetic=True,
                          split="train")],
        command=command, date=_dt.date.today().isoformat(), code_revision=code_revision(), teacher_id=teacher_id,
        seed=seed, hardware="2-core shared CPU, 1 torch thread", config=config)
    return ModelCard(
        id=model_id, title=title, version=version, task="segmentation", description=description,
        intended_use=INTENDED_USE, not_for_diagnostic_use=True, license="Apache-2.0",
        authors=["MedPriv Desktop developers"], model_file="model.onnx", sha256=sha256_file(onnx_path),
        size_bytes=onnx_path.stat().st_size, family=FAMILY, role=role, width_fraction=width_fraction,
        image_input=image_input,
        outputs=Outputs(label_set=LABEL_SET, labels=card_labels(), activation="softmax", output_name="logits",
                        label_pairs=list(LABEL_PAIRS)),
        training=training,
        metrics=Metrics(values=metrics, parameters=parameters, flops=flops, cpu_latency_ms=latency_ms,
                        latency_note=latency_note),
        limitations=limitations(spacing, metrics))


def _readme(card: ModelCard) -> str:
    lines = [f"# {card.title} (`{card.id}`)", "", card.description, "", f"**Intended use.** {card.intended_use}", "",
             "## Labels", "", "| value | name | TotalSegmentator | reference volume (ml) |", "|---|---|---|---|"]
    for lb in card.outputs.labels:
        ref = f"{lb.reference_volume.min_ml:g}-{lb.reference_volume.max_ml:g}" if lb.reference_volume else ""
        ts = ", ".join(lb.mappings.get("totalsegmentator", [])[:3])
        ts += " ..." if len(lb.mappings.get("totalsegmentator", [])) > 3 else ""
        lines.append(f"| {lb.value} | {lb.name} | {ts} | {ref} |")
    lines += ["", "## Metrics", ""]
    for m in card.metrics.values:
        lines.append(f"- {m.name}{' / ' + m.label if m.label else ''} ({m.split}): {m.value:.4f}")
    lines += [f"- parameters: {card.metrics.parameters}", f"- FLOPs per patch: {card.metrics.flops:.3g}",
              f"- CPU latency per patch: {card.metrics.cpu_latency_ms} ms ({card.metrics.latency_note})", "",
              "## Limitations", ""] + [f"- {x}" for x in card.limitations]
    lines += ["", "## Reproduce", "", f"    {card.training.command}", ""]
    return "\n".join(lines)


_LICENSE = """Apache License 2.0 (weights and card), MedPriv Desktop developers.

These weights were trained only on synthetic phantoms generated by this project's code. The full licence text is
at https://www.apache.org/licenses/LICENSE-2.0 (also in the project's LICENSE file).
NOT FOR DIAGNOSTIC USE.
"""


def write_bundle(card_kwargs: dict[str, Any], onnx_src: Path, out_dir: str | Path) -> ModelCard:
    """Copy the ONNX file into ``out_dir``, fill and validate the card, write LICENSE and README."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dst = out / "model.onnx"
    if Path(onnx_src).resolve() != dst.resolve():
        tmp = out / ".model.onnx.part"
        shutil.copyfile(onnx_src, tmp)
        tmp.replace(dst)
    card = build_card(onnx_path=dst, **card_kwargs)
    atomic_write_text(out / CARD_FILE, json.dumps(card.model_dump(mode="json", exclude_none=True), indent=2) + "\n")
    atomic_write_text(out / "LICENSE", _LICENSE)
    atomic_write_text(out / "README.md", _readme(card))
    return card
