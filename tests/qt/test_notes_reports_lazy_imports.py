"""The Notes and Reports workspaces start without Presidio, spaCy, onnxruntime or tokenizers: those load in jobs."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("presidio_analyzer", "spacy", "onnxruntime", "tokenizers", "torch", "transformers")


def test_workspaces_do_not_import_engines_at_start(medpriv_home):
    code = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from medpriv_desktop.core.models.registry import ModelRegistry\n"
        "from medpriv_desktop.gui.jobs import JobRunner\n"
        "from medpriv_desktop.gui.workspaces.notes import NotesWorkspace\n"
        "from medpriv_desktop.gui.workspaces.reports import ReportsWorkspace\n"
        "reg, runner = ModelRegistry(), JobRunner()\n"
        "n = NotesWorkspace(reg, runner); r = ReportsWorkspace(reg, runner); r.refresh_models(); n.refresh_models()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "[]"
