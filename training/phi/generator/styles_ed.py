"""Emergency and telephone styles: ED triage, ED provider note, telephone triage call."""

from __future__ import annotations

from training.phi.generator.context import NoteContext

TRIAGE_HEADERS = ("ED TRIAGE NOTE", "Triage {date_md} {time}", "EMERGENCY DEPT TRIAGE", "ED Triage - ESI {2|3|4}",
                  "TRIAGE ASSESSMENT {line_date} {time}", "Triage")
TRIAGE_COMPLAINTS = (
    "CC: chest pain x2 days, worse w/ exertion.", "CC: fall at home, hit head, on [[Eliquis]].",
    "CC: SOB, cough x1 wk.",
    "CC: abd pain RLQ since {day}, nausea, no vomiting.", "CC: syncope at work ({employer}), witnessed by coworker.",
    "CC: laceration L hand from kitchen knife.", "CC: ETOH, found down outside {church}.",
    "CC: SI, brought in by police.",
    "CC: fever 102 at home, [[Tylenol]] at {time}.", "CC: R leg swelling since {month}.",
    "CC: palpitations since {holiday}.",
)
TRIAGE_LINES = (
    "Arrived via {EMS|private car|ambulance|walk-in} from {city}.", "BIBA from {nursing_home}, sent for AMS.",
    "VS: {vitals}", "Pain {score}.", "Allergies: {NKDA|PCN (hives)|sulfa|latex}.", "Meds: {dose}, {drug}, {drug}.",
    "PMH: HTN, DM, CABG {yy}.", "LMP {date_md}.", "Accompanied by {rel}, contact {phone}.", "{rel} at bedside.",
    "Pt is a {pt_age} {sex}, A&O x3, ambulatory.", "Pt from {nursing_home}, baseline dementia per staff.",
    "PCP: {dr} at {clinic}.", "Lives with {his} {age_phrase} mother.", "Last tetanus {year}.",
    "Fall risk: [[Morse Fall Scale]] 45.", "To {room} via w/c.",
    "Triage RN {staff_first} notified charge.", "[[ESI]] 3.", "Pt states {he} lives at {address1}.",
    "Ride home: {rel2}, {phone}.", "Found down near {street} by bystander.", "{word_use}.",
    "{noname}.", "Pt moved from {state_name} {month}, no local PCP.", "[[GCS]] 15.", "Weight 82 kg.",
    "Pt works at {employer}.",
)
PROVIDER_SECTIONS = {
    "HPI": (
        "Pt reports symptoms began {day} evening while at {employer}. Denies fever, chills.",
        "Seen at {hosp} on {date} for similar sx, discharged on {drug}.",
        "Hx obtained from pt and {rel}, who found {him} on the floor at {time}.",
        "Pt last seen well {day} at {time} per {rel2word} {rel2_name}.", "Followed by {dr} in cardiology at {clinic}.",
    ),
    "ROS": ("Negative except as per HPI.", "10-point ROS neg other than above.", "+ cough, + DOE, no CP, no LE edema."),
    "Exam": (
        "VS {vitals}", "Gen: NAD, A&O x3.", "HEENT: PERRL, MMM.", "CV: RRR, no m/r/g.", "Lungs: CTAB.",
        "Abd: soft, TTP RLQ, + [[McBurney's point]], neg [[Murphy's sign]].",
        "Neuro: CN II-XII intact, strength {strength} x4.",
        "Ext: no edema, [[Homans sign]] neg.", "Skin: 3 cm lac L palm, no FB.",
    ),
    "ED Course": (
        "EKG NSR, no acute ST changes. Trop <0.01.", "CT head neg. CXR w/o consolidation.", "Given {dose} and {dose}.",
        "D/w {dr} (cardiology), who will see pt.", "Case d/w on-call {dr_last}, agrees with admission.",
        "Lac repaired with 4-0 nylon x6.", "[[Dr. notified]] of {lab_lactate}.", "Reassessed at {time}: pain {score}.",
    ),
    "Dispo": (
        "Admit to {ward} under {dr}.", "Discharged home with {rel}, f/u with PCP {dr} in 2-3 days.",
        "Transfer to {hosp} for cath, accepted by {dr}.", "Obs, tele bed {room}.", "To {bare} for further care.",
    ),
}
PROVIDER_INTROS = ("{pt_formal} is a {pt_age} {sex} with hx HTN, HLD, MI {yy} s/p PCI who presents with {cc}.",
                   "{pt_formal} is a {pt_age} {sex} from {nursing_home} sent in for {cc}.",
                   "Pt is a {pt_age} {mf} BIBA from home with {cc}.")
