"""Questions to the user that guard against losing work: one place, so tests can answer them and every such
question looks the same (the safe answer is the default, the box takes focus)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def _ask(parent: QWidget | None, icon: QMessageBox.Icon, text: str, choose: str, choose_role: QMessageBox.ButtonRole,
         stay: str) -> bool:
    """A modal box with two buttons; True only when the user chose ``choose`` (default, Escape and closing: stay)."""
    box = QMessageBox(icon, "MedPriv Desktop", text, QMessageBox.StandardButton.NoButton, parent)
    yes = box.addButton(choose, choose_role)
    no = box.addButton(stay, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    box.exec()
    return box.clickedButton() is yes


def ask_to_discard(parent: QWidget | None, text: str, discard: str = "Discard", keep: str = "Keep") -> bool:
    """A modal question; True only when the user chose ``discard`` (Escape and closing the box keep the work)."""
    return _ask(parent, QMessageBox.Icon.Question, text, discard, QMessageBox.ButtonRole.DestructiveRole, keep)


def ask_to_continue(parent: QWidget | None, text: str, go: str = "Run anyway", stop: str = "Cancel") -> bool:
    """A modal warning with a choice; True only when the user chose ``go`` (the default is to stop)."""
    return _ask(parent, QMessageBox.Icon.Warning, text, go, QMessageBox.ButtonRole.AcceptRole, stop)
