"""Questions to the user that guard against losing work: one place, so tests can answer them and every such
question looks the same (the safe answer is the default, the box takes focus)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_to_discard(parent: QWidget | None, text: str, discard: str = "Discard", keep: str = "Keep") -> bool:
    """A modal question; True only when the user chose ``discard`` (Escape and closing the box keep the work)."""
    box = QMessageBox(QMessageBox.Icon.Question, "MedPriv Desktop", text, QMessageBox.StandardButton.NoButton, parent)
    yes = box.addButton(discard, QMessageBox.ButtonRole.DestructiveRole)
    no = box.addButton(keep, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    box.exec()
    return box.clickedButton() is yes


def ask_to_continue(parent: QWidget | None, text: str, go: str = "Run anyway", stop: str = "Cancel") -> bool:
    """A modal warning with a choice; True only when the user chose ``go`` (the default is to stop)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "MedPriv Desktop", text, QMessageBox.StandardButton.NoButton, parent)
    yes = box.addButton(go, QMessageBox.ButtonRole.AcceptRole)
    no = box.addButton(stop, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    box.exec()
    return box.clickedButton() is yes
