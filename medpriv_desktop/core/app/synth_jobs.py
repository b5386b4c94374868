"""Job generators of the Synthesize tab: one synthetic note with its checks, and a batch assessment per method.

Plain Python (no Qt); engines, the de-identifier and the embedding model are built inside the job. The gold PHI a
synthetic note is checked against is what the reviewer accepted in the De-identify tab when that review belongs to
the same note, else what the de-identifier finds in the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.core.app.note_jobs import EngineFactory


@dataclass
class SynthResult:
    """One synthetic note, the keywords it was built from, the privacy check and the quality scores."""

    method: str
    engine: str
    synthetic: str
    keywords: list[Any]
    leaked: dict[str, int]
    present: dict[str, int]
    detector_spans: dict[str, int]
    quality: dict[str, float]
    counts: dict[str, int] = field(default_factory=dict)
    cosine_note: str = ""
    #: Keywords the reviewer typed that the PHI gate refused (a count; the refused text is not kept).
    refused_keywords: int = 0


def _encoder_or_reason(registry: Any) -> tuple[Any, str]:
    try:
        from medpriv_desktop.core.notes.synth.quality import load_embedding_encoder

        return load_embedding_encoder(registry=registry), ""
    except Exception as exc:  # cosine is optional: ROUGE still tells the story
        return None, f"cosine not computed ({type(exc).__name__})"


def edited_request(keywords: list[str], detector: Any, source: str, seed: int = 0) -> tuple[Any, int]:
    """A keyword request from keywords the reviewer typed or edited: each passes the same PHI gate as extracted
    keywords (a typed name or number is refused, counted, and dropped). Returns (request, refused count)."""
    from medpriv_desktop.core.notes.synth.engines.base import SynthRequest
    from medpriv_desktop.core.notes.synth.engines.template import guess_note_type
    from medpriv_desktop.core.notes.synth.keywords import Keyword, KeywordGate
    from medpriv_desktop.core.notes.synth.terms import term_kind

    gate = KeywordGate(detector)
    kept: list[Keyword] = []
    refused = 0
    for k in dict.fromkeys(w.strip().lower() for w in keywords if w.strip()):
        if gate.check(k) is not None or list(detector.analyze(k)):
            refused += 1
            continue
        kept.append(Keyword(k, term_kind(k) or "yake", len(kept)))
    if not kept:
        raise InputError("none of the keywords can be used", hint="type clinical words (no names, dates or numbers), "
                         "or press Extract keywords")
    return SynthRequest("keyword", kept, None, guess_note_type(kept, None), seed), refused


def synthesize_one(source: str, method: str, engine_name: str, detector_factory: EngineFactory,
                   gold: list[PhiSpan] | None = None, *, source_mode: str = "tagged", original: str | None = None,
                   seed: int = 0, registry: Any = None, with_cosine: bool = True,
                   keywords: list[str] | None = None) -> Job[SynthResult]:
    """Generate one synthetic note from ``source`` and check it against the PHI (``gold`` spans) of ``original``
    (the note before de-identification; ``source`` itself when None). Quality compares with ``original`` too.
    ``keywords`` (keyword method): the reviewer's own list instead of the extracted one, gated the same way."""
    original = source if original is None else original
    if not source.strip():
        raise InputError("there is no note to synthesize from", hint="open or paste a note in the De-identify tab")
    yield Progress(None, "loading the de-identification engine")
    detector = detector_factory()
    yield Progress(0.2, f"loading the {engine_name} engine")
    from medpriv_desktop.core.notes.synth.engines.base import get_engine
    from medpriv_desktop.core.notes.synth.methods import prepare_request
    from medpriv_desktop.core.notes.synth.privacy import assess_note, group_values
    from medpriv_desktop.core.notes.synth.quality import cosine_pairs, rouge_row

    engine = get_engine(engine_name, registry)
    yield Progress(0.3, "extracting keywords" if method == "keyword" else "preparing the context")
    refused = 0
    if method == "keyword" and keywords:
        request, refused = edited_request(keywords, detector, source, seed)
        counts = {"keywords": len(request.keywords), "rejected_typed": refused}
    else:
        prep = prepare_request(source, method, detector, source_mode=source_mode, seed=seed)
        request, counts = prep.request, dict(prep.counts)
    yield Progress(0.5, "generating")
    synthetic = engine.generate(request)
    yield Progress(0.8, "privacy check")
    spans = gold if gold is not None else detector.analyze(original)
    values = group_values(original, [(s.start, s.end, s.category) for s in spans])
    assessment = assess_note(original, values, synthetic, detector)
    quality = rouge_row(original, synthetic)
    note = ""
    if with_cosine:
        yield Progress(0.9, "similarity")
        enc, note = _encoder_or_reason(registry)
        if enc is not None:
            quality["cosine"] = float(cosine_pairs(enc, [original], [synthetic])[0])
    yield Progress(1.0, "done")
    return SynthResult(method, engine_name, synthetic, list(request.keywords), assessment.leaked,
                       assessment.present, assessment.detector_spans, quality, counts, note, refused)


