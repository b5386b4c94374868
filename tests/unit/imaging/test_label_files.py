"""Reading a saved segmentation onto the open study in core (``core/imaging/label_files.py``): a DICOM SEG the app
wrote reads back voxel for voxel on its own series and is refused on any other study; a label map file brings its
names from the ``_labels.json`` beside it and must be on the study's grid."""

from __future__ import annotations

import json

import numpy as np
import pytest

from _imaging_fixtures import phantom_volume, write_dicom_series
from medpriv_desktop.core.app import Context, SegmentOptions, segment_study
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging.io import read_volume, write_labelmap
from medpriv_desktop.core.imaging.label_files import is_dicom_seg, read_segmentation_onto
from medpriv_desktop.core.imaging.volume import LabelMap
from medpriv_desktop.core.jobs import run_job


def test_dicom_seg_round_trip_and_refusals(tiny_registry, tmp_path):
    vol, _ = phantom_volume()
    write_dicom_series(tmp_path / "ct", vol.array, spacing=vol.spacing)
    res = run_job(segment_study(Context.build(registry=tiny_registry), tmp_path / "ct",
                                tiny_registry.get("seg-tiny-test"), output=tmp_path / "o",
                                options=SegmentOptions(formats=("nii.gz",), check_fit=False)))
    seg = tmp_path / "o" / "ct_seg.dcm"
    assert is_dicom_seg(seg) and not is_dicom_seg(tmp_path / "o" / "ct_seg.nii.gz")
    lm = run_job(read_segmentation_onto(seg, res.volume))
    assert np.array_equal(lm.array, res.segmentation.labelmap.array)
    assert set(lm.labels.values()) >= {"soft_tissue", "bone"}
    with pytest.raises(InputError, match="DICOM series it was made from") as info:
        run_job(read_segmentation_onto(seg, vol))  # the same voxels, but not the DICOM series
    assert info.value.path == seg


@pytest.mark.parametrize(("shape", "error"), [(None, None), ((10, 10, 10), "does not match the study's")])
def test_label_map_file_names_and_grid(tmp_path, shape, error):
    vol, lab = phantom_volume()
    arr = lab.astype(np.uint8) if shape is None else np.zeros(shape, np.uint8)
    path = tmp_path / "mine_seg.nii.gz"
    write_labelmap(LabelMap.like(_grid_like(vol, shape), arr, {}), path)
    (tmp_path / "mine_seg_labels.json").write_text(json.dumps({"1": {"name": "tissue", "color": [1, 2, 3]}}))
    if error:
        with pytest.raises(InputError, match=error):
            run_job(read_segmentation_onto(path, vol))
        return
    lm = run_job(read_segmentation_onto(path, vol))
    assert np.array_equal(lm.array, arr) and lm.labels[1] == "tissue" and lm.colors[1] == (1, 2, 3)


def _grid_like(vol, shape):
    """``vol`` itself, or a volume of ``shape`` with its spacing (a label map made for another study)."""
    if shape is None:
        return vol
    from medpriv_desktop.core.imaging.volume import Volume

    return Volume(np.zeros(shape, np.int16), vol.spacing, (0, 0, 0), np.eye(3), "CT")
