"""Canary PHI pushed through jobs, errors and third-party loggers never reaches the log or the audit log."""

from __future__ import annotations

import logging

import pytest

from medpriv_desktop.core import paths
from medpriv_desktop.core.audit import AuditLog
from medpriv_desktop.core.jobs import Progress, run_job
from medpriv_desktop.core.logging import RedactingFilter, file_handler

CANARY = "Zebulon Quackenbush-Ostrowski"
CANARY_NOTE = (f"Patient {CANARY} was seen at Wexford Pines Infirmary on 3/14 and lives at 77 Larkspur Lane, his "
               "daughter can be reached at the number on file and he reports ongoing chest pain since Tuesday.")


def _all_log_text(home) -> str:
    texts = []
    for f in home.rglob("*"):
        if f.is_file() and (f.suffix in (".log", ".jsonl") or ".log" in f.name):
            texts.append(f.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def test_canary_never_reaches_logs_or_audit(medpriv_home):
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    handler = file_handler(paths.log_dir() / "canary.log")
    root.addHandler(handler)

    def job_over_note(note: str):
        # A job that handles note text: counts go to the log and audit; the note itself must not.
        logging.getLogger("medpriv_desktop.test").info("processing note of %d characters", len(note))
        yield Progress(0.5, "detecting")
        words = note.split()
        AuditLog().record("test.job", words=len(words), input_hmac=AuditLog().input_hmac(note))
        # A third-party library that echoes its input must be withheld.
        logging.getLogger("somelib").warning("token stream: %s", note)
        # Our own code logging long text by mistake is caught by the run-of-words filter.
        logging.getLogger("medpriv_desktop.test").warning("unexpected: %s", note)
        return len(words)

    assert run_job(job_over_note(CANARY_NOTE)) == len(CANARY_NOTE.split())
    handler.flush()
    text = _all_log_text(medpriv_home)
    assert "processing note of" in text  # the log really was written
    assert "Quackenbush" not in text and "Larkspur" not in text and "Wexford" not in text
    root.removeHandler(handler)


@pytest.mark.parametrize("name", ["presidio-analyzer", "urllib3", "onnxruntime"])
def test_third_party_records_are_withheld(name):
    rec = logging.LogRecord(name, logging.WARNING, __file__, 1, "saw %s", (CANARY,), None)
    assert RedactingFilter().filter(rec)
    assert CANARY not in rec.getMessage()
