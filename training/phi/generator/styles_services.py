"""Service notes: social work, case management, pharmacy, PT/OT, dietitian."""

from __future__ import annotations

from training.phi.generator.context import NoteContext

SW_OPEN = ("Social Work Assessment", "SOCIAL WORK NOTE", "SW Progress Note {date_md}", "Social work follow-up",
           "SW: initial psychosocial assessment")
SW_LINES = (
    "SW met with pt and {rel} at bedside.", "Pt cares for {his} {age_phrase} {grandmother|mother} at home.",
    "Pt lives with {relword} {rel_name} in a 2nd floor apt at {address1}.",
    "{His} father, {age}, lives at {nursing_home}.",
    "Pt works as a machinist at {employer} since {recent_year}.",
    "{His} {rel2word} {rel2_name} lives nearby in {city_state}.",
    "Pt attends {church}; pastor {staff_first} visits weekly.", "Children attend {school}.",
    "Pt reports stable housing; rent assisted through {county} housing authority.",
    "HCP form completed, {rel} named HCP.",
    "Pt has hx of homelessness, stayed at {shelter} in {month}.", "Pt receives SSDI; Medicaid # {member}.",
    "SSN {ssn} verified for Medicaid application.",
    "Spoke with {staff} re: transportation.", "SW will f/u with {relword} at {phone}.",
    "Pt drives; car plate {plate} in lot.",
    "Pt's {rel2word} {rel2_name} can be reached at {email}.",
    "Interpreter {staff_first} (ID {short_id}) used for visit.",
    "Pt endorses strong [[faith]] and support from congregation.", "Pt [[may]] benefit from VNA and Meals on Wheels.",
    "Screened for IPV: denies.", "Pt tearful when discussing {his} {mother|father|brother}'s death in {recent_year}.",
    "Referral faxed to {nursing_home}, {fax}.", "Pt prefers to be called {pt_nick}.", "Pt, {formal_nick}, seen today.",
    "Rent is due the {ordinal}; pt worried about paying.", "Pt's driver's license ({licence}) suspended since {year}.",
    "Pt's {grandmother|grandfather|aunt} is {age_words} and lives in {state_name}.", "{word_use}.",
)
CM_OPEN = ("Case Management Note", "CM NOTE", "Utilization Review / Case Mgmt", "CM d/c planning {date_md}",
           "Case management follow up")
CM_LINES = (
    "CM met with pt to discuss d/c plan.",
    "Insurance: {Medicare A/B|MassHealth|BCBS PPO|Medicaid HMO}, member ID {member}.",
    "Pt from home with {relword}; prior to admit independent with ADLs.", "Referrals sent to {rehab} and {rehab}.",
    "{rehab} accepted, bed available {day}.", "Spoke with {staff_first} at {nursing_home} admissions, {phone_ext}.",
    "VNA referral to {agency}, fax {fax}.", "Auth # {short_id} obtained from insurer for {n} days.",
    "Family ({rel}) agreeable to plan, call {phone} with updates.", "DME: rolling walker delivered to {address1}.",
    "Anticipated d/c {date_md}.", "Demographics confirmed: SSN {ssn}, DOB {dob}.",
    "Pt prefers {rehab} near {his} {rel2word} in {city}.",
    "Spoke with {staff} re: barriers to d/c.", "Pt's PCP {dr} at {clinic} notified of admission.",
    "Transport booked with {agency} for {time}.", "Medicare IM letter given {date_md}.",
    "Copy of license # {licence} and card sent to {rehab}.",
    "SNF choice letter given; pt picked {nursing_home} ({zip}).",
    "{word_use}.",
)
PHARM_OPEN = ("Pharmacy Consult Note", "PHARMACY NOTE - {Vancomycin dosing|Warfarin|Renal dosing|Med rec}",
              "Clinical Pharmacist Note {date_md}", "Medication reconciliation")
PHARM_LINES = (
    "Vancomycin {lab_vanc}; recommend 1250 mg q12h, next level before 4th dose.",
    "INR 2.8 today on [[Coumadin]] 5 mg; recommend hold x1, recheck in am.", "[[Eliquis]] dose adjusted for age/wt.",
    "Home meds per {pharmacy} ({phone}): {drug}, {drug}, {dose}.",
    "Fill history shows [[Norco]] last filled {date_md}.",
    "Rx # {short_id} transferred to {pharmacy}.", "Discussed with {dr}; agrees with plan.",
    "Pt counseled on [[Lovenox]] injection technique with {relword} present.", "Allergy: PCN (rash {year}).",
    "[[Keppra]] renally adjusted to 500 mg BID.", "Recommend d/c [[Protonix]], no indication.",
    "Formulary interchange: [[Lipitor]] for home [[Crestor]].", "Prescriber DEA/NPI on file: {licence}.",
    "Home: {drug} {freq}, {drug} {freq}.", "[[Dr. notified]] of INR.", "Questions: {pager} / {phone_ext}.",
)
PT_OPEN = ("Physical Therapy Evaluation", "PT Daily Note", "OT Evaluation", "Occupational Therapy Treatment Note",
           "PT/OT co-treat {date_md}", "Rehab services - PT")
