"""The 3D scene of the Imaging workspace: volume rendering with presets and segmentation surfaces (VTK, no Qt).

The scene renders from a strided copy of the study of at most ``max_voxels`` voxels (default 256^3), so software
OpenGL (Mesa llvmpipe) stays interactive on a laptop; surfaces come from a label map strided the same way. Everything
is placed in RAS+ millimetres, like the meshes of :mod:`.meshes`. Build and change the scene on the GUI thread only.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

#: Volume-rendering transfer functions: (intensity, (r, g, b) 0..1, opacity) points. CT in HU; "MR" in percent of
#: the 99th percentile, scaled when applied.
VOLUME_PRESETS: dict[str, list[tuple[float, tuple[float, float, float], float]]] = {
    "CT soft tissue": [(-1000, (0, 0, 0), 0.0), (-150, (0.55, 0.25, 0.15), 0.0), (20, (0.85, 0.45, 0.35), 0.08),
                       (100, (0.95, 0.75, 0.6), 0.18), (300, (1.0, 0.95, 0.85), 0.5), (1500, (1, 1, 1), 0.8)],
    "CT bone": [(-1000, (0, 0, 0), 0.0), (150, (0.6, 0.4, 0.3), 0.0), (300, (0.95, 0.9, 0.8), 0.35),
                (1000, (1, 1, 0.95), 0.85), (3000, (1, 1, 1), 0.95)],
    "CT lung": [(-1000, (0, 0, 0), 0.0), (-900, (0.3, 0.5, 0.8), 0.0), (-700, (0.5, 0.7, 0.95), 0.08),
                (-400, (0.8, 0.6, 0.6), 0.02), (200, (0.9, 0.8, 0.7), 0.0)],
    "MR": [(0.0, (0, 0, 0), 0.0), (15.0, (0.5, 0.35, 0.3), 0.0), (40.0, (0.85, 0.7, 0.6), 0.12),
           (100.0, (1, 1, 1), 0.6)],
}
NO_VOLUME = "Off"


def render_step(shape: tuple[int, ...], max_voxels: int) -> int:
    """Smallest whole stride so that the strided copy holds at most ``max_voxels`` voxels."""
    n = int(np.prod(shape))
    step = max(1, math.ceil((n / max(max_voxels, 1)) ** (1.0 / 3.0)))
    while int(np.prod([math.ceil(s / step) for s in shape])) > max_voxels:
        step += 1
    return step


def strided(array: np.ndarray, step: int) -> np.ndarray:
    """A contiguous copy keeping every ``step``-th voxel along each axis (voxel 0 stays where it was)."""
    return np.ascontiguousarray(array[::step, ::step, ::step])


def image_data(array: np.ndarray, spacing, origin, direction):
    """A vtkImageData holding ``array`` ([i, j, k], x fastest) with RAS+ geometry."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData

    img = vtkImageData()
    img.SetDimensions(*array.shape)
    img.SetSpacing(*[float(s) for s in spacing])
    img.SetOrigin(*[float(o) for o in origin])
    img.SetDirectionMatrix(*[float(v) for v in np.asarray(direction, float).ravel()])
    data = array if array.dtype in (np.int16, np.uint8, np.uint16, np.float32) else array.astype(np.float32)
    img.GetPointData().SetScalars(numpy_to_vtk(np.ravel(data, order="F"), deep=True))
    return img


