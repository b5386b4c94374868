"""Physician documents: discharge summary, operative/procedure note, radiology report with clinical history."""

from __future__ import annotations

from training.phi.generator.context import NoteContext

DC_HEADER = (
    "DISCHARGE SUMMARY\nPatient: {pt_lastfirst}   MRN: {mrn}\n"
    "Admission Date: {date_mdy4}   Discharge Date: {date_mdy4}",
    "Discharge Summary\nName: {pt}  DOB: {dob}  Acct #: {acct}\nAttending: {dr}",
    "DISCHARGE SUMMARY\nAdmitted: {date}  Discharged: {date}\nService: {Medicine|Cardiology|Surgery|Neurology}",
    "Discharge summary for {pt_formal} (MRN {mrn}), {hosp}",
)
DC_INTROS = (
    "{pt_formal} is a {pt_age} {sex} with CAD s/p CABG {year}, DM2 and CKD 3 who presented to {hosp} with 3 days of "
    "progressive dyspnea.",
    "{pt_formal} is a {pt_age} {sex} resident of {nursing_home} admitted with fever and confusion.",
    "This is a {pt_age} {man} with a history of COPD (home O2 2L) admitted from {city} with hypoxia.",
)
DC_SECTIONS = {
    "History of Present Illness": (
        "{He} was in {his} usual state of health until {day}, when {he} noted {his} ankles swelling.",
        "Of note, {he} was recently admitted to {hosp} from {date_mon_d} to {date_mon_d} for pneumonia.",
    ),
    "Hospital Course": (
        "Pt was diuresed with [[Lasix]] 80 mg IV BID with good response; weight down 4 kg.",
        "Cardiology ({dr}) was consulted and recommended TTE, which showed EF 35%.",
        "On hospital day 3 {he} developed [[Afib]] with RVR, rate controlled with [[Lopressor]].",
        "[[Foley]] was removed on {date_md} and {he} voided without difficulty.",
        "PT/OT evaluated pt; [[Berg Balance Scale]] 38/56, recommended rehab.",
        "Blood cultures from {date_md} grew GPC in clusters; ID ({dr2}) recommended 2 weeks of [[vancomycin]].",
        "Hgb nadir 7.1 on {date_md}; transfused 1 unit PRBC.",
        "Pain was controlled with [[Tylenol]] and low-dose [[oxycodone]].",
    ),
    "Discharge Medications": (
        "{dose} daily", "[[Eliquis]] 5 mg PO BID", "{dose} BID", "[[Keppra]] 500 mg PO BID", "[[Norco]] 5/325 q6h prn",
        "{drug} as before",
    ),
    "Follow-up": (
        "PCP {dr} at {clinic}, {phone}, within 1 week.", "Cardiology clinic with {dr2} on {date_long} at {time}.",
        "Labs (BMP) at {pharmacy} lab on {date_md}.", "Call {phone_ext} with questions.",
        "VNA from {agency} to see pt at home, {address1}.", "Instructions online at {url}.",
        "Surgery clinic ({dr2}) on the {ordinal}, {phone}.",
    ),
    "Disposition": (
        "Home with services.", "Discharged to {rehab}.", "To {nursing_home}, accepted by {dr_full}.",
        "Home with {relword} {rel_name}.", "Transferred back to {bare}.",
    ),
}
OP_HEADER = ("OPERATIVE REPORT", "PROCEDURE NOTE", "Operative Note", "BRIEF OP NOTE", "Procedure Note - {date_md}")
OP_FIELDS = (
    "Date of procedure: {date}", "Surgeon: {dr_cred}", "Assistant: {dr_full}, PA-C", "Anesthesia: {dr} - general ETT",
    "Preoperative diagnosis: {Acute cholecystitis|R hip fracture|Symptomatic cholelithiasis|Perforated appendix}",
    "Procedure: {Laparoscopic cholecystectomy|R hip hemiarthroplasty|Laparoscopic appendectomy|R IJ central line}",
    "EBL: 50 mL", "Location: {hosp}, OR {4|7|12}", "Referring: {dr_full}, {clinic}, fax {fax}",
    "Specimens: gallbladder to pathology (accession {accession})", "Drains: 19 Fr [[Jackson-Pratt]]",
    "Implants: {implant} (serial {serial})", "Complications: none",
    "Date of birth: {dob}", "Case booked {date_mdy2} by {staff_full}.",
    "Findings: inflamed gallbladder, no stones in CBD.",
)
OP_BODY = (
    "The patient was identified in the holding area, consent confirmed and the site marked.",
    "The patient was brought to OR {4|7|12} and placed supine; general anesthesia induced by {dr}.",
    "A time-out was performed with {staff} and the team.", "The patient was placed in [[Trendelenburg]].",
    "Pneumoperitoneum was established with the [[Veress]] needle.", "Skin was prepped with [[ChloraPrep]] and draped.",
    "Under US guidance the R IJ was accessed with [[Seldinger]] technique; [[Allen test]] done prior to art line.",
    "The critical view of safety was obtained, cystic duct and artery clipped and divided.",
    "Fascia closed with 0 [[Vicryl]], skin with 4-0 [[Monocryl]].", "Sponge and needle counts correct x2.",
    "The patient tolerated the procedure well and went to PACU in stable condition at {time}.",
    "Family ({rel}) updated in waiting area by {dr}.",
)
IMPLANTS = ("pacemaker", "ICD", "femoral stem", "mesh", "port-a-cath", "IVC filter")
RAD_HEADERS = ("{CT ABDOMEN AND PELVIS WITH CONTRAST|CT HEAD WITHOUT CONTRAST|CHEST PA AND LATERAL|MRI BRAIN W/WO|"
               "US RUQ|CTA CHEST PE PROTOCOL}",)