PT_LINES = (
    "PLOF: independent with SPC, lives with {relword} in 2-story house with 4 STE in {city}.",
    "Bed mobility: min A. Transfers: mod A x1 with RW.", "Gait: 40 ft with RW, CGA, decreased step length.",
    "[[Berg Balance Scale]] 32/56, high fall risk.", "[[Timed Up and Go]] 24 sec.",
    "MMT: hip flexion {strength}, knee ext {strength}.",
    "Pain {score} with mobility, premedicated.", "[[Romberg]] positive.", "ADLs: LB dressing max A, grooming set-up.",
    "Educated pt and {rel} on hip precautions.", "Recommend d/c to {rehab}.",
    "Recommend home with {relword} and outpt PT at {clinic}.",
    "Pt works at {employer}, goal to return by {month}.", "Co-treat with OT {staff_first}.",
    "[[Barthel Index]] 55/100.",
    "{word_use}.", "Pt goes by {formal_nick}.",
)
RD_OPEN = ("Nutrition Assessment", "Dietitian Note", "NUTRITION FOLLOW-UP {date_md}", "Clinical Nutrition Consult")
RD_LINES = (
    "Wt hx: 61 kg in {month} per {clinic} records; 12% loss.", "Diet: NPO, TF [[Jevity 1.5]] at 55 mL/hr goal.",
    "Estimated needs 1500-1750 kcal, 75-90 g protein.", "Labs: {lab}, {lab}.", "Intake <25% of meals x3 days.",
    "Spoke with {relword} {rel_name}, who brings food from home.",
    "Pt follows a {halal|kosher|vegetarian} diet; {church} provides meals.",
    "Recommend [[Ensure]] TID, MVI, check prealbumin.", "SLP ({staff_first}) rec mech soft, nectar thick.",
    "Pt receives Meals on Wheels at {address1}.", "Swallow eval by SLP {sign_slp} on {date_mon_ord}.", "Pager {pager}",
)


SW_INTROS = ("Pt is a {pt_age} {man}, married to {spouse_full} for {12|20|25} years.", "Pt is a {pt_age} {widow} living "
             "alone in {city}.", "Pt is a {pt_age} {man} admitted with CHF; referred for d/c planning and coping.")
CM_INTROS = ("Pt is a {pt_age} {sex} admitted {date_md} with PNA.", "{pt_age} {mf} from home, adm with fall, R hip fx.")
PHARM_INTROS = ("Pt is a {pt_age} {sex}, wt 78 kg, CrCl ~45 mL/min.", "Pt is a {pt_age} {sex}, wt 52 kg, {lab_cr}.")
PT_INTROS = ("Pt is a {pt_age} {sex} s/p R THA POD 2.", "Pt is a {pt_age} {sex} admitted after fall at home.",
             "{pt_age} {mf} with L MCA CVA, R hemiparesis.")
RD_INTROS = ("Pt is a {pt_age} {sex} with dysphagia s/p CVA.", "Pt is a {pt_age} {sex}, wt 48 kg, BMI 18.",
             "{pt_age} {mf} on TF via PEG, wt 71 kg.")


def _service(c: NoteContext, openers: tuple[str, ...], intros: tuple[str, ...], lines: tuple[str, ...], lo: int,
             hi: int) -> None:
    c.line(c.pick(openers))
    if c.chance(0.4):
        c.line("Pt: {pt}  MRN {mrn}  {ward}" if c.chance(0.5) else "Re: {pt_formal}, DOB {dob}")
    if c.chance(0.8):
        c.line(c.pick(intros))
    c.lines(lines, lo, hi, sep=c.pick(("\n", " ", "\n")))


def social_work(c: NoteContext) -> None:
    """Social work assessment: family, housing, work, faith, supports, plan, sign-off."""
    _service(c, SW_OPEN, SW_INTROS, SW_LINES, 5, 10)
    c.mark_closing()
    c.line(c.pick(("{sign_sw}", "{sign_sw}, pager {pager}", "{sign_sw} {ext}")))


def social_work_extra(c: NoteContext) -> None:
    """One more social work line."""
    c.one(SW_LINES)


def case_management(c: NoteContext) -> None:
    """Case management: insurance, referrals, facilities, transport, dates."""
    _service(c, CM_OPEN, CM_INTROS, tuple(t.replace("{n}", "5") for t in CM_LINES), 5, 10)
    c.mark_closing()
    c.line(c.pick(("Will cont to follow. {sign_cm}", "{sign_cm}", "{sign_cm} {phone_ext}")))


def case_management_extra(c: NoteContext) -> None:
    """One more case management line."""
    c.one(tuple(t.replace("{n}", "3") for t in CM_LINES))


def pharmacy(c: NoteContext) -> None:
    """Pharmacy consult: dosing, levels, home meds, pharmacies, sign-off."""
    _service(c, PHARM_OPEN, PHARM_INTROS, PHARM_LINES, 5, 9)
    c.mark_closing()
    c.line(c.pick(("{sign_pharm}", "{sign_pharm} {ext}", "Thank you for this consult. {sign_pharm}")))


def pharmacy_extra(c: NoteContext) -> None:
    """One more pharmacy line."""
    c.one(PHARM_LINES)


def pt_ot(c: NoteContext) -> None:
    """PT/OT evaluation or treatment note."""
    _service(c, PT_OPEN, PT_INTROS, PT_LINES, 6, 11)
    c.mark_closing()
    c.line(c.pick(("Will follow 5x/wk. {sign_pt}", "{sign_ot}", "{sign_pt}", "{sign_ot}, pager {pager}")))


def pt_ot_extra(c: NoteContext) -> None:
    """One more PT/OT line."""
    c.one(PT_LINES)


def dietitian(c: NoteContext) -> None:
    """Dietitian assessment."""
    _service(c, RD_OPEN, RD_INTROS, RD_LINES, 5, 10)
    c.mark_closing()
    c.line(c.pick(("Will f/u in 3-5 days. {sign_rd}", "{sign_rd}", "{sign_rd} {ext}")))


def dietitian_extra(c: NoteContext) -> None:
    """One more nutrition line."""
    c.one(RD_LINES)
