"""The Presidio NLP engines and context enhancers the de-identification engine runs with. Offline by construction.

Two set-ups (chosen by :class:`~medpriv_desktop.core.notes.engine.DeidEngine`):

* built-in rules only (the fast path): the project's recognizers read the plain text and apply their own context
  rules, so Presidio gets empty NLP artifacts and an enhancer that changes nothing (about half the time per note);
* with site recognizers: Presidio's :class:`LemmaContextAwareEnhancer` over real artifacts from a blank spaCy
  pipeline. A blank pipeline has no lemmatizer (its lemmas are empty, which would make every context word inert), so
  :class:`LowerLemmaNlpEngine` gives the lower-cased token text as lemmas.
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
    """NLP artifacts with no tokens (the fast path: nothing is tokenised for Presidio)."""
    from presidio_analyzer.nlp_engine import NlpArtifacts

    return NlpArtifacts(entities=[], tokens=[], tokens_indices=[], lemmas=[], nlp_engine=nlp_engine, language="en")


def context_enhancer() -> Any:
    """Presidio's lemma context enhancer, matching context words as whole words (Presidio's default, substring
    matching, would let a context word "id" support a match after "did" or "side")."""
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    return LemmaContextAwareEnhancer(context_similarity_factor=CONTEXT_FACTOR,
                                     min_score_with_context_similarity=CONTEXT_MIN_SCORE,
                                     context_prefix_count=CONTEXT_PREFIX_WORDS,
                                     context_suffix_count=CONTEXT_SUFFIX_WORDS, context_matching_mode="whole_word")


def no_context() -> Any:
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
