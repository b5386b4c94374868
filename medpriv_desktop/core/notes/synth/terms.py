"""Clinical term lists written for the synthesis module: what a keyword is about, and which section it belongs in.

The lists are short, hand-written and public knowledge (common nursing, radiology and ward vocabulary); they are
matched case-insensitively as whole words or phrases. A keyword from YAKE that matches no list still counts; a list
match ranks first and tells the template engine where to place it.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Term kind -> phrases (lower case). Longer phrases win over the words they contain.
TERMS: dict[str, tuple[str, ...]] = {
    "symptom": tuple("""
        chest pain|shortness of breath|dyspnea|sob|fever|febrile|afebrile|chills|nausea|vomiting|diarrhea|cough|
        productive cough|fatigue|weakness|headache|dizziness|syncope|palpitations|confusion|confused|agitation|agitated|
        lethargy|lethargic|anxiety|anxious|restless|pain|abdominal pain|back pain|edema|swelling|rash|pruritus|
        diaphoresis|wheezing|hemoptysis|hematuria|melena|constipation|incontinence|delirium|somnolent|sedated|
        tachypnea|tachycardia|bradycardia|hypotension|hypertension|hypoxia|desaturation|tremor|seizure""".split("|")),
    "condition": tuple("""
        atrial fibrillation|afib|congestive heart failure|chf|heart failure|copd|asthma|diabetes|dm|
        coronary artery disease|cad|myocardial infarction|mi|stroke|cva|tia|sepsis|septic shock|pneumonia|
        aspiration pneumonia|urinary tract infection|uti|renal failure|acute kidney injury|aki|esrd|cirrhosis|
        pancreatitis|endocarditis|cellulitis|pulmonary embolism|pe|deep vein thrombosis|dvt|gi bleed|anemia|
        hyperkalemia|hypokalemia|hyponatremia|respiratory failure|ards|cancer|lymphoma|dementia|obesity|
        cardiac arrest|vfib|arrest|alcohol withdrawal|overdose|trauma|subdural hematoma""".split("|")),
    "finding": tuple("""
        pleural effusion|effusion|effusions|pneumothorax|atelectasis|consolidation|opacity|opacities|infiltrate|
        cardiomegaly|enlarged cardiac silhouette|pulmonary edema|vascular congestion|nodule|nodules|mass|lesion|
        emphysema|hyperinflation|fibrosis|scarring|granuloma|calcified granuloma|calcification|fracture|
        rib fracture|hiatal hernia|lymphadenopathy|bronchiectasis|ground glass|ground-glass opacity|thickening|
        pericardial effusion|aortic ectasia|tortuous aorta|degenerative changes|spondylosis|scoliosis|
        normal heart size|clear lungs|no acute|no acute cardiopulmonary process|unremarkable|stable|
        crackles|rales|rhonchi|diminished breath sounds|clear breath sounds|murmur|
        arterial wall calcification|coronary artery calcification|coronary artery wall calcification|
        atherosclerotic changes|atherosclerosis|atheroma|plaque|aortic aneurysm|lymph node|lymph nodes|
        lung nodule|pulmonary nodule|micronodule|micronodules|fibrotic sequelae|fibrotic changes|fibrotic bands|
        mosaic attenuation|air trapping|peribronchial thickening|bronchial wall thickening|
        interlobular septal thickening|septal thickening|ground glass opacities|ground-glass opacities|
        pleural thickening|bulla|bullae|cyst|cysts|hepatic cyst|renal cyst|thyroid nodule|osteophytes|
        hepatomegaly|splenomegaly|hepatosteatosis|gallstones|cholelithiasis|nephrolithiasis|
        compression fracture|sclerotic lesion|lytic lesion|metastasis|metastases|infiltration|
        interstitial changes|honeycombing|reticular opacities|tree-in-bud|cavitation|collapse""".split("|")),
    "medication": tuple("""
        aspirin|heparin|lasix|furosemide|insulin|morphine|dilaudid|fentanyl|propofol|midazolam|versed|ativan|
        lorazepam|haldol|haloperidol|vancomycin|zosyn|ceftriaxone|levofloxacin|flagyl|antibiotics|levophed|
        norepinephrine|dopamine|neosynephrine|vasopressin|metoprolol|lopressor|diltiazem|amiodarone|digoxin|
        coumadin|warfarin|plavix|nitroglycerin|ntg|potassium|kcl|magnesium|calcium|albumin|tylenol|acetaminophen|
        colace|senna|protonix|pantoprazole|prednisone|solumedrol|nebulizers|albuterol|atrovent|tpn|tube feeds|
        ivf|iv fluids|normal saline|blood transfusion|prbc|ffp|platelets""".split("|")),
    "procedure": tuple("""
        intubated|extubated|intubation|extubation|mechanical ventilation|ventilator|vent|cpap|bipap|
        nasal cannula|face mask|trach|tracheostomy|ett|endotracheal tube|ngt|ogt|nasogastric tube|foley|
        central line|picc|arterial line|a-line|swan|chest tube|cabg|cardiac catheterization|cath|stent|pacemaker|
        icd|dialysis|hemodialysis|cvvh|bronchoscopy|thoracentesis|paracentesis|endoscopy|egd|colonoscopy|
        ct scan|chest x-ray|cxr|mri|ultrasound|echo|echocardiogram|ekg|ecg|surgery|debridement|suctioned|
        suctioning|dressing change|turned and repositioned|physical therapy|sternotomy|sternotomy wires|
        surgical clips|catheter|port|port catheter|prosthesis|valve replacement|lobectomy|
        mastectomy|thoracotomy|tube|drain|median sternotomy|support devices""".split("|")),
    "vital": tuple("""
        heart rate|hr|blood pressure|bp|sbp|map|respiratory rate|rr|oxygen saturation|sats|spo2|o2 sat|
        temperature|temp|tmax|urine output|uo|i/o|fluid balance|glucose|fingerstick|labs|lactate|wbc|hct|
        hemoglobin|creatinine|bun|abg|electrolytes|cultures|blood cultures""".split("|")),
    "anatomy": tuple("""
        right upper lobe|right middle lobe|right lower lobe|left upper lobe|left lower lobe|lingula|lung bases|
        lungs|lung|heart|mediastinum|hilum|hila|pleura|diaphragm|costophrenic angle|thoracic spine|spine|ribs|
        abdomen|liver|kidney|kidneys|bladder|skin|sacrum|coccyx|extremities|neck|head|brain|airway|trachea|
        aorta|pulmonary artery|esophagus|stomach|bowel|colon""".split("|")),
    "care": tuple("""
        family meeting|dnr|dni|full code|comfort measures|social work|case management|discharge planning|
        nutrition|diet|npo|ambulating|out of bed|bed rest|fall precautions|skin care|wound care|pain control|
        sedation|neuro checks|monitoring|teaching|emotional support|code status""".split("|")),
}
TERMS = {k: tuple(t.strip() for t in v if t.strip()) for k, v in TERMS.items()}

#: Words that never start or end a keyword (function words and note boilerplate).
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers him
his how i if in into is it its itself just me more most my no nor not now of off on once only or other our out over
own per pt pts patient patients s same she should so some such than that the their them then there these they this
those through to too under until up very was we were what when where which while who whom why will with would you
your yet still x y q h hrs hr noted note notes see seen today tonight yesterday am pm noc days day night shift plan
remains remained continue continues continued given per via pmh hpi re w wo s/p c/o d/c c/w o/n received
findings impression indication comparison technique history examination exam report clinical reason""".split())

