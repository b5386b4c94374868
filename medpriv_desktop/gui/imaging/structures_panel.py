"""The structures table: visibility, colour, name, volume (mL), mean HU and QC status with its reason.

It doubles as the legend. Ticking a row's box shows or hides the structure in every view; clicking a row (or Enter
on it) centres the crosshair on the structure's centroid and says so in the status bar; the slider sets the overlay
opacity; right-click (or the Menu key) sets a surface's 3D opacity or shows/hides it in 3D; a tick box switches every
view to a colour-blind-safe palette. A structure whose card gives no adult volume range says that its volume was not
checked, rather than passing silently.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSlider,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from medpriv_desktop.core.app.imaging_state import ImagingState

QC_COLOURS = {"info": QColor(110, 110, 110), "pass": QColor(46, 125, 50), "warn": QColor(200, 130, 0), "fail": QColor(198, 40, 40)}
_RANK = {"info": -1, "pass": 0, "warn": 1, "fail": 2}
COLUMNS = ("Structure", "Volume (mL)", "Mean", "QC", "Reason")


def _swatch(rgb: tuple[int, int, int]) -> QIcon:
    pix = QPixmap(12, 12)
    pix.fill(QColor(*rgb))
    return QIcon(pix)


class StructuresPanel(QWidget):
    """Table of structures bound to the state, with statistics and QC from the last run."""

    structure_clicked = Signal(int)
    #: A sentence for the status bar when a row moved the views ("Views centred on liver: axial 33 of 64").
    jumped = Signal(str)
    surface_opacity_requested = Signal(int, float)  # label value, opacity of its 3D surface
    recompute_requested = Signal()  # statistics of the hand-corrected labels

    def __init__(self, state: ImagingState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.stats: dict[int, object] = {}
        self.qc: dict[int, tuple[str, str]] = {}
        self.edited: set[int] = set()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        hdr = self.table.horizontalHeader()
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for c in (1, 2, 3):
            hdr.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        hdr.setStretchLastSection(True)
        self.table.itemChanged.connect(self._on_table_item_changed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu)
        self.table.setToolTip("Tick (Space) to show or hide; click or Enter to centre the views; right-click or the "
                              "Menu key for the 3D surface")
        self.table.cellClicked.connect(self._on_table_cell_clicked)
        self.table.cellActivated.connect(self._on_table_cell_clicked)  # Enter on a row
        self.palette_check = QCheckBox("Colour-blind-safe colours")
        self.palette_check.setToolTip("Okabe-Ito / Tol palette for every structure in every view")
        self.palette_check.toggled.connect(self._on_palette_toggled)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(int(round(state.opacity * 100)))
        self.opacity_slider.valueChanged.connect(self._on_opacity_changed)
        self.summary_label = QLabel("No segmentation")
        self.summary_label.setWordWrap(True)
        self.recompute_button = QPushButton("Recompute")
        self.recompute_button.setToolTip("Statistics of the labels as corrected by hand")
        self.recompute_button.setEnabled(False)
        self.recompute_button.clicked.connect(self.recompute_requested)
        row = QHBoxLayout()
        row.addWidget(QLabel("Overlay opacity"))
        row.addWidget(self.opacity_slider, 1)
        row.addWidget(self.recompute_button)
        row.addWidget(self.palette_check)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.summary_label)
        lay.addLayout(row)
        lay.addWidget(self.table, 1)
        state.labels_changed.connect(self.rebuild)
        state.labels_edited.connect(self._on_state_labels_edited)
        state.overlay_changed.connect(self._on_state_overlay_changed)

    # -- model to view ----------------------------------------------------------------------------------------

    def set_results(self, stats: list, qc=None) -> None:
        """Statistics (``StructureStats`` list) and a ``QCReport`` for the rows."""
        self.stats = {int(s.value): s for s in stats}
        self.qc = {}
        if qc is not None:
            worst = qc.by_structure()
            reasons: dict[str, list[str]] = {}
            checked: dict[str, set[str]] = {}
            # Every check in the reason, the worst first: a pass is as much a statement as a fail.
            for it in sorted(qc.items, key=lambda i: -_RANK.get(i.status, 0)):
                reasons.setdefault(it.name, []).append(f"{it.check} {it.status}: {it.reason}")
                checked.setdefault(it.name, set()).add(it.check)
            for v, name in self.state.names.items():
                if name in worst:
                    why = reasons.get(name, [])
                    if "volume" not in checked.get(name, set()):
                        why.append("volume not checked: the model card gives no adult range for it (older card)")
                    self.qc[v] = (worst[name], "; ".join(why))
        self.edited.clear()
        self.recompute_button.setEnabled(False)
        self.rebuild()

    def values(self) -> list[int]:
        """Label values in table order."""
        return [int(self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)) for r in range(self.table.rowCount())]

    def rebuild(self) -> None:
        """Fill the table from the state's labels plus statistics and QC."""
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        names = self.state.names
        present = [v for v in names if v in self.stats and self.stats[v].voxels > 0] if self.stats else list(names)
        for v in present:
            r = self.table.rowCount()
            self.table.insertRow(r)
            item = QTableWidgetItem(_swatch(self.state.colors.get(v, (200, 200, 200))), names[v])
            item.setData(Qt.ItemDataRole.UserRole, v)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if self.state.visible.get(v, True) else Qt.CheckState.Unchecked)
            self.table.setItem(r, 0, item)
            s = self.stats.get(v)
            vol = f"{s.volume_ml:.1f}" if s is not None else ""
            mean = f"{s.mean:.0f} {s.unit}" if s is not None and s.mean is not None else ""
            self.table.setItem(r, 1, QTableWidgetItem(vol))
            self.table.setItem(r, 2, QTableWidgetItem(mean))
            status, reason = self.qc.get(v, ("", ""))
            if v in self.edited:
                status, reason = (status + " (edited)").strip(), "edited by hand after QC; " + reason
            st = QTableWidgetItem(status)
            if status.split(" ")[0] in QC_COLOURS:
                st.setForeground(QBrush(QC_COLOURS[status.split(" ")[0]]))
            st.setToolTip(reason)
            self.table.setItem(r, 3, st)
            rs = QTableWidgetItem(reason)
            rs.setToolTip(reason)
            self.table.setItem(r, 4, rs)
        # A model's structures that it did not find are listed too (greyed): a missing organ is a finding for QC.
        absent = ([v for v in names if v in self.stats and self.stats[v].voxels == 0]
                  if self.state.source.get("model_id") else [])
        grey = QBrush(QColor(150, 150, 150))
        for v in absent:
            r = self.table.rowCount()
            self.table.insertRow(r)
            item = QTableWidgetItem(names[v])
            item.setData(Qt.ItemDataRole.UserRole, v)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)  # nothing to show or hide
            status, reason = self.qc.get(v, ("", ""))
            cells = [item, QTableWidgetItem("0"), QTableWidgetItem(""), QTableWidgetItem(status or "not found"),
                     QTableWidgetItem(reason or "not found by the model")]
            for c, cell in enumerate(cells):
                cell.setForeground(grey if c != 3 or status not in QC_COLOURS else QBrush(QC_COLOURS[status]))
                cell.setToolTip(reason or "not found by the model")
                self.table.setItem(r, c, cell)
        self.table.blockSignals(False)
        n = len(present)
        if not names:
            self.summary_label.setText("No segmentation")
        else:
            counts = {k: sum(1 for v in present if self.qc.get(v, ("",))[0] == k) for k in QC_COLOURS}
            src = self.state.source.get("title") or self.state.source.get("file") or ""
            qc_text = f" · QC: {counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail" if self.qc else ""
            missing = f", {len(absent)} not found" if absent else ""
            noun = "structure" if n == 1 else "structures"
            self.summary_label.setText(f"{n} {noun}{missing}{qc_text}" + (f" · {src}" if src else ""))

    def _on_state_labels_edited(self, values: set[int]) -> None:
        self.edited |= set(values)
        self.recompute_button.setEnabled(bool(self.edited))
        self.rebuild()

    def set_recomputed(self, stats: list) -> None:
        """New statistics of the edited labels; QC from the model run stays, marked as before the edits."""
        self.stats = {int(s.value): s for s in stats}
        for v in self.edited:
            if v in self.qc:
                status, reason = self.qc[v]
                self.qc[v] = (f"{status} (before edits)", reason)
        self.edited.clear()
        self.recompute_button.setEnabled(False)
        self.rebuild()

    def _on_state_overlay_changed(self) -> None:
        self.table.blockSignals(True)
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if not item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                continue  # a structure the model did not find has nothing to show
            v = int(item.data(Qt.ItemDataRole.UserRole))
            item.setCheckState(Qt.CheckState.Checked if self.state.visible.get(v, True) else Qt.CheckState.Unchecked)
        self.table.blockSignals(False)
        self.opacity_slider.blockSignals(True)
        self.opacity_slider.setValue(int(round(self.state.opacity * 100)))
        self.opacity_slider.blockSignals(False)

    # -- view to model ----------------------------------------------------------------------------------------

    def _on_table_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            v = int(item.data(Qt.ItemDataRole.UserRole))
            self.state.set_visible(v, item.checkState() == Qt.CheckState.Checked)

    def _on_table_cell_clicked(self, row: int, _col: int) -> None:
        v = int(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))
        self.centre_on(v)
        self.structure_clicked.emit(v)

    def centre_on(self, value: int) -> None:
        """Move the crosshair to a structure's centroid (from the statistics, else from the voxels) and announce
        where the views went, so a jump of every slice is never silent."""
        s = self.stats.get(value)
        before = list(self.state.cursor)
        if s is not None and s.centroid_mm is not None and value not in self.edited:
            self.state.centre_on_world(s.centroid_mm)
        elif self.state.labels is not None:
            import numpy as np

            idx = np.argwhere(self.state.labels == value)
            if len(idx):
                self.state.set_cursor(tuple(int(c) for c in np.round(idx.mean(0))))
        if self.state.image is None:
            return
        name = self.state.names.get(value, f"label {value}")
        shape = self.state.image.shape
        where = (f"axial {self.state.cursor[2] + 1}/{shape[2]}, coronal {self.state.cursor[1] + 1}/{shape[1]}, "
                 f"sagittal {self.state.cursor[0] + 1}/{shape[0]}")
        moved = "Views centred on" if self.state.cursor != before else "Views already on"
        self.jumped.emit(f"{moved} {name}: {where}")

    def _on_palette_toggled(self, on: bool) -> None:
        self.state.set_palette("colour-blind" if on else "card")
        self.rebuild()  # the swatches follow the palette

    def _on_table_context_menu(self, pos) -> None:
        from PySide6.QtWidgets import QMenu

        row = self.table.rowAt(pos.y())
        if row < 0:
            return
        v = int(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        shown = self.state.shown_in_3d(v)
        menu.addAction("Hide in 3D" if shown else "Show in 3D",
                       lambda _=False: self.state.set_shown_in_3d(v, not shown))
        for pct in (100, 75, 50, 25):
            menu.addAction(f"3D surface opacity {pct}%",
                           lambda _=False, o=pct / 100.0: self.surface_opacity_requested.emit(v, o))
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def _on_opacity_changed(self, value: int) -> None:
        self.state.set_opacity(value / 100.0)
