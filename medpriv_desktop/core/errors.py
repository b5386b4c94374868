"""Exceptions the user can act on.

Every error the app shows a person is a :class:`MedPrivError`: one short sentence naming the file and the problem,
plus an optional hint. The message never contains patient text (note content, DICOM names); callers pass a path and a
reason they wrote themselves, not text they read from the input.
"""

from __future__ import annotations

from pathlib import Path


class MedPrivError(Exception):
    """An error with a file, a reason and a hint, shown to the user as one clear message."""

    exit_code: int = 2

    def __init__(self, reason: str, *, path: str | Path | None = None, hint: str | None = None) -> None:
        self.reason = reason
        self.path = Path(path) if path is not None else None
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The one-line message for a person: ``file: reason (hint)``."""
        text = f"{self.path}: {self.reason}" if self.path is not None else self.reason
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputError(MedPrivError):
    """The input file or folder cannot be used (unreadable, wrong type, empty, too large...)."""


class ModelError(MedPrivError):
    """A model bundle is missing, invalid, not allowed by the site, or does not fit the input."""


class ConfigError(MedPrivError):
    """Settings or a configuration file are invalid."""


class JobCancelled(Exception):
    """Raised inside a job runner when the user cancelled the job between two steps."""


def did_you_mean(value: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """Return a hint naming the closest choice to a misspelt ``value``, or None."""
    import difflib

    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else None