_WORD = re.compile(r"[a-z][a-z'/-]*")
NEGATABLE = frozenset({"symptom", "condition", "finding"})


@lru_cache(maxsize=1)
def _phrase_index() -> list[tuple[str, str, re.Pattern[str]]]:
    """(phrase, kind, regex) sorted longest first so that 'pleural effusion' wins over 'effusion'."""
    items = [(p, k) for k, phrases in TERMS.items() for p in phrases]
    items.sort(key=lambda x: -len(x[0]))
    return [(p, k, re.compile(r"(?<![a-z])" + re.escape(p) + r"(?![a-z])")) for p, k in items]


#: Cues that negate a following term within the same clause ("no pleural effusion", "negative for pneumothorax").
NEGATION = re.compile(r"\b(no|not|without|negative for|free of|denies|resolved|ruled out|absence of)\b"
                      r"(?:\s+[a-z/-]+){0,4}\s*$")
_CLAUSE_END = re.compile(r"[.;:\n]|\bbut\b")


#: Cues after a term in the same clause ("pleural effusion was not detected", CT-RATE's usual style).
POST_NEGATION = re.compile(r"^[^.;:\n]{0,40}?\b((was|were|is|are)\s+not|not\s+(seen|detected|observed|identified|"
                           r"present|visualized|noted|evident)|absent)\b")


def is_negated(low_text: str, start: int, end: int | None = None) -> bool:
    """True when a negation cue precedes position ``start`` of lower-cased text inside the same clause, or (given
    ``end``) follows the term in the same clause."""
    window = low_text[max(0, start - 60):start]
    ends = list(_CLAUSE_END.finditer(window))
    if ends:
        window = window[ends[-1].end():]
    if NEGATION.search(window) is not None:
        return True
    return end is not None and POST_NEGATION.search(low_text[end:end + 60]) is not None


def term_kind(phrase: str) -> str | None:
    """The list a phrase belongs to (exact, case-insensitive), else None."""
    p = phrase.lower().strip()
    for kind, phrases in TERMS.items():
        if p in phrases:
            return kind
    return None


def find_terms(text: str) -> list[tuple[str, str, int]]:
    """Every list term in ``text`` as ``(phrase, kind, first offset)``, without overlaps, in text order."""
    low = text.lower()
    taken = [False] * len(low)
    found: dict[str, tuple[str, str, int]] = {}
    negated: dict[str, bool] = {}
    for phrase, kind, rx in _phrase_index():
        for m in rx.finditer(low):
            if any(taken[m.start():m.end()]):
                continue
            for i in range(m.start(), m.end()):
                taken[i] = True
            found.setdefault(phrase, (phrase, kind, m.start()))
            negated[phrase] = negated.get(phrase, True) and is_negated(low, m.start(), m.end())
    # A term negated wherever it occurs becomes "no <term>" (kind "negated"), so the meaning survives.
    return sorted(((f"no {p}", "negated", o) if negated.get(p) and k in NEGATABLE else (p, k, o)
                   for p, k, o in found.values()), key=lambda x: x[2])


def vocabulary() -> frozenset[str]:
    """Every single word that occurs in the term lists (upper case, for the vocabulary gate)."""
    return frozenset(w.upper() for phrases in TERMS.values() for p in phrases for w in _WORD.findall(p))
