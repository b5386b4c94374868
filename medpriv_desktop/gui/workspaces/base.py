"""What every workspace shares: a machine name, a title, a model banner and a way to open files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from medpriv_desktop.core.models.card import Task
from medpriv_desktop.core.models.registry import ModelRegistry
from medpriv_desktop.gui.jobs import JobRunner


class ModelBanner(QFrame):
    """A yellow strip saying that no model of a task is installed, with a button to the Models dialog."""

    models_requested = Signal()

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("model_banner")
        self.setStyleSheet(
            "#model_banner { background: #fff4ce; border: 1px solid #e0c060; border-radius: 4px; }"
            "#model_banner QLabel { color: #4a3b00; }"
        )
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        button = QPushButton("Models...")
        button.clicked.connect(self.models_requested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(button)


class WorkspacePanel(QWidget):
    """Base of a workspace. Subclasses set ``machine_name``, ``title``, ``model_task`` and implement ``open_path``."""

    machine_name = "workspace"
    title = "Workspace"
    model_task: Task | None = None
    no_model_text = "No model installed for this workspace."
    file_opened = Signal(str)
    models_requested = Signal()

    def __init__(self, registry: ModelRegistry, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.runner = runner
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(8, 8, 8, 8)
        self.banner = ModelBanner(self.no_model_text)
        self.banner.models_requested.connect(self.models_requested)
        self.outer.addWidget(self.banner)
        self.banner.setVisible(False)

    def settings(self):
        """The window's settings (the saved ones when the workspace stands alone, as in tests)."""
        from medpriv_desktop.core.settings import Settings, load_settings

        s = getattr(self.window(), "settings", None)
        return s if isinstance(s, Settings) else load_settings()

    def models(self) -> list:
        """Installed models of this workspace's task."""
        return self.registry.entries(self.model_task) if self.model_task else []

    def refresh_models(self) -> None:
        """Re-read the registry; show the banner when no model is installed."""
        self.banner.setVisible(self.model_task is not None and not self.models())

    def open_path(self, path: Path) -> None:  # pragma: no cover - abstract
        """Open a file or folder in this workspace."""
        raise NotImplementedError
