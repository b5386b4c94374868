"""Shared pieces of the Imaging workspace Qt tests: a phantom study on disk and tiny model registries."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.unit.imaging._imaging_fixtures import make_bundle, phantom_volume


def write_phantom(folder: Path, shape=(48, 40, 32), spacing=(3.0, 3.0, 4.0)) -> tuple[Path, np.ndarray]:
    """The torso phantom as a NIfTI file; returns (path, HU array in RAS order)."""
    from medpriv_desktop.core.imaging.io import write_volume

    vol, _lab = phantom_volume(shape, spacing)
    path = folder / "phantom_ct.nii.gz"
    write_volume(vol, path)
    return path, vol.array


def tiny_registry(root: Path, teacher: bool = False, spacing=(3.0, 3.0, 4.0)):
    """A registry with the nearest-centre student (and a teacher of the same family when asked)."""
    from medpriv_desktop.core.models.registry import ModelRegistry

    make_bundle(root / "bundled", "seg-tiny-student", spacing=spacing, role="student", family="tiny")
    if teacher:
        # A slightly different teacher (other class centres) so the comparison has something to show.
        make_bundle(root / "bundled", "seg-tiny-teacher", spacing=spacing, role="teacher", family="tiny",
                    builder_kwargs={"centres": (-0.95, 0.0, 0.5)})
    return ModelRegistry(bundled_dir=root / "bundled", user_dir=root / "user", site_dir=None)


def make_workspace(qtbot, registry):
    """An Imaging workspace with its own job runner, shown (so its children get real sizes)."""
    from medpriv_desktop.gui.jobs import JobRunner
    from medpriv_desktop.gui.workspaces.imaging import ImagingWorkspace

    runner = JobRunner()
    ws = ImagingWorkspace(registry, runner)
    ws._test_runner = runner  # keep the runner alive as long as the workspace
    qtbot.addWidget(ws)
    ws.resize(1200, 800)
    ws.show()
    ws.refresh_models()
    return ws


def wait_idle(qtbot, ws, timeout: int = 60000) -> None:
    """Wait for the running job (if any) to finish and its callbacks to run."""
    qtbot.waitUntil(lambda: not ws.runner.busy, timeout=timeout)
    qtbot.wait(20)
