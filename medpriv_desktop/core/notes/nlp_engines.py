"""The Presidio NLP engine and context enhancer the de-identification engine runs with. Offline by construction.

Context words work through Presidio's :class:`LemmaContextAwareEnhancer` (whole-word matching, the five words before a
match) over NLP artifacts from a blank spaCy pipeline. A blank pipeline has no lemmatizer (its lemmas are empty, which
would make every context word inert), so :class:`LowerLemmaNlpEngine` gives the lower-cased token text as lemmas.

The artifacts cost about as much as the rule recognizers themselves, and most results need none: the built-in
recognizers' own cue rules have decided them (they carry Presidio's "already enhanced" flag). So the analyzer is given
empty artifacts, and :func:`context_enhancer` tokenises a note only when a result is still open, that is its
recognizer declares context words (a built-in weak candidate, a site recognizer) and no rule decided it.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Any

#: Presidio's defaults for the lemma enhancer: +0.35, at least 0.4, the five words before the match.
CONTEXT_FACTOR = 0.35
CONTEXT_MIN_SCORE = 0.4
CONTEXT_PREFIX_WORDS = 5
CONTEXT_SUFFIX_WORDS = 0


def offline_environment() -> None:
    """Switch off what Presidio's dependencies would fetch (tldextract's suffix list, model hubs)."""
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def blank_nlp_engine(lemmas: bool = False) -> Any:
    """A Presidio NLP engine over ``spacy.blank("en")``: tokens only, no model files, nothing downloaded; with
    ``lemmas`` a :class:`LowerLemmaNlpEngine` whose artifacts carry lower-cased tokens as lemmas."""
    offline_environment()
    import spacy
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
    from spacy.lang.en.stop_words import STOP_WORDS

    class BlankSpacyNlpEngine(SpacyNlpEngine):
        """SpacyNlpEngine whose pipeline is a blank English tokenizer."""

        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    class LowerLemmaNlpEngine(BlankSpacyNlpEngine):
        """Blank tokenizer; lemmas are the lower-cased tokens, stop words and punctuation judged without the vocab
        (looking words up in spaCy's vocab would add every new word of every note to it)."""

        def process_text(self, text: str, language: str) -> NlpArtifacts:
            doc = self.nlp[language](text)
            return NlpArtifacts(entities=[], tokens=doc, tokens_indices=[t.idx for t in doc],
                                lemmas=[t.lower_ for t in doc], nlp_engine=self, language=language)

        def is_stopword(self, word: str, language: str) -> bool:
            return word.lower() in STOP_WORDS

        def is_punct(self, word: str, language: str) -> bool:
            return bool(word) and all(unicodedata.category(c).startswith("P") for c in word)

    cls = LowerLemmaNlpEngine if lemmas else BlankSpacyNlpEngine
    engine = cls(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    return engine


def empty_artifacts(nlp_engine: Any) -> Any:
    """NLP artifacts with no tokens: what the analyzer is given, so that :func:`context_enhancer` tokenises a note
    only when a result needs its context words."""
    from presidio_analyzer.nlp_engine import NlpArtifacts

    return NlpArtifacts(entities=[], tokens=[], tokens_indices=[], lemmas=[], nlp_engine=nlp_engine, language="en")


def context_enhancer(nlp_engine: Any = None) -> Any:
    """Presidio's lemma context enhancer, matching context words as whole words (Presidio's default, substring
    matching, would let a context word "id" support a match after "did" or "side"). With ``nlp_engine`` (a
    :func:`blank_nlp_engine` with lemmas), a note given empty artifacts is tokenised by it only when a result is
    open (see the module docstring); otherwise the results pass unchanged and nothing is tokenised."""
    from presidio_analyzer import RecognizerResult
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    decided_key = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY
    id_key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY

    class LazyLemmaContextEnhancer(LemmaContextAwareEnhancer):
        """Lemma enhancer that makes the NLP artifacts itself, and only for notes with open results."""

        def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):  # noqa: D102
            if nlp_engine is not None and (nlp_artifacts is None or not nlp_artifacts.tokens):
                with_context = {r.id for r in recognizers if r.context}
                if not any((r.recognition_metadata or {}).get(id_key) in with_context
                           and not (r.recognition_metadata or {}).get(decided_key) for r in raw_results):
                    return raw_results
                nlp_artifacts = nlp_engine.process_text(text, "en")
            return super().enhance_using_context(text, raw_results, nlp_artifacts, recognizers, context)

    return LazyLemmaContextEnhancer(context_similarity_factor=CONTEXT_FACTOR,
                                    min_score_with_context_similarity=CONTEXT_MIN_SCORE,
                                    context_prefix_count=CONTEXT_PREFIX_WORDS,
                                    context_suffix_count=CONTEXT_SUFFIX_WORDS, context_matching_mode="whole_word")