CCS = ("chest pain", "SOB", "fall", "syncope", "abdominal pain", "AMS", "fever", "GI bleed", "weakness")
PHONE_OPEN = (
    "Telephone encounter {date_md} {time}", "Phone call - {pt} ({dob})", "TELEPHONE TRIAGE NOTE",
    "Call from {rel} re: {pt_first}", "Nurse triage call {line_date}", "Tel enc: {pt_lastfirst}, MRN {mrn}",
)
PHONE_LINES = (
    "{rel} called at {time} stating pt has had fever 101 since {day}.", "Pt called from {phone}, c/o dizziness.",
    "Caller: {rel}, callback {phone}.", "Pt reports [[Norco]] not helping, pain {score}.",
    "Pt asks for refill of {drug} to {pharmacy}, {phone}.", "Advised to go to ED if sx worsen.",
    "Appt made with {dr} for {date_mon_d} at {time}.", "Spoke with pt, DOB verified {dob}.",
    "Pt states {he} ran out of [[Keppra]] {day}.", "Routed to {dr} for review.", "Message left on VM at {phone}.",
    "Per {dr}, ok to increase [[Lasix]] to 40 mg daily x3 days.",
    "Home health RN {staff_first} from {agency} called, {phone_ext}.",
    "Pt verbalized understanding. Will call back if needed.", "Pt's appt is on the {ordinal} at {9:30|10:15|2:45}.",
    "{word_use}.", "Pt's {rel2word} will drive {him}; plate {plate} for parking pass.",
    "Pt initials {pt_ini} confirmed.", "Faxed orders to {fax}.", "Pt's {rel2word} {rel2_name} also on line.",
    "Pt is in {city} visiting family until {date_md}.", "Pager {pager} - on-call {dr} paged, called back at {time}.",
)


def ed_triage(c: NoteContext) -> None:
    """ED triage: header, complaint, short lines of history, vitals and disposition."""
    c.line(c.pick(TRIAGE_HEADERS))
    c.line(c.pick(TRIAGE_COMPLAINTS))
    c.lines(TRIAGE_LINES, 5, 10, sep=c.pick(("\n", " ", "\n")))
    c.mark_closing()
    c.line(c.pick(("{sign_rn}", "Triage RN: {sign_rn}", "{init}, RN {time}", "")))


def ed_provider(c: NoteContext) -> None:
    """ED provider note: HPI, ROS, exam, ED course, disposition, attestation."""
    c.line(c.pick(("ED PROVIDER NOTE", "Emergency Department Note", "ED Physician Documentation {date_md}",
                   "ED Attending Note")))
    if c.chance(0.5):
        c.line(c.pick(("Pt: {pt_lastfirst}  MRN {mrn}  Arrival {date} {time}", "MRN: {mrn}   Acct: {acct}",
                       "Patient {pt}, DOB {dob}, PCP {dr} ({phone})")))
    cc = c.pick(CCS)
    for section, pool in PROVIDER_SECTIONS.items():
        c.add(c.pick((f"{section}: ", f"{section.upper()}:\n", f"{section}\n")))
        if section == "HPI":
            c.add(c.pick(PROVIDER_INTROS).replace("{cc}", cc) + " ")
        c.lines(pool, 1, 4, sep=" ")
        if section == "ED Course":
            c.mark_closing()  # longer notes get more ED course here
    c.line(c.pick(("{dr_cred}", "Electronically signed by {dr_cred} {date_mdy4} {time}",
                   "I saw and examined the pt with resident {dr_lower}. {dr_cred}")))


def ed_extra(c: NoteContext) -> None:
    """One more ED line: a triage line for triage notes, an ED-course sentence for provider notes."""
    c.one(TRIAGE_LINES if c.style == "ed_triage" else PROVIDER_SECTIONS["ED Course"])


def telephone_triage(c: NoteContext) -> None:
    """Telephone triage call: caller, complaint, advice, plan, routed to a clinician."""
    c.line(c.pick(PHONE_OPEN))
    c.lines(PHONE_LINES, 4, 8, sep=c.pick(("\n", " ")))
    if c.chance(0.4):
        c.line("Disposition: {see in clinic today|ED now|home care advice|call back in 24h}.")
    c.mark_closing()
    c.line(c.pick(("{sign_rn}", "{staff_first}, triage RN", "{init} RN", "{sign_rn} {ext}")))


def telephone_extra(c: NoteContext) -> None:
    """One more call line."""
    c.one(PHONE_LINES)
