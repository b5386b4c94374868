"""Specialty notes: psychiatry, obstetrics (labour and delivery, antepartum), NICU and paediatrics."""

from __future__ import annotations

from training.phi.generator.context import NoteContext

PSY_OPEN = ("Psychiatry Consult", "PSYCHIATRIC EVALUATION", "Psych C/L follow-up {date_md}", "Behavioral Health Note",
            "Inpatient Psychiatry Progress Note")
PSY_EXTRA_HPI = ("Pt has been living with {his} {rel2word} in {city} since {month}.",
                 "Pt was seen in the ED at {hosp} on {date} after a fight with {his} {relword}.",
                 "UDS positive for benzodiazepines; pt reports taking {his} {relword}'s [[Xanax]].",
                 "Pt denies AH/VH today, though nursing reports pt talking to self o/n.",
                 "Prior trials: [[Prozac]] (GI upset), [[Wellbutrin]] (ineffective).")
PSY_SECTIONS = {
    "ID/CC": ("{pt_formal} is a {pt_age} {man} with MDD, admitted after overdose of [[Seroquel]].",
              "{pt_age} {sex}, BIBP from {address1} after {rel} called 911.",
              "{pt_age} {sex} from {nursing_home}, consulted for agitation and capacity."),
    "HPI": ("Pt reports worsening mood since losing job at {employer} in {month}.",
            "Collateral from {rel} ({phone}): pt stopped [[Lithium]] ~2 weeks ago.",
            "Pt states {he} hears voices telling {him} to go to {city}.", "Last psych admission {bare} {year}.",
            "Sleep 3-4 h/night, poor appetite, anhedonia.", "Pt endorses passive SI, denies plan or intent.",
            "Outpt psychiatrist {dr} at {clinic}; therapist {staff_first}."),
    "MSE": ("Appearance: disheveled, poor eye contact.", "Speech: slow, low volume.",
            "Mood: 'I'm tired of everything.'",
            "Affect: constricted, tearful.", "TP: linear. TC: + passive SI, no HI.", "Cognition: [[MoCA]] 24/30.",
            "Insight/judgment: poor."),
    "Assessment": ("{pt_age} {sex} with MDD, severe, without psychotic features.", "[[PHQ-9]] 22.",
                   "Pt lacks capacity to refuse placement per {dr}.",
                   "Risk: elevated; protective factors: {rel2word}, [[faith]]."),
    "Plan": ("Restart [[Zoloft]] 50 mg daily.", "1:1 sitter for safety.", "Section 12 filed {date_md}.",
             "Transfer to inpatient psych at {bare} when medically cleared.", "Will follow daily.",
             "D/w {dr2} and primary team."),
}
OB_NOTES = {
    "L&D Admission Note": (
        ("{pt_first} is a {pt_age} {gp} at {ga} by LMP ({date_md}) c/w 8 wk US.", "EDD {date}.",
         "Prenatal care at {clinic} with {dr}.", "Prior delivery {recent_year} at {hosp}, C/S for breech."),
        ("Presents with ctx q3-4 min since {time}, +LOF at {time}.", "BP {bp}, no HA or visual changes; PIH labs sent.",
         "GBS neg ({date_md}). Rh pos.", "Partner {rel_name} at bedside, phone {phone}."),
        ("SVE: 4/80/-1 at {time} by {staff_first} CNM.",
         "FHT baseline 135, mod variability, + accels, no decels. Cat I.",
         "[[Leopold maneuvers]]: vertex, EFW 3400 g.", "[[Bishop score]] 5, cervical ripening with [[Cytotec]]."),
        ("Plan: admit to L&D, [[Pitocin]] per protocol per {dr}.",
         "Epidural when requested; anesthesia ({dr_last}) aware.",
         "[[magnesium sulfate]] 2 g/hr for PEC.", "Pediatrician for baby: {dr} at {clinic}."),
    ),
    "DELIVERY NOTE": (
        ("{pt_first} is a {pt_age} {gp} at {ga} admitted {date_md} in active labor.",),
        ("Epidural placed at {time} by anesthesia ({dr_last}).", "Complete at {time}, pushed 40 min."),
        ("NSVD at {time} of viable {female|male} infant, [[Apgar]] 8/9, wt 3410 g.",
         "Placenta delivered intact, EBL 300 mL.",
         "2nd degree laceration repaired with 3-0 [[Vicryl]].", "Partner {rel_name} at bedside, cut cord."),
        ("Mother and baby stable, to postpartum.", "Attending {dr} present for delivery."),
    ),
    "Postpartum Day 1": (
        ("{pt_first} is a {pt_age} now {gp} PPD#1 s/p NSVD on {date_md}.",),
        ("Pain controlled with [[Motrin]]. Voiding, ambulating.", "Fundus firm, 1 cm below umbilicus, lochia mod.",
         "BP {bp}.", "Pt plans to breastfeed; lactation ({staff_first}, IBCLC) consulted."),
        ("[[Edinburgh Postnatal Depression Scale]] 6.", "Rubella immune, Rh pos, no [[RhoGAM]] needed.",
         "Baby's pediatrician: {dr} at {clinic}."),
        ("Plan: d/c home tomorrow with partner {rel_name}; f/u {clinic} in 6 wks.",),
    ),
}
NICU_SECTIONS = (
    ("Baby {pt_last} ({Boy|Girl|Twin A|Twin B}) born {date} at {time} at {ga} GA, BW 1650 g.",
     "Mother is a {adult_age} yo {gp}, prenatal care at {clinic}.", "Apgars 6 and 8 ([[Apgar]])."),
    ("Now CGA {ga}.", "[[Ballard score]] c/w 32 wks.", "Wt 1720 g, up 30 g."),
    ("Resp: on CPAP 5, FiO2 25%, s/p [[Curosurf]] x1.", "Resp: RA, no A/B/D events x48h, on [[caffeine citrate]].",
     "CV: soft murmur, echo {day} showed small PDA.", "FEN: EBM 24 kcal at 120 mL/kg/d, tolerating.",
     "ID: [[ampicillin]]/[[gentamicin]] x48h, BC neg.", "Bili 9.8, under phototherapy."),
    ("Social: parents {rel_name} and {rel2_name} visiting daily; live in {city}.",
     "Mom's phone {phone}; dad works at {employer}.",
     "Plan d/w mother at bedside and {dr}.", "Car seat test passed {date_md}.",
     "Hearing screen passed. Newborn screen sent {date_md}."),
)
PEDS_SECTIONS = (
    ("{pt_first} is a {pt_age} {sex} seen with {his} {rel2word} for 2 days of fever.",
     "{pt_first} is a {pt_age} {sex} here for well visit with {his} mother {rel_name}."),
    ("Attends {school}; no sick contacts.", "Immunizations UTD per {clinic}.",
     "Tmax 102.4 at home, [[Motrin]] at {time}.",
     "Wt 14.2 kg (50th %ile).", "Lives with parents in {city}; {his} father works at {employer}."),
    ("Exam: TMs clear, OP mild erythema, lungs clear.", "Rapid strep neg.", "[[Tanner stage]] 2."),
    ("F/u with PCP {dr} in 2 days.", "Discussed with {rel}, who verbalized understanding.",
     "Ped surgery ({dr2}) aware.",
     "Return precautions given; call {phone_ext} after hours."),
)