class SceneView:
    """Renderer, one volume and one surface actor per structure; ``render_window`` is attached by the GUI."""

    def __init__(self) -> None:
        import vtkmodules.vtkRenderingOpenGL2  # noqa: F401 - registers the OpenGL back end
        import vtkmodules.vtkRenderingVolumeOpenGL2  # noqa: F401
        from vtkmodules.vtkRenderingCore import vtkRenderer

        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0.06, 0.07, 0.09)
        self.renderer.SetBackground2(0.18, 0.2, 0.25)
        self.renderer.GradientBackgroundOn()
        self.volume = None
        self.mapper = None
        self.image = None
        self.step = 1
        self.preset = NO_VOLUME
        self.modality = "CT"
        self._mr_scale = 1.0
        self.surfaces: dict[int, object] = {}
        self.surfaces_shown = True

    # -- volume -----------------------------------------------------------------------------------------------

    def set_image(self, array: np.ndarray, spacing, origin, direction, modality: str = "CT",
                  max_voxels: int = 256**3, preset: str | None = None) -> None:
        """Load a study (strided to at most ``max_voxels``) and apply a preset (default: by modality)."""
        from vtkmodules.vtkRenderingCore import vtkVolume
        from vtkmodules.vtkRenderingVolumeOpenGL2 import vtkSmartVolumeMapper

        self.step = render_step(array.shape, max_voxels)
        small = strided(array, self.step)
        self.image = image_data(small, np.asarray(spacing) * self.step, origin, direction)
        self.modality = modality
        self._mr_scale = float(np.percentile(small[:: max(1, small.size // 200_000)], 99)) / 100.0 or 1.0
        if self.volume is not None:
            self.renderer.RemoveVolume(self.volume)
        self.mapper = vtkSmartVolumeMapper()
        self.mapper.SetInputData(self.image)
        self.volume = vtkVolume()
        self.volume.SetMapper(self.mapper)
        self.renderer.AddVolume(self.volume)
        self.clear_surfaces()
        self.set_preset(preset or ("CT soft tissue" if modality == "CT" else "MR"))
        self.reset_camera()

    @property
    def render_shape(self) -> tuple[int, int, int] | None:
        """Voxel counts of the strided copy being rendered."""
        return None if self.image is None else tuple(self.image.GetDimensions())

    def set_preset(self, name: str) -> None:
        """Apply a volume-rendering preset, or hide the volume with ``"Off"``."""
        from vtkmodules.vtkCommonDataModel import vtkPiecewiseFunction
        from vtkmodules.vtkRenderingCore import vtkColorTransferFunction, vtkVolumeProperty

        if name != NO_VOLUME and name not in VOLUME_PRESETS:
            raise ValueError(f"unknown preset {name!r}")
        self.preset = name
        if self.volume is None:
            return
        if name == NO_VOLUME:
            self.volume.SetVisibility(False)
            return
        scale = self._mr_scale if name == "MR" else 1.0
        ctf, otf = vtkColorTransferFunction(), vtkPiecewiseFunction()
        for x, rgb, a in VOLUME_PRESETS[name]:
            ctf.AddRGBPoint(x * scale, *rgb)
            otf.AddPoint(x * scale, a)
        prop = vtkVolumeProperty()
        prop.SetColor(ctf)
        prop.SetScalarOpacity(otf)
        prop.SetInterpolationTypeToLinear()
        prop.ShadeOn()
        prop.SetAmbient(0.3)
        prop.SetDiffuse(0.7)
        prop.SetSpecular(0.2)
        self.volume.SetProperty(prop)
        self.volume.SetVisibility(True)

    # -- surfaces ---------------------------------------------------------------------------------------------

    def add_surface(self, value: int, polydata, color: tuple[int, int, int] | None, opacity: float = 1.0,
                    visible: bool = True) -> object:
        """Add (or replace) the surface actor of one structure."""
        from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

        self.remove_surface(value)
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(polydata)
        mapper.ScalarVisibilityOff()
        actor = vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        rgb = color or (200, 200, 200)
        prop.SetColor(rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0)
        prop.SetOpacity(float(opacity))
        prop.SetSpecular(0.25)
        prop.SetSpecularPower(20)
        actor.SetVisibility(bool(visible and self.surfaces_shown))
        self.renderer.AddActor(actor)
        self.surfaces[value] = actor
        return actor

    def remove_surface(self, value: int) -> None:
        """Drop one structure's surface."""
        actor = self.surfaces.pop(value, None)
        if actor is not None:
            self.renderer.RemoveActor(actor)

    def clear_surfaces(self) -> None:
        """Drop every surface."""
        for v in list(self.surfaces):
            self.remove_surface(v)

    def set_surface_visible(self, value: int, visible: bool) -> None:
        """Show or hide one structure's surface."""
        if value in self.surfaces:
            self.surfaces[value].SetVisibility(bool(visible))

    def set_surface_opacity(self, value: int, opacity: float) -> None:
        """Opacity 0..1 of one structure's surface."""
        if value in self.surfaces:
            self.surfaces[value].GetProperty().SetOpacity(float(opacity))

    def surface_visible(self, value: int) -> bool:
        """True when the structure has a surface and it is shown."""
        return value in self.surfaces and bool(self.surfaces[value].GetVisibility())

    # -- camera and capture -----------------------------------------------------------------------------------

    def reset_camera(self) -> None:
        """Look at the patient from the front (anterior), superior up, everything in view."""
        cam = self.renderer.GetActiveCamera()
        bounds = self.image.GetBounds() if self.image is not None else None
        if bounds is not None:
            cx, cy, cz = (bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, (bounds[4] + bounds[5]) / 2
            cam.SetFocalPoint(cx, cy, cz)
            cam.SetPosition(cx, cy + 1000.0, cz)  # anterior of the patient, looking back (+y is anterior)
            cam.SetViewUp(0, 0, 1)
        self.renderer.ResetCamera()
        self.renderer.ResetCameraClippingRange()


def capture_png(render_window, path: Path) -> Path:
    """Render and write what ``render_window`` shows to a PNG file (atomically)."""
    from vtkmodules.vtkIOImage import vtkPNGWriter
    from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

    from medpriv_desktop.core.fileio import atomic_path

    render_window.Render()
    grab = vtkWindowToImageFilter()
    grab.SetInput(render_window)
    grab.ReadFrontBufferOff()
    grab.Update()
    path = Path(path)
    with atomic_path(path) as tmp:
        w = vtkPNGWriter()
        w.SetFileName(str(tmp))
        w.SetInputConnection(grab.GetOutputPort())
        w.Write()
    return path
