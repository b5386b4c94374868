"""Imaging workspace: three linked slice views, a 3D view, segmentation with progress, structures, edits, export.

Layout: a four-up view (axial, 3D, coronal, sagittal) on the left, the Segment/Compare controls and the structures
table on the right, a tool bar on top and a line that reports the voxel under the mouse at the bottom. Every widget
binds to one :class:`ImagingState`; handlers here are one call into a job of ``core.app`` (``segment_study``,
``compare_student_teacher``) or ``core.app.study`` (open, read a segmentation, statistics, exports), run by the
window's JobRunner (off the GUI thread, with progress and Cancel) inside one error path (``notify_error``).

What is shown follows the study in effect: a new study clears the value under the cursor; the Window box names the
preset in effect, or "Custom" after a right-drag; before a model runs, the study is checked against its card
(modality, body region: ``core/imaging/study_fit.py``) and a mismatch asks first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QMenu, QSplitter, QStackedWidget, QToolButton, QVBoxLayout,
                               QWidget)

from medpriv_desktop.core.imaging.dicom import MultipleSeriesError, SeriesInfo
from medpriv_desktop.core.models.card import Task
from medpriv_desktop.core.settings import Settings, load_settings
from medpriv_desktop.core.app import CompareRun, Context, SegmentOptions, StudyResult, compare_student_teacher, \
    segment_study
from medpriv_desktop.core.app import study as study_jobs
from medpriv_desktop.gui.ask import ask_to_continue
from medpriv_desktop.core.imaging.display import CT_PRESETS, MR_AUTO, auto_window
from medpriv_desktop.gui.imaging.export_actions import ExportActionsMixin
from medpriv_desktop.gui.imaging.follow_study import CUSTOM_WINDOW, NO_READOUT, FollowStudyMixin
from medpriv_desktop.gui.imaging.segment_panel import SegmentPanel
from medpriv_desktop.gui.imaging.series_picker import SeriesPickerDialog
from medpriv_desktop.core.app.imaging_state import ImagingState
from medpriv_desktop.gui.imaging.structures_panel import StructuresPanel
from medpriv_desktop.gui.imaging.view3d import View3DWidget
from medpriv_desktop.gui.notify import notify_error, notify_info
from medpriv_desktop.gui.widgets.slice_view import SliceViewWidget
from medpriv_desktop.gui.workspaces.base import WorkspacePanel

#: Which cells of the four-up grid each layout shows.
LAYOUTS = {"Four-up": ("axial", "3d", "coronal", "sagittal"), "Axial": ("axial",), "Coronal": ("coronal",),
           "Sagittal": ("sagittal",), "3D": ("3d",)}


class ImagingWorkspace(FollowStudyMixin, ExportActionsMixin, WorkspacePanel):
    """Open, view, segment, check, correct and export CT/MR studies."""

    machine_name = "imaging"
    title = "Imaging"
    model_task = Task.SEGMENTATION
    no_model_text = ("No segmentation model is installed: you can open and view studies, but not segment them. "
                     "Import a model bundle with Models..., or ask IT to place one in the site models folder.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.state = ImagingState()
        self.study_path: Path | None = None
        self.last_run: StudyResult | None = None
        self.last_compare: CompareRun | None = None
        #: Called with the series of a multi-series folder; returns the chosen UID or None (tests replace it).
        self.choose_series = self._ask_series
        #: Asks whether to run a model on a study that does not fit its card; True to run. Tests replace it.
        self.confirm_fit = lambda text: ask_to_continue(self, text)
        self._build_toolbar()
        self.views = {o: SliceViewWidget(self.state, o) for o in ("axial", "coronal", "sagittal")}
        self.view = self.views["axial"]
        self.compare_view = SliceViewWidget(self.state, "axial", source="compare", title="Axial (teacher)")
        self.view3d = View3DWidget(self.state, self._settings().render_max_voxels)
        self.top_right = QStackedWidget()
        self.top_right.addWidget(self.view3d)
        self.top_right.addWidget(self.compare_view)
        grid_w = QWidget()
        grid = QGridLayout(grid_w)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(3)
        grid.addWidget(self.view, 0, 0)
        grid.addWidget(self.top_right, 0, 1)
        grid.addWidget(self.views["coronal"], 1, 0)
        grid.addWidget(self.views["sagittal"], 1, 1)
        self.segment_panel = SegmentPanel(self.registry)
        self.segment_panel.run_requested.connect(self.run_segmentation)
        self.segment_panel.compare_requested.connect(self.run_comparison)
        self.segment_panel.overlay_mode_changed.connect(self._on_overlay_mode_changed)
        self.structures = StructuresPanel(self.state)
        self.structures.surface_opacity_requested.connect(self.view3d.set_structure_opacity)
        self.structures.recompute_requested.connect(self.recompute_statistics)
        self.structures.jumped.connect(notify_info)  # the status bar says why every slice just moved
        if self._settings().label_palette == "colour-blind":
            self.structures.palette_check.setChecked(True)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.segment_panel)
        sl.addWidget(self.tools_box)
        sl.addWidget(self.structures, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(grid_w)
        split.addWidget(side)
        split.setStretchFactor(0, 1)
        split.setSizes([960, 420])
        self.hover_label = QLabel(NO_READOUT)
        self.hover_label.setStyleSheet("color: #555; font-family: monospace;")
        self.outer.addWidget(split, 1)
        self.outer.addWidget(self.hover_label)
        for v in (*self.views.values(), self.compare_view):
            v.hovered.connect(self.hover_label.setText)
            v.stroke_finished.connect(self._update_undo_actions)
            v.measured.connect(lambda mm: self.hover_label.setText(f"Distance: {mm:.1f} mm"))
        self.state.labels_changed.connect(self._on_state_labels_changed)
        self.state.window_changed.connect(self._on_state_window_changed)
        self.state.labels_edited.connect(self._update_undo_actions)
        self.runner.started.connect(lambda _t: self._set_busy(True))
        self.runner.finished.connect(lambda: self._set_busy(False))
        self._set_busy(False)

    # -- tool bar ---------------------------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.info_label = QLabel("No study open")
        self.info_label.setStyleSheet("font-weight: 600;")
        self.identity_label = QLabel("")
        self.identity_label.setStyleSheet("color: #666;")
        self.preset_combo = QComboBox()
        self.preset_combo.addItems([*CT_PRESETS, MR_AUTO])
        self.preset_combo.setToolTip("Window preset; MR automatic uses the 1st-99th percentiles. "
                                     "Right-drag on a view adjusts window/level.")
        self.preset_combo.activated.connect(lambda _i: self._on_preset_changed(self.preset_combo.currentText()))
        self.tool_buttons: dict[str, QToolButton] = {}
        for name, tip in (("navigate", "Move the crosshair"), ("paint", "Paint the chosen structure"),
                          ("erase", "Erase labels"), ("ruler", "Measure a distance")):
            b = QToolButton()
            b.setText(name.capitalize())
            b.setCheckable(True)
            b.setAutoExclusive(True)
            b.setToolTip(tip)
            b.clicked.connect(lambda _c=False, n=name: self.set_tool(n))
            self.tool_buttons[name] = b
        self.tool_buttons["navigate"].setChecked(True)
        self.brush_spin = QDoubleSpinBox()
        self.brush_spin.setRange(0.5, 50.0)
        self.brush_spin.setValue(5.0)
        self.brush_spin.setSuffix(" mm")
        self.brush_spin.setToolTip("Brush radius")
        self.brush_spin.valueChanged.connect(self._on_brush_changed)
        self.paint_combo = QComboBox()
        self.paint_combo.setToolTip("Structure the brush paints")
        self.paint_combo.setMinimumWidth(120)
        self.paint_combo.currentIndexChanged.connect(self._on_brush_changed)
        self.undo_action = QAction("Undo", self, shortcut=QKeySequence.StandardKey.Undo)
        self.redo_action = QAction("Redo", self, shortcut=QKeySequence.StandardKey.Redo)
        for act, fn in ((self.undo_action, self.undo), (self.redo_action, self.redo)):
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(fn)
            self.addAction(act)
        undo_b, redo_b = QToolButton(), QToolButton()
        undo_b.setDefaultAction(self.undo_action)
        redo_b.setDefaultAction(self.redo_action)
        self.open_seg_button = QToolButton()
        self.open_seg_button.setText("Open segmentation...")
        self.open_seg_button.setToolTip("Show a label map (NIfTI, NRRD, MHA) or a DICOM SEG on this study")
        self.open_seg_button.clicked.connect(lambda: self.open_segmentation())
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.export_actions = {
            "labelmap": menu.addAction("Label map (NIfTI / NRRD)...", lambda: self.export_labelmap()),
            "dicom_seg": menu.addAction("DICOM SEG...", lambda: self.export_dicom_seg()),
            "meshes": menu.addAction("Meshes, one file per structure (STL)...", lambda: self.export_meshes()),
            "scene": menu.addAction("Meshes, one scene (VTP)...", lambda: self.export_meshes(scene_only=True)),
            "stats": menu.addAction("Statistics (CSV)...", lambda: self.export_stats()),
            "deidentified": menu.addAction("Export de-identified...", lambda: self.export_deidentified()),
            "screens": menu.addAction("Screenshots of each view...", lambda: self.save_screenshots()),
        }
        self.export_button.setMenu(menu)
        row.addWidget(self.info_label)
        row.addWidget(self.identity_label, 1)
        self.layout_combo = QComboBox()
        self.layout_combo.addItems(list(LAYOUTS))
        self.layout_combo.setToolTip("View layout")
        self.layout_combo.currentTextChanged.connect(self.set_layout)
        self.crosshair_check = QCheckBox("Crosshair")
        self.crosshair_check.setChecked(True)
        self.crosshair_check.toggled.connect(self.set_crosshair_visible)
        row.addWidget(self.crosshair_check)
        row.addWidget(QLabel("Layout"))
        row.addWidget(self.layout_combo)
        row.addWidget(QLabel("Window"))
        row.addWidget(self.preset_combo)
        row.addWidget(self.open_seg_button)
        row.addWidget(self.export_button)
        # Correction tools live in the side panel (built here, placed by __init__).
        self.tools_box = QGroupBox("Correct and measure")
        tl = QGridLayout(self.tools_box)
        for i, b in enumerate(self.tool_buttons.values()):
            tl.addWidget(b, 0, i)
        tl.addWidget(self.paint_combo, 1, 0, 1, 2)
        tl.addWidget(self.brush_spin, 1, 2)
        undo_row = QHBoxLayout()
        undo_row.addWidget(undo_b)
        undo_row.addWidget(redo_b)
        tl.addLayout(undo_row, 1, 3)
        self.outer.addWidget(bar)

    def set_crosshair_visible(self, shown: bool) -> None:
        """Show or hide the crosshair lines in every slice view (it still links the views)."""
        for v in (*self.views.values(), self.compare_view):
            v.show_crosshair = bool(shown)
            v.image_label.update()

    def set_layout(self, name: str) -> None:
        """Four-up, or one view filling the area."""
        shown = LAYOUTS[name]
        cells = {"axial": self.view, "3d": self.top_right, "coronal": self.views["coronal"],
                 "sagittal": self.views["sagittal"]}
        for key, widget in cells.items():
            widget.setVisible(key in shown)
        if self.layout_combo.currentText() != name:
            self.layout_combo.setCurrentText(name)

    def _context(self) -> Context:
        """The Context of a job: the window's settings (Preferences: threads, test-time flips) and its registry."""
        return Context(self._settings(), self.registry)

    def _settings(self) -> Settings:
        win = self.window()
        s = getattr(win, "settings", None)
        return s if isinstance(s, Settings) else load_settings()

    def _set_busy(self, busy: bool) -> None:
        self.segment_panel.set_busy(busy or self.state.volume is None)
        has_labels = self.state.labels is not None
        for key, act in self.export_actions.items():
            act.setEnabled(not busy and (has_labels or key == "screens") and self.state.volume is not None)
        self.export_actions["dicom_seg"].setEnabled(
            not busy and has_labels and bool(self.state.volume and self.state.volume.meta.get("dicom_files")))
        self.open_seg_button.setEnabled(not busy and self.state.volume is not None)
        self._update_undo_actions()

    def _update_undo_actions(self, *_args) -> None:
        self.undo_action.setEnabled(self.state.history.can_undo)
        self.redo_action.setEnabled(self.state.history.can_redo)

    def refresh_models(self) -> None:
        """Re-read the registry: banner and model picker."""
        super().refresh_models()
        if hasattr(self, "segment_panel"):
            self.segment_panel.preferred_id = self._settings().default_segmentation_model
            self.segment_panel.refresh()
            self.update_identity()  # Preferences may have changed show_patient_identity

    # -- opening ----------------------------------------------------------------------------------------------

    def open_path(self, path: Path, series_uid: str | None = None) -> None:
        """Load a study file, DICOM folder or DICOMDIR as a job; a multi-series folder asks which series."""
        path = Path(path)
        started = self.runner.start(f"Opening {path.name}", lambda: study_jobs.load_study_job(path, series_uid),
                                    on_success=lambda vol: self._on_study_loaded(path, vol),
                                    on_error=lambda exc: self._on_open_failed(path, exc))
        if not started:
            notify_info("Another task is running; open the study when it has finished.")

    def _on_open_failed(self, path: Path, exc: BaseException) -> None:
        if isinstance(exc, MultipleSeriesError):
            uid = self.choose_series(exc.series)
            if uid is not None:
                self._when_runner_free(lambda: self.open_path(path, uid))
            return
        notify_error(exc, "Opening the study")

    def _when_runner_free(self, fn) -> None:
        """Call ``fn`` once the running job has fully ended (job callbacks run before the runner is free)."""
        if not self.runner.busy:
            fn()
            return

        def once() -> None:
            self.runner.finished.disconnect(once)
            fn()

        self.runner.finished.connect(once)

    def _ask_series(self, series: list[SeriesInfo]) -> str | None:
        dlg = SeriesPickerDialog(series, self)
        return dlg.chosen_uid() if dlg.exec() else None

    def _on_study_loaded(self, path: Path, volume) -> None:
        self.study_path = path
        self.last_run = self.last_compare = None
        self.segment_panel.clear_comparison()
        self.top_right.setCurrentWidget(self.view3d)
        self.hover_label.setText(NO_READOUT)  # the last study's value under the cursor is not this study's
        self._mr_auto = None
        self.state.set_study(volume)
        if volume.modality != "CT":
            self._mr_auto = (self.state.level, self.state.width)  # set_study opened MR on its automatic window
        self.structures.set_results([])
        sx, sy, sz = volume.spacing
        nx, ny, nz = volume.shape
        guessed = " (guessed)" if volume.meta.get("modality_guessed") else ""
        self.info_label.setText(f"{path.name}   {volume.modality}{guessed}   {nx} x {ny} x {nz}   "
                                f"{sx:.2f} x {sy:.2f} x {sz:.2f} mm")
        self.update_identity()
        self._on_state_window_changed()
        self.segment_panel.set_study(volume.modality)
        warnings = volume.meta.get("warnings") or []
        if warnings:
            notify_info("; ".join(str(w) for w in warnings))
        self.file_opened.emit(str(path))

    def update_identity(self) -> None:
        """Patient name and ID only when Preferences allow it; otherwise say that they are hidden."""
        vol = self.state.volume
        patient = (vol.meta.get("patient") or {}) if vol is not None else {}
        if not patient:
            self.identity_label.setText("")
        elif self._settings().show_patient_identity:
            self.identity_label.setText(f"Patient: {patient.get('name', '')}   ID: {patient.get('id', '')}")
        else:
            self.identity_label.setText("Patient identity hidden (Preferences)")

    def open_segmentation(self, path: Path | None = None) -> None:
        """Show a label map file or a DICOM SEG on the open study."""
        volume = self.state.volume
        if volume is None:
            return
        if path is None:
            fname, _ = QFileDialog.getOpenFileName(self, "Open segmentation", "",
                                                   "Segmentations (*.nii *.nii.gz *.nrrd *.mha *.dcm);;All files (*)")
            if not fname:
                return
            path = Path(fname)
        path = Path(path)
        self.runner.start(f"Opening {path.name}", lambda: study_jobs.load_segmentation_job(path, volume),
                          on_success=lambda res: self._show_labelmap(res[0], {"file": path.name}, res[1]),
                          on_error=lambda exc: notify_error(exc, "Opening the segmentation"))

    def _show_labelmap(self, labelmap, source: dict, stats: list, qc=None) -> None:
        for w in labelmap.meta.get("warnings") or []:
            if w not in (self.state.volume.meta.get("warnings") or []):
                notify_info(str(w))
        self.last_compare = None
        self.segment_panel.clear_comparison()
        self.top_right.setCurrentWidget(self.view3d)
        self.state.set_labels(labelmap, source)
        self.structures.set_results(stats, qc)

    # -- segmentation and comparison --------------------------------------------------------------------------

    def run_segmentation(self, entry) -> bool:
        """Segment the open study with ``entry`` as a job; False when nothing was started (also when the study does
        not fit the model and the user chose not to run it)."""
        volume = self.state.volume
        if volume is None or not self.study_fits(entry):
            return False
        ctx = self._context()
        second = "auto" if self.segment_panel.second_opinion_check.isChecked() else "none"
        # the study was checked against the card above (the user may have chosen to go on): no second check
        opts = SegmentOptions(tta=ctx.settings.test_time_flips, stats=True, qc=True, second_opinion=second,
                              check_fit=False)
        return self.runner.start(f"Segmenting with {entry.card.id}",
                                 lambda: segment_study(ctx, volume, entry, options=opts),
                                 on_success=self._on_segmented,
                                 on_error=lambda exc: notify_error(exc, "Segmentation"))

    def _on_segmented(self, run: StudyResult) -> None:
        import time

        self.result_shown_at = time.perf_counter()  # the responsiveness check tells job time from display time
        self.last_run = run
        self.last_compare = None
        self.segment_panel.clear_comparison()
        self.top_right.setCurrentWidget(self.view3d)
        self._show_labelmap(run.segmentation.labelmap, {"model_id": run.entry.card.id, "title": run.entry.card.title},
                            run.stats, run.qc)
        notify_info(f"Segmented with {run.entry.card.id} in {run.seconds:.1f} s")
        # Why a requested step was not taken (test-time flips, QC's flipped opinion for a model not trained mirrored).
        shown = set(self.state.volume.meta.get("warnings") or []) if self.state.volume is not None else set()
        seg_notes = [w for w in run.segmentation.warnings if w not in shown]
        for note in seg_notes + list(getattr(run.qc, "notes", None) or []):
            notify_info(str(note))

    def run_comparison(self, student, teacher) -> bool:
        """Run student and teacher and show their agreement."""
        volume = self.state.volume
        if volume is None or not self.study_fits(student, teacher):
            return False
        ctx = self._context()
        return self.runner.start("Comparing student and teacher",
                                 lambda: compare_student_teacher(ctx, volume, student, teacher),
                                 on_success=self._on_compared,
                                 on_error=lambda exc: notify_error(exc, "Comparison"))

    def _on_compared(self, run: CompareRun) -> None:
        s = run.student
        self._show_labelmap(s.segmentation.labelmap, {"model_id": s.entry.card.id, "title": s.entry.card.title},
                            s.stats, s.qc)
        self.last_run, self.last_compare = run.student, run
        self.state.set_comparison(run.teacher.segmentation.labelmap)
        self.segment_panel.show_comparison(run)

    def recompute_statistics(self) -> bool:
        """Statistics of the hand-corrected labels, as a job."""
        lm, vol = self.state.labelmap(), self.state.volume
        if lm is None or vol is None:
            return False
        return self.runner.start("Recomputing statistics", lambda: study_jobs.statistics_job(lm, vol),
                                 on_success=self.structures.set_recomputed,
                                 on_error=lambda exc: notify_error(exc, "Statistics"))

    def _on_overlay_mode_changed(self, mode: str) -> None:
        self.state.set_overlay_mode("difference" if mode == "difference" else "result")
        self.top_right.setCurrentWidget(self.compare_view if mode == "side-by-side" else self.view3d)

    def _on_state_labels_changed(self) -> None:
        self.paint_combo.blockSignals(True)
        self.paint_combo.clear()
        for v, name in self.state.names.items():
            self.paint_combo.addItem(name, v)
        self.paint_combo.blockSignals(False)
        self._on_brush_changed()
        self._set_busy(self.runner.busy)

    # -- window, tools, undo ----------------------------------------------------------------------------------

    def _on_preset_changed(self, name: str) -> None:
        if name == CUSTOM_WINDOW:
            return  # not a preset: the window stays as dragged
        if name == MR_AUTO:
            if self.state.image is not None:
                self._mr_auto = auto_window(self.state.image)
                self.state.set_window(*self._mr_auto)
        else:
            self.state.set_window(*CT_PRESETS[name])

    def set_tool(self, tool: str) -> None:
        """Navigate, paint, erase or ruler in every slice view."""
        for v in self.views.values():
            v.set_tool(tool)
        self.tool_buttons[tool].setChecked(True)

    def _on_brush_changed(self, *_args) -> None:
        value = self.paint_combo.currentData()
        for v in self.views.values():
            v.brush_radius_mm = self.brush_spin.value()
            if value is not None:
                v.paint_value = int(value)

    def undo(self) -> None:
        """Revert the last brush stroke."""
        self.state.undo()
        self._update_undo_actions()

    def redo(self) -> None:
        """Re-apply the last undone stroke."""
        self.state.redo()
        self._update_undo_actions()