def extract_keywords_job(source: str, detector_factory: EngineFactory, *, source_mode: str = "tagged"
                         ) -> Job[list[Any]]:
    """Only the keyword step of the keyword method, so the reviewer can edit the list before generating."""
    if not source.strip():
        raise InputError("there is no note to take keywords from", hint="open or paste a note in the De-identify tab")
    yield Progress(None, "loading the de-identification engine")
    detector = detector_factory()
    from medpriv_desktop.core.notes.synth.methods import prepare_request

    yield Progress(0.5, "extracting keywords")
    prep = prepare_request(source, "keyword", detector, source_mode=source_mode)
    return list(prep.request.keywords)


def assess_batch(folder: Path, methods: list[str], engine_name: str, detector_factory: EngineFactory, *,
                 registry: Any = None, limit: int = 50, with_cosine: bool = False) -> Job[dict[str, Any]]:
    """Generate and assess every ``.txt`` note of ``folder`` (up to ``limit``) with each method; the engine's
    :func:`evaluate_synthesis` result (per configuration: privacy summary per category, quality means)."""
    from medpriv_desktop.core.notes.synth.batch import list_notes
    from medpriv_desktop.core.notes.synth.corpus import SourceNote
    from medpriv_desktop.core.notes.synth.engines.base import get_engine
    from medpriv_desktop.core.notes.synth.evaluate import evaluate_synthesis
    from medpriv_desktop.core.text.reading import read_text

    if not methods:
        raise InputError("choose at least one method to assess")
    yield Progress(None, "reading notes")
    paths = list_notes(Path(folder))[:limit]
    yield Progress(None, "loading the de-identification engine")
    detector = detector_factory()
    notes = []
    for i, p in enumerate(paths):
        text = read_text(p)
        # Without gold annotations the de-identifier's findings on the source are the PHI to look for.
        notes.append(SourceNote(p.stem, text, [(s.start, s.end, s.category) for s in detector.analyze(text)]))
        yield Progress(None, f"finding PHI in the sources {i + 1}/{len(paths)}")
    engine = get_engine(engine_name, registry)
    encoder = _encoder_or_reason(registry)[0] if with_cosine else None
    # Keyword notes come from tagged sources (the app's default); one-shot methods from the note as given.
    configs = [(m, "tagged" if m == "keyword" else "raw") for m in methods]
    result = yield from evaluate_synthesis(notes, engine, detector, configs, encoder)
    return result


def generate_batch(folder: Path, output: Path, method: str, engine_name: str, detector_factory: EngineFactory, *,
                   registry: Any = None) -> Job[Any]:
    """``core.app.synthesize_notes`` (the use case ``medpriv synth`` drives: resumable, its audit entry
    ``notes.synth``) for every ``.txt`` note of ``folder`` into ``output``, sources de-identified to tags first;
    returns its ``SynthSummary`` (counts only)."""
    from medpriv_desktop.core.app import Context, SynthRequest, synthesize_notes

    yield Progress(None, "loading the de-identification engine")
    ctx = Context.build(registry=registry)
    request = SynthRequest(Path(folder), Path(output), method, engine_name, "tagged")
    summary = yield from synthesize_notes(ctx, request, detector_factory=detector_factory)
    return summary


def occurrence_table(result: dict[str, Any]) -> tuple[list[str], list[str], list[list[float]]]:
    """``(methods, categories, rates)`` of a batch assessment: rates[m][c] = share of notes whose source has
    category c and whose synthetic note contains one of its values."""
    methods = list(result.get("configs", {}))
    cats = sorted({c for cfg in result["configs"].values() for c in cfg["privacy"]["categories"]})
    rates = [[result["configs"][m]["privacy"]["categories"].get(c, {}).get("rate", 0.0) for c in cats]
             for m in methods]
    return methods, cats, rates
