"""The Imaging workspace's "Export de-identified...": every export with de-identified headers and pseudonymous
names; the ordinary export dialogs say that what they write is identified."""

from __future__ import annotations

import pydicom
import pytest

from tests.qt._imaging_support import make_workspace, tiny_registry, wait_idle
from tests.unit.dicom_deid._phi_series import phantom_hu, write_phi_series

pytest.importorskip("onnx")


def test_export_deidentified_from_the_menu(qtbot, tmp_path):
    write_phi_series(tmp_path / "study", phantom_hu(0, (32, 28, 8)), patient_name="SMITH^JOHN", plant=False)
    ws = make_workspace(qtbot, tiny_registry(tmp_path / "models"))
    ws.open_path(tmp_path / "study")
    wait_idle(qtbot, ws)
    qtbot.waitUntil(lambda: ws.state.volume is not None, timeout=30000)
    ws.run_segmentation(ws.segment_panel.current_entry())
    wait_idle(qtbot, ws)
    action = ws.export_actions["deidentified"]
    assert action.text() == "Export de-identified..." and action.isEnabled()

    titles = []
    ws._ask_save = lambda title, default, filt: titles.append(title)  # cancelled dialogs: nothing is written
    ws._ask_folder = lambda title: titles.append(title) or (tmp_path / "deid" if "de-identified" in title else None)
    assert not ws.export_labelmap() and not ws.export_dicom_seg() and not ws.export_stats()
    assert all("identified:" in t and "de-identified" not in t.split("(")[0] for t in titles)
    assert ws.export_deidentified()
    wait_idle(qtbot, ws)
    assert "de-identified" in titles[-1]
    out = tmp_path / "deid"
    names = sorted(p.name for p in out.iterdir())
    assert all(n.startswith("series-") for n in names), names
    assert {n.split("_", 1)[1] for n in names} >= {"seg.dcm", "seg.nii.gz", "stats.csv", "stats.json", "meshes"}
    meshes = next(p for p in out.iterdir() if p.name.endswith("_meshes"))
    assert list(meshes.glob("*.stl"))
    seg = pydicom.dcmread(next(out.glob("*_seg.dcm")))
    assert seg.PatientIdentityRemoved == "YES" and "SMITH" not in str(seg.PatientName)
    for p in out.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            assert b"SMITH" not in data and str(tmp_path / "study").encode() not in data, p.name
