"""The status-bar widget that shows the running job: title, progress bar, message, elapsed time and Cancel."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from medpriv_desktop.core.jobs import Progress
from medpriv_desktop.gui.jobs import JobRunner


class JobStatusWidget(QWidget):
    """Binds to a :class:`JobRunner`: visible while a job runs, with Cancel wired to the runner."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.title_label = QLabel()
        self.title_label.setStyleSheet("font-weight: 600;")
        self.bar = QProgressBar()
        self.bar.setFixedWidth(220)
        self.bar.setTextVisible(True)
        self.message_label = QLabel()
        self.message_label.setMinimumWidth(180)
        self.elapsed_label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job after its current step")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        for w in (self.title_label, self.bar, self.message_label, self.elapsed_label, self.cancel_button):
            lay.addWidget(w, 0, Qt.AlignmentFlag.AlignVCenter)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        runner.started.connect(self._on_runner_started)
        runner.progressed.connect(self._on_runner_progressed)
        runner.finished.connect(self._on_runner_finished)
        self.setVisible(False)

    @Slot(str)
    def _on_runner_started(self, title: str) -> None:
        self.title_label.setText(title)
        self.bar.setRange(0, 0)
        self.message_label.setText("starting...")
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.elapsed_label.setText("0 s")
        self._timer.start()
        self.setVisible(True)

    @Slot(object)
    def _on_runner_progressed(self, p: Progress) -> None:
        if p.fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(round(1000 * p.fraction)))
            self.bar.setFormat(f"{100 * p.fraction:.0f}%")
        self.message_label.setText(p.message)

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.runner.cancel()
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling...")

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.elapsed_label.setText(f"{time.monotonic() - self.runner.started_at:.0f} s")

    @Slot()
    def _on_runner_finished(self) -> None:
        self._timer.stop()
        self.setVisible(False)
