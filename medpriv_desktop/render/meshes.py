"""Surface meshes of a label map in patient millimetres (RAS+), per structure and as one multi-structure scene.

Each structure is cut to its bounding box (plus one voxel of margin), meshed with ``vtkSurfaceNets3D`` (watertight,
with its own constrained smoothing that keeps the surface within the voxels it came from; flying edges on a binary
mask would give staircase artefacts) and moved into world millimetres with the label map's affine. Meshes are
written as STL (binary), OBJ and VTP per structure, and ``scene.vtp`` holds every structure with a ``label`` cell
array and per-cell RGB colours so one file shows the whole segmentation. This module uses VTK but never Qt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medpriv_desktop.core.fileio import atomic_path
from medpriv_desktop.core.imaging.volume import LabelMap

MESH_FORMATS = ("stl", "obj", "vtp")


@dataclass
class StructureMesh:
    """One structure's surface (a vtkPolyData in RAS+ mm) and its identity."""

    value: int
    name: str
    polydata: object
    color: tuple[int, int, int] | None

    @property
    def n_triangles(self) -> int:
        """Number of polygons."""
        return int(self.polydata.GetNumberOfPolys())


def _image_from_mask(mask: np.ndarray):
    """A vtkImageData in index space (spacing 1, origin 0) holding ``mask`` as unsigned char."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData

    img = vtkImageData()
    img.SetDimensions(*mask.shape)
    # VTK's point order is x fastest: Fortran order of our [i, j, k] array.
    scalars = numpy_to_vtk(np.ravel(mask.astype(np.uint8), order="F"), deep=True)
    img.GetPointData().SetScalars(scalars)
    return img


def structure_mesh(labelmap: LabelMap, value: int, smoothing_iterations: int = 16):
    """The surface of one label value as vtkPolyData in RAS+ mm, or None when the label is absent."""
    from vtkmodules.vtkCommonTransforms import vtkTransform
    from vtkmodules.vtkFiltersCore import vtkPolyDataNormals, vtkSurfaceNets3D
    from vtkmodules.vtkFiltersGeneral import vtkTransformPolyDataFilter

    mask = labelmap.array == value
    if not mask.any():
        return None
    idx = np.argwhere(mask)
    lo = np.maximum(idx.min(0) - 1, 0)
    hi = np.minimum(idx.max(0) + 2, np.asarray(mask.shape))
    # One voxel of empty margin on every side so the surface closes even at the volume's edge.
    sub = np.pad(mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]], 1)
    nets = vtkSurfaceNets3D()
    nets.SetInputData(_image_from_mask(sub))
    nets.SetValue(0, 1)
    nets.SetOutputMeshTypeToTriangles()
    nets.SetOutputStyleToBoundary()
    if smoothing_iterations > 0:
        nets.SmoothingOn()
        nets.GetSmoother().SetNumberOfIterations(smoothing_iterations)
        # Keep each vertex within half a voxel of where it started: smooth, but no shrinking of small structures
        # (unconstrained, 16 iterations lose ~12% of a 24 mm ball's volume; constrained ~3%).
        nets.SetConstraintStrategyToConstraintBox()
        nets.SetConstraintScale(0.5)
        nets.AutomaticSmoothingConstraintsOn()
    else:
        nets.SmoothingOff()
    nets.Update()
    # Index of the padded sub-volume -> index of the full volume -> world mm.
    shift = np.eye(4)
    shift[:3, 3] = lo - 1
    m = labelmap.affine @ shift
    tf = vtkTransform()
    tf.SetMatrix(m.ravel().tolist())
    tpf = vtkTransformPolyDataFilter()
    tpf.SetInputConnection(nets.GetOutputPort())
    tpf.SetTransform(tf)
    normals = vtkPolyDataNormals()
    normals.SetInputConnection(tpf.GetOutputPort())
    normals.ConsistencyOn()
    normals.AutoOrientNormalsOn()  # closed surfaces: outward normals even when the affine mirrors
    normals.SplittingOff()
    normals.Update()
    out = normals.GetOutput()
    out.GetPointData().RemoveArray("BoundaryLabels")
    out.GetCellData().RemoveArray("BoundaryLabels")
    return out


def build_meshes(labelmap: LabelMap, values: list[int] | None = None, smoothing_iterations: int = 16
                 ) -> list[StructureMesh]:
    """Meshes of every present structure (or of ``values``)."""
    vals = values if values is not None else labelmap.present_values()
    out = []
    for v in vals:
        poly = structure_mesh(labelmap, v, smoothing_iterations)
        if poly is not None and poly.GetNumberOfPolys() > 0:
            out.append(StructureMesh(v, labelmap.labels.get(v, f"label_{v}"), poly, labelmap.colors.get(v)))
    return out


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "structure"


def _write_poly(poly, path: Path) -> None:
    from vtkmodules.vtkIOGeometry import vtkOBJWriter, vtkSTLWriter
    from vtkmodules.vtkIOXML import vtkXMLPolyDataWriter

    ext = path.suffix.lower()
    writer = {".stl": vtkSTLWriter, ".obj": vtkOBJWriter, ".vtp": vtkXMLPolyDataWriter}[ext]()
    if ext == ".stl":
        writer.SetFileTypeToBinary()
    if ext == ".vtp":
        writer.SetDataModeToAppended()
        writer.SetCompressorTypeToZLib()
    from vtkmodules.vtkCommonCore import vtkObject

    # VTK 9.5's XML writer warns about its own legacy array access on every file; that is noise for a user.
    shown = vtkObject.GetGlobalWarningDisplay()
    vtkObject.GlobalWarningDisplayOff()
    try:
        with atomic_path(path) as tmp:
            writer.SetFileName(str(tmp))
            writer.SetInputData(poly)
            if writer.Write() != 1:
                raise OSError(f"VTK could not write {path.name}")
    finally:
        vtkObject.SetGlobalWarningDisplay(shown)


def scene_polydata(meshes: list[StructureMesh]):
    """All structures in one vtkPolyData, with ``label`` (int) and ``color`` (RGB) cell arrays."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkFiltersCore import vtkAppendPolyData
    from vtkmodules.vtkCommonDataModel import vtkPolyData

    app = vtkAppendPolyData()
    for m in meshes:
        poly = vtkPolyData()
        poly.DeepCopy(m.polydata)
        n = poly.GetNumberOfCells()
        lab = numpy_to_vtk(np.full(n, m.value, np.int32), deep=True)
        lab.SetName("label")
        rgb = numpy_to_vtk(np.tile(np.asarray(m.color or (200, 200, 200), np.uint8), (n, 1)), deep=True)
        rgb.SetName("color")
        poly.GetCellData().AddArray(lab)
        poly.GetCellData().AddArray(rgb)
        poly.GetCellData().SetActiveScalars("color")
        app.AddInputData(poly)
    app.Update()
    return app.GetOutput()


def export_meshes(labelmap: LabelMap, outdir: Path, formats: tuple[str, ...] = MESH_FORMATS,
                  smoothing_iterations: int = 16) -> list[Path]:
    """Write every structure's mesh in ``formats`` plus ``scene.vtp``; return the written paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    meshes = build_meshes(labelmap, smoothing_iterations=smoothing_iterations)
    written: list[Path] = []
    for m in meshes:
        for fmt in formats:
            p = outdir / f"{m.value:03d}_{_safe_name(m.name)}.{fmt}"
            _write_poly(m.polydata, p)
            written.append(p)
    if meshes:
        p = outdir / "scene.vtp"
        _write_poly(scene_polydata(meshes), p)
        written.append(p)
    return written
