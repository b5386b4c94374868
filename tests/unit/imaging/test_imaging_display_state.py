"""The Qt-free display math, hand corrections and viewer state of the Imaging workspace (moved from tests/qt with
their code: ``core/imaging/display.py``, ``core/imaging/editing.py``, ``core/app/imaging_state.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from medpriv_desktop.core.app.imaging_state import ImagingState
from medpriv_desktop.core.imaging import display as d
from medpriv_desktop.core.imaging.editing import EditHistory, distance_mm, paint_disc
from medpriv_desktop.core.imaging.volume import LabelMap, Volume


@pytest.mark.parametrize("orientation", ["axial", "coronal", "sagittal"])
def test_display_mapping_round_trips_and_follows_radiological_convention(orientation):
    axis = d.VIEW_AXIS[orientation]
    shape = (7, 5, 4)
    arr = np.arange(np.prod(shape)).reshape(shape)
    ijk = (5, 1, 2)
    img = d.slice_2d(arr, axis, ijk[axis])
    col, row = d.voxel_to_display(axis, ijk, shape)
    assert img[int(row), int(col)] == arr[ijk]
    assert d.display_to_voxel(axis, ijk[axis], col, row, shape) == ijk
    # The first voxel (patient's left, posterior, inferior) sits at the right / bottom of every view.
    ca, ra = d.in_plane_axes(axis)
    c0, r0 = d.voxel_to_display(axis, (0, 0, 0), shape)
    assert c0 > shape[ca] - 1 and r0 > shape[ra] - 1
    assert d.EDGE_LABELS[orientation][1] in ("L", "P")  # right edge: patient's left, or posterior in sagittal


def test_compose_blends_label_colours_and_hides_invisible():
    gray = np.full((2, 2), 100, np.uint8)
    lab = np.array([[0, 1], [2, 0]], np.uint16)
    rgb, alpha = d.overlay_lut({1: (255, 0, 0), 2: (0, 0, 255)}, {1: True, 2: False}, 0.5, 3)
    out = d.compose(gray, lab, rgb, alpha)
    assert tuple(out[0, 0]) == (100, 100, 100)
    assert tuple(out[0, 1]) == (178, 50, 50)  # half red over grey 100
    assert tuple(out[1, 0]) == (100, 100, 100)  # label 2 hidden
    diff = d.difference_labels(np.array([1, 0, 2, 1]), np.array([0, 3, 1, 1]))
    assert diff.tolist() == [1, 2, 3, 0]


def _study(shape=(20, 16, 12), spacing=(1.0, 1.5, 2.0)) -> Volume:
    arr = np.zeros(shape, np.int16) - 1000
    arr[5:15, 4:12, 3:9] = 40
    # LPS-ordered file on disk: the state must show it in RAS order whatever the file's axis order.
    vol = Volume(arr, spacing, (0, 0, 0), np.eye(3), "CT")
    return vol.reoriented("LPS")


def test_state_reorients_to_ras_and_exports_back_to_the_file_grid():
    vol = _study()
    st = ImagingState()
    st.set_study(vol)
    assert st.volume_ras.orientation_codes() == "RAS" and st.image.shape == (20, 16, 12)
    lab = LabelMap.like(vol, (vol.array > 0).astype(np.uint8), {1: "box"}, {1: (10, 200, 30)})
    st.set_labels(lab)
    assert st.labels.shape == st.image.shape and int(st.labels[10, 8, 5]) == 1
    back = st.labelmap()
    assert back.same_grid(vol) and np.array_equal(back.array, lab.array)
    assert back.labels[1] == "box" and back.colors[1] == (10, 200, 30)


def test_paint_disc_respects_spacing_and_history_groups_strokes():
    lab = np.zeros((10, 10, 3), np.uint8)
    n = paint_disc(lab, 2, (5, 5, 1), 2.0, (1.0, 2.0, 1.0), 3)
    assert n == int((lab == 3).sum()) and lab[5, 5, 1] == 3
    assert lab[5, 6, 1] == 3 and lab[5, 7, 1] == 0  # 2 mm along y is one voxel
    h = EditHistory()
    h.begin(lab, 2, 1)
    paint_disc(lab, 2, (1, 1, 1), 1.0, (1, 1, 1), 4)
    paint_disc(lab, 2, (8, 8, 1), 1.0, (1, 1, 1), 4)
    assert h.end(lab)
    assert h.undo(lab) == {4} and not (lab == 4).any()
    assert distance_mm((0, 0), (3, 4), (1.0, 1.0)) == 5.0


@pytest.mark.parametrize(("level", "width", "mr_auto", "expected"), [
    (40, 400, None, "Soft tissue"), (40.3, 399.8, None, "Soft tissue"), (41, 400, None, "Custom"),
    (300, 900, (300, 900), "MR automatic"), (300, 900, None, "Custom")])
def test_window_preset_name(level, width, mr_auto, expected):
    assert d.window_preset_name(level, width, mr_auto) == expected
