"""Sentence pools shared by the nursing-like styles: one pool per body system, plus family, staff, history and
disposition sentences that carry PHI. Written for MedPriv in the telegraphic register of inpatient nursing notes.
"""

from __future__ import annotations

from training.phi.generator.context import NoteContext

SYSTEMS: dict[str, tuple[str, ...]] = {
    "NEURO": (
        "A&O x3, MAE, follows commands.", "PERRLA 3mm brisk.", "Sedated on [[propofol]] gtt, {scale}.",
        "Lethargic but arousable to voice, oriented to self only.", "Grips {strength} bilat, LE {strength}.",
        "[[Babinski]] neg bilat.", "Restless o/n, {drug} 0.5mg IV x1 with good effect.", "CAM neg, no delirium.",
        "Pt thought it was {month}, reoriented.", "Confused, pulling at lines, mitts on.", "Denies numbness/tingling.",
        "Pain {score} R hip, medicated with {dose} at {time}.", "Speech clear, no facial droop, [[GCS]] 15.",
        "Sleeping in naps, [[Ambien]] 5mg given {time}.", "Pt oriented x2, knows {he} is at hospital.",
        "[[MAE]] equally, [[PERRL]] 3mm.", "A+Ox3, [[MAE]], [[PEARL]].", "[[PERRLA]], [[MAE]] to command.",
        "Pupils [[PERL]] 2mm, moves all ext.", "Neuro intact, [[MAE]] x4, speech clear.",
        "Opens eyes to voice, [[MAE]] weakly, [[PEARL]] sluggish.",
    ),
    "CV": (
        "NSR 80s-90s, no ectopy.", "SR with occ PVCs, HR 60s.", "Afib RVR 130s at {time}, [[Cardizem]] 10mg IV given.",
        "BP {bp}, HR {72|88|96|104}.", "SBP 90s-110s on [[Levophed]] 0.04, weaning as tol.",
        "Pulses palp x4, +2 edema BLE.",
        "[[Lasix]] 40mg IV given, diuresed 1.2L.", "{lab_k}, repleted per protocol.", "Cap refill <3 sec.",
        "MAP >65 off pressors since {time}.", "Tele: SB 50s, asymptomatic, [[MD aware]].",
        "[[Swan-Ganz]] CI 2.3, SVR 1100.",
        "Heparin gtt at 1100 units/hr, PTT {62|74|88}, next due {time}.", "[[Homans sign]] neg.",
        "CO/CI {4.2|4.9|5.6|3.8}/{2.06|2.31|2.50|1.98}, SVR {1100|1250|980}.", "Weaning [[norepi]] gtt, MAP >65.",
        "[[PA line]] and IABP R fem, sites C&D.", "No [[VEA]], pulses by doppler.",
    ),
    "RESP": (
        "{vent}, sats 95-98%.", "LS clear upper, diminished bases.", "Sx for mod thick tan sputum x2.",
        "Weaned to {vent} at {time}, tol well.", "ABG 7.38/42/98.", "RR 20s, non-labored on {vent}.",
        "CXR this am: R effusion, unchanged.", "Coughing, IS 750cc.", "Crackles 1/2 way up bilat.",
        "Pt on {vent} o/n, desat to 86% w/ repositioning, recovered.", "Neb [[DuoNeb]] q4h, wheezes improved.",
        "Weaning on PS {5/5|10/5|8/5}, 40%.", "CT drng [[serosang]], no leak.", "BS [[rhonchi]] bilat.",
    ),
    "GI": (
        "Abd soft, NT/ND, +BS x4.", "Tol clears, adv to soft diet.", "TF [[Jevity]] at goal 60cc/hr, residuals <50.",
        "BM x1 loose, guaiac neg.", "NPO after MN for procedure.", "[[Zofran]] 4mg IV for nausea with effect.",
        "OGT to LIWS, 200cc bilious out.", "[[Protonix]] 40 IV qd.", "Last BM {day}, [[Colace]]/[[senna]] given.",
        "[[Ostomy]] RN following, pouch changed.", "[[PEG]] site CDI, TF at goal.", "[[Stoma]] pink, RN to see.",
    ),
    "GU": (
        "[[Foley]] draining clear yellow urine 30-60cc/hr.", "UO 20cc/hr x2h, [[MD aware]], bolus 500cc given.",
        "Voiding qs, bladder scan 120cc.", "{lab_cr}, trending down.", "CRRT running, net neg 100cc/hr.",
        "[[Foley]] d/c'd at {time}, due to void by {time}.",
    ),
    "ID": (
        "Tmax 101.2, BC x2 sent.", "Afebrile, on [[vancomycin]]/[[Zosyn]].", "{lab_wbc}, down from yesterday.",
        "Contact precautions for MRSA.", "UA/UCx sent, abx per team.", "BC from {date} NGTD.",
    ),
    "SKIN": (
        "[[Braden score]] 14, turned q2h.", "Coccyx stage 2, [[DuoDERM]] intact.", "Sternal incision CDI, DSD.",
        "R groin site soft, no hematoma.", "Skin intact, heels offloaded.", "IV R FA 20g, patent.",
    ),
    "ENDO": (
        "FS 180s, RISS coverage.", "Insulin gtt at 2 units/hr per protocol.", "FS {54|61|48}, D50 1/2 amp given.",
        "[[Lantus]] 20 units qhs held, NPO.",
    ),
}

