"""The 3D scene of the Imaging workspace rendered offscreen with VTK (no Qt): presets, surfaces, capture."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("vtkmodules")


def _render_window(scene, size=(160, 160)):
    from vtkmodules.vtkRenderingCore import vtkRenderWindow

    rw = vtkRenderWindow()
    rw.SetOffScreenRendering(1)
    rw.SetSize(*size)
    rw.AddRenderer(scene.renderer)
    return rw


def _pixels(rw) -> np.ndarray:
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

    rw.Render()
    grab = vtkWindowToImageFilter()
    grab.SetInput(rw)
    grab.ReadFrontBufferOff()
    grab.Update()
    img = grab.GetOutput()
    w, h, _ = img.GetDimensions()
    return vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)[:, :, :3].astype(int)


def test_volume_presets_and_surfaces_change_the_picture(tmp_path):
    from medpriv_desktop.core.imaging.volume import LabelMap, Volume
    from medpriv_desktop.render.meshes import structure_mesh
    from medpriv_desktop.render.volume_view import SceneView, capture_png

    # A bone-dense ball in air: 48^3 voxels of 4 mm.
    g = np.indices((48, 48, 48)).astype(np.float32) - 23.5
    ball = (g**2).sum(axis=0) < 14**2
    hu = np.where(ball, 900, -1000).astype(np.int16)
    vol = Volume(hu, (4.0, 4.0, 4.0), origin=(-94.0, -94.0, -94.0), modality="CT")
    scene = SceneView()
    scene.set_image(vol.array, vol.spacing, vol.origin, vol.direction, "CT", max_voxels=24**3, preset="Off")
    assert scene.step == 2 and max(scene.render_shape) == 24
    rw = _render_window(scene)
    empty = _pixels(rw)
    scene.set_preset("CT bone")
    bone = _pixels(rw)
    assert (np.abs(bone - empty).sum(axis=2) > 40).mean() > 0.01  # the spine shows
    scene.set_preset("Off")
    lm = LabelMap.like(vol, ball.astype(np.uint8), {1: "ball"}, {1: (255, 0, 0)})
    actor = scene.add_surface(1, structure_mesh(lm, 1, 5), (255, 0, 0))
    red = _pixels(rw)
    reddish = (red[:, :, 0] > 120) & (red[:, :, 1] < 90) & (red[:, :, 2] < 90)
    assert reddish.mean() > 0.01
    scene.set_surface_visible(1, False)
    assert not actor.GetVisibility()
    hidden = _pixels(rw)
    assert ((hidden[:, :, 0] > 120) & (hidden[:, :, 1] < 90)).mean() < 0.001
    out = capture_png(rw, tmp_path / "scene.png")
    assert out.stat().st_size > 200
