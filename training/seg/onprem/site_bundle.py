"""A distilled student as a bundle: the teacher's input contract and labels, the recipe actually used, site marking.

The card (strict schema, no extra fields) carries the site marking in fields that exist and that the Models dialog
shows: ``intended_use`` opens with "Trained on site data: keep on site.", the first limitation says it again, the
training dataset is "unlabelled scans of this site" with licence "site data: keep on site", and
``training.config`` holds ``site_data: true`` with the recipe (loss weights, temperature, steps done, minutes, scans,
patch, channels, which teacher features were used).
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.models.card import CARD_FILE, Dataset, Metric, Metrics, ModelCard, TrainingInfo
from training.seg.bundle import code_revision, sha256_file

SITE_LINE = "Trained on site data: keep on site."


def student_id(teacher_id: str, fraction: float, prefix: str | None = None) -> str:
    """Kebab-case id of the student at ``fraction`` (``0.25`` -> ``<teacher>-site-w0250``)."""
    return f"{prefix or teacher_id + '-site'}-w{round(fraction * 1000):04d}"


def student_card(teacher: ModelCard, model_id: str, onnx_path: Path, fraction: float, divisible_by: int,
                 patch: tuple[int, int, int], recipe: dict, metrics: list[Metric], parameters: int, flops: float,
                 latency_ms: float | None, latency_note: str | None, n_scans: int, command: str) -> ModelCard:
    """A validated card for a student of ``teacher`` distilled on site scans."""
    ii = teacher.image_input.model_copy(update={"patch_size": tuple(patch), "divisible_by": divisible_by,
                                                "input_name": "image", "batch_size": 1})
    outputs = teacher.outputs.model_copy(update={"output_name": "logits", "activation": "softmax"})
    intended = (f"{SITE_LINE} A compact student distilled on the premises from the unlabelled scans of this site "
                f"by the teacher '{teacher.id}' {teacher.version}; it imitates that teacher and inherits its "
                "intended use and limits. Not for diagnostic use.")
    training = TrainingInfo(
        datasets=[Dataset(name="unlabelled scans of this site (teacher pseudo-labels, no annotations)",
                          license="site data: keep on site", n=n_scans, synthetic=False, split="train")],
        command=command, date=_dt.date.today().isoformat(), code_revision=code_revision(), teacher_id=teacher.id,
        seed=recipe.get("seed"), hardware=recipe.get("hardware"), config={"site_data": True, **recipe})
    limits = [SITE_LINE + " The weights were learnt from this site's patient scans; do not copy the bundle to "
                          "another site or share it.",
              f"Measured only as agreement with its teacher '{teacher.id}' on held-back scans of this site, not "
              "against annotations: it cannot be better than its teacher."]
    limits += [f"Teacher's: {x}" for x in teacher.limitations]
    return ModelCard(
        id=model_id, title=f"Site student of {teacher.id} at {fraction:g} width", version="1.0.0",
        task="segmentation", description=f"MONAI DynUNet student, channels {recipe.get('channels')}, distilled "
                                         f"from '{teacher.id}' with ReCo-KD terms on site scans.",
        intended_use=intended, not_for_diagnostic_use=True,
        license=f"site data: keep on site; derived from the teacher's weights ({teacher.license})",
        authors=["this site (medpriv-train seg distill)"], model_file="model.onnx", sha256=sha256_file(onnx_path),
        size_bytes=onnx_path.stat().st_size, family=teacher.family, role="student", width_fraction=fraction,
        image_input=ii, outputs=outputs, training=training,
        metrics=Metrics(values=metrics, parameters=parameters, flops=flops, cpu_latency_ms=latency_ms,
                        latency_note=latency_note),
        limitations=limits)


def _readme(card: ModelCard) -> str:
    lines = [f"# {card.title} (`{card.id}`)", "", f"**{SITE_LINE}**", "", card.description, "",
             f"**Intended use.** {card.intended_use}", "", "## Recipe", "", "```json",
             json.dumps(card.training.config, indent=1), "```", "", "## Metrics (agreement with the teacher)", ""]
    lines += [f"- {m.name}{' / ' + m.label if m.label else ''} ({m.split}): {m.value:.4f}" for m in card.metrics.values]
    lines += ["", "## Limitations", ""] + [f"- {x}" for x in card.limitations]
    lines += ["", "## Reproduce", "", f"    {card.training.command}", ""]
    return "\n".join(lines)


def write_student_bundle(card: ModelCard, out_dir: Path) -> ModelCard:
    """Write card, README and LICENSE beside ``out_dir/model.onnx`` (already there)."""
    atomic_write_text(out_dir / CARD_FILE, json.dumps(card.model_dump(mode="json", exclude_none=True), indent=2)
                      + "\n")
    atomic_write_text(out_dir / "README.md", _readme(card))
    atomic_write_text(out_dir / "LICENSE", f"{SITE_LINE}\n\nWeights learnt on this site's scans from the teacher "
                                           f"'{card.training.teacher_id}' (licence: {card.license}).\n"
                                           "NOT FOR DIAGNOSTIC USE.\n")
    return card
