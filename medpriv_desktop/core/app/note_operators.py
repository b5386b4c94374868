"""Operator choice for the Notes workspace: tags, mask, surrogates, date shift.

Every replacement comes from the engine's one code path, :func:`medpriv_desktop.core.notes.operators.replacement_for`,
the same that ``medpriv deid`` runs: surrogates and date shifts use the keyed per-patient offset of the site's
``deid`` key, so a note de-identified here under patient id ``p01`` reads exactly as ``medpriv deid`` writes it for
a note of ``p01``. There is no offset to choose: the window shows the patient's keyed offset, read-only.

Operators are applied span by span (``replace_spans_with_regions``) so the output pane knows where each replacement
sits and can colour it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from medpriv_desktop.core.notes import operators as core_ops
from medpriv_desktop.core.notes.spans import PhiSpan

#: (machine name, label shown in the window); the machine names are the engine's operator names.
OPERATOR_CHOICES: tuple[tuple[str, str], ...] = (
    ("tag", "Tags  [NAME]"),
    ("mask", "Mask  ****"),
    ("surrogate", "Surrogates (consistent per patient)"),
    ("date-shift", "Date shift (keyed per patient; tags for the rest)"),
)
#: What the engine's batch jobs support (all of them).
BATCH_OPERATORS = tuple(n for n, _ in OPERATOR_CHOICES if n in core_ops.OPERATORS)
#: Operators that use the patient's keyed date offset (the others turn dates into tags or masks).
KEYED_OPERATORS = ("surrogate", "date-shift")


def make_surrogator() -> Any:
    """The engine's Surrogator under the site's ``deid`` key (call it in a job: it reads lexicons and the key)."""
    from medpriv_desktop.core.keys import load_key
    from medpriv_desktop.core.notes import lexicons
    from medpriv_desktop.core.notes.surrogates import Surrogator

    # Name surrogates consult these lexicons; load them here so re-rendering on the GUI thread never reads files.
    lexicons.first_names()
    lexicons.surnames()
    return Surrogator(load_key("deid"))


def note_patient(patient_id: str, source_name: str | None, text: str) -> str:
    """The patient of the note in the panel: the id typed; else, as ``medpriv deid`` does without ``--patient-id``,
    the note is its own patient (by its file name when it came from a file, by its content when pasted)."""
    from medpriv_desktop.core.notes.batch import own_patient

    if patient_id.strip():
        return patient_id.strip()
    if source_name:
        return own_patient("note", source_name)
    return own_patient("text", hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())


def shift_days(surrogator: Any, patient: str) -> int | None:
    """The patient's keyed date offset in days (None before the key is loaded)."""
    return None if surrogator is None else int(surrogator.date_offset(patient))


def render(text: str, spans: list[PhiSpan], operator: str, *, surrogator: Any = None, patient: str = "*",
           ) -> tuple[str, list[tuple[PhiSpan, int, int]]]:
    """The output note and, per replaced span, where its replacement sits in the output ``(span, start, end)``."""
    repl = core_ops.replacement_for(core_ops.OperatorOptions(operator), surrogator, patient,
                                    day_first=core_ops.dates_written_day_first(text, spans))
    return core_ops.replace_spans_with_regions(text, spans, repl)
