"""``evaluate_synthesis``: the assessment behind ``medpriv eval synth`` (privacy, quality, optional utility).

Each configuration is a method and a source mode (``keyword/tagged``: keywords from the de-identifier's output;
``keyword/raw``: keywords from the note as given, only the keyword gate protecting them; ``one-shot/raw`` and
``normalized/raw``: the study's one-shot settings). Every synthetic note is assessed against the gold PHI of its own
source (:mod:`.privacy`) and scored for quality (:mod:`.quality`). Synthetic notes stay in memory unless a folder is
given for them: generated text is never written next to the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.notes.synth.corpus import SourceNote
from medpriv_desktop.core.notes.synth.engines.base import SynthEngine
from medpriv_desktop.core.notes.synth.keywords import KeywordGate, PhiDetector
from medpriv_desktop.core.notes.synth.methods import prepare_request
from medpriv_desktop.core.notes.synth.privacy import assess_note, group_values, summarize
from medpriv_desktop.core.notes.synth.quality import cosine_pairs, rouge_row, summarize_quality

DEFAULT_CONFIGS: tuple[tuple[str, str], ...] = (("keyword", "tagged"), ("keyword", "raw"), ("one-shot", "raw"),
                                                ("normalized", "raw"))


def parse_configs(spec: str) -> list[tuple[str, str]]:
    """``keyword/tagged,one-shot/raw`` -> ``[("keyword", "tagged"), ("one-shot", "raw")]`` (mode defaults to raw
    for one-shot methods and tagged for keywords)."""
    out = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        method, _, mode = part.partition("/")
        out.append((method, mode or ("tagged" if method == "keyword" else "raw")))
    return out


def evaluate_synthesis(notes: list[SourceNote], engine: SynthEngine, detector: PhiDetector | None,
                       configs: list[tuple[str, str]] | tuple = DEFAULT_CONFIGS, encoder: Any = None, seed: int = 0,
                       notes_dir: str | Path | None = None, max_keywords: int = 20) -> Job[dict[str, Any]]:
    """Generate and assess every note under every configuration; return the result dictionary."""
    gate = KeywordGate(detector)
    total = max(1, len(notes) * len(configs))
    step = 0
    result: dict[str, Any] = {"n_notes": len(notes), "engine": engine.describe(), "seed": seed, "configs": {}}
    for method, mode in configs:
        label = f"{method}/{mode}"
        assessments, rouge_rows, sources, outputs = [], [], [], []
        counts: dict[str, int] = {}
        for i, note in enumerate(notes):
            yield Progress(step / total, f"{label}: note {i + 1}/{len(notes)}")
            step += 1
            prep = prepare_request(note.text, method, detector, source_mode=mode, seed=seed + i, gate=gate,
                                   max_keywords=max_keywords)
            synthetic = engine.generate(prep.request)
            for k, v in prep.counts.items():
                counts[k] = counts.get(k, 0) + v
            if notes_dir is not None:
                atomic_write_text(Path(notes_dir) / label.replace("/", "_") / f"{note.id}.txt", synthetic)
            values = group_values(note.text, note.spans)
            assessments.append(assess_note(note.text, values, synthetic, detector))
            rouge_rows.append(rouge_row(note.text, synthetic))
            sources.append(note.text)
            outputs.append(synthetic)
        quality = summarize_quality(rouge_rows)
        if encoder is not None:
            yield Progress(step / total, f"{label}: embeddings")
            quality["cosine"] = float(cosine_pairs(encoder, sources, outputs).mean())
        result["configs"][label] = {"method": method, "source_mode": mode, "privacy": summarize(assessments),
                                    "quality": quality, "counts": counts}
    yield Progress(1.0, "done")
    return result
