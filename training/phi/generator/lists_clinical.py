"""Hand-written hard negatives: drug names (brand names that look like names), eponyms, and clinical look-alikes.

Nothing here is PHI, and the generator keeps every word of these lists out of its name and place pools, so a
tagger trained on the corpus sees "Foley", "Ativan" or "Glasgow" only as what they are in a note.
"""

from __future__ import annotations

#: Brand and generic drug names; the brands read like names or places, which is the point.
DRUGS = (
    "Eliquis", "Ativan", "Norco", "Keppra", "Zofran", "Lasix", "Haldol", "Coumadin", "Xarelto", "Plavix", "Lopressor",
    "Toprol", "Norvasc", "Lipitor", "Zosyn", "vancomycin", "Protonix", "Dilaudid", "Percocet", "Tylenol", "Motrin",
    "Seroquel", "Zyprexa", "Depakote", "Dilantin", "Lovenox", "heparin", "Lantus", "Humalog", "Flagyl", "Cipro",
    "Levaquin", "Bactrim", "Keflex", "Ancef", "Colace", "senna", "Miralax", "Ambien", "Xanax", "Klonopin", "Valium",
    "Precedex", "propofol", "fentanyl", "Versed", "Narcan", "Solu-Medrol", "prednisone", "Synthroid", "Neurontin",
    "Lyrica", "Flomax", "Aldactone", "digoxin", "amiodarone", "Cardizem", "Levophed", "vasopressin", "Pitocin",
    "Celexa", "Zoloft", "Lexapro", "Prozac", "Wellbutrin", "Abilify", "Risperdal", "Cogentin", "trazodone", "Remeron",
    "Suboxone", "methadone", "tramadol", "oxycodone", "morphine", "Toradol", "Reglan", "Phenergan", "Benadryl",
    "Pepcid", "Nexium", "Entresto", "Jardiance", "Farxiga", "Januvia", "metformin", "Ozempic", "Brilinta", "Kcentra",
    "albuterol", "Atrovent", "DuoNeb", "Spiriva", "Advair", "Symbicort", "Singulair", "Curosurf", "caffeine citrate",
    "ampicillin", "gentamicin", "acyclovir", "Tamiflu", "Augmentin", "Zithromax", "Rocephin", "cefepime",
    "meropenem", "Zyvox", "daptomycin", "Ultram", "Vicodin", "Lortab", "Mucinex", "Sinemet", "Aricept", "Namenda",
    "Xeljanz", "Humira", "Keytruda", "Decadron", "magnesium sulfate", "nifedipine", "labetalol", "Procardia",
    "Methergine", "Cytotec", "RhoGAM", "Makena", "Lithium", "Invega", "Clozaril", "Geodon", "Latuda", "Vistaril",
)
#: Drugs given only in hospital (drips, IV antibiotics, obstetric and neonatal drugs); the rest may be home meds.
HOSPITAL_ONLY = frozenset({
    "Levophed", "Precedex", "propofol", "vasopressin", "Kcentra", "Curosurf", "Pitocin", "Zosyn", "vancomycin",
    "cefepime", "meropenem", "Versed", "fentanyl", "Narcan", "daptomycin", "Solu-Medrol", "heparin", "gentamicin",
    "ampicillin", "caffeine citrate", "magnesium sulfate", "RhoGAM", "Methergine", "Keytruda", "Rocephin", "Ancef",
    "Zyvox", "Makena", "Toradol", "Cytotec", "Decadron", "acyclovir", "Dilaudid", "morphine",
})
HOME_DRUGS = tuple(d for d in DRUGS if d not in HOSPITAL_ONLY)
#: Drugs with doses and routes that go together, for "Lasix 40 mg IV".
DOSES = (
    ("Lasix", ("20 mg", "40 mg", "80 mg"), ("IV", "PO")), ("Ativan", ("0.5 mg", "1 mg", "2 mg"), ("IV", "PO", "SL")),
    ("Haldol", ("0.5 mg", "1 mg", "2 mg", "5 mg"), ("IV", "IM")), ("Zofran", ("4 mg",), ("IV", "PO", "ODT")),
    ("Dilaudid", ("0.2 mg", "0.5 mg", "1 mg"), ("IV",)), ("morphine", ("2 mg", "4 mg"), ("IV",)),
    ("Tylenol", ("650 mg", "1 g", "500 mg"), ("PO", "PR")), ("Norco", ("5/325 1 tab", "5/325 2 tabs"), ("PO",)),
    ("Percocet", ("5/325 1 tab", "1-2 tabs"), ("PO",)), ("oxycodone", ("5 mg", "10 mg"), ("PO",)),
    ("Keppra", ("500 mg", "750 mg", "1000 mg"), ("IV", "PO")),
    ("Lopressor", ("12.5 mg", "25 mg", "5 mg"), ("PO", "IV")),
    ("Eliquis", ("2.5 mg", "5 mg"), ("PO",)), ("Lovenox", ("40 mg", "1 mg/kg"), ("SQ",)),
    ("heparin", ("5000 units",), ("SQ",)), ("Protonix", ("40 mg",), ("IV", "PO")), ("Colace", ("100 mg",), ("PO",)),
    ("Seroquel", ("25 mg", "50 mg"), ("PO",)), ("Ambien", ("5 mg",), ("PO",)), ("Toradol", ("15 mg", "30 mg"), ("IV",)),
    ("Reglan", ("10 mg",), ("IV",)), ("Benadryl", ("25 mg", "50 mg"), ("IV", "PO")),
    ("Precedex", ("0.4 mcg/kg/hr",), ("gtt",)),
    ("Lantus", ("10 units", "20 units"), ("SQ",)), ("Humalog", ("4 units", "6 units"), ("SQ",)),
    ("vancomycin", ("1 g", "1250 mg"), ("IV",)), ("Zosyn", ("3.375 g", "4.5 g"), ("IV",)), ("Ancef", ("2 g",), ("IV",)),
    ("Solu-Medrol", ("40 mg", "125 mg"), ("IV",)), ("prednisone", ("40 mg", "10 mg"), ("PO",)),
    ("Narcan", ("0.4 mg",), ("IV", "IN")), ("Cardizem", ("10 mg", "30 mg"), ("IV", "PO")),
    ("Coumadin", ("2.5 mg", "5 mg"), ("PO",)),
    ("Xanax", ("0.25 mg",), ("PO",)), ("Neurontin", ("300 mg",), ("PO",)), ("Flomax", ("0.4 mg",), ("PO",)),
    ("albuterol", ("2.5 mg",), ("neb",)), ("magnesium sulfate", ("2 g",), ("IV",)),
    ("KCl", ("20 mEq", "40 mEq"), ("PO", "IV")),
)
#: Eponyms, named signs, scales and devices.
EPONYMS = (
    "Foley", "Babinski", "Glasgow Coma Scale", "Apgar", "Murphy's sign", "Hoehn and Yahr", "Trendelenburg",
    "Allen test", "Kernig", "Brudzinski", "Homans sign", "McBurney's point", "Romberg", "Tinel's sign", "Phalen's test",
    "Lachman", "Braden score", "Morse Fall Scale", "Berg Balance Scale", "Swan-Ganz", "Jackson-Pratt", "Hickman",
    "Pleur-evac", "Penrose drain", "Dobhoff", "Salem sump", "Whipple", "Nissen", "Hartmann's pouch", "Roux-en-Y",
    "Colles fracture", "Bell's palsy", "Parkinson's disease", "Alzheimer's", "Crohn's", "Hashimoto's", "Cushing's",
    "Guillain-Barre", "Wernicke", "Tanner stage", "Wells score", "Child-Pugh", "Mallampati", "Killip class",
    "Bishop score", "Leopold maneuvers", "Montreal Cognitive Assessment", "Edinburgh Postnatal Depression Scale",
    "Ballard score", "Barthel Index", "Karnofsky", "Gleason", "Mobitz", "Wenckebach", "Holter", "Doppler",
    "Valsalva", "Seldinger", "Trousseau sign", "Chvostek sign", "Kussmaul", "Cheyne-Stokes", "Hoyer lift",
    "Yankauer", "Ambu bag", "Richmond Agitation-Sedation Scale", "Denver II", "Silverman score", "Broselow tape",
    "Snellen", "Weber", "Rinne", "Epley maneuver", "Hemovac", "Pleurx", "Blakemore", "Hunt and Hess", "Fisher grade",
)
#: Phrases that name a clinician without naming one; never PHI.
NO_NAME_PHRASES = ("Dr. notified", "MD aware", "md aware", "Dr aware", "HO aware", "MD notified", "covering MD paged",
                   "NP aware", "resident aware", "team aware", "Dr. on call notified", "attending aware")
