"""The Imaging workspace on the public TotalSegmentator examples (skipped when ../shared/data is absent).

Label maps made by another tool: 41 structures with names from ``class_map.json``, and a DICOM series whose label
map is stored in another axis order (LPS series, LAS NIfTI) and must line up voxel for voxel.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.qt._imaging_support import make_workspace, tiny_registry, wait_idle

TS = "imaging/totalsegmentator"


def test_totalsegmentator_label_map_with_class_names(qtbot, tmp_path, shared_data):
    ws = make_workspace(qtbot, tiny_registry(tmp_path / "models"))
    ws.open_path(shared_data / TS / "example_ct_sm.nii.gz")
    wait_idle(qtbot, ws)
    ws.open_segmentation(shared_data / TS / "example_seg.nii.gz")
    wait_idle(qtbot, ws)
    st = ws.state
    assert st.labels is not None and len(st.names) >= 41
    assert "liver" in st.names.values() and "label_5" not in st.names.values()
    table = ws.structures.table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert len(names) == 41 and "liver" in names
    r = names.index("liver")
    assert 500 < float(table.item(r, 1).text()) < 3000  # an adult liver in mL
    assert 20 < float(table.item(r, 2).text().split()[0]) < 200  # liver HU
    ws.structures._on_table_cell_clicked(r, 0)
    liver = {n: v for v, n in st.names.items()}["liver"]
    assert st.labels[tuple(st.cursor)] == liver


@pytest.mark.parametrize("series", ["example_ct_dicom"])
def test_dicom_series_and_its_label_map_in_another_axis_order_line_up(qtbot, tmp_path, shared_data, series):
    from medpriv_desktop.core.imaging.io import read_labelmap

    ws = make_workspace(qtbot, tiny_registry(tmp_path / "models"))
    ws.open_path(shared_data / TS / series)
    wait_idle(qtbot, ws, 120000)
    assert ws.state.volume is not None and ws.state.volume.orientation_codes() == "LPS"
    seg_path = shared_data / TS / "example_seg_dicom.nii.gz"
    ws.open_segmentation(seg_path)
    wait_idle(qtbot, ws)
    st = ws.state
    truth = read_labelmap(seg_path).reoriented("RAS")
    assert np.array_equal(st.labels, truth.array.astype(np.uint16))
    # Bone-like labels sit on bright voxels only if the two files were aligned.
    bone = [v for v, n in st.names.items() if n.startswith("vertebrae")]
    assert bone and float(st.image[np.isin(st.labels, bone)].mean()) > 150
