"""Nursing-floor styles: ICU nursing in capitals (system by system), hurried lower-case nursing, respiratory therapy
with RRT/CRT sign-offs, and run-on notes with missing spaces and typos.
"""

from __future__ import annotations

from training.phi.generator.context import NoteContext
from training.phi.generator.styles_common import DISPO, HISTORY, PEOPLE, mixed_sentences, systems

ICU_HEADERS = (
    "NPN {shift}", "NPN [[7P-7A]]", "CCU NURSING PROGRESS NOTE {line_date} [[0700-1900]]", "MICU NSG NOTE [[7A-7P]]",
    "{line_date} [[1900-0700]] NPN", "CSRU NPN {date_md}", "NURSING NOTE {date_md} [[7A-7P]]",
    "SICU RN NOTE, {day} {date_md}", "MICU- NPN {shift}", "CCU Nursing Progress Note [[7-10am]]",
    "Nursing Progress Note", "NEURO ICU NPN", "CVICU NURSING ADMIT NOTE {date_md}",
)
ICU_INTROS = (
    "{pt_age} {mf} admitted {date} from {hosp} w/ CP, r/o MI.", "{pt_formal} is a {pt_age} {mf} w/ PNA, sepsis.",
    "{pt_age} {mf} POD #1 s/p CABG x3, AVR.", "Pt is a {pt_age} {sex} transferred from {hosp} {date_md} w/ GIB.",
    "{pt_formal} admitted via EW {date_md} after fall at {nursing_home}.", "{pt_age} {mf} s/p MVC, intubated in field.",
    "{pt_age} {mf} w/ COPD exacerbation, on {vent}.", "Pt {pt_last} is a {pt_age} {sex} w/ CHF, AKI.",
)
ICU_EVENTS = (
    "{line_date} {time} pt pulled out NGT, replaced, placement confirmed by CXR.",
    "{line_date} {time} SBP 80s, 500cc NS bolus given per {dr}.", "{line_date} {time}: Tmax 101.4, cultures sent.",
    "{line_date} Events: extubated {time}, on {vent}.", "Addendum {time}: pt more agitated, [[Haldol]] 2mg IV given.",
    "{line_date} {time} pt to CT head, back at {time}, [[MD aware]].",
)
LOWER_SENTENCES = (
    "pt resting comfortably most of shift.", "vss.", "c/o pain {score}, given {dose} w/ relief.",
    "house officer {dr_full_lower} aware.", "house officer {dr_lower} aware of bp {bp}.", "{rel} called x2, updated.",
    "spoke with {staff_first} from case mgmt re: dispo, screening for {rehab}.", "{staff} in, will see in am.",
    "pt's {rel2word} {rel2_name} here all evening.", "{dr_lower} at bedside, ok to advance diet.",
    "ls coarse, sx for small amt white.", "{vent}, sats 94-97%.", "foley draining ok.",
    "ambulated in hall x1 w/ walker.",
    "{relword} {rel_name} asking about transfer back to {bare}.", "plan is transfer to {ward} tomorrow if stable.",
    "pt states {he} lives alone in {city}, {rel2word} checks daily.", "tele nsr 70s, no ectopy.",
    "meds given per mar, {drug} held for sbp <100.", "skin intact, turned q2h.", "[[md aware]] of {lab_k}.",
    "pt confused o/n, thought it was {holiday}.", "{pt_lower} is a {pt_age} {sex}, hx cabg {yy}, mi {yy}.",
    "{relword} {rel_name} to bring in home meds.", "per {dr_lower} may d/c [[foley]] in am.",
    "[[may]] need cpap tonight.",
    "{line_date} 0600 labs drawn, sent.", "pt pleasant, cooperative.",
    "{word_name} (pt's {friend|neighbor|cousin}) called at {time}.",
    "spoke w/ {rel} at {phone}.", "pt's pcp is {dr_lower} at {clinic}.", "next appt {date_md} with {dr_lower}.",
    "{word_use}.", "{word_use}, {noname}.", "pt's {rel2word} coming in on the {ordinal}.", "{dose} given {time}.",
    "sw {staff_first} following, pt from {bare}.", "pt states {he} was born in {city} and moved in {yy}.",
)
RT_OPENERS = ("Respiratory Care Note", "RT NOTE:", "Respiratory Therapy", "RESP CARE:", "RT Progress Note {date_md}",
              "Resp therapy note {line_date} {time}")
