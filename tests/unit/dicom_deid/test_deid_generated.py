"""De-identification of generated series with PHI planted in every attribute class of Table E.1-1, in nested
sequences and in private tags: nothing that must go survives, what must stay stays, pixels are untouched."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pydicom
import pytest
from _scan import dicom_files, pseudonym_names, survivors

from medpriv_desktop.core.dicom_deid.batch import DicomDeidOptions, deidentify_dicom_folder
from medpriv_desktop.core.dicom_deid.profile import Profile
from medpriv_desktop.core.dicom_deid.verify import verify_folder
from medpriv_desktop.core.jobs import run_job

PROFILES = [Profile.named("basic"), Profile.named("retain-dates-shifted"), Profile.named("research")]


def _run(inp, out, profile=None, **kw):
    return run_job(deidentify_dicom_folder(inp, out, DicomDeidOptions(profile or Profile(), **kw)))


def _must_go(planted, profile):
    """Every planted token except those the profile keeps."""
    from medpriv_desktop.core.dicom_deid.table import row_for
    from pydicom.datadict import tag_for_keyword

    keep = set()
    for kw, tok in planted.tokens.items():
        row = row_for(tag_for_keyword(kw))
        if row is not None and profile.action(row) == "K":
            keep.add(tok)
    return ({t for t in planted.tokens.values() if t not in keep} | set(planted.nested.values())
            | set(planted.private.values()) | planted.uids | {"ZQAETITLE", "SMITH", "JOHN", "MRN4455"})


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_nothing_planted_survives_and_verify_is_clean(phi_study, tmp_path, profile):
    inp, _files, planted = phi_study
    summary = _run(inp, tmp_path / "out", profile)
    assert summary.written == 6 and not summary.failed
    fakes = pseudonym_names(tmp_path / "out")
    for fake in fakes:  # a fake name is no part of the real one, component by component
        assert not set(fake.split("^")) & {"SMITH", "JOHN"}, fake
    assert survivors(tmp_path / "out", _must_go(planted, profile), fakes) == {}
    for source in (None, inp):
        result = run_job(verify_folder(tmp_path / "out", source))
        assert result.ok, result.lines()
        assert result.files == 6 and result.paired == (6 if source else 0)


def test_pixel_data_is_byte_identical_and_markers_are_written(phi_study, tmp_path):
    inp, files, _ = phi_study
    _run(inp, tmp_path / "out")
    src = {int(pydicom.dcmread(f).InstanceNumber): pydicom.dcmread(f).PixelData for f in files}
    outs = dicom_files(tmp_path / "out")
    assert len(outs) == len(files)
    for f in outs:
        ds = pydicom.dcmread(f)
        assert ds.PixelData == src[int(ds.InstanceNumber)]
        assert ds.PatientIdentityRemoved == "YES"
        assert [i.CodeValue for i in ds.DeidentificationMethodCodeSequence] == ["113100", "113107", "113111"]
        assert all(i.CodingSchemeDesignator == "DCM" for i in ds.DeidentificationMethodCodeSequence)
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert "SourceApplicationEntityTitle" not in ds.file_meta


def test_dates_move_by_the_patients_keyed_offset(phi_study, tmp_path, key):
    from medpriv_desktop.core.notes.surrogates import Surrogator

    inp, files, _ = phi_study
    _run(inp, tmp_path / "out")
    offset = Surrogator(key).date_offset("MRN4455")
    assert offset != 0
    expected = (dt.date(2021, 3, 4) + dt.timedelta(days=offset)).strftime("%Y%m%d")
    src = pydicom.dcmread(files[0])
    for f in dicom_files(tmp_path / "out"):
        ds = pydicom.dcmread(f)
        assert ds.StudyDate == ds.SeriesDate == expected
        assert ds.StudyTime == "101010"  # times of day are kept under the Modified Dates Option
        for kw in ("AcquisitionDate", "ContentDate", "LastMenstrualDate", "InstanceCreationDate"):
            shifted = dt.datetime.strptime(ds[kw].value, "%Y%m%d") - dt.datetime.strptime(src[kw].value, "%Y%m%d")
            assert shifted.days == offset, kw


def test_basic_profile_drops_dates_and_all_private_tags(phi_study, tmp_path):
    inp, _, _ = phi_study
    _run(inp, tmp_path / "out", Profile.named("basic"))
    ds = pydicom.dcmread(dicom_files(tmp_path / "out")[0])
    assert ds.StudyDate == "" and ds.AcquisitionDate == "19000101"
    assert ds.LongitudinalTemporalInformationModified == "REMOVED"
    assert not [e for e in ds if e.tag.is_private]


def test_safe_private_list_keeps_only_numbers(phi_study, tmp_path):
    inp, _, _ = phi_study
    _run(inp, tmp_path / "out")
    ds = pydicom.dcmread(dicom_files(tmp_path / "out")[0])
    private = {int(e.tag): e.value for e in ds if e.tag.is_private}
    assert private == {0x00190010: "SIEMENS CT VA0  COAD", 0x00191092: "0.9236", 0x001910B0: "15.3"}


def test_patient_characteristics_are_kept_with_the_age_capped_at_90(phi_study, tmp_path):
    inp, _, _ = phi_study
    _run(inp, tmp_path / "research", Profile.named("research"))
    _run(inp, tmp_path / "default")
    research = pydicom.dcmread(dicom_files(tmp_path / "research")[0])
    default = pydicom.dcmread(dicom_files(tmp_path / "default")[0])
    assert (research.PatientAge, research.PatientSex) == ("090Y", "M")
    assert "PatientAge" not in default and default.PatientSex == ""


def test_uids_map_consistently_across_runs_series_and_references(tmp_path, key):
    from _phi_series import write_phi_series

    from medpriv_desktop.core.dicom_deid.uids import UidMapper

    def link(ds, k):  # slice k references slice 0 of the same series, as real series do
        ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "1.2.826.0.1.99.4.1"

    write_phi_series(tmp_path / "in" / "a", extra=link)
    _run(tmp_path / "in", tmp_path / "out1")
    _run(tmp_path / "in", tmp_path / "out2")
    first = {p.relative_to(tmp_path / "out1"): p.read_bytes() for p in dicom_files(tmp_path / "out1")}
    second = {p.relative_to(tmp_path / "out2"): p.read_bytes() for p in dicom_files(tmp_path / "out2")}
    assert first == second  # a rerun with the same key writes the same names and bytes
    mapper = UidMapper(key)
    dss = [pydicom.dcmread(p) for p in dicom_files(tmp_path / "out1")]
    assert {d.StudyInstanceUID for d in dss} == {mapper("1.2.826.0.1.99.1")}
    assert {d.SeriesInstanceUID for d in dss} == {mapper("1.2.826.0.1.99.2")}
    slice0 = next(d for d in dss if d.InstanceNumber == 1)
    assert {d.ReferencedImageSequence[0].ReferencedSOPInstanceUID for d in dss} == {slice0.SOPInstanceUID}
    assert all(len(d.SOPInstanceUID) <= 64 and d.SOPInstanceUID.startswith("2.25.") for d in dss)


def test_blank_uids_get_stable_stand_ins_so_a_seg_can_reference_them(tmp_path):
    from _phi_series import write_phi_series

    def blank(ds, k):
        ds.StudyInstanceUID = ds.SeriesInstanceUID = ""
        ds.SOPInstanceUID = ""

    write_phi_series(tmp_path / "in" / "a", extra=blank, plant=False)
    _run(tmp_path / "in", tmp_path / "out")
    dss = [pydicom.dcmread(p) for p in dicom_files(tmp_path / "out")]
    assert len({d.SOPInstanceUID for d in dss}) == 6
    assert len({d.SeriesInstanceUID for d in dss}) == 1 and dss[0].SeriesInstanceUID.startswith("2.25.")
    assert len({d.StudyInstanceUID for d in dss}) == 1 and dss[0].StudyInstanceUID.startswith("2.25.")


def test_two_patients_get_different_pseudonyms_and_folders(tmp_path):
    from _phi_series import write_phi_series

    write_phi_series(tmp_path / "in" / "a", plant=False)
    write_phi_series(tmp_path / "in" / "b", patient_id="MRN9999", patient_name="DOE^JANE", uid_base="1.2.826.0.1.98",
                     plant=False)
    summary = _run(tmp_path / "in", tmp_path / "out")
    assert len(summary.patients) == 2
    by_patient = {}
    for p in dicom_files(tmp_path / "out"):
        ds = pydicom.dcmread(p)
        by_patient.setdefault(p.relative_to(tmp_path / "out").parts[0], set()).add((str(ds.PatientName),
                                                                                     ds.PatientID))
    assert len(by_patient) == 2 and all(len(v) == 1 for v in by_patient.values())
    (a,), (b,) = by_patient.values()
    # component by component: a keyed fake such as "GOLDSMITH" may hold the letters of a real name by chance
    assert a != b and "SMITH" not in a[0].split("^") and "DOE" not in b[0].split("^")
    assert all(len([c for c in pid if c.isalnum()]) >= 8 for _, pid in (a, b))


def test_mapping_csv_names_the_patient(tmp_path, key):
    from _phi_series import write_phi_series

    from medpriv_desktop.core.notes.surrogates import Surrogator

    write_phi_series(tmp_path / "in" / "a", plant=False)
    mapping = tmp_path / "map.csv"
    mapping.write_text("patient_id,patient\nMRN4455,STUDY-007\n", encoding="utf-8")
    _run(tmp_path / "in", tmp_path / "out", patient_mapping=mapping)
    ds = pydicom.dcmread(dicom_files(tmp_path / "out")[0])
    offset = Surrogator(key).date_offset("STUDY-007")
    assert ds.StudyDate == (dt.date(2021, 3, 4) + dt.timedelta(days=offset)).strftime("%Y%m%d")


def test_clean_descriptors_runs_free_text_through_the_notes_engine(tmp_path):
    from _phi_series import write_phi_series

    from medpriv_desktop.core.dicom_deid.descriptors import DescriptorCleaner
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    def text(ds, k):
        ds.StudyDescription = "CT chest for John Smith"
        ds.ImageComments = "seen 2021-03-04, MRN: 12345678, no change"
        ds.SeriesDescription = "CT Body 3.0"

    write_phi_series(tmp_path / "in" / "a", extra=text, plant=False)
    engine = DeidEngine(EngineConfig(use_model=False, site_recognizers=False))
    profile = Profile.named("retain-dates-shifted", clean_descriptors=True)
    run_job(deidentify_dicom_folder(tmp_path / "in", tmp_path / "out", DicomDeidOptions(profile),
                                    cleaner_factory=lambda: DescriptorCleaner(engine)))
    ds = pydicom.dcmread(dicom_files(tmp_path / "out")[0])
    assert ds.StudyDescription == "CT chest for [NAME] [NAME]"
    assert "2021" not in ds.ImageComments and "12345678" not in ds.ImageComments
    assert ds.ImageComments.endswith("no change")
    assert ds.SeriesDescription == "CT Body 3.0"
    assert "113105" in [i.CodeValue for i in ds.DeidentificationMethodCodeSequence]
    _run(tmp_path / "in", tmp_path / "plain")  # without the option the same text is removed
    plain = pydicom.dcmread(dicom_files(tmp_path / "plain")[0])
    assert "StudyDescription" not in plain and "ImageComments" not in plain


def test_report_has_counts_and_no_source_values(phi_study, tmp_path):
    inp, _, planted = phi_study
    _run(inp, tmp_path / "out")
    text = (tmp_path / "out" / "deid_report.json").read_text(encoding="utf-8")
    report = json.loads(text)
    assert report["counts"]["written"] == 6 and report["profile"] == "retain-dates-shifted"
    assert report["options"] == ["113100", "113107", "113111"]
    for needle in list(planted.tokens.values()) + sorted(planted.uids) + [str(inp)]:
        assert needle not in text


def test_verify_reports_each_problem_class_without_values(phi_study, tmp_path):
    inp, _, _ = phi_study
    _run(inp, tmp_path / "out")
    target = dicom_files(tmp_path / "out")[0]
    ds = pydicom.dcmread(target)
    ds.InstitutionAddress = "1 Secret Road"                   # X in the profile
    ds.AccessionNumber = "ACC-77"                             # Z
    ds.add_new(0x00291010, "LO", "hidden")                    # private, unknown creator
    ds.FrameOfReferenceUID = "1.2.826.0.1.99.3"               # an original UID
    ds.StudyDate = "20210304"                                 # the source's date
    ds.save_as(target, enforce_file_format=True)
    result = run_job(verify_folder(tmp_path / "out", inp))
    lines = "\n".join(result.lines())
    for expected in ("attribute the profile removes is present: 1 files (InstitutionAddress)",
                     "attribute the profile empties holds a value: 1 files (AccessionNumber)",
                     "private tag outside the safe list: 1 files ((0029,1010))",
                     "UID not remapped: 1 files (FrameOfReferenceUID)",
                     "original UID left: 1 files (FrameOfReferenceUID)",
                     "date not shifted: 1 files (StudyDate)"):
        assert expected in lines
    for value in ("Secret", "ACC-77", "hidden", "1.2.826", "20210304"):
        assert value not in lines


def test_pixels_of_a_deidentified_series_still_read_the_same(phi_study, tmp_path):
    from medpriv_desktop.core.imaging.io import read_volume

    inp, _, _ = phi_study
    _run(inp, tmp_path / "out")
    series_dir = dicom_files(tmp_path / "out")[0].parent
    before, after = read_volume(inp / "ct"), read_volume(series_dir)
    assert np.array_equal(before.array, after.array)
    assert np.allclose(before.affine, after.affine)
