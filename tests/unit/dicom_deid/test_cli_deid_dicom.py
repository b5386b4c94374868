"""``medpriv deid-dicom``: output, exit codes, one sentence per bad file, the audit entry, nothing of the headers in
logs; and the same pseudonym and date shift as the notes for one patient."""

from __future__ import annotations

import datetime as dt
import json
import re

import pydicom
from _phi_series import write_phi_series
from _scan import dicom_files

from medpriv_desktop.cli import main


def _audit_entries(home):
    path = next(home.rglob("audit.jsonl"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_cli_run_verify_and_audit(phi_study, tmp_path, capsys, medpriv_home):
    inp, _, planted = phi_study
    out = tmp_path / "out"
    assert main(["deid-dicom", str(inp), "-o", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "de-identified 6 of 6 files" in printed and "profile retain-dates-shifted" in printed
    assert main(["deid-dicom", "--verify", str(out), "--source", str(inp), "-q"]) == 0
    assert "nothing left that the profile removes" in capsys.readouterr().out
    assert main(["deid-dicom", "--verify", str(inp), "-q"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.strip().startswith("attribute the profile removes is present: 6 files (") for line in lines)
    assert not any(tok in "\n".join(lines) for tok in planted.tokens.values())
    entry = [e for e in _audit_entries(medpriv_home) if e["action"] == "dicom.deid"][-1]
    counts = (entry["files"], entry["written"], entry["refused"], entry["quarantined"], entry["studies"])
    assert counts == (6, 6, 0, 0, 1)
    assert entry["method"] == "retain-dates-shifted" and entry["options"]["113107"] is True
    audit_text = json.dumps(entry)
    log_text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in medpriv_home.rglob("*.log"))
    for needle in list(planted.tokens.values()) + sorted(planted.uids) + [str(inp)]:
        assert needle not in audit_text and needle not in log_text


def test_bad_files_are_one_sentence_each_and_the_rest_goes_on(tmp_path, capsys, medpriv_home):
    write_phi_series(tmp_path / "in" / "ct", plant=False)
    (tmp_path / "in" / "notes.txt").write_text("not an image", encoding="utf-8")
    trunc = tmp_path / "in" / "broken.dcm"
    trunc.write_bytes(dicom_files(tmp_path / "in")[0].read_bytes()[:400])
    nopix = tmp_path / "in" / "nopix.dcm"
    ds = pydicom.dcmread(dicom_files(tmp_path / "in" / "ct")[0])
    del ds.PixelData
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.99.4.77"
    ds.save_as(nopix, enforce_file_format=True)
    assert main(["deid-dicom", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q"]) == 1
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert len(errors) == 3
    assert any(re.fullmatch(rf"error: {re.escape(str(tmp_path / 'in' / 'notes.txt'))}: not a DICOM file.*", e)
               for e in errors)
    assert f"error: {trunc}: the DICOM file is damaged or truncated" in errors
    assert f"error: {nopix}: the DICOM image holds no pixel data" in errors
    assert "de-identified 6 of 9 files" in captured.out
    report = json.loads((tmp_path / "out" / "deid_report.json").read_text(encoding="utf-8"))
    assert report["counts"]["failed"] == 3 and str(tmp_path) not in json.dumps(report)


def test_usage_errors_are_one_sentence(tmp_path, capsys):
    assert main(["deid-dicom", str(tmp_path / "missing"), "-o", str(tmp_path / "out")]) == 2
    assert "input folder does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["deid-dicom", "--verify", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "in").mkdir()
    assert main(["deid-dicom", str(tmp_path / "in"), "-o", str(tmp_path / "in" / "out")]) == 2
    assert "inside the input folder" in capsys.readouterr().err


def test_notes_and_images_of_one_patient_share_pseudonym_and_date_shift(tmp_path, key):
    """A note naming the patient and a series of the same patient id: same fake name words, same date shift."""
    from medpriv_desktop.core.jobs import run_job
    from medpriv_desktop.core.notes.batch import deidentify_folder
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "n1.txt").write_text("Patient John Smith was seen on 2021-03-04 for a CT.\n", encoding="utf-8")
    (tmp_path / "map.csv").write_text("file,patient\nn1.txt,MRN4455\n", encoding="utf-8")
    run_job(deidentify_folder(notes, tmp_path / "notes_out",
                              lambda: DeidEngine(EngineConfig(use_model=False, site_recognizers=False)),
                              "surrogate", str(tmp_path / "map.csv")))
    note = (tmp_path / "notes_out" / "n1.txt").read_text(encoding="utf-8")
    m = re.fullmatch(r"Patient (\w+) (\w+) was seen on (\d{4}-\d\d-\d\d) for a CT\.\n", note)
    assert m, note
    fake_first, fake_last, note_date = m.groups()
    assert (fake_first, fake_last) != ("John", "Smith")

    write_phi_series(tmp_path / "in" / "ct", patient_id="MRN4455", patient_name="SMITH^JOHN",
                     study_date="20210304", plant=False)
    assert main(["deid-dicom", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q"]) == 0
    ds = pydicom.dcmread(dicom_files(tmp_path / "out")[0])
    assert str(ds.PatientName) == f"{fake_last.upper()}^{fake_first.upper()}"
    assert dt.datetime.strptime(ds.StudyDate, "%Y%m%d").date() == dt.date.fromisoformat(note_date)
