"""The de-identification engine: Presidio's analyzer over a blank spaCy pipeline with the project's recognizers.

``DeidEngine()`` builds once (Presidio import, blank ``en`` pipeline, rule recognizers, and the bundled PHI model
when one is installed) and then ``analyze(text) -> list[PhiSpan]`` per note. Stage 1 is Presidio's analyzer over the
rule recognizers (patterns, context and lexicons); stage 2 runs the PHI tagger (also a Presidio recognizer) over
every token of the note, and the result is the union of both, overlapping spans merged. Offline by construction:
no spaCy model is loaded or downloaded (``spacy.blank("en")``), tldextract's suffix-list download is switched off
before Presidio is imported, Presidio's ``log_decision_process`` stays off (it would log note tokens), and no torch is
needed.

Context words work the Presidio way for every recognizer that declares them: the built-in recognizers' weak
candidates (``find_weak``, e.g. a bare 5-6 digit number near "MRN") and hospital IT's recognizers
(``recognizers.yaml`` in the site folder, :mod:`.site_recognizers`, joined to stage 1 when the file exists, its
sha256 in :attr:`DeidEngine.site_recognizers_hash`). Presidio's lemma context enhancer lifts such a result to at
least 0.4 when a context word is among the five words before it, and :meth:`DeidEngine._kept` drops those still below
:data:`CONTEXT_FLOOR`. NLP artifacts (blank spaCy tokens, lower-cased lemmas) are made only for notes with such an
open result (:mod:`.nlp_engines`). The engine keeps no per-note state: one instance may analyse notes from several
threads at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.notes.nlp_engines import (CONTEXT_MIN_SCORE, blank_nlp_engine, context_enhancer,
                                                    empty_artifacts, offline_environment)
from medpriv_desktop.core.notes.spans import PhiSpan, merge_spans

log = logging.getLogger(__name__)
__all__ = ["CONTEXT_FLOOR", "DeidEngine", "EngineConfig", "blank_nlp_engine"]

#: A result of a recognizer with context words is kept only at this score or above (or the threshold if higher):
#: Presidio's enhancer lifts a result with a context word before it to at least this much.
CONTEXT_FLOOR = CONTEXT_MIN_SCORE


@dataclass
class EngineConfig:
    """Knobs of the engine: score threshold and whether to use the PHI model."""

    threshold: float = 0.0
    use_model: bool = True
    #: Tokenise every note for Presidio, not only notes with a result that a context word may decide (same spans,
    #: more time; for comparisons and recognizers that read tokens themselves).
    spacy_tokens: bool = False
    #: Load hospital IT's ``recognizers.yaml`` from the site folder when there is one (:mod:`.site_recognizers`).
    site_recognizers: bool = True
    #: The user's ``site_models_dir`` setting, for finding the site folder (a machine-wide site config still wins).
    site_models_dir: str | None = None
    model_id: str | None = None
    #: Intra-op threads of the PHI model's ONNX session (``Context.sessions.threads``); None: the encoder default.
    threads: int | None = None
    categories: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class DeidEngine:
    """Finds PHI spans in a note (see the module docstring)."""

    def __init__(self, config: EngineConfig | None = None, recognizers: list | None = None, model_recognizer: Any = None,
                 *, models: Any = None) -> None:
        """``models`` is the model registry to take the PHI model from: the Context's (``core/app``); without one,
        a registry from the saved settings (same site rule), for callers outside the app such as training."""
        offline_environment()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

        from medpriv_desktop.core.notes.recognizers import default_recognizers

        self.config = config or EngineConfig()
        self.models = models  # the registry the PHI model came from (None: the settings' one)
        registry = RecognizerRegistry(supported_languages=["en"])
        self.recognizers = recognizers if recognizers is not None else default_recognizers()
        for r in self.recognizers:
            registry.add_recognizer(r)
        self.site = self._add_site_recognizers(registry)  # before the model: a bad site file fails fast
        self.model_recognizer = model_recognizer
        if model_recognizer is None and self.config.use_model:
            from medpriv_desktop.core.notes.model_recognizer import load_default_model_recognizer

            self.model_recognizer = load_default_model_recognizer(self.config.model_id, registry=models,
                                                                  threads=self.config.threads)
        # Context words need tokens and lemmas: the enhancer makes them for the notes that have an open result.
        nlp_engine = blank_nlp_engine(lemmas=True)
        self._gated_ids = frozenset(r.id for r in registry.recognizers if r.context)
        self.uses_context = bool(self._gated_ids)
        self._floor = max(CONTEXT_FLOOR, self.config.threshold)
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine,
                                       supported_languages=["en"], log_decision_process=False,
                                       default_score_threshold=self.config.threshold,
                                       context_aware_enhancer=context_enhancer(nlp_engine))
        self.entities = sorted({e for r in registry.recognizers for e in r.supported_entities})
        self.registry = registry

    def _add_site_recognizers(self, registry: Any) -> Any:
        """Load the site's recognizers file into ``registry`` (None when there is none or it is switched off)."""
        if not self.config.site_recognizers:
            return None
        from medpriv_desktop.core.notes.site_recognizers import find_site_recognizers

        site = find_site_recognizers(self.config.site_models_dir, frozenset(r.name for r in registry.recognizers))
        if site is None:
            return None
        for r in site.recognizers:
            registry.add_recognizer(r)
        return site

    @property
    def site_recognizers_hash(self) -> str | None:
        """sha256 of the site recognizers file in use (None without one): part of the engine's identity for audit
        entries and batch resume manifests."""
        return self.site.sha256 if self.site is not None else None

    @property
    def site_recognizers_path(self) -> Path | None:
        """The site recognizers file in use, or None."""
        return self.site.path if self.site is not None else None

    def _kept(self, result: Any) -> bool:
        """Results of recognizers with context words (site ones, built-in weak candidates) must reach
        :data:`CONTEXT_FLOOR` (or the threshold): below it only a context word lifts them."""
        if not self._gated_ids:
            return True
        from presidio_analyzer import RecognizerResult

        rid = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY)
        return rid not in self._gated_ids or result.score >= self._floor

    @property
    def model_id(self) -> str | None:
        """Id of the PHI model in use, or None for rules only."""
        return getattr(self.model_recognizer, "model_id", None)

    @property
    def model_fields(self) -> dict[str, Any]:
        """The PHI model's identity for audit entries and resume manifests: id, version, manifest hash and root
        (``{"model_id": None}`` for rules only)."""
        return dict(getattr(self.model_recognizer, "audit_fields", None) or {"model_id": self.model_id})

    #: Longer texts are analysed in pieces cut at line breaks (spaCy refuses texts over 1,000,000 characters, and
    #: memory stays bounded); a name at a cut is still found because cuts fall on line breaks.
    CHUNK_CHARS = 100_000

    def analyze(self, text: str) -> list[PhiSpan]:
        """PHI spans of ``text``, overlaps merged."""
        if not text.strip():
            return []
        if len(text) <= self.CHUNK_CHARS:
            return self._analyze_piece(text)
        spans: list[PhiSpan] = []
        start = 0
        while start < len(text):
            end = min(len(text), start + self.CHUNK_CHARS)
            if end < len(text):
                cut = text.rfind("\n", start + self.CHUNK_CHARS // 2, end)
                end = cut + 1 if cut > 0 else end
            spans += [PhiSpan(s.start + start, s.end + start, s.category, s.score, s.source)
                      for s in self._analyze_piece(text[start:end])]
            start = end
        return merge_spans(spans)

    def analyze_many(self, texts: list[str]) -> list[list[PhiSpan]]:
        """:meth:`analyze` for several notes at once: the same spans (each tagger window runs by itself,
        ``core/text/encoder.py``), with the windows of all the notes shared out over the encoder's threads."""
        short = [i for i, t in enumerate(texts) if t.strip() and len(t) <= self.CHUNK_CHARS]
        model_spans: dict[int, list[PhiSpan]] = {}
        if self.model_recognizer is not None and short:
            found = self.model_recognizer.find_many([texts[i] for i in short])
            model_spans = dict(zip(short, found))
        out = []
        for i, text in enumerate(texts):
            if i in model_spans:
                out.append(self._analyze_piece(text, model_spans[i]))
            else:
                out.append(self.analyze(text))
        return out

    def _analyze_piece(self, text: str, model_spans: list[PhiSpan] | None = None) -> list[PhiSpan]:
        if not text.strip():
            return []
        # Empty artifacts: the context enhancer tokenises the note itself when a result needs it (nlp_engines.py);
        # None makes Presidio tokenise every note.
        artifacts = None if self.config.spacy_tokens else empty_artifacts(self.analyzer.nlp_engine)
        results = self.analyzer.analyze(text=text, language="en", entities=self.config.categories or self.entities,
                                        score_threshold=self.config.threshold, nlp_artifacts=artifacts)
        spans = [PhiSpan(r.start, r.end, r.entity_type, float(r.score),
                         (r.recognition_metadata or {}).get("recognizer_name", "")) for r in results if self._kept(r)]
        if self.model_recognizer is not None:
            # Union, not gated by the rules: the tagger reads every token (model_recognizer.py).
            if model_spans is None:
                model_spans = self.model_recognizer.find(text)
            spans += [s for s in model_spans if s.score >= self.config.threshold]
        return merge_spans(spans)
