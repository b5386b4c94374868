"""Table E.1-1 as data, how profiles resolve actions, UID remapping, date shifting and patient pseudonyms."""

from __future__ import annotations

import random

import pytest
from pydicom.datadict import tag_for_keyword

from medpriv_desktop.core.dicom_deid.actions import shift_da, shift_dt
from medpriv_desktop.core.dicom_deid.patients import pseudonym_id, pseudonym_name
from medpriv_desktop.core.dicom_deid.profile import CID7050, Profile, resolve
from medpriv_desktop.core.dicom_deid.table import OPTION_COLUMNS, row_for, table
from medpriv_desktop.core.dicom_deid.uids import UidMapper, looks_remapped
from medpriv_desktop.core.errors import InputError

#: Attributes of the patient, study, series, equipment, acquisition and institution modules the table must name.
MUST_NAME = """PatientName PatientID PatientBirthDate PatientBirthTime PatientSex PatientAge PatientSize PatientWeight
PatientAddress PatientTelephoneNumbers OtherPatientIDs OtherPatientIDsSequence OtherPatientNames IssuerOfPatientID
PatientMotherBirthName MedicalRecordLocator EthnicGroup Occupation PatientComments MilitaryRank
StudyDate StudyTime StudyID AccessionNumber StudyDescription StudyInstanceUID ReferringPhysicianName
ReferringPhysicianAddress PhysiciansOfRecord NameOfPhysiciansReadingStudy RequestingPhysician StudyComments
SeriesDate SeriesTime SeriesDescription SeriesInstanceUID OperatorsName PerformingPhysicianName ProtocolName
PerformedProcedureStepID PerformedProcedureStepStartDate RequestAttributesSequence
StationName DeviceSerialNumber DeviceUID GantryID DetectorID PlateID CassetteID GeneratorID
InstitutionName InstitutionAddress InstitutionalDepartmentName InstitutionCodeSequence
AcquisitionDate AcquisitionTime AcquisitionDateTime AcquisitionUID AcquisitionComments ContentDate ContentTime
InstanceCreationDate FrameOfReferenceUID SOPInstanceUID IrradiationEventUID ImageComments ReferencedPatientSequence
ReferencedImageSequence SourceImageSequence ContentSequence""".split()


def test_every_row_resolves_and_uses_the_standards_codes():
    rows = table()
    assert len(rows) >= 400
    codes = {"D", "Z", "X", "K", "C", "U", "X/Z", "X/D", "Z/D", "X/Z/D", "X/Z/U*"}
    for tag, row in rows.items():
        assert tag_for_keyword(row.keyword) == tag
        assert row.basic in codes, row.keyword
        assert set(row.options) <= set(OPTION_COLUMNS) and set(row.options.values()) <= {"K", "C"}
    assert [k for k in MUST_NAME if row_for(tag_for_keyword(k)) is None] == []


@pytest.mark.parametrize("code,action", [("X/Z", "Z"), ("X/D", "D"), ("Z/D", "Z"), ("X/Z/D", "Z"), ("X/Z/U*", "U"),
                                         ("K", "K"), ("X", "X")])
def test_compound_codes_keep_the_attribute_where_allowed(code, action):
    assert resolve(code) == action


@pytest.mark.parametrize("keyword,profile,action", [
    ("AcquisitionDate", Profile.named("basic"), "D"),
    ("AcquisitionDate", Profile.named("retain-dates-shifted"), "C"),
    ("StudyDate", Profile.named("basic"), "Z"),
    ("StationName", Profile.named("basic"), "Z"),
    ("StationName", Profile.named("basic", retain_device=True), "K"),
    ("InstitutionAddress", Profile.named("basic"), "X"),
    ("InstitutionAddress", Profile.named("basic", retain_institution=True), "K"),
    ("StudyDescription", Profile.named("retain-dates-shifted"), "X"),
    ("StudyDescription", Profile.named("basic", clean_descriptors=True), "C"),
    ("DeviceDescription", Profile.named("basic", clean_descriptors=True, retain_device=True), "K"),
    ("PatientAge", Profile.named("retain-dates-shifted"), "X"),
    ("PatientAge", Profile.named("research"), "K"),
    ("SOPInstanceUID", Profile.named("research"), "U"),
])
def test_profile_actions(keyword, profile, action):
    assert profile.action(row_for(tag_for_keyword(keyword))) == action


def test_profiles_record_cid7050_codes_and_read_back():
    p = Profile.named("research", clean_descriptors=True)
    assert p.codes == ["113100", "113105", "113107", "113108", "113111"]
    assert all(c in CID7050 for c in p.codes)
    assert Profile.from_codes(p.codes).columns == p.columns
    assert Profile.from_codes(Profile.named("basic").codes).name == "basic"
    with pytest.raises(InputError, match="did you mean 'research'"):
        Profile.named("reserch")


def test_uid_mapping_is_keyed_deterministic_and_valid():
    a, b = UidMapper(b"k" * 32), UidMapper(b"j" * 32)
    uid = "1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573"
    assert a(uid) == UidMapper(b"k" * 32)(uid) != b(uid)
    assert looks_remapped(a(uid)) and len(a(uid)) <= 64 and a("") == ""
    assert len({a(f"1.2.3.{i}") for i in range(5000)}) == 5000


@pytest.mark.parametrize("value,days,expected", [
    ("20210304", 10, "20210314"), ("20210304", -64, "20201230"), ("20200228", 1, "20200229"), ("202103", 30, "202104"),
    ("2021", 200, "2022"), ("2021", -10, "2021"), ("2021-03-04", 5, "19000101"), ("20211332", 1, "19000101")])
def test_shift_da(value, days, expected):
    assert shift_da(value, days) == expected


@pytest.mark.parametrize("value,days,expected", [
    ("20221208140352.457000", 301, "20231005140352.457000"), ("20221208140352+0100", -8, "20221130140352+0100"),
    ("2022", 1, "2022"), ("garbage", 3, "19000101000000.00")])
def test_shift_dt(value, days, expected):
    assert shift_dt(value, days) == expected


def test_patient_pseudonyms_are_distinct_and_keep_the_layout():
    from medpriv_desktop.core.notes.surrogates import Surrogator

    s = Surrogator(bytes(range(32)))
    rnd = random.Random(1)
    ids = [str(rnd.randrange(10**7, 10**8)) for _ in range(2000)]
    fakes = [pseudonym_id(s, i, i) for i in ids]
    assert len(set(fakes)) == 2000  # the earlier digits_like (one 64-bit number) gave 1,689 distinct values
    assert all(f.isdigit() and len(f) == 8 for f in fakes)
    # the same pseudonym a surrogate note of that patient shows for the record number
    assert fakes[:50] == [s.digits_like(i, i, "MRN") for i in ids[:50]]
    assert pseudonym_id(s, "p", "AB-12") [:6].replace("-", "").isalnum() and pseudonym_id(s, "p", "AB-12")[2] == "-"
    assert len([c for c in pseudonym_id(s, "p", "AB-12") if c.isalnum()]) == 8
    assert pseudonym_name(s, "p", "SMITH^JOHN") == f"{s.name('p', 'SMITH')}^{s.name('p', 'JOHN')}"
    assert pseudonym_name(s, "p", "") == ""