#: Ordinary uses of words that are also names: (word, sentence with {} where the word goes); these fit any note.
WORD_USES = (
    ("may", "pt {} need more help at home"), ("may", "{} consider outpt f/u"), ("will", "{} f/u next week"),
    ("Will", "{} call with results"), ("bill", "pt worried about the hospital {}"), ("mark", "asked pt to {} calendar"),
    ("hope", "pt expresses {} for recovery"), ("grace", "insurance {} period ends soon"),
    ("faith", "pt draws strength from {}"), ("joy", "pt finds {} in grandchildren"), ("sunny", "pt in {} mood today"),
    ("dawn", "pt up before {} most days"), ("will", "family {} decide by Friday"), ("May", "{} need PT eval"),
)
#: The same, in ICU and ward nursing sentences.
WORD_USES_WARD = (
    ("may", "pt {} need BiPAP overnight"), ("may", "{} consider CT if no improvement"), ("May", "{} d/c foley in am"),
    ("will", "{} continue to monitor"), ("Will", "{} f/u with team in am"), ("will", "pt {} call with questions"),
    ("bill", "family asking who to {} for the ambulance"), ("mark", "{} site for procedure"),
    ("Mark", "{} borders of erythema with pen"), ("rose", "temp {} to 101.2 at 0200"), ("rose", "lactate {} to 3.1"),
    ("hope", "family expresses {} for recovery"), ("hope", "{} to extubate tomorrow"),
    ("grace", "{} period for insurance"),
    ("faith", "pt draws strength from {}"), ("art", "{} line dampened, flushed"),
    ("Art", "{} line d/c'd, pressure held"),
    ("sunny", "pt in {} mood today"), ("joy", "pt expresses {} at grandchild visit"), ("dawn", "woke at {}, restless"),
)
#: Day names (never PHI).
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Mon", "Tues", "Wed", "Thurs",
        "Fri", "Sat", "Sun")
#: Dosing frequencies and multipliers (never PHI; they look like codes).
FREQUENCIES = ("q4h", "q6h", "q2h", "q8h", "q12h", "qhs", "qd", "BID", "TID", "QID", "PRN", "q1h", "q15min", "x2", "x3",
               "x1", "x24h", "qAM", "q4-6h prn", "daily", "nightly")
#: Words of every hard-negative list, upper-cased, kept out of the name and place pools.
NEGATIVE_WORDS = frozenset(
    w.strip("'s,.").upper()
    for phrase in DRUGS + EPONYMS + NO_NAME_PHRASES + DAYS
    for w in phrase.replace("-", " ").replace("'s", "").split()
    if len(w) > 2
) | frozenset({"MAY", "WILL", "BILL", "MARK", "ROSE", "HOPE", "GRACE", "FAITH", "ART", "SUNNY", "JOY", "DAWN"})
