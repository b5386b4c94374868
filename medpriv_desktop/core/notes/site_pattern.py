"""Presidio's ``PatternRecognizer`` for a site's recognizers, with deny-list entries that are words kept to their case.

Presidio matches every pattern, deny lists included, without regard to case. A staff list holding "May" or "Grace"
would then tag "may" and "grace" in every note. Here a deny-list entry made only of ordinary words
(:func:`~medpriv_desktop.core.notes.lexicons.exact_case_entry`) counts only when the note has it with the same
capitals; every other entry and every regex pattern behave as Presidio defines them.
"""

from __future__ import annotations

from typing import Any

from presidio_analyzer import PatternRecognizer, RecognizerResult

from medpriv_desktop.core.notes import lexicons


class SitePatternRecognizer(PatternRecognizer):
    """A site pattern recognizer whose word-like deny entries are case-exact; :meth:`adopt` takes one that Presidio's
    registry loader built."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._exact_entries()

    @classmethod
    def adopt(cls, recognizer: PatternRecognizer) -> SitePatternRecognizer:
        """``recognizer`` (as Presidio's ``RecognizerRegistryProvider`` built it: patterns, deny-list pattern,
        context, flags) with the case rule added. Its state is taken over as it is, so nothing is rebuilt twice."""
        site = cls.__new__(cls)
        site.__dict__.update(recognizer.__dict__)
        site._id = f"{site.name}_{id(site)}"  # Presidio's form, for this new object
        site._exact_entries()
        return site

    def _exact_entries(self) -> None:
        exact = [e for e in self.deny_list if lexicons.exact_case_entry(e)]
        self.exact_entries = frozenset(exact)
        self.exact_folded = frozenset(e.casefold() for e in exact)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        """Presidio's matches, less deny-list matches of word-like entries written with other capitals."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        if not self.exact_folded:
            return results
        return [r for r in results if not self._wrong_case(text[r.start:r.end], r)]

    def _wrong_case(self, found: str, result: RecognizerResult) -> bool:
        explanation = result.analysis_explanation
        if explanation is None or explanation.pattern_name != "deny_list":
            return False
        return found.casefold() in self.exact_folded and found not in self.exact_entries
