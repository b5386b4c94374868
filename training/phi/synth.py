"""Synthetic nursing notes with fake PHI of every category, for training the PHI model.

Notes are assembled from sentence templates in the style of ICU nursing notes (system-by-system, abbreviations,
vent settings, strength grades, times) with slots filled by fake values: census names, GeoNames cities, made-up
hospitals and wards, dates in many forms, phone/pager numbers, record numbers, ages over 89. Whole notes are then
UPPER CASED (most), lower cased or left mixed, and a few typos are added outside the PHI. Every PHI slot's character
span is recorded with a coarse label (NAME, DATE, LOCATION, CONTACT, ID, AGE). Nothing comes from any real note.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from medpriv_desktop.core.notes import lexicons as lx

LABELS = ("NAME", "DATE", "LOCATION", "CONTACT", "ID", "AGE")

# Sentences with PHI slots: {DR} clinician, {REL} relative, {PT} patient surname, {FIRST} first name, {DATE} date,
# {YEAR} year, {HOSP} hospital, {CITY} city, {WARD} ward, {PHONE} phone, {PAGER} pager, {MRN} id, {AGE} age > 89.
PHI_TEMPLATES = [
    "DR. {DR} AWARE.", "DR {DR} NOTIFIED OF BP.", "Dr. {DR} aware and at bedside.", "PER DR {DR}, CONT LASIX GTT.",
    "SPOKE WITH DR. {DR} RE: PLAN.", "{INIT}. {DR} NP AWARE.", "HO {DR} PAGED X2.", "Discussed with Dr. {DR} and Dr. {DR2}.",
    "DR {DR} AND {DR2} AWARE OF LABS.", "MD {DR} IN TO SEE PT.", "{FIRST} {DR}, RN", "{FIRST} {INIT}. {DR}, RRT",
    "{first} {dr} rn", "SEEN BY DR {FIRST} {DR} (ATTENDING).", "CXR READ PER {INIT}. {DR} PA.",
    "SOCIAL: {RELWORD} {REL} IN TO VISIT.", "Social: pt's {relword} {REL} called for update.",
    "{RELWORD} {REL} {LAST} IS HCP, PHONE {PHONE}.", "FAMILY: {RELWORD} {REL} ({PHONE}) UPDATED BY RN.",
    "{REL} {LAST} ({RELWORD}) SPOKESPERSON.", "PT'S {RELWORD}, {REL}, AT BEDSIDE ALL DAY.", "MR. {PT} RESTING COMFORTABLY.",
    "MRS. {PT} C/O PAIN 5/10.", "{FIRST} {PT} IS A {AGE} YO MALE ADMITTED {DATE}.", "Ms. {PT} is a 67 y.o. female.",
    "ADMITTED TO {HOSP} ON {DATE} WITH CP.", "TRANSFERRED FROM {HOSP} {DATE} FOR CATH.", "PT WAS AT {HOSP} FOR REHAB.",
    "PLAN: TRANSFER TO {WARD} 2 WHEN BED AVAILABLE.", "Pt transferred from {WARD} 3 for SOB.", "LIVES IN {CITY} WITH WIFE.",
    "{RELWORD} LIVES IN {CITY}, FLYING IN TOMORROW.", "From {CITY}, {STATE}.", "S/P CABG {YEAR}.", "HX MI IN {YEAR}.",
    "LAST ADMIT {DATE}.", "BC FROM {DATE} NGTD.", "F/U {DATE} W/ DR {DR}.", "FOLEY CHANGED {DATE}.", "s/p fall {DATE}, fx hip '{YY}.",
    "PAGER #{PAGER}", "Pager: {PAGER}", "CALL {PHONE} WITH QUESTIONS.", "MRN {MRN}.", "UNIT NO: {MRN}", "AGE {AGE}.",
    "{AGE} Y/O F W/ HX CHF.", "PT THOUGHT IT WAS {MONTH}.", "ON {DATE} PT SPIKED TO 101.", "NURSING NOTE {DATE} 7A-7P",
    "{DATE}: WEANED TO CPAP 5/5.", "CSRU NPN {DATE}", "works at {HOSP}.", "followed by {DR2} cardiology at {HOSP}.",
]
CLINICAL = [
    "NEURO: A&O X3, MAE, PERRLA 3MM BRISK.", "CV: NSR 80'S NO VEA. SBP 100-120'S.", "RESP: LS CLEAR, CPAP 5/5 40%.",
    "RESP- REMAINS ON PS 10/5, TV 500-600'S, RR 16.", "GI: ABD SOFT, +BS, TOL CLEARS.", "GU: FOLEY DRAINING 30-50CC/HR.",
    "ID: AFEBRILE, TMAX 99.1, ON VANCO/ZOSYN.", "SKIN: INTACT. DSD TO STERNAL INCISION CDI.", "ENDO: RISS Q6H.",
    "PAIN: RATES 3/10, MEDICATED WITH MSO4 2MG IV.", "D5 1/2 NS AT 75CC/HR.", "STRENGTH 5/5 BILAT UPPER EXTREM.",
    "MOVES ALL EXTREMITIES, GRIPS 4/5 L SIDE.", "PA LINE DC'D THIS AM.", "NP 2L WITH SATS 95-98%.", "MS: SEDATED ON PROPOFOL.",
    "A-LINE DAMPENED, FLUSHED.", "PLAN: CONT TO MONITOR, WEAN VENT AS TOL.", "CARDIAC ENZYMES SENT @ 1900.",
    "LASIX 40MG IV GIVEN AT 1400 WITH GOOD RESPONSE.", "K 3.4 REPLETED WITH 40 MEQ KCL.", "HCT 28.1 -> 1 UNIT PRBC.",
    "PT TURNED Q2H, BACK CARE DONE.", "INSULIN GTT AT 2 UNITS/HR.", "ABG 7.38/42/98.", "CI 2.3 SVR 1100.",
    "TRANSFUSED 2 UNITS FFP FOR INR 2.1.", "TOLERATING TUBE FEEDS AT GOAL 60CC/HR.", "EPI WIRES SECURED.",
    "SPOKE WITH FAMILY RE: PLAN OF CARE.", "FAMILY IN TO VISIT, UPDATED BY MD.", "HO AWARE OF LOW UO.", "DR AWARE.",
    "ATTENDING IN TO SEE PT.", "PT'S SON AT BEDSIDE.", "DAUGHTER CALLED FOR UPDATE.", "PT TO HAVE TEE TOMORROW.",
    "CT SCAN DONE AT 2200, NO BLEED.", "PT WITH 1/4 STRENGTH TF.", "CRACKLES 1/2 WAY UP.", "BP 120/80 HR 72 RR 18.",
    "WILL CONT TO MONITOR CLOSELY.", "ADDENDUM: 0300 PT MORE AGITATED, HALDOL 2MG IV GIVEN.", "UP TO CHAIR X 2 HRS.",
]
RELWORDS = ["SON", "DAUGHTER", "WIFE", "HUSBAND", "SISTER", "BROTHER", "NIECE", "MOTHER", "DTR", "FRIEND"]
HOSP_FORMS = ["{C} GENERAL HOSPITAL", "{S} MEMORIAL", "ST. {F}'S", "{C} MEDICAL CENTER", "{S} REHAB", "{C} VA",
              "UNIVERSITY OF {ST}", "{S} NURSING HOME", "{C} COMMUNITY HOSPITAL", "{S} HOSPITAL", "{S}"]
MONTHS = ["JANUARY", "FEBRUARY", "MARCH", "APRIL", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER"]


@dataclass
class SynthNote:
    """A synthetic note and its PHI spans ``(start, end, label)``."""

    text: str
    spans: list[tuple[int, int, str]]


class NoteSynthesizer:
    """Makes synthetic notes; deterministic for a seed."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.firsts = sorted(lx.ranked("first_names", 3000))
        self.lasts = sorted(lx.ranked("surnames", 20000))
        self.cities = sorted(c for c in lx.cities() if c.isalpha() or " " in c)[:3000]
        self.states = sorted(s for s in lx.states() if len(s) > 2)

    def _date(self) -> str:
        r = self.rng
        m, d, y = r.randint(1, 12), r.randint(1, 28), r.randint(1990, 2030)
        form = r.randint(0, 7)
        mon = MONTHS[(m - 1) % len(MONTHS)]
        return [f"{m}/{d}", f"{m}/{d}/{y}", f"{m}/{d}/{y % 100:02d}", f"{mon} {d}", f"{d} {mon[:3]}", f"{mon[:3]}. {y}",
                f"{m}/{d}", f"{mon} {d}, {y}"][form]

    def _value(self, slot: str) -> tuple[str, str | None]:
        r = self.rng
        last, first = r.choice(self.lasts), r.choice(self.firsts)
        table = {
            "DR": (last, "NAME"), "DR2": (r.choice(self.lasts), "NAME"), "dr": (last.lower(), "NAME"),
            "REL": (first, "NAME"), "PT": (last, "NAME"), "FIRST": (first, "NAME"), "first": (first.lower(), "NAME"),
            "LAST": (last, "NAME"), "INIT": (first[0], "NAME"), "DATE": (self._date(), "DATE"),
            "YEAR": (str(r.randint(1950, 2025)), "DATE"), "YY": (f"{r.randint(50, 99)}", "DATE"),
            "MONTH": (r.choice(MONTHS), "DATE"), "CITY": (r.choice(self.cities), "LOCATION"),
            "STATE": (r.choice(["MD", "MA", "PA", "NY", "VA"]), None), "WARD": (r.choice(self.lasts), "LOCATION"),
            "PHONE": (r.choice([f"{r.randint(201, 989)}-{r.randint(200, 999)}-{r.randint(0, 9999):04d}",
                                f"({r.randint(201, 989)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}",
                                f"{r.randint(200, 999)}-{r.randint(0, 9999):04d}"]), "CONTACT"),
            "PAGER": (str(r.randint(10000, 99999)), "CONTACT"), "MRN": (str(r.randint(1000000, 99999999)), "ID"),
            "AGE": (str(r.randint(90, 104)), "AGE"), "RELWORD": (r.choice(RELWORDS), None),
            "relword": (r.choice(RELWORDS).lower(), None),
        }
        if slot == "HOSP":
            form = r.choice(HOSP_FORMS)
            name = form.format(C=r.choice(self.cities), S=r.choice(self.lasts), F=r.choice(self.firsts), ST=r.choice(self.states))
            return name, "LOCATION"
        return table[slot]

    def _fill(self, template: str) -> tuple[str, list[tuple[int, int, str]]]:
        out, spans, pos = [], [], 0
        for m in re.finditer(r"\{(\w+)\}", template):
            out.append(template[pos: m.start()])
            value, label = self._value(m.group(1))
            start = sum(len(x) for x in out)
            out.append(value)
            if label:
                # facility keywords are not PHI: keep only the naming words
                if label == "LOCATION":
                    for w in re.finditer(r"[A-Z'.]+", value):
                        if w.group().strip(".'") not in lx.FACILITY_KEYWORDS and w.group() not in ("OF", "HOME"):
                            spans.append((start + w.start(), start + w.end(), label))
                else:
                    spans.append((start, start + len(value), label))
            pos = m.end()
        out.append(template[pos:])
        return "".join(out), spans

    def note(self) -> SynthNote:
        """One synthetic note."""
        r = self.rng
        parts: list[tuple[str, list]] = []
        for _ in range(r.randint(6, 16)):
            if r.random() < 0.45:
                parts.append(self._fill(r.choice(PHI_TEMPLATES)))
            else:
                parts.append((r.choice(CLINICAL), []))
        text, spans = "", []
        for sent, sp in parts:
            sep = r.choice([" ", "\n", " \n \n", "\n \n"]) if text else ""
            base = len(text) + len(sep)
            text += sep + sent
            spans += [(s + base, e + base, lab) for s, e, lab in sp]
        case = r.random()
        if case < 0.6:
            text = text.upper()
        elif case < 0.9:
            text = text.lower()
        return SynthNote(self._typos(text, spans), spans)

    def _typos(self, text: str, spans: list[tuple[int, int, str]]) -> str:
        """Swap two letters in a few non-PHI words (same length, so spans stay valid)."""
        chars = list(text)
        for _ in range(self.rng.randint(0, 3)):
            i = self.rng.randrange(1, max(2, len(chars) - 2))
            if chars[i].isalpha() and chars[i + 1].isalpha() and not any(s <= i + 1 and i < e for s, e, _ in spans):
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
        return "".join(chars)


def generate(n: int, seed: int = 0) -> list[SynthNote]:
    """``n`` synthetic notes."""
    gen = NoteSynthesizer(seed)
    return [gen.note() for _ in range(n)]
