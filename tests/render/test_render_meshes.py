"""Meshes from label maps: closed, in patient millimetres, written as STL/OBJ/VTP plus one scene file."""

from __future__ import annotations

import numpy as np

from medpriv_desktop.core.imaging.volume import LabelMap
from medpriv_desktop.render.meshes import build_meshes, export_meshes, structure_mesh


def _balls() -> LabelMap:
    spacing = (1.5, 1.0, 2.0)
    x, y, z = np.meshgrid(*[np.arange(40) * s for s in spacing], indexing="ij")
    arr = np.zeros((40, 40, 40), np.uint8)
    arr[(x - 20) ** 2 + (y - 20) ** 2 + (z - 30) ** 2 <= 12**2] = 1
    arr[(x - 50) ** 2 + (y - 30) ** 2 + (z - 60) ** 2 <= 6**2] = 2
    # A mirrored, shifted grid (LAS) so any error in the affine shows up in the bounds.
    return LabelMap(arr, spacing, (100.0, -50.0, 10.0), np.diag([-1.0, 1.0, 1.0]),
                    labels={0: "background", 1: "big ball", 2: "small/ball"}, colors={1: (255, 0, 0), 2: (0, 0, 255)})


def test_mesh_volume_and_position_in_patient_mm():
    from vtkmodules.vtkFiltersCore import vtkFeatureEdges, vtkMassProperties

    lm = _balls()
    poly = structure_mesh(lm, 1)
    mp = vtkMassProperties()
    mp.SetInputData(poly)
    mp.Update()
    voxel_volume = (lm.array == 1).sum() * 1.5 * 1.0 * 2.0
    assert abs(mp.GetVolume() - voxel_volume) / voxel_volume < 0.06  # smoothing may shrink a little, not more
    # World centre: voxel-space centre (20, 20, 30) mm -> x = 100 - 20, y = -50 + 20, z = 10 + 30.
    b = poly.GetBounds()
    centre = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
    assert np.allclose(centre, [80.0, -30.0, 40.0], atol=1.0)
    assert 22 < b[1] - b[0] < 25.5
    edges = vtkFeatureEdges()
    edges.SetInputData(poly)
    edges.BoundaryEdgesOn()
    edges.NonManifoldEdgesOn()
    edges.FeatureEdgesOff()
    edges.ManifoldEdgesOff()
    edges.Update()
    assert edges.GetOutput().GetNumberOfCells() == 0  # watertight


def test_export_writes_every_format_and_a_scene(tmp_path):
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOGeometry import vtkSTLReader
    from vtkmodules.vtkIOXML import vtkXMLPolyDataReader

    lm = _balls()
    paths = export_meshes(lm, tmp_path / "m")
    names = sorted(p.name for p in paths)
    assert names == ["001_big_ball.obj", "001_big_ball.stl", "001_big_ball.vtp", "002_small_ball.obj",
                     "002_small_ball.stl", "002_small_ball.vtp", "scene.vtp"]
    r = vtkSTLReader()
    r.SetFileName(str(tmp_path / "m" / "001_big_ball.stl"))
    r.Update()
    assert r.GetOutput().GetNumberOfPolys() == structure_mesh(lm, 1).GetNumberOfPolys()
    s = vtkXMLPolyDataReader()
    s.SetFileName(str(tmp_path / "m" / "scene.vtp"))
    s.Update()
    labels = vtk_to_numpy(s.GetOutput().GetCellData().GetArray("label"))
    assert set(np.unique(labels)) == {1, 2}
    colors = vtk_to_numpy(s.GetOutput().GetCellData().GetArray("color"))
    assert tuple(colors[labels == 2][0]) == (0, 0, 255)
    assert not list((tmp_path / "m").glob(".*part*"))


def test_absent_label_gives_no_mesh():
    lm = _balls()
    assert structure_mesh(lm, 7) is None
    assert [m.value for m in build_meshes(lm)] == [1, 2]


def test_render_imports_no_qt():
    import subprocess
    import sys

    code = "import sys, medpriv_desktop.render.meshes; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