def psychiatry(c: NoteContext) -> None:
    """Psychiatric consult or progress note with MSE."""
    c.line(c.pick(PSY_OPEN))
    for section, pool in PSY_SECTIONS.items():
        c.add(c.pick((f"{section}: ", f"{section.upper()}:\n", f"{section}- ")))
        c.lines(pool, 1, 1 if section == "ID/CC" else 4, sep=c.pick((" ", "\n")))
        if section == "HPI":
            c.mark_closing()  # longer notes get more history here
    c.line(c.pick(("{sign_psych}", "{dr_cred}", "Seen and discussed with attending {dr}. {sign_psych}")))


def psychiatry_extra(c: NoteContext) -> None:
    """One more psychiatry sentence."""
    c.one(PSY_SECTIONS["HPI"] + PSY_EXTRA_HPI)


def obstetrics(c: NoteContext) -> None:
    """Labour and delivery admission, delivery note or postpartum note, in the order those notes follow."""
    title = c.pick(tuple(OB_NOTES))
    c.state["ob"] = title
    c.line(c.pick((title, title.upper(), f"{title} {{date_md}}")))
    sections = OB_NOTES[title]
    for i, pool in enumerate(sections):
        c.lines(pool, 1, len(pool), sep=c.pick((" ", "\n")))
        if i == len(sections) - 2:
            c.mark_closing()
    c.line(c.pick(("{sign_cnm}", "{dr_cred}", "{sign_rn}")))


def obstetrics_extra(c: NoteContext) -> None:
    """One more sentence for the section before the plan."""
    sections = OB_NOTES[str(c.state.get("ob", "L&D Admission Note"))]
    c.one(tuple(t for pool in sections[1:-1] for t in pool))


def nicu_peds(c: NoteContext) -> None:
    """A NICU note (newborn) or a paediatric visit; the cast is the baby or child and the parents."""
    nicu = c.cast.age == 0 or c.chance(0.4)
    c.state["nicu"] = nicu
    c.line(c.pick(("NICU Admission Note", "NICU Progress Note DOL {3|7|12|21}", "Neonatology Note", "NNP Note")) if nicu
           else c.pick(("Peds Progress Note", "Pediatric Clinic Visit {date_md}", "PEDS URGENT CARE",
                        "Well child visit")))
    sections = NICU_SECTIONS if nicu else PEDS_SECTIONS
    for i, pool in enumerate(sections):
        c.lines(pool, 1, 1 if i == 0 and not nicu else len(pool), sep=c.pick((" ", "\n")))
        if i == len(sections) - 2:
            c.mark_closing()
    c.line(c.pick(("{sign_nnp}", "{dr_cred}", "{sign_nnp} {date_md} {time}")) if nicu else c.pick(("{dr_cred}",
    "{sign_rn}")))


def nicu_peds_extra(c: NoteContext) -> None:
    """One more clinical sentence."""
    c.one(NICU_SECTIONS[2] if c.state.get("nicu") else PEDS_SECTIONS[1] + PEDS_SECTIONS[2])
