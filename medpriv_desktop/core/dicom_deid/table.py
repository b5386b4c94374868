"""DICOM PS3.15 Table E.1-1 (Application Level Confidentiality Profile Attributes), written as data.

Source: DICOM PS3.15 "Security and System Management Profiles", Annex E, Table E.1-1, as published in the 2024
editions (2024a-2024e), transcribed by keyword for this project; retired attributes the table lists are included. Each
row is ``Keyword BASIC [column=ACTION ...]`` where BASIC is the Basic Profile's action and the optional columns are the
profile's options (the keys of :data:`OPTION_COLUMNS`). Actions, as the standard defines them (E.1.1):

* ``D`` replace with a non-zero length dummy value consistent with the VR; ``Z`` replace with a zero length value (or
  a dummy); ``X`` remove; ``K`` keep (sequences are still walked); ``C`` clean (replace with values of similar meaning
  that identify nothing); ``U`` replace with a non-zero length UID consistent within the set of instances;
* compound codes (``X/Z``, ``X/D``, ``Z/D``, ``X/Z/D``, ``X/Z/U*``) leave the choice to the implementation as far as
  the IOD allows (see :func:`medpriv_desktop.core.dicom_deid.profile.resolve`).

Attributes that the table does not name are kept, except for the safety nets of
:mod:`medpriv_desktop.core.dicom_deid.actions` (every UID, person name, date, time and long text, whether listed or
not). Private attributes (odd groups), curves (50xx) and overlays (60xx) are handled by rule, not by rows here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Option columns of Table E.1-1 -> the CID 7050 code of the option.
OPTION_COLUMNS: dict[str, str] = {
    "priv": "113111",    # Retain Safe Private Option
    "uids": "113110",    # Retain UIDs Option
    "dev": "113109",     # Retain Device Identity Option
    "inst": "113112",    # Retain Institution Identity Option
    "pat": "113108",     # Retain Patient Characteristics Option
    "full": "113106",    # Retain Longitudinal Temporal Information Full Dates Option
    "mod": "113107",     # Retain Longitudinal Temporal Information Modified Dates Option
    "desc": "113105",    # Clean Descriptors Option
    "struct": "113104",  # Clean Structured Content Option
    "graph": "113103",   # Clean Graphics Option
}

TABLE_SOURCE = "DICOM PS3.15 2024 Table E.1-1"

# The rows. Dates and times carry full=K mod=C; descriptions desc=C; device, institution and patient characteristic
# attributes dev=K, inst=K, pat=K; UIDs uids=K.
_ROWS = """
AccessionNumber                                  Z
AcquisitionComments                              X      desc=C
AcquisitionContextSequence                       X      struct=C
AcquisitionDate                                  X/D    full=K mod=C
AcquisitionDateTime                              X/D    full=K mod=C
AcquisitionDeviceProcessingDescription           X/D    dev=C desc=C
AcquisitionFieldOfViewLabel                      D      desc=C
AcquisitionProtocolDescription                   X      desc=C
AcquisitionTime                                  X/D    full=K mod=C
AcquisitionUID                                   U      uids=K
ActualHumanPerformersSequence                    X
AdditionalPatientHistory                         X      pat=C desc=C
AddressTrial                                     X
AdmissionID                                      X
AdmittingDate                                    X      full=K mod=C
AdmittingDiagnosesCodeSequence                   X      pat=C desc=C
AdmittingDiagnosesDescription                    X      pat=C desc=C
AdmittingTime                                    X      full=K mod=C
Allergies                                        X      pat=C desc=C
ApprovalStatusDateTime                           X      full=K mod=C
Arbitrary                                        X      desc=C
AssertionDateTime                                D      full=K mod=C
AssertionExpirationDateTime                      X      full=K mod=C
AttributeModificationDateTime                    X/D    full=K mod=C
AuthorObserverSequence                           X
BeamDescription                                  X      desc=C
BranchOfService                                  X
CalibrationDateTime                              X/D    full=K mod=C
CassetteID                                       X      dev=K
CertificateOfSigner                              X
CertifiedTimestamp                               X
ClinicalTrialCoordinatingCenterName              Z
ClinicalTrialProtocolEthicsCommitteeApprovalNumber X
ClinicalTrialProtocolEthicsCommitteeName         D
ClinicalTrialProtocolID                          D
ClinicalTrialProtocolName                        Z
ClinicalTrialSeriesDescription                   X      desc=C
ClinicalTrialSeriesID                            X
ClinicalTrialSiteID                              Z
ClinicalTrialSiteName                            Z
ClinicalTrialSponsorName                         D
ClinicalTrialSubjectID                           D
ClinicalTrialSubjectReadingID                    D
ClinicalTrialTimePointDescription                X      desc=C
ClinicalTrialTimePointID                         Z
CommentsOnThePerformedProcedureStep              X      desc=C
ConcatenationUID                                 U      uids=K
ConfidentialityConstraintOnPatientDataDescription X
ConsultingPhysicianIdentificationSequence        X
ConsultingPhysicianName                          X
ContainerComponentID                             X
ContainerDescription                             X      desc=C
ContainerIdentifier                              D
ContentCreatorIdentificationCodeSequence         X
ContentCreatorName                               Z
ContentDate                                      Z/D    full=K mod=C
ContentSequence                                  X      struct=C
ContentTime                                      Z/D    full=K mod=C
ContextGroupExtensionCreatorUID                  U      uids=K
ContrastBolusAgent                               Z/D    desc=C
ContrastBolusStartTime                           X/D    full=K mod=C
ContrastBolusStopTime                            X/D    full=K mod=C
ContributionDateTime                             X/D    full=K mod=C
ContributionDescription                          X      desc=C
CountryOfResidence                               X
CreationDate                                     X      full=K mod=C
CreationTime                                     X      full=K mod=C
CreatorVersionUID                                U      uids=K
CurrentObserverTrial                             X
CurrentPatientLocation                           X
CurveDate                                        X      full=K mod=C
CurveTime                                        X      full=K mod=C
CustodialOrganizationSequence                    X
DataSetTrailingPadding                           X
Date                                             D      full=K mod=C
DateOfDocumentOrVerbalTransactionTrial           X      full=K mod=C
DateOfLastCalibration                            X      full=K mod=C
DateOfLastDetectorCalibration                    X/D    full=K mod=C
DateOfSecondaryCapture                           X      full=K mod=C
DateTime                                         D      full=K mod=C
DateTimeOfLastCalibration                        X/D    full=K mod=C
DecayCorrectionDateTime                          X/D    full=K mod=C
DerivationDescription                            X      desc=C
DetectorID                                       X/D    dev=K
DeviceDescription                                X      dev=K desc=C
DeviceLabel                                      X      dev=K
DeviceSerialNumber                               X/Z/D  dev=K
DeviceUID                                        U      uids=K dev=K
DigitalSignatureDateTime                         X      full=K mod=C
DigitalSignatureUID                              X      uids=K
DigitalSignaturesSequence                        X
DimensionOrganizationUID                         U      uids=K
DischargeDate                                    X      full=K mod=C
DischargeDiagnosisDescription                    X      pat=C desc=C
DischargeTime                                    X      full=K mod=C
DistributionAddress                              X
DistributionName                                 X
DoseReferenceDescription                         X      desc=C
DoseReferenceUID                                 U      uids=K
EndAcquisitionDateTime                           X/D    full=K mod=C
EthnicGroup                                      X      pat=K
EthnicGroupCodeSequence                          X      pat=K
ExpectedCompletionDateTime                       X      full=K mod=C
FailedSOPInstanceUIDList                         U      uids=K
FiducialUID                                      U      uids=K
FillerOrderNumberImagingServiceRequest           Z
FirstTreatmentDate                               X/D    full=K mod=C
FractionGroupDescription                         X      desc=C
FrameAcquisitionDateTime                         X/D    full=K mod=C
FrameComments                                    X      desc=C
FrameOfReferenceUID                              U      uids=K
FrameReferenceDateTime                           X/D    full=K mod=C
GantryID                                         X      dev=K
GeneratorID                                      X      dev=K
GraphicAnnotationSequence                        D      graph=C
GroupOfPatientsIdentificationSequence            X
HumanPerformerName                               X
HumanPerformerOrganization                       X
IconImageSequence                                X
IdentifyingComments                              X      desc=C
ImageComments                                    X      desc=C
ImagePresentationComments                        X      desc=C
ImagingServiceRequestComments                    X      desc=C
Impressions                                      X      desc=C
InstanceCoercionDateTime                         X      full=K mod=C
InstanceCreationDate                             X/D    full=K mod=C
InstanceCreationTime                             X/Z/D  full=K mod=C
InstanceCreatorUID                               U      uids=K
InstitutionAddress                               X      inst=K
InstitutionCodeSequence                          X/Z/D  inst=K
InstitutionName                                  X/Z/D  inst=K
InstitutionalDepartmentName                      X      inst=K
InstitutionalDepartmentTypeCodeSequence          X      inst=K
InsurancePlanIdentification                      X
IntendedRecipientsOfResultsIdentificationSequence X
InterpretationApproverSequence                   X
InterpretationAuthor                             X
InterpretationDiagnosisDescription               X      desc=C
InterpretationIDIssuer                           X
InterpretationRecorder                           X
InterpretationText                               X      desc=C
InterpretationTranscriber                        X
InterventionDrugStartTime                        X      full=K mod=C
InterventionDrugStopTime                         X      full=K mod=C
IrradiationEventUID                              U      uids=K
IssueDateOfImagingServiceRequest                 X      full=K mod=C
IssueTimeOfImagingServiceRequest                 X      full=K mod=C
IssuerOfAdmissionID                              X
IssuerOfAdmissionIDSequence                      X
IssuerOfPatientID                                X
IssuerOfPatientIDQualifiersSequence              X
IssuerOfServiceEpisodeID                         X
IssuerOfServiceEpisodeIDSequence                 X
IssuerOfTheContainerIdentifierSequence           X
IssuerOfTheSpecimenIdentifierSequence            X
LabelText                                        X
LargePaletteColorLookupTableUID                  U      uids=K
LastMenstrualDate                                X      full=K mod=C
LongDeviceDescription                            X      dev=K
MAC                                              X
MediaStorageSOPInstanceUID                       U      uids=K
MedicalAlerts                                    X      pat=C desc=C
MedicalRecordLocator                             X
MilitaryRank                                     X
ModifiedAttributesSequence                       X
ModifiedImageDescription                         X      desc=C
ModifyingDeviceID                                X      dev=K
ModifyingDeviceManufacturer                      X      dev=K
ModifyingSystem                                  X      dev=K
NameOfPhysiciansReadingStudy                     X
NamesOfIntendedRecipientsOfResults               X
ObservationDateTime                              X/D    full=K mod=C
ObservationDateTrial                             X      full=K mod=C
ObservationSubjectUIDTrial                       X
ObservationTimeTrial                             X      full=K mod=C
ObservationUID                                   U      uids=K
Occupation                                       X      pat=C desc=C
OperatorIdentificationSequence                   X/D
OperatorsName                                    X/Z/D
OrderCallbackPhoneNumber                         X
OrderCallbackTelecomInformation                  X
OrderEnteredBy                                   X
OrderEntererLocation                             X
OriginalAttributesSequence                       X
OtherPatientIDs                                  X
OtherPatientIDsSequence                          X
OtherPatientNames                                X
OverlayDate                                      X      full=K mod=C
OverlayTime                                      X      full=K mod=C
ParticipantSequence                              X
PatientAddress                                   X
PatientAge                                       X      pat=K
PatientBirthDate                                 Z
PatientBirthDateInAlternativeCalendar            X
PatientBirthName                                 X
PatientBirthTime                                 X
PatientComments                                  X      pat=C desc=C
PatientDeathDateInAlternativeCalendar            X
PatientID                                        Z
PatientInstitutionResidence                      X
PatientInsurancePlanCodeSequence                 X
PatientMotherBirthName                           X
PatientName                                      Z
PatientPrimaryLanguageCodeSequence               X
PatientPrimaryLanguageModifierCodeSequence       X
PatientReligiousPreference                       X
PatientSex                                       Z      pat=K
PatientSexNeutered                               X/Z    pat=K
PatientSize                                      X      pat=K
PatientState                                     X      pat=C desc=C
PatientTelecomInformation                        X
PatientTelephoneNumbers                          X
PatientTransportArrangements                     X
PatientWeight                                    X      pat=K
PatientAlternativeCalendar                       X
PerformedLocation                                X
PerformedProcedureStepDescription                X      desc=C
PerformedProcedureStepEndDate                    X      full=K mod=C
PerformedProcedureStepEndDateTime                X      full=K mod=C
PerformedProcedureStepEndTime                    X      full=K mod=C
PerformedProcedureStepID                         X
PerformedProcedureStepStartDate                  X      full=K mod=C
PerformedProcedureStepStartDateTime              X      full=K mod=C
PerformedProcedureStepStartTime                  X      full=K mod=C
PerformedStationAETitle                          X
PerformedStationGeographicLocationCodeSequence   X
PerformedStationName                             X
PerformedStationNameCodeSequence                 X
PerformingPhysicianIdentificationSequence        X
PerformingPhysicianName                          X
PersonAddress                                    X
PersonIdentificationCodeSequence                 D
PersonName                                       D
PersonTelecomInformation                         X
PersonTelephoneNumbers                           X
PhysicianApprovingInterpretation                 X
PhysiciansOfRecord                               X
PhysiciansOfRecordIdentificationSequence         X
PhysiciansReadingStudyIdentificationSequence     X
PixelDataProviderURL                             X
PlacerOrderNumberImagingServiceRequest           Z
PlateID                                          X      dev=K
PreMedication                                    X      pat=C
PregnancyStatus                                  X      pat=K
PrescriptionDescription                          X      desc=C
PrivateInformation                               X
PrivateInformationCreatorUID                     X
ProcedureStepCancellationDateTime                X      full=K mod=C
ProtocolName                                     X/D    desc=C
RTPlanDate                                       X/D    full=K mod=C
RTPlanDescription                                X      desc=C
RTPlanLabel                                      D
RTPlanName                                       X
RTPlanTime                                       X/D    full=K mod=C
RadiopharmaceuticalStartDateTime                 X/D    full=K mod=C
RadiopharmaceuticalStartTime                     X/D    full=K mod=C
RadiopharmaceuticalStopDateTime                  X/D    full=K mod=C
RadiopharmaceuticalStopTime                      X/D    full=K mod=C
ROIDescription                                   X      desc=C
ROIGenerationDescription                         X      desc=C
ROIInterpreter                                   X
ROIName                                          X      desc=C
ROIObservationDescription                        X      desc=C
ROIObservationLabel                              X      desc=C
ReasonForOmissionDescription                     X      desc=C
ReasonForRequestedProcedureCodeSequence          X      desc=C
ReasonForStudy                                   X      desc=C
ReasonForTheImagingServiceRequest                X      desc=C
ReasonForTheRequestedProcedure                   X      desc=C
ReceivingApplicationEntityTitle                  X
ReferencedDigitalSignatureSequence               X
ReferencedFrameOfReferenceUID                    U      uids=K
ReferencedGeneralPurposeScheduledProcedureStepTransactionUID U uids=K
ReferencedImageSequence                          X/Z/U* uids=K
ReferencedObservationUIDTrial                    U      uids=K
ReferencedPatientAliasSequence                   X
ReferencedPatientPhotoSequence                   X
ReferencedPatientSequence                        X
ReferencedPerformedProcedureStepSequence         X/Z/D
ReferencedSOPInstanceMACSequence                 X
ReferencedSOPInstanceUID                         U      uids=K
ReferencedSOPInstanceUIDInFile                   U      uids=K
ReferencedStudySequence                          X/Z
ReferringPhysicianAddress                        X
ReferringPhysicianIdentificationSequence         X
ReferringPhysicianName                           Z
ReferringPhysicianTelephoneNumbers               X
RegionOfResidence                                X
RelatedFrameOfReferenceUID                       U      uids=K
RequestAttributesSequence                        X
RequestedContrastAgent                           X      desc=C
RequestedProcedureComments                       X      desc=C
RequestedProcedureDescription                    X/Z    desc=C
RequestedProcedureID                             X
RequestedProcedureLocation                       X
RequestedSOPInstanceUID                          U      uids=K
RequestingPhysician                              X
RequestingPhysicianIdentificationSequence        X
RequestingService                                X
RequestingServiceCodeSequence                    X
RespiratoryMotionCompensationTechniqueDescription X     desc=C
ResponsibleOrganization                          X
ResponsiblePerson                                X
ResultsComments                                  X      desc=C
ResultsDistributionListSequence                  X
ResultsIDIssuer                                  X
ReviewDate                                       X/D    full=K mod=C
ReviewTime                                       X/D    full=K mod=C
ReviewerName                                     X/Z
ScheduledAdmissionDate                           X      full=K mod=C
ScheduledAdmissionTime                           X      full=K mod=C
ScheduledDischargeDate                           X      full=K mod=C
ScheduledDischargeTime                           X      full=K mod=C
ScheduledHumanPerformersSequence                 X
ScheduledPatientInstitutionResidence             X
ScheduledPerformingPhysicianIdentificationSequence X
ScheduledPerformingPhysicianName                 X
ScheduledProcedureStepDescription                X      desc=C
ScheduledProcedureStepEndDate                    X      full=K mod=C
ScheduledProcedureStepEndTime                    X      full=K mod=C
ScheduledProcedureStepID                         X
ScheduledProcedureStepLocation                   X
ScheduledProcedureStepModificationDateTime       X      full=K mod=C
ScheduledProcedureStepStartDate                  X      full=K mod=C
ScheduledProcedureStepStartDateTime              X      full=K mod=C
ScheduledProcedureStepStartTime                  X      full=K mod=C
ScheduledStationAETitle                          X
ScheduledStationGeographicLocationCodeSequence   X
ScheduledStationName                             X
ScheduledStationNameCodeSequence                 X
ScheduledStudyLocation                           X
ScheduledStudyLocationAETitle                    X
SendingApplicationEntityTitle                    X
SeriesDate                                       X/D    full=K mod=C
SeriesDescription                                X      desc=C
SeriesInstanceUID                                U      uids=K
SeriesTime                                       X/D    full=K mod=C
ServiceEpisodeDescription                        X      desc=C
ServiceEpisodeID                                 X
SetupTechniqueDescription                        X      desc=C
SmokingStatus                                    X      pat=K
SOPAuthorizationDateTime                         X      full=K mod=C
SOPInstanceUID                                   U      uids=K
SourceApplicationEntityTitle                     X
SourceImageSequence                              X/Z/U* uids=K
SourcePatientGroupIdentificationSequence         X
SourceSerialNumber                               X      dev=K
SpecialNeeds                                     X      pat=C desc=C
SpecimenAccessionNumber                          X
SpecimenDescriptionSequenceTrial                 X      desc=C
SpecimenDetailedDescription                      X      desc=C
SpecimenIdentifier                               D
SpecimenShortDescription                         X      desc=C
SpecimenUID                                      U      uids=K
StartAcquisitionDateTime                         X/D    full=K mod=C
StationAETitle                                   X      dev=K
StationName                                      X/Z/D  dev=K
StorageMediaFileSetUID                           U      uids=K
StructureSetDate                                 X/D    full=K mod=C
StructureSetDescription                          X      desc=C
StructureSetLabel                                D      desc=C
StructureSetName                                 X      desc=C
StructureSetTime                                 X/D    full=K mod=C
StudyArrivalDate                                 X      full=K mod=C
StudyArrivalTime                                 X      full=K mod=C
StudyComments                                    X      desc=C
StudyCompletionDate                              X      full=K mod=C
StudyCompletionTime                              X      full=K mod=C
StudyDate                                        Z      full=K mod=C
StudyDescription                                 X      desc=C
StudyID                                          Z
StudyIDIssuer                                    X
StudyInstanceUID                                 U      uids=K
StudyReadDate                                    X      full=K mod=C
StudyReadTime                                    X      full=K mod=C
StudyTime                                        Z      full=K mod=C
StudyVerifiedDate                                X      full=K mod=C
StudyVerifiedTime                                X      full=K mod=C
SynchronizationFrameOfReferenceUID               U      uids=K
TargetUID                                        U      uids=K
TelephoneNumberTrial                             X
TemplateExtensionCreatorUID                      U      uids=K
TemplateExtensionOrganizationUID                 U      uids=K
TextComments                                     X      desc=C
TextString                                       X      desc=C
TextValue                                        X      struct=C
TimeOfLastCalibration                            X      full=K mod=C
TimezoneOffsetFromUTC                            X      full=K mod=C
TopicAuthor                                      X
TopicKeywords                                    X
TopicSubject                                     X
TopicTitle                                       X
TrackingUID                                      U      uids=K
TransactionUID                                   U      uids=K
TreatmentControlPointDate                        X/D    full=K mod=C
TreatmentControlPointTime                        X/D    full=K mod=C
TreatmentDate                                    X/D    full=K mod=C
TreatmentMachineName                             X/Z    dev=K
TreatmentSessionUID                              U      uids=K
TreatmentTime                                    X/D    full=K mod=C
UDISequence                                      X      dev=K
UID                                              U      uids=K
UniqueDeviceIdentifier                           X      dev=K
VerificationDateTime                             D      full=K mod=C
VerifyingObserverIdentificationCodeSequence      Z
VerifyingObserverName                            D
VerifyingObserverSequence                        D
VerifyingOrganization                            X
VisitComments                                    X      desc=C
"""


@dataclass(frozen=True)
class Row:
    """One row of the table: the attribute's keyword and tag, the Basic Profile action, the option columns."""

    keyword: str
    tag: int
    basic: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def descriptor(self) -> bool:
        """True when the Clean Descriptors Option names this attribute (free text that describes, not identifies)."""
        return self.options.get("desc") == "C"


