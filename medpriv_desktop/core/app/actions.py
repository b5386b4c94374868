"""The audit vocabulary: every action the app writes to the audit log, and the names older versions wrote.

A use case of :mod:`medpriv_desktop.core.app` records exactly one of :data:`ACTIONS` (through :func:`record`), so the
CLI, the window and a batch runner write the same entry for the same work. Entries written before this list existed
keep their names and still verify (the chain covers the bytes, not the vocabulary); :data:`LEGACY_ACTIONS` maps
each old name to the action it means today, for readers of old logs.
"""

from __future__ import annotations

from typing import Any

NOTES_DEID = "notes.deid"              #: notes de-identified: a batch (folder or CSV) or one reviewed note
NOTES_SYNTH = "notes.synth"            #: synthetic notes generated from a folder of notes
NOTES_EVAL = "notes.eval"              #: the de-identifier scored on an annotated corpus
NOTES_EVAL_SYNTH = "notes.eval_synth"  #: synthetic notes assessed (privacy, quality)
REPORTS_CLASSIFY = "reports.classify"  #: reports classified into labels
REPORTS_COMPARE = "reports.compare"    #: a model's labels compared with the rule labeler's
IMAGING_SEGMENT = "imaging.segment"    #: a study segmented
IMAGING_COMPARE = "imaging.compare"    #: a student and its teacher run on one study and compared
DICOM_DEID = "dicom.deid"              #: DICOM files de-identified
MODELS_IMPORT = "models.import"        #: a model bundle imported

ACTIONS: frozenset[str] = frozenset({NOTES_DEID, NOTES_SYNTH, NOTES_EVAL, NOTES_EVAL_SYNTH, REPORTS_CLASSIFY,
                                     REPORTS_COMPARE, IMAGING_SEGMENT, IMAGING_COMPARE, DICOM_DEID,
                                     MODELS_IMPORT})

#: Names older versions wrote -> today's action. The window saved a reviewed note as ``notes.deidentify`` while the
#: CLI wrote ``notes.deid`` for a batch (until the usability pass of issue 21).
LEGACY_ACTIONS: dict[str, str] = {"notes.deidentify": NOTES_DEID}


def canonical_action(name: str) -> str:
    """Today's name of an action read from a log (old names mapped, current and unknown ones unchanged)."""
    return LEGACY_ACTIONS.get(name, name)


def record(audit: Any, action: str, **fields: Any) -> dict[str, Any]:
    """Write one entry of the vocabulary to ``audit`` (an ``AuditLog``); an action outside it is a programming
    error, refused before anything is written."""
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not in the vocabulary (core/app/actions.py)")
    return audit.record(action, **fields)