#: Sentences about family, staff and clinicians: names, roles, phones.
PEOPLE = (
    "{rel} in to visit, updated by RN.", "{rel} called for update at {time}.", "{rel} is HCP, phone {phone}.",
    "Family mtg w/ {dr} on {date_md} at {time}.", "{rel2} plans to fly in from {city} on {day}.",
    "Spoke with {rel} re: plan of care.", "{relword} {rel_name} at bedside most of shift, very supportive.",
    "{dr} aware of low UO, no new orders.", "Discussed with {dr} and {dr2}.", "HO {dr_last} paged x2 re: BP.",
    "Per {dr}, cont current plan.", "{staff} in to eval pt.", "Seen by {staff}, recs to follow.",
    "{dr_lower} aware and at bedside.", "{rel} asks that {rel2} not be given info over phone.",
    "{relword} {rel_name} ({phone}) would like a call if any change.", "Pt's {rel2word}, {rel2_name}, is spokesperson.",
    "House officer {dr_lower} aware.", "Pt goes by {pt_nick}.", "Pt's {mother|father}, {age}, lives at {nursing_home}.",
    "Chaplain {staff_first} visited, pt appreciative.",
    "{dr} (attending) in to see pt, plan discussed.", "Renal fellow {dr_last} to see in am.", "Case d/w {init}.",
    "{rel} reached at {phone} at {time}.", "Will update {rel} after rounds.", "{word_name} from case mgmt aware.",
    "Spoke with {staff_first} from case mgmt re: dispo.", "{staff} assisted with turning.",
    "{rel} visiting on the {ordinal}, asks for family mtg.", "Pt's {rel2word}, {adult_age}, is main caregiver.",
    "Pt's previous PCP, Dr. {any_name}, retired in {year}.", "{word_use}.", "{word_use}.", "BP {bp}, {noname}.",
    "Pt moved here from {state_name} in {year}.", "Pt lives in {apt} at {nursing_home}.",
)
#: History sentences with dates and years.
HISTORY = (
    "PMH: HTN, DM2, MI {yy}, CABG {yy}.", "S/p CABG {year}.", "Hx CVA in {yy}, residual L weakness.",
    "Last admit {date} for CHF.", "Fall {date}, fx R hip {yy}.", "s/p TAH {year}, appy as child.",
    "Dx with COPD {month} {year}.", "Last colonoscopy {date_mon_y}.", "Pt was here {holiday} with PNA.",
    "Hx MI {yy}.", "Admitted {date} from {hosp} with SOB.", "Transferred from {hosp} on {date} for cath.",
    "Pt was at {rehab} until {date_md}.", "Lives at {nursing_home}.", "Pt lives in {city} with {relword}.",
    "PPD placed {date_md}, read neg {date_md}.", "CABG {yy}, PCI to LAD {year}.",
    "Last dose of [[Eliquis]] on the {ordinal}.",
    "Labs {date_d_mon}: {lab_na}, {lab_k}, {lab_cr}, {lab_hgb}.", "Home meds: {drug} {freq}, {drug} {freq}.",
)
#: Disposition and transfer sentences, some with a place and no cue word.
DISPO = (
    "Plan: transfer to {ward} when bed available.", "Back from {bare} at {time}.", "Transfer to {bare} in am.",
    "Screened for {rehab}, awaiting bed.", "Accepted at {nursing_home} pending auth.", "Cont current POC.",
    "Will cont to monitor closely.", "Plan d/w pt and {rel}.", "Home with VNA vs {rehab}.",
    "Pt to have TEE tomorrow, NPO after MN.", "Pt transferred from {ward} for SOB.", "[[Dr. notified]] of plan.",
    "To {bare} for CT at {time}, returned without incident.", "D/c planning: {staff} following.",
    "Pt to [[angio]] this am, returned w/o incident.", "Transported to [[CT scan]] for head CT.",
    "Admitted to [[MICU]] from {ward}.", "[[Ortho]] to see pt in am.", "Family discussing [[PEG]] and trach.",
    "Family wishes to make pt [[CMO]].", "See [[careview]] for details.", "See [[flowsheet]] for VS and I/O.",
    "Transfer to [[CCU]] when bed available.",
)


def systems(ctx: NoteContext, lo: int = 4, hi: int = 8) -> None:
    """Write a system-by-system body: ``lo`` to ``hi`` systems, one to three sentences each."""
    names = list(SYSTEMS)
    chosen = sorted(ctx.some(names, lo, hi), key=names.index)
    for name in chosen:
        label = ctx.pick((f"{name}: ", f"{name}- ", f"{name} ", f"{name.title()}: "))
        ctx.add(label)
        ctx.lines(SYSTEMS[name], 1, 3, sep=" ")
        if ctx.chance(0.12):
            ctx.line(ctx.pick(PEOPLE))


def mixed_sentences(ctx: NoteContext, lo: int, hi: int, sep: str = " ") -> None:
    """Sentences drawn from the body systems and the PHI pools, in random order."""
    pool = [s for group in SYSTEMS.values() for s in group] + list(PEOPLE) * 2 + list(HISTORY) + list(DISPO)
    ctx.lines(pool, lo, hi, sep=sep)
