"""The project's PHI recognizers, one per file; :func:`default_recognizers` lists the rule set the engine uses."""

from __future__ import annotations


def default_recognizers() -> list:
    """Fresh instances of every rule recognizer (patterns, context and lexicons)."""
    from medpriv_desktop.core.notes.recognizers.age import AgeRecognizer
    from medpriv_desktop.core.notes.recognizers.contact import ContactRecognizer
    from medpriv_desktop.core.notes.recognizers.dates import DateRecognizer
    from medpriv_desktop.core.notes.recognizers.ids import IdRecognizer
    from medpriv_desktop.core.notes.recognizers.locations import LocationRecognizer
    from medpriv_desktop.core.notes.recognizers.names import NameRecognizer
    from medpriv_desktop.core.notes.recognizers.pager import PagerRecognizer
    from medpriv_desktop.core.notes.recognizers.phone import PhoneRecognizer

    return [DateRecognizer(), PhoneRecognizer(), ContactRecognizer(), IdRecognizer(), AgeRecognizer(),
            NameRecognizer(), LocationRecognizer(), PagerRecognizer()]
