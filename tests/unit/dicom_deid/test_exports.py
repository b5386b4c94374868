"""De-identified exports: a de-identified series segments and its SEG references it; ``segment --deidentify`` on the
original writes a SEG that references the same de-identified UIDs, under pseudonymous names, with no source path."""

from __future__ import annotations

import shutil

import nibabel as nib
import pydicom
import pytest
from _scan import dicom_files, pseudonym_names, survivors

from medpriv_desktop.cli import main
from medpriv_desktop.core.dicom_deid.verify import verify_folder
from medpriv_desktop.core.imaging.io import read_volume
from medpriv_desktop.core.app import Context, SegmentOptions, segment_study
from medpriv_desktop.core.jobs import run_job


def _referenced(seg):
    """(series UID, SOP instance UIDs) a SEG references."""
    ref = seg.ReferencedSeriesSequence[0]
    return str(ref.SeriesInstanceUID), {str(i.ReferencedSOPInstanceUID) for i in ref.ReferencedInstanceSequence}


def _deid(inp, out):
    assert main(["deid-dicom", str(inp), "-o", str(out), "-q"]) == 0
    series_dir = dicom_files(out)[0].parent
    dss = [pydicom.dcmread(p) for p in dicom_files(series_dir)]
    return series_dir, dss


def test_a_deidentified_series_opens_segments_and_its_seg_references_it(phi_study, tmp_path, tiny_registry):
    inp, _, _ = phi_study
    series_dir, dss = _deid(inp, tmp_path / "deid")
    vol = read_volume(series_dir)
    assert vol.shape == (16, 12, 6) and vol.modality == "CT"
    entry = tiny_registry.get("seg-tiny-test")
    res = run_job(segment_study(Context.build(registry=tiny_registry), series_dir, entry, output=tmp_path / "seg"))
    seg_path = next(p for p in res.outputs if p.suffix == ".dcm")
    series, instances = _referenced(pydicom.dcmread(seg_path))
    assert series == dss[0].SeriesInstanceUID
    assert instances == {d.SOPInstanceUID for d in dss}


def test_segment_deidentify_on_the_original_matches_deid_dicom(phi_study, tmp_path, tiny_registry):
    inp, _, planted = phi_study
    _, dss = _deid(inp, tmp_path / "deid")
    entry = tiny_registry.get("seg-tiny-test")
    out = tmp_path / "export"
    res = run_job(segment_study(Context.build(registry=tiny_registry), inp / "ct", entry,
                                output=out, options=SegmentOptions(deidentify=True, stats=True, qc=True,
                                                                   formats=("nii.gz", "nrrd", "mha"))))
    names = sorted(p.name for p in res.outputs)
    stem = f"series-{__import__('hashlib').sha256(dss[0].SeriesInstanceUID.encode()).hexdigest()[:10]}"
    assert f"{stem}_seg.dcm" in names and f"{stem}_seg.nii.gz" in names
    seg_path = out / f"{stem}_seg.dcm"
    seg = pydicom.dcmread(seg_path)
    series, instances = _referenced(seg)
    assert series == dss[0].SeriesInstanceUID and instances == {d.SOPInstanceUID for d in dss}
    assert (str(seg.PatientName), seg.PatientID, seg.StudyInstanceUID, seg.StudyDate) == (
        str(dss[0].PatientName), dss[0].PatientID, dss[0].StudyInstanceUID, dss[0].StudyDate)
    assert seg.PatientIdentityRemoved == "YES"
    # The SEG alone passes the verifier, also against the source.
    (tmp_path / "segonly").mkdir()
    shutil.copy(seg_path, tmp_path / "segonly" / "seg.dcm")
    result = run_job(verify_folder(tmp_path / "segonly"))
    assert result.ok, result.lines()
    # Nothing of the source in any file: planted values, the patient, the input path or folder name.
    needles = set(planted.tokens.values()) | planted.uids | {"SMITH", "JOHN", "MRN4455", str(inp)}
    fakes = pseudonym_names(out)  # keyed fake names: now and then "JOHNSON" for "JOHN" (see survivors)
    assert all(not set(f.split("^")) & {"SMITH", "JOHN"} for f in fakes), fakes
    assert survivors(out, needles, fakes) == {}
    for p in out.iterdir():
        data = p.read_bytes()
        for fake in fakes:
            data = data.replace(fake.encode("latin-1", "replace"), b"")
        for needle in (str(inp).encode(), b"SMITH", b"MRN4455", b"/ct"):
            assert needle not in data, (p.name, needle)
    header = nib.load(str(out / f"{stem}_seg.nii.gz")).header
    assert header["descrip"].tobytes().strip(b"\0") == b"" and header["aux_file"].tobytes().strip(b"\0") == b""


def test_segment_command_takes_deidentify(phi_study, tmp_path, medpriv_home, capsys):
    pytest.importorskip("onnx")
    from _imaging_fixtures import make_bundle

    inp, _, _ = phi_study
    make_bundle(medpriv_home / "site_models", spacing=(3.0, 3.0, 4.0))
    code = main(["segment", str(inp / "ct"), "--model", "seg-tiny-test", "-o", str(tmp_path / "o"), "--deidentify",
                 "-q"])
    assert code == 0, capsys.readouterr().err
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert any(n.startswith("series-") and n.endswith("_seg.dcm") for n in names)
    assert not any(n.startswith("ct") for n in names)
    assert '"deidentified": true' in (tmp_path / "o" / "summary.json").read_text(encoding="utf-8")


def test_export_deidentified_job_writes_every_export_under_pseudonyms(phi_study, tmp_path, tiny_registry):
    from medpriv_desktop.core.dicom_deid.exports import export_deidentified_job

    inp, _, planted = phi_study
    entry = tiny_registry.get("seg-tiny-test")
    res = run_job(segment_study(Context.build(registry=tiny_registry), inp / "ct", entry, output=tmp_path / "plain"))
    lm, vol = res.segmentation.labelmap, res.volume
    meshes = []

    def mesh_writer(labelmap, folder):  # stands in for render.meshes.export_meshes (VTK) in this Qt-free test
        folder.mkdir(parents=True)
        meshes.append(folder)
        (folder / "001_soft_tissue.stl").write_bytes(b"solid x")
        return [folder / "001_soft_tissue.stl"]

    written = run_job(export_deidentified_job(lm, vol, entry.card, tmp_path / "deid", mesh_writer))
    names = sorted(p.name for p in written)
    assert {n.split("_", 1)[1] for n in names} >= {"seg.nii.gz", "seg.dcm", "stats.csv", "stats.json",
                                                    "seg_labels.json"}
    assert all(n.startswith("series-") or n == "001_soft_tissue.stl" for n in names)
    assert meshes and meshes[0].name.startswith("series-")
    fakes = pseudonym_names(tmp_path / "deid")
    assert survivors(tmp_path / "deid", set(planted.tokens.values()) | planted.uids | {"SMITH", "MRN4455"},
                     fakes) == {}
    assert pydicom.dcmread(next((tmp_path / "deid").glob("*.dcm"))).PatientIdentityRemoved == "YES"