RT_SENTENCES = (
    "Pt remains on {vent}.", "BBS coarse, diminished bases.", "Suctioned x2 for mod amt thick yellow secretions.",
    "ABG on current settings: 7.41/38/92.", "RSBI 68, SBT x30 min, tolerated well.", "ETT 7.5 @ 23 lip, secured.",
    "Cuff leak present.", "Weaned FiO2 to 40%, sats 95%.", "MDI [[albuterol]] 6 puffs q4h via ETT.",
    "Plan: wean as tol, possible extubation in am per {dr}.", "Extubated at {time} to {vent}, no stridor.",
    "[[Allen test]] positive R, ABG drawn from R radial.", "Home CPAP settings per {rel}: CPAP {8|10|12}, 2L bleed-in.",
    "Discussed weaning plan with {dr} and RT {staff_first}.", "HME changed, circuit intact.",
    "Trach care done, stoma clean.",
    "Pt uses home O2 from {agency}, {phone}.", "{word_use}.", "Neb tx given {time}, {noname}.", "Will cont to follow.",
    "Pt refused CPAP o/n, [[MD aware]].",
)


def icu_nursing(c: NoteContext) -> None:
    """ICU nursing note: header, intro, system by system, social, plan, sign-off (usually put in capitals)."""
    c.line(c.pick(ICU_HEADERS))
    if c.chance(0.15):
        c.line("{pt_lastfirst}  MRN {mrn}  {room}")
    if c.chance(0.7):
        c.line(c.pick(ICU_INTROS))
    if c.chance(0.35):
        c.line("HX: " + " ".join(c.some(HISTORY, 1, 3)))
    if c.chance(0.4):
        c.line(c.pick(ICU_EVENTS))
    systems(c, 4, 8)
    c.add(c.pick(("SOCIAL: ", "Social- ", "FAMILY: ", "Psychosocial: ")))
    c.lines(PEOPLE, 1, 3, sep=" ")
    c.add(c.pick(("PLAN: ", "Plan: ", "A/P: ", "DISPO: ")))
    c.lines(DISPO, 1, 3, sep=" ")
    c.mark_closing()
    if c.chance(0.6):
        c.line(c.pick(("{sign_rn}", "-- {sign_rn}", "{init} RN", "{sign_rn} {time}")))


def icu_extra(c: NoteContext) -> None:
    """One more system or family sentence for an ICU note that came out short."""
    c.one(PEOPLE + DISPO + ICU_EVENTS)


def nursing_lower(c: NoteContext) -> None:
    """Hurried lower-case nursing: a short header, then run-together sentences with few capitals."""
    c.line(c.pick(("npn 7p-7a", "nsg 7a-7p", "npn", "{line_date} nursing", "shift note", "rn note {date_md}", "")))
    for _ in range(c.rng.randint(2, 4)):
        c.lines(LOWER_SENTENCES, 2, 5, sep=c.pick((" ", "  ", " ", "\n")))
    c.mark_closing()
    if c.chance(0.5):
        c.line(c.pick(("{sign_rn}", "-{init}", "{staff_first} rn", "{init} rn")))


def nursing_lower_extra(c: NoteContext) -> None:
    """One more lower-case sentence."""
    c.one(LOWER_SENTENCES)


def respiratory(c: NoteContext) -> None:
    """Respiratory therapy note signed with RRT/CRT credentials."""
    c.line(c.pick(RT_OPENERS))
    if c.chance(0.5):
        c.line("Pt is a {pt_age} {mf} on {vent} for {hypoxic resp failure|COPD exac|ARDS|post-op monitoring}.")
    c.lines(RT_SENTENCES, 4, 8, sep=c.pick(("\n", " ")))
    if c.chance(0.3):
        c.line("Vent check {time}: {vent}, PIP 28, Pplat 22, {scale}.")
    c.mark_closing()
    c.line(c.pick(("{sign_rt}", "{sign_rt} pager {pager}", "-- {sign_rt}", "{sign_rt}\n{date_md} {time}")))


def respiratory_extra(c: NoteContext) -> None:
    """One more respiratory sentence."""
    c.one(RT_SENTENCES)


def run_on(c: NoteContext) -> None:
    """A run-on note: sentences strung together on few lines (the noise transform then drops spaces, adds typos)."""
    if c.chance(0.5):
        c.add(c.pick(("NPN: ", "nsg note- ", "{line_date} ", "update: ", "")))
    for _ in range(c.rng.randint(2, 4)):
        mixed_sentences(c, 3, 6, sep=c.pick((" ", "", " ", "  ")))
    c.mark_closing()
    if c.chance(0.5):
        c.line(c.pick(("{sign_rn}", "-{init}", "{staff_first}")))


def run_on_extra(c: NoteContext) -> None:
    """More run-on sentences."""
    mixed_sentences(c, 2, 4, sep=" ")
