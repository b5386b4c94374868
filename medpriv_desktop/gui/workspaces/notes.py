"""Notes workspace: de-identify one note with review, de-identify a batch, synthesize notes.

Three tabs share the workspace. A ``.txt`` file opens in *De-identify*; a folder or a ``.csv`` goes to *Batch*.
All engine work runs as jobs on the window's JobRunner; the de-identification engine (Presidio, spaCy) is imported
in the job, never at start-up.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QTabWidget

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.models.card import Task
from medpriv_desktop.core.text.reading import read_text
from medpriv_desktop.gui.notes.batch_panel import NotesBatchPanel
from medpriv_desktop.core.app.note_jobs import (BatchItem, EngineFactory, context_for, csv_texts, default_engine,
                                                 engine_for, reset_default_engine)
from medpriv_desktop.gui.notes.deid_panel import DeidPanel
from medpriv_desktop.gui.qt_compat import guard_bool_refcounts
from medpriv_desktop.gui.notes.synth_panel import SynthPanel
from medpriv_desktop.gui.notify import notify_error
from medpriv_desktop.gui.workspaces.base import WorkspacePanel


class NotesWorkspace(WorkspacePanel):
    """De-identify (single note, side by side), Batch (folder/CSV with counts), Synthesize."""

    machine_name = "notes"
    title = "Notes"
    model_task = Task.PHI_NER
    no_model_text = ("No PHI model is installed: de-identification uses the rule recognizers only. Install the PHI "
                     "model bundle (Models...) for better recall on names and places.")

    def __init__(self, *args, engine_factory: EngineFactory = default_engine, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        guard_bool_refcounts()  # long batches emit thousands of progress signals (see qt_compat)
        # The window's engine: core.app's, on this window's registry (tests pass their own factory)
        self._shared_engine = engine_factory is default_engine
        if self._shared_engine:
            registry = self.registry
            engine_factory = lambda: engine_for(context_for(registry))  # noqa: E731
        self.engine_factory = engine_factory
        self.tabs = QTabWidget()
        self.deid = DeidPanel(self.runner, engine_factory)
        self.deid.registry = self.registry
        self.batch = NotesBatchPanel(self.runner, engine_factory, registry=self.registry)
        self.tabs.addTab(self.deid, "De-identify")
        self.tabs.addTab(self.batch, "Batch")
        self.synth = SynthPanel(self.runner, self.deid, engine_factory, self.registry)
        self.tabs.addTab(self.synth, "Synthesize")
        self.outer.addWidget(self.tabs, 1)
        self.batch.review_requested.connect(self.review_batch_item)
        self.path: Path | None = None
        self._phi_models: tuple[str, ...] | None = None
        self.apply_settings(self.settings())

    def apply_settings(self, settings) -> None:
        """Preferences the workspace shows: the default operator of the De-identify and Batch tabs (the
        threshold, site folder and threads reach the engine through core.app's Context)."""
        for combo in (self.deid.operator_combo, self.batch.operator_combo):
            i = combo.findData(settings.deid_operator)
            if i >= 0:
                combo.setCurrentIndex(i)

    def refresh_models(self) -> None:
        """Banner as in the base; a changed set of PHI models makes the next job build a fresh engine."""
        super().refresh_models()
        ids = tuple(sorted(f"{e.card.id}@{e.card.sha256}" for e in self.models()))
        if self._phi_models is not None and ids != self._phi_models and self._shared_engine:
            reset_default_engine()
        self._phi_models = ids

    @property
    def input_edit(self):
        """The note being de-identified (left pane)."""
        return self.deid.input_edit

    @property
    def output_edit(self):
        """The de-identified note (right pane)."""
        return self.deid.output_edit

    def open_path(self, path: Path) -> None:
        """A ``.txt`` note opens for review; a folder or ``.csv`` becomes the batch input."""
        path = Path(path)
        if path.is_dir() or path.suffix.lower() == ".csv":
            self.batch.set_source(path)
            if path.is_dir():
                self.synth.set_batch_source(path)
            self.tabs.setCurrentWidget(self.batch)
            self.file_opened.emit(str(path))
            return
        try:
            text = read_text(path)
        except Exception as exc:
            notify_error(exc, "Opening the note")
            return
        if not self.deid.set_text(text, source_name=path.name):  # the patient key, as `medpriv deid` derives it
            return  # the reviewer kept the current note's unsaved decisions
        self.path = path
        self.tabs.setCurrentWidget(self.deid)
        self.file_opened.emit(str(path))

    def review_batch_item(self, item: BatchItem, operator: str) -> bool:
        """Open one note of the last batch in the De-identify tab, keyed on the batch's patient for it and with the
        batch's operator, and find its PHI again so the reviewer can accept, reject and add."""
        try:
            if item.row is None:
                text, name = read_text(item.source), item.source.name
            else:
                run = self.batch.run
                text, name = csv_texts(item.source, run.column if run is not None else "")[item.row], None
        except Exception as exc:
            notify_error(exc, "Opening the note for review")
            return False
        if not text.strip():
            notify_error(InputError(f"{item.name} is empty", path=item.source))
            return False
        if not self.deid.set_text(text, source_name=name, patient_key=item.patient):
            return False
        self.deid.patient_edit.clear()
        self.deid.set_operator(operator)
        self.path = item.source if item.row is None else None
        self.tabs.setCurrentWidget(self.deid)
        return self.deid.run_detection()