RAD_META = ("Accession: {accession}", "Exam date: {date} {time}", "MRN: {mrn}", "Patient: {pt_lastfirst}",
            "Ordering: {dr}", "DOB: {dob}", "Location: {ward}", "Ordering physician: {dr_full} ({pager})")
RAD_HISTORY = (
    "CLINICAL HISTORY: {pt_age} {sex} with RLQ pain, r/o appendicitis.",
    "CLINICAL HISTORY: {pt_age} {sex}, fall at {nursing_home}, on [[Eliquis]].",
    "HISTORY: SOB, hx CABG {yy}, MI {yy}.", "INDICATION: fever, cough. Prior study at {hosp} {date_mon_y}.",
    "HISTORY: Headache since {holiday}.", "INDICATION: f/u nodule seen {date} at {bare}.",
)
RAD_FINDINGS = (
    "Comparison: {date}.", "Comparison: none available.",
    "No acute intracranial hemorrhage, mass effect or midline shift.",
    "Lungs are clear. No pleural effusion or pneumothorax.",
    "Appendix is dilated to 11 mm with periappendiceal stranding.",
    "Gallbladder wall thickened to 5 mm; positive sonographic [[Murphy's sign]].",
    "Heart size normal. Sternotomy wires intact.",
    "Stable 6 mm RUL nodule, unchanged since {date_mon_y}.", "Degenerative changes of the lumbar spine.",
    "Pacemaker leads in expected position.", "Small bilateral effusions, R>L.",
    "No filling defect to the segmental level.",
)
RAD_IMPRESSION = (
    "IMPRESSION: Acute appendicitis without perforation.", "IMPRESSION: No acute intracranial abnormality.",
    "IMPRESSION: 1. No PE. 2. Small bilateral effusions.", "IMPRESSION: Acute cholecystitis.",
    "IMPRESSION: Stable RUL nodule; no further f/u per Fleischner criteria.",
)
RAD_SIGN = (
    "Findings discussed with {dr} by phone at {time} on {date_md}.",
    "Dictated by: {dr_cred}\nSigned: {date_iso} {time}",
    "Resident: {dr_full}. Attending: {dr_cred}.", "Read at {hosp} workstation {ip}.", "{dr_cred}",
)


def discharge_summary(c: NoteContext) -> None:
    """Discharge summary: header block, then titled sections."""
    c.line(c.pick(DC_HEADER))
    c.blank()
    for section, pool in DC_SECTIONS.items():
        if section != "History of Present Illness" and c.chance(0.2):
            continue
        c.line(c.pick((f"{section}:", f"{section.upper()}:", f"{section}")))
        if section == "Discharge Medications":
            bullet = c.pick(("1. ", "- ", ""))
            for i, med in enumerate(c.some(pool, 2, 5), 1):
                c.line((f"{i}. " if bullet == "1. " else bullet) + med)
        else:
            if section == "History of Present Illness":
                c.add(c.pick(DC_INTROS) + " ")
            c.lines(pool, 1, 4, sep=" ")
        if section == "Hospital Course":
            c.mark_closing()  # longer notes get more hospital course here
        c.blank()
    c.mark_closing()
    c.line(c.pick(("{dr_cred}", "Dictated by {dr_cred}, {date_mdy4}", "Attending: {dr_cred}\ncc: {dr_full}")))


def discharge_extra(c: NoteContext) -> None:
    """One more hospital-course sentence."""
    c.one(DC_SECTIONS["Hospital Course"])


def operative(c: NoteContext) -> None:
    """Operative or procedure note: header fields, then the narrative."""
    c.line(c.pick(OP_HEADER))
    c.line("Patient: {pt}  MRN: {mrn}" if c.chance(0.6) else "Pt: {pt_lastfirst}, {pt_age} {mf}")
    for field in c.some(OP_FIELDS, 5, 9):
        c.line(field.replace("{implant}", c.pick(IMPLANTS)))
    c.blank()
    c.line(c.pick(("Description of procedure:", "DESCRIPTION OF PROCEDURE:", "Details:")))
    c.lines(OP_BODY, 5, 9, sep=" ")
    c.mark_closing()
    c.line(c.pick(("I was present for the entire procedure. {dr_cred}", "{dr_cred}", "Attending: {dr_cred}")))


def operative_extra(c: NoteContext) -> None:
    """One more operative sentence."""
    c.one(OP_BODY)


def radiology(c: NoteContext) -> None:
    """Radiology report: exam, meta lines, clinical history, technique, findings, impression, sign-off."""
    c.line(c.pick(RAD_HEADERS))
    c.lines(RAD_META, 2, 5, sep=c.pick(("\n", "   ")))
    c.line(c.pick(RAD_HISTORY))
    c.line("TECHNIQUE: {Axial images obtained|Helical CT performed} {with|without} IV contrast.")
    c.line("FINDINGS:")
    c.lines(RAD_FINDINGS, 3, 6, sep=c.pick(("\n", " ")))
    c.mark_closing()
    c.line(c.pick(RAD_IMPRESSION))
    c.line(c.pick(RAD_SIGN))


def radiology_extra(c: NoteContext) -> None:
    """One more finding."""
    c.one(RAD_FINDINGS)
