"""The single-note de-identification panel: the note and its de-identified output side by side, with review tools.

The reviewer runs detection (a job), sees every PHI span coloured by category, hovers for details, accepts or
rejects a span, marks a missed one, picks the operator, and saves. Every review action re-renders the output at once
(rendering is string work on one note, far below the 100 ms budget), so the output always follows the review.

Decisions are never dropped silently: running De-identify again carries accepted, rejected and added spans over to
the new detection (through an edit of the note, where their text is unchanged), and the panel asks before anything
would discard them (re-running on edited text, opening another note).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont, QKeySequence
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QMenu, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.notes.spans import CATEGORIES
from medpriv_desktop.gui.ask import ask_to_discard
from medpriv_desktop.gui.jobs import JobRunner
from medpriv_desktop.core.app.note_jobs import DetectResult, EngineFactory, default_engine, detect_phi
from medpriv_desktop.gui.notes.highlight import LegendWidget, PhiTextEdit
from medpriv_desktop.core.app.note_operators import KEYED_OPERATORS, OPERATOR_CHOICES, note_patient, render, shift_days
from medpriv_desktop.core.app.note_review import (ACCEPTED, REJECTED, NoteReview, carry_decisions, lost_decisions)
from medpriv_desktop.core.app.output_paths import default_output
from medpriv_desktop.gui.qt_compat import weak_callback
from medpriv_desktop.gui.notify import notify_error, notify_info, notify_written

#: Categories offered for "mark as PHI", most common first.
MARK_CATEGORIES = ("PATIENT", "CLINICIAN", "RELATIVE", "DATE", "AGE", "HOSPITAL", "CITY", "STREET", "ZIP", "PHONE",
                   "EMAIL", "MRN", "ID")


def _pane(title: QLabel | str, editor: QWidget) -> QWidget:
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    head = title if isinstance(title, QLabel) else QLabel(title)
    head.setStyleSheet("font-weight: 600;")
    lay.addWidget(head)
    lay.addWidget(editor, 1)
    return w


class DeidPanel(QWidget):
    """One note: input with PHI highlights on the left, output on the right, review and operator controls above."""

    review_changed = Signal()
    output_saved = Signal(str)

    def __init__(self, runner: JobRunner, engine_factory: EngineFactory = default_engine,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.engine_factory = engine_factory
        #: The window's model registry for the Context of a save (None: the saved settings' registry).
        self.registry: Any = None
        self.review: NoteReview | None = None
        self.model_id: str | None = None
        self.model_fields: dict = {}
        self.surrogator = None
        #: The opened note's file name (its own patient when no id is typed, as in ``medpriv deid``).
        self.source_name: str | None = None
        #: The patient a batch run gave this note (a CSV row's own patient), used when no id is typed.
        self.patient_key: str | None = None
        self.output_text = ""
        #: The review of the note before it was edited: its decisions come back on the next detection.
        self._stale: NoteReview | None = None
        #: True while the review holds decisions not yet saved (opening another note asks first).
        self.unsaved = False
        #: Asks "discard?" with a sentence; True to go on. Tests replace it.
        self.confirm = lambda text: ask_to_discard(self, text)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)

        self.detect_button = QPushButton("&De-identify")
        self.detect_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.detect_button.setToolTip("Find PHI in the note (runs in the background; Ctrl+Enter). Your accepted, "
                                      "rejected and added spans are kept")
        self.operator_combo = QComboBox()
        for name, label in OPERATOR_CHOICES:
            self.operator_combo.addItem(label, name)
        # No offset to choose: surrogates and date shifts use the patient's keyed offset (site deid key), shown here.
        self.patient_edit = QLineEdit()
        self.patient_edit.setPlaceholderText("this note alone")
        self.patient_edit.setMaximumWidth(160)
        self.patient_edit.setToolTip("Patient id: notes with the same id get the same surrogates and date shift "
                                     "(as medpriv deid --patient-id); empty: the note is its own patient")
        self.shift_label = QLabel("")
        self.shift_label.setToolTip("Keyed per patient from the site's deid key (read-only); intervals are kept")
        self.accept_button = QPushButton("&Accept span")
        self.accept_button.setToolTip("Confirm the span at the text cursor (Alt+A)")
        self.reject_button = QPushButton("Re&ject span")
        self.reject_button.setToolTip("Keep the text at the cursor in the output (Alt+J)")
        self.mark_combo = QComboBox()
        for c in MARK_CATEGORIES:
            self.mark_combo.addItem(c, c)
        self.mark_button = QPushButton("&Mark selection as PHI")
        self.mark_button.setToolTip("Add the selected text as a missed span (Alt+M)")
        self.save_button = QPushButton("&Save output...")
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        self.save_button.setToolTip("Write the de-identified note (Ctrl+S) to the output folder")
        row1 = QHBoxLayout()
        for w in (self.detect_button, QLabel("Operator:"), self.operator_combo, QLabel("Patient:"), self.patient_edit,
                  self.shift_label):
            row1.addWidget(w)
        row1.addStretch(1)
        row1.addWidget(self.save_button)
        row2 = QHBoxLayout()
        for w in (self.accept_button, self.reject_button, self.mark_combo, self.mark_button):
            row2.addWidget(w)
        row2.addStretch(1)
        self.summary_label = QLabel("Open or paste a note, then press De-identify.")
        self.summary_label.setWordWrap(True)  # long paths wrap rather than widen the window

        self.input_edit = PhiTextEdit()
        self.input_edit.setPlaceholderText("Paste a clinical note here, or open a .txt file (File > Open).")
        self.input_edit.setFont(mono)
        self.input_edit.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.output_edit = PhiTextEdit()
        self.output_edit.setReadOnly(True)
        self.output_edit.setPlaceholderText("The de-identified note appears here.")
        self.output_edit.setFont(mono)
        split = QSplitter()
        split.addWidget(_pane("Original note (hover a highlight for details)", self.input_edit))
        split.addWidget(_pane("De-identified", self.output_edit))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addWidget(LegendWidget())
        lay.addWidget(split, 1)
        lay.addWidget(self.summary_label)

        # Slots connected to signals must return None: PySide6 mis-counts references of a returned bool.
        self.detect_button.clicked.connect(self._on_detect_clicked)
        self.operator_combo.currentIndexChanged.connect(self._on_operator_changed)
        self.patient_edit.textChanged.connect(self._on_operator_changed)
        self.accept_button.clicked.connect(self._on_accept_clicked)
        self.reject_button.clicked.connect(self._on_reject_clicked)
        self.mark_button.clicked.connect(self._on_mark_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.input_edit.textChanged.connect(self._on_input_text_changed)
        self.input_edit.customContextMenuRequested.connect(self._on_input_context_menu)
        self._update_buttons()
        self._update_shift_label()

    # -- state ---------------------------------------------------------------------------------------------------

    @property
    def operator(self) -> str:
        """Machine name of the chosen operator."""
        return self.operator_combo.currentData()

    def set_operator(self, name: str) -> None:
        """Choose the operator by machine name."""
        self.operator_combo.setCurrentIndex(self.operator_combo.findData(name))

    def set_text(self, text: str, source_name: str | None = None, patient_key: str | None = None) -> bool:
        """Replace the note; ``source_name`` is its file name when it came from a file, ``patient_key`` the patient a
        batch gave it. Asks first when the current review holds unsaved decisions; False when the user kept them."""
        if self.unsaved and text != self.input_edit.toPlainText():
            n = len((self.review or self._stale).decisions()) if (self.review or self._stale) else 0
            if not self.confirm(f"The current note has {n} review decision(s) that are not saved. Discard them and "
                                "open the other note?"):
                return False
        self.source_name = source_name
        self.patient_key = patient_key
        self.review = self._stale = None
        self.unsaved = False
        self.input_edit.setPlainText(text)
        self._update_buttons()
        self._update_shift_label()
        return True

    @property
    def patient(self) -> str:
        """The patient the surrogates and the date shift are keyed on (see ``note_patient``)."""
        if self.patient_key and not self.patient_edit.text().strip():
            return self.patient_key
        text = self.review.text if self.review is not None else self.input_edit.toPlainText()
        return note_patient(self.patient_edit.text(), self.source_name, text)

    def _update_shift_label(self) -> None:
        """Show the shift in effect: the patient's keyed offset under surrogates and date shift, none otherwise."""
        keyed = self.operator in KEYED_OPERATORS
        days = shift_days(self.surrogator, self.patient) if keyed else None
        if not keyed:
            text = "Date shift: none (dates become tags)" if self.operator == "tag" else "Date shift: none (masked)"
        else:
            text = "Date shift: after De-identify" if days is None else f"Date shift: {days:+d} days"
        self.shift_label.setText(text)
        self.shift_label.setEnabled(keyed)

    def _update_buttons(self) -> None:
        has = self.review is not None
        for w in (self.accept_button, self.reject_button, self.mark_button, self.mark_combo, self.save_button):
            w.setEnabled(has)

    # -- detection -----------------------------------------------------------------------------------------------

    @Slot()
    def _on_detect_clicked(self) -> None:
        self.run_detection()

    @Slot()
    def _on_accept_clicked(self) -> None:
        self.set_status_at_cursor(ACCEPTED)

    @Slot()
    def _on_reject_clicked(self) -> None:
        self.set_status_at_cursor(REJECTED)

    def run_detection(self) -> bool:
        """Start the detection job; False when another job runs or the user kept decisions the edit would lose."""
        text = self.input_edit.toPlainText()
        if not text.strip():
            notify_error(InputError("the note is empty", hint="paste a note or open a .txt file first"))
            return False
        previous = self.review or self._stale
        lost = lost_decisions(previous, text)
        if lost and not self.confirm(f"{lost} of your review decisions are on text you have changed since; they "
                                     "will be discarded (the others are kept). De-identify again?"):
            return False
        started = self.runner.start("Finding PHI", lambda: detect_phi(text, self.engine_factory),
                                    on_success=weak_callback(self._on_detected, text, previous),
                                    on_error=lambda exc: notify_error(exc, "De-identification"))
        if not started:
            notify_info("Another job is running; try again when it finishes.")
        else:
            self.detect_button.setEnabled(False)
            self.runner.finished.connect(self._on_runner_finished)
        return started

    @Slot()
    def _on_runner_finished(self) -> None:
        self.runner.finished.disconnect(self._on_runner_finished)
        self.detect_button.setEnabled(True)

    def _on_detected(self, text: str, previous: NoteReview | None, result: DetectResult) -> None:
        if self.input_edit.toPlainText() != text:
            return  # the note changed while the job ran: these spans describe another text
        self.model_id = result.model_id
        self.model_fields = dict(result.model_fields or {"model_id": result.model_id})
        self.surrogator = result.surrogator
        review = NoteReview.from_spans(text, result.spans)
        carry_decisions(previous, review)  # the reviewer's work outlives a new run (lost ones were agreed to)
        self.review, self._stale = review, None
        self.unsaved = bool(review.decisions())
        self._refresh()

    # -- review --------------------------------------------------------------------------------------------------

    def set_status_at_cursor(self, status: str) -> bool:
        """Accept or reject the span under the text cursor; True when there was one."""
        if self.review is None or self.review.set_status(self.input_edit.offset_at_cursor(), status) is None:
            return False
        self.unsaved = True
        self._refresh()
        return True

    def mark_selection(self, category: str | None = None) -> bool:
        """Mark the selected text as PHI of ``category`` (default: the category box)."""
        rng = self.input_edit.selected_range()
        if self.review is None or rng is None:
            return False
        if self.review.mark(rng[0], rng[1], category or self.mark_combo.currentData()) is None:
            return False
        # Drop the selection so the new highlight shows in its category colour, not the selection colour.
        cur = self.input_edit.textCursor()
        cur.clearSelection()
        self.input_edit.setTextCursor(cur)
        self.unsaved = True
        self._refresh()
        return True

    @Slot()
    def _on_mark_clicked(self) -> None:
        if not self.mark_selection():
            notify_info("Select the missed text in the original note first.")

    def _on_input_context_menu(self, pos) -> None:
        menu = self.input_edit.createStandardContextMenu()
        if self.review is not None:
            menu.addSeparator()
            it = self.review.at(self.input_edit.cursorForPosition(pos).position())
            if self.input_edit.selected_range() is None and it is not None:
                self.input_edit.setTextCursor(self.input_edit.cursorForPosition(pos))
                menu.addAction("Accept this span", self._on_accept_clicked)
                menu.addAction("Reject this span", self._on_reject_clicked)
            if self.input_edit.selected_range() is not None:
                sub = QMenu("Mark selection as", menu)
                for c in MARK_CATEGORIES:
                    sub.addAction(c, lambda c=c: None if self.mark_selection(c) else None)
                menu.addMenu(sub)
        menu.exec(self.input_edit.mapToGlobal(pos))

    @Slot()
    def _on_operator_changed(self) -> None:
        self._update_shift_label()
        if self.review is not None:
            self._refresh()

    @Slot()
    def _on_input_text_changed(self) -> None:
        if self.review is not None and self.input_edit.toPlainText() != self.review.text:
            # Offsets no longer match the text: hide the highlights rather than show wrong ones, but keep the review
            # aside: its decisions come back on the next De-identify wherever their text is unchanged.
            self._stale, self.review = self.review, None
            self.input_edit.clear_highlights()
            self.output_edit.clear()
            self.output_text = ""
            n = len(self._stale.decisions())
            kept = f" Your {n} review decision(s) are kept where the text is unchanged." if n else ""
            self.summary_label.setText("The note changed: press De-identify again." + kept)
            self._update_buttons()

    def _refresh(self) -> None:
        """Re-colour the input and re-render the output from the review."""
        assert self.review is not None
        self.input_edit.show_review(self.review)
        self._update_shift_label()
        self.output_text, regions = render(self.review.text, self.review.active_spans(), self.operator,
                                           surrogator=self.surrogator, patient=self.patient)
        self.output_edit.setPlainText(self.output_text)
        self.output_edit.show_regions(regions)
        st = self.review.status_counts()
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.review.counts().items())) or "none"
        engine = self.model_id or "rules only"
        self.summary_label.setText(f"{len(self.review.active_spans())} spans replaced ({counts}) · "
                                   f"{st[ACCEPTED]} accepted · {st[REJECTED]} rejected · {st['manual']} added by "
                                   f"hand · engine: {engine}")
        self._update_buttons()
        self.review_changed.emit()

    # -- save ----------------------------------------------------------------------------------------------------

    def save_output(self, path: Path) -> Path:
        """Write the de-identified note atomically."""
        if self.review is None:
            raise InputError("nothing to save yet", hint="press De-identify first")
        from medpriv_desktop.core.app import Context, record_reviewed_note

        ctx = Context.build(registry=self.registry)
        ctx.audit.preflight()  # before the file is written
        atomic_write_text(Path(path), self.output_text)
        # The entry a batch writes (action, fields), for one note, plus what the reviewer decided (counts only).
        source = "id-field" if self.patient_edit.text().strip() else "per-note"
        record_reviewed_note(ctx, self.operator, {"model_id": self.model_id, **(self.model_fields or {})},
                             Counter(s.tag for s in self.review.active_spans()), self.review.status_counts(), source)
        self.unsaved = False
        self.output_saved.emit(str(path))
        return Path(path)

    def default_save_path(self) -> Path:
        """``<note>_deid.txt`` in the user output folder (never beside the source note)."""
        return default_output(self.source_name, "_deid", ".txt")

    @Slot()
    def _on_save_clicked(self) -> None:
        fname, _ = QFileDialog.getSaveFileName(self, "Save de-identified note", str(self.default_save_path()),
                                               "Text (*.txt);;All files (*)")
        if fname:
            try:
                self.save_output(Path(fname))
                notify_written("Saved the de-identified note", Path(fname))
            except Exception as exc:
                notify_error(exc, "Saving the note")


def category_names() -> list[str]:
    """All PHI category names (for filters and tables)."""
    return list(CATEGORIES)
