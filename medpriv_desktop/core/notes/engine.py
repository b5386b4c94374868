"""The de-identification engine: Presidio's analyzer over a blank spaCy pipeline with the project's recognizers.

``DeidEngine()`` builds once (Presidio import, blank ``en`` pipeline, rule recognizers, and the bundled PHI model
when one is installed) and then ``analyze(text) -> list[PhiSpan]`` per note. Stage 1 is Presidio's analyzer over the
rule recognizers (patterns, context and lexicons); stage 2 runs the PHI model (also a Presidio recognizer) only
around words the rules left in doubt (:meth:`PhiModelRecognizer.find_where_doubt`); overlapping spans are merged. Offline by construction: no spaCy model
is loaded or downloaded (``spacy.blank("en")``), tldextract's suffix-list download is switched off before Presidio is
imported, Presidio's ``log_decision_process`` stays off (it would log note tokens), and no torch is needed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from medpriv_desktop.core.notes.spans import PhiSpan, merge_spans

log = logging.getLogger(__name__)


def _offline_environment() -> None:
    # tldextract (pulled in by Presidio's e-mail/URL recognizers) would fetch the public suffix list.
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def blank_nlp_engine() -> Any:
    """A Presidio NLP engine over ``spacy.blank("en")``: tokens only, no model files, nothing downloaded."""
    _offline_environment()
    import spacy
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankSpacyNlpEngine(SpacyNlpEngine):
        """SpacyNlpEngine whose pipeline is a blank English tokenizer."""

        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    engine = BlankSpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    return engine


def _recognizers_own_context() -> Any:
    """A Presidio context enhancer that leaves scores as they are: the project's recognizers apply their own context
    rules, and with empty NLP artifacts Presidio's lemma enhancer has nothing to read (it only costs time)."""
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer

    class OwnContext(ContextAwareEnhancer):
        """No-op enhancer (see the function docstring)."""

        def __init__(self) -> None:
            super().__init__(context_similarity_factor=0.0, min_score_with_context_similarity=0.0,
                             context_prefix_count=0, context_suffix_count=0)

        def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):  # noqa: D102
            return raw_results

    return OwnContext()


@dataclass
class EngineConfig:
    """Knobs of the engine: score threshold and whether to use the PHI model."""

    threshold: float = 0.0
    use_model: bool = True
    #: Run the blank spaCy tokenizer for every note. The project's recognizers read the plain text and carry their
    #: own context rules, so by default Presidio gets empty NLP artifacts (half the time per note saved); turn this
    #: on when adding Presidio recognizers that use tokens or context words.
    spacy_tokens: bool = False
    model_id: str | None = None
    categories: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class DeidEngine:
    """Finds PHI spans in a note (see the module docstring)."""

    def __init__(self, config: EngineConfig | None = None, recognizers: list | None = None, model_recognizer: Any = None) -> None:
        _offline_environment()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

        from medpriv_desktop.core.notes.recognizers import default_recognizers

        self.config = config or EngineConfig()
        registry = RecognizerRegistry(supported_languages=["en"])
        self.recognizers = recognizers if recognizers is not None else default_recognizers()
        for r in self.recognizers:
            registry.add_recognizer(r)
        self.model_recognizer = model_recognizer
        if model_recognizer is None and self.config.use_model:
            from medpriv_desktop.core.notes.model_recognizer import load_default_model_recognizer

            self.model_recognizer = load_default_model_recognizer(self.config.model_id)
        # The PHI model is a Presidio recognizer too, but it runs as a second stage (see _analyze_piece): only
        # around words the rules left in doubt, so most notes never pay for a model call.
        enhancer = None if self.config.spacy_tokens else _recognizers_own_context()
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=blank_nlp_engine(), supported_languages=["en"],
                                       log_decision_process=False, default_score_threshold=self.config.threshold,
                                       context_aware_enhancer=enhancer)
        self.entities = sorted({e for r in registry.recognizers for e in r.supported_entities})
        self.registry = registry

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

    def _analyze_piece(self, text: str) -> list[PhiSpan]:
        if not text.strip():
            return []
        artifacts = None
        if not self.config.spacy_tokens:
            from presidio_analyzer.nlp_engine import NlpArtifacts

            artifacts = NlpArtifacts(entities=[], tokens=[], tokens_indices=[], lemmas=[],
                                     nlp_engine=self.analyzer.nlp_engine, language="en")
        results = self.analyzer.analyze(text=text, language="en", entities=self.config.categories or self.entities,
                                        score_threshold=self.config.threshold, nlp_artifacts=artifacts)
        spans = [PhiSpan(r.start, r.end, r.entity_type, float(r.score),
                         (r.recognition_metadata or {}).get("recognizer_name", "")) for r in results]
        if self.model_recognizer is not None:
            spans += [s for s in self.model_recognizer.find_where_doubt(text, spans) if s.score >= self.config.threshold]
        return merge_spans(spans)
