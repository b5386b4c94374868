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


def test_main_window_starts_without_vtk_and_builds_the_3d_scene_with_the_first_study(medpriv_home):
    """Start-up loads no VTK (its OpenGL modules cost ~0.5 s); the 3D scene is built when a study arrives."""
    code = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from medpriv_desktop.gui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        "print('at_start', sorted(m for m in sys.modules if m.startswith('vtkmodules')))\n"
        "import numpy as np\n"
        "from medpriv_desktop.core.imaging.volume import Volume\n"
        "ws = w.workspaces['imaging']\n"
        "ws.state.set_study(Volume(np.zeros((24, 20, 16), np.int16), (2.0, 2.0, 2.0), modality='CT'))\n"
        "app.processEvents()\n"
        "print('after_study', 'vtkmodules.vtkRenderingOpenGL2' in sys.modules, ws.view3d.scene.image is not None)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.strip().splitlines()
    assert lines[-2] == "at_start []"
    assert lines[-1] == "after_study True True"
