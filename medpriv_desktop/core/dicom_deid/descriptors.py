"""Clean Descriptors: free-text DICOM attributes through the notes de-identifier instead of removed.

With the Clean Descriptors Option (``--clean-descriptors``) the attributes Table E.1-1 marks for it (study, series
and protocol descriptions, image and acquisition comments, reasons for the study...) keep their text with every
span the notes engine (:class:`~medpriv_desktop.core.notes.engine.DeidEngine`) finds replaced by its tag
(``[NAME]``, ``[DATE]``...), as ``medpriv deid --operator tag`` would write it; the value is cut to its VR's length.
What the detector misses stays, as in notes: review descriptions before release, or leave the option off (they are
then removed).
"""

from __future__ import annotations

from typing import Any


class DescriptorCleaner:
    """Text -> text with PHI spans tagged, by a notes :class:`DeidEngine` (or anything with ``analyze``)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def __call__(self, text: str) -> str:
        """``text`` with every span the engine finds replaced by its tag."""
        from medpriv_desktop.core.notes.operators import apply_operator

        if not text.strip():
            return text
        return apply_operator("tag", text, self.engine.analyze(text))

    @property
    def ref(self) -> dict[str, Any]:
        """What identifies the detector for a run manifest: PHI model fields, threshold, site recognizers hash."""
        config = getattr(self.engine, "config", None)
        return {"model": getattr(self.engine, "model_fields", None) or getattr(self.engine, "model_id", None),
                "threshold": getattr(config, "threshold", None),
                "site recognizers file": getattr(self.engine, "site_recognizers_hash", None)}