def _parse(text: str) -> dict[int, Row]:
    """The rows above, keyed by tag (resolved through pydicom's data dictionary)."""
    from pydicom.datadict import tag_for_keyword

    rows: dict[int, Row] = {}
    for line in text.strip().splitlines():
        parts = line.split()
        keyword, basic, opts = parts[0], parts[1], parts[2:]
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise ValueError(f"Table E.1-1 transcription: unknown keyword {keyword}")
        options = {}
        for o in opts:
            col, _, action = o.partition("=")
            if col not in OPTION_COLUMNS:
                raise ValueError(f"Table E.1-1 transcription: unknown option column {col}")
            options[col] = action
        rows[int(tag)] = Row(keyword, int(tag), basic, options)
    return rows


_TABLE: dict[int, Row] | None = None


def table() -> dict[int, Row]:
    """Table E.1-1 by tag (parsed once)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = _parse(_ROWS)
    return _TABLE


def row_for(tag: int) -> Row | None:
    """The table's row for ``tag``, or None when the table does not name it."""
    return table().get(int(tag))


def is_curve_or_overlay(tag: int) -> bool:
    """True for the repeating groups of curves (50xx) and overlays (60xx), which the profile removes whole."""
    group = int(tag) >> 16
    return (0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF) and group % 2 == 0
