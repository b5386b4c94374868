"""The Models dialog: installed bundles with their cards, import of a bundle folder, integrity check."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QMessageBox, QPushButton, QSplitter, QTextBrowser, QVBoxLayout,
                               QWidget)

from medpriv_desktop.core.errors import MedPrivError
from medpriv_desktop.core.models.describe import card_html
from medpriv_desktop.core.models.registry import ModelRegistry


def site_summary(registry: ModelRegistry) -> str:
    """One sentence on where the site folder and allow-list come from, and whether the allow-list is usable."""
    policy = registry.policy
    if policy is None:
        return ""
    text = policy.describe().capitalize() + "."
    try:
        allow = registry.allowlist()
    except MedPrivError as exc:
        return f"{text} {exc.message}"
    if allow is None:
        return f"{text} No allow-list."
    kind = "legacy model.onnx hashes: migrate it" if allow.legacy else "bundle manifests"
    return f"{text} Allow-list: {allow.path} ({kind})."


class ModelsDialog(QDialog):
    """Lists every model the registry sees (site, user, bundled) and imports new bundles after validation."""

    models_changed = Signal()

    def __init__(self, registry: ModelRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(900, 600)
        self.registry = registry
        self.list = QListWidget()
        self.list.setMinimumWidth(280)
        self.details = QTextBrowser()
        self.details.setOpenExternalLinks(False)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.details)
        split.setStretchFactor(1, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.import_button = QPushButton("Import bundle...")
        self.verify_button = QPushButton("Verify integrity")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(self.verify_button)
        row.addStretch(1)
        row.addWidget(buttons)
        lay = QVBoxLayout(self)
        roots = ", ".join(f"{kind}: {path}" for kind, path in registry.roots()) or "no model folders found"
        where = QLabel(f"Model folders: {roots}. {site_summary(registry)}")
        where.setWordWrap(True)
        where.setStyleSheet("color: #666;")
        lay.addWidget(where)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)
        lay.addLayout(row)
        self.list.currentItemChanged.connect(self._on_list_current_changed)
        self.import_button.clicked.connect(self._on_import_clicked)
        self.verify_button.clicked.connect(self._on_verify_clicked)
        self.reload()

    def reload(self) -> None:
        """Re-read the registry and fill the list."""
        self.registry.refresh()
        self.list.clear()
        for e in self.registry.entries():
            item = QListWidgetItem(f"{e.card.title}\n{e.card.id} {e.card.version} · {e.card.task.value} · {e.root}")
            item.setData(Qt.ItemDataRole.UserRole, e.card.id)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.details.setHtml(
                "<h2>No models installed</h2><p>Each workspace works without models for opening and viewing. "
                "To segment, de-identify with the PHI model or classify reports, import a model bundle (a folder "
                "with <code>model_card.json</code> and <code>model.onnx</code>) with <b>Import bundle...</b>, or "
                "ask IT to copy bundles into the site models folder.</p>")
        problems = [p.message for p in self.registry.problems + self.registry.shadowed]
        self.status.setText("Skipped: " + "; ".join(problems) if problems else "")

    def _on_list_current_changed(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if item is None:
            return
        e = self.registry.get(item.data(Qt.ItemDataRole.UserRole))
        self.details.setHtml(card_html(e.card, e.root, str(e.path)))

    def import_folder(self, folder: Path) -> bool:
        """Validate and import ``folder``; show the outcome; True on success.

        The window never replaces a bundled or site model: such an import is refused with a message naming
        ``medpriv models import --allow-shadow``, the audited way to do it on purpose.
        """
        from medpriv_desktop.core.app import Context, import_model
        from medpriv_desktop.core.jobs import run_job

        try:
            # on the GUI thread as before; the use case checks the audit log first and records models.import
            entry = run_job(import_model(Context.build(registry=self.registry), folder))
        except MedPrivError as exc:
            self.status.setText(f"Import refused: {exc.message}")
            return False
        self.reload()
        self.status.setText(f"Imported {entry.card.id} {entry.card.version}.")
        self.models_changed.emit()
        return True

    def _on_import_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Select a model bundle folder")
        if folder:
            ok = self.import_folder(Path(folder))
            if not ok:
                QMessageBox.warning(self, "Import refused", self.status.text())

    def _on_verify_clicked(self) -> None:
        bad = []
        entries = self.registry.entries()
        for e in entries:
            try:
                self.registry.verified_model_path(e)
            except MedPrivError as exc:
                bad.append(exc.message)
        self.status.setText("All models intact." if not bad else "Problems: " + "; ".join(bad))
        if not entries:
            self.status.setText("No models to verify.")
