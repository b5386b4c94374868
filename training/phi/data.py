"""Data of the PHI tagger: which notes train it, which choose its threshold, and how text becomes labelled windows.

Development notes (PhysioNet deid, ``../shared/data/notes/physionet-deid``) are split by patient once and for all in
:mod:`medpriv_desktop.core.notes.dev_split`; only the **tuning** part is ever read here. The tuning patients are split
again, by a seeded hash, into *tuning-train* (trains the model) and *tuning-val* (chooses the threshold and the
variant); the locked part is scored for totals only by ``medpriv eval deid --part locked``.

A second validation set is the shared ``invented-dev`` notes (60 notes in many styles; its README says to tune on it
freely): its ``phi.json`` lists PHI strings, turned into spans here at every whole-word, case-blind occurrence, as its
README defines them.

Token labels are BIO over :data:`training.phi.synth.LABELS` on the backbone's word pieces. Generated LOCATION spans
name whole facilities ("Westbrook General Hospital"); PhysioNet's annotators left generic facility words out
("HARFORD MEMORIAL [HOSPITAL]"), so those words (:data:`FACILITY_WORDS`) are labelled O in generated notes too: one
convention for the model, the one the real notes use.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from medpriv_desktop.core.notes import lexicons as lx
from medpriv_desktop.core.notes.dev_split import split_patients
from training.phi.physionet import PHYSIONET_TO_LABEL, AnnotatedNote, read_physionet
from training.phi.synth import LABELS

BIO = ["O"] + [f"{p}-{lab}" for lab in LABELS for p in ("B", "I")]
#: Seed of the tuning-train / tuning-val split of the tuning patients (fixed before any training).
VAL_SEED = "medpriv-phi-tuning-val-2026-12-04"
VAL_SHARE = 0.25
#: Seed of the cross-fitting halves of the tuning patients (``medpriv-train phi train --cross-fit H``).
CROSS_FIT_SEED = "medpriv-phi-cross-fit-2026-12-05"
#: Facility words that are not PHI by themselves (labelled O inside generated LOCATION spans).
FACILITY_WORDS = frozenset(lx.FACILITY_KEYWORDS | {"HOME", "CARE", "CENTRE", "CTR", "OF", "THE", "AND", "&"})
_WORD = re.compile(r"[A-Za-z0-9&]+")


@dataclass
class LabelledText:
    """A text with PHI spans ``(start, end, label)`` (labels from :data:`LABELS`) and where it came from."""

    text: str
    spans: list[tuple[int, int, str]]
    source: str
    doc_id: str = ""
    patients: list[str] = field(default_factory=list)


def default_physionet_dir() -> Path:
    """``../shared/data/notes/physionet-deid`` beside the repository."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "notes" / "physionet-deid"


def default_invented_dev_dir() -> Path:
    """``../shared/data/notes/invented-dev`` beside the repository."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "notes" / "invented-dev"


def tuning_notes(folder: Path | None = None) -> list[AnnotatedNote]:
    """The tuning part of the development notes (the locked part is never returned)."""
    notes = read_physionet(folder or default_physionet_dir())
    tuning, _locked = split_patients(n.patient for n in notes)
    return [n for n in notes if n.patient in tuning]


def _first_patients(notes: list[AnnotatedNote], seed: str, share: float) -> set[str]:
    """Patients taken in a seeded order (``sha256(seed:patient)``) until they hold ``share`` of the notes."""
    counts: dict[str, int] = {}
    for n in notes:
        counts[n.patient] = counts.get(n.patient, 0) + 1
    taken: set[str] = set()
    held = 0
    for p in sorted(counts, key=lambda p: hashlib.sha256(f"{seed}:{p}".encode()).hexdigest()):
        if held >= share * len(notes):
            break
        taken.add(p)
        held += counts[p]
    return taken


def tuning_train_val(notes: list[AnnotatedNote]) -> tuple[list[AnnotatedNote], list[AnnotatedNote]]:
    """``(train, val)`` notes of the tuning part, split by patient: the first patients in a seeded order go to val
    until it holds :data:`VAL_SHARE` of the notes."""
    val = _first_patients(notes, VAL_SEED, VAL_SHARE)
    return [n for n in notes if n.patient not in val], [n for n in notes if n.patient in val]


def cross_fit_halves(notes: list[AnnotatedNote]) -> tuple[list[AnnotatedNote], list[AnnotatedNote]]:
    """The tuning notes in two halves by patient (seeded order, the first patients up to half of the notes go to
    half 1). A tagger trained on one half and scored on the other reads its over-reach on patients it never saw;
    the two together score every tuning note out of fold."""
    first = _first_patients(notes, CROSS_FIT_SEED, 0.5)
    return [n for n in notes if n.patient in first], [n for n in notes if n.patient not in first]


def from_physionet(notes: Iterable[AnnotatedNote]) -> list[LabelledText]:
    """PhysioNet notes with their types mapped to the tagger's labels."""
    return [LabelledText(n.text, [(s, e, PHYSIONET_TO_LABEL.get(t, "ID")) for s, e, t in n.spans], "physionet",
                         f"{n.patient}-{n.note_id}", [n.patient]) for n in notes]


def _occurrences(needle: str, text: str) -> Iterator[tuple[int, int]]:
    words = [re.escape(w) for w in needle.split()]
    if not words:
        return
    body = r"\s+".join(words)
    left = r"(?<![\w])" if needle[:1].isalnum() else ""
    right = r"(?![\w])" if needle[-1:].isalnum() else ""
    for m in re.finditer(left + body + right, text, re.IGNORECASE):
        yield m.start(), m.end()


def read_invented(folder: Path) -> list[LabelledText]:
    """Notes with a ``phi.json`` of PHI strings (the invented-notes format): spans at every whole-word occurrence."""
    folder = Path(folder)
    phi = json.loads((folder / "phi.json").read_text(encoding="utf-8"))
    out = []
    for name in sorted(phi):
        text = (folder / name).read_text(encoding="utf-8")
        spans = []
        for item in phi[name]:
            label = item["category"]
            for s, e in _occurrences(item["text"], text):
                spans.append((s, e, label))
        out.append(LabelledText(text, sorted(spans), "invented", name))
    return out


def from_generator(n: int, seed: int) -> list[LabelledText]:
    """``n`` generated notes; facility words inside LOCATION spans are not labelled (module docstring)."""
    from training.phi.synth import generate

    out = []
    for i, note in enumerate(generate(n, seed)):
        spans = []
        for s, e, lab in note.spans:
            if lab != "LOCATION":
                spans.append((s, e, lab))
                continue
            for m in _WORD.finditer(note.text, s, e):
                if m.group().upper().strip(".") not in FACILITY_WORDS:
                    spans.append((m.start(), m.end(), lab))
        out.append(LabelledText(note.text, spans, f"generated:{getattr(note, 'style', '')}", f"g{seed}-{i}"))
    return out


def token_labels(offsets: list[tuple[int, int]], spans: list[tuple[int, int, str]]) -> list[int]:
    """BIO label ids for word pieces at ``offsets``: B on the first piece of a span, I on the rest."""
    labels = []
    spans = sorted(spans)
    prev_span = None
    j = 0
    for s, e in offsets:
        while j < len(spans) and spans[j][1] <= s:
            j += 1
        hit = None
        for k in range(j, min(j + 3, len(spans))):
            if spans[k][0] < e and s < spans[k][1]:
                hit = spans[k]
                break
        if hit is None or e <= s:
            labels.append(0)
            prev_span = None
            continue
        inside = prev_span == hit
        labels.append(BIO.index(f"{'I' if inside else 'B'}-{hit[2]}"))
        prev_span = hit
    return labels


def windows(tokenizer, item: LabelledText, max_len: int, stride: int = 16) -> list[tuple[list[int], list[int]]]:
    """Token ids and label ids of ``item`` in windows of ``max_len`` (with [CLS]/[SEP]) that overlap by ``stride``
    word pieces, as the app's encoder cuts long notes."""
    enc = tokenizer(item.text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offs = enc["input_ids"], enc["offset_mapping"]
    labels = token_labels(offs, item.spans)
    body = max_len - 2
    step = max(1, body - stride)
    out = []
    start = 0
    while True:
        piece = slice(start, start + body)
        out.append(([tokenizer.cls_token_id] + ids[piece] + [tokenizer.sep_token_id], [-100] + labels[piece] + [-100]))
        if start + body >= len(ids):
            break
        start += step
    return out


# -- confusers: clinical look-alikes of PHI, added to generated notes as lines labelled O -------------------------

_ORDINALS = ("1ST", "2ND", "3RD", "4TH")
_RELATION_TYPOS = ("DUAGHTER", "DAUTHER", "DAUGTHER", "DAUGHER", "HUSBNAD", "HUSABND", "WIEF", "SISITER", "BROHTER",
                   "NEICE", "GRANDAUGHTER", "SON-IN LAW")
_UNIT_VERBS = ("AWARE", "NOTIFIED", "IN PLACE", "DC'D", "TEAM IN")
_UNITS = ("MICU", "SICU", "CCU", "CSRU", "NICU", "PACU", "ER", "OR", "HOUSESTAFF", "IMV", "N/C", "ST", "C/O", "M.D.",
          "R.N.", "HO", "NSR", "SR", "AF", "VT", "PCA", "PICC", "TLC", "NGT", "OGT", "CVP", "PA LINE", "A-LINE")


def confuser_line(rng) -> str:
    """One line of clinical look-alikes that are not PHI: ordinals, fractions, times, ranges, unit and device
    abbreviations, misspelt relation words, credentials alone."""
    n = rng.randint
    shapes = [
        lambda: f"{rng.choice(_ORDINALS)} {rng.choice(('RN', 'DOSE', 'SET OF ENZYMES', 'UNIT PRBC', 'LINE ABX', 'SHIFT'))}",
        lambda: f"{rng.choice(('1/2', '1/4', '3/4', '2/2', '1/3', '2/3'))} {rng.choice(('NS', 'STRENGTH TF', 'WAY UP', 'BOTTLES POSITIVE', 'BLOOD CX'))}",
        lambda: f"{rng.choice(('AT', '@', 'BY', 'UNTIL'))} {n(1, 12)}{n(0, 5)}{n(0, 9)}{rng.choice(('PM', 'AM', 'P', 'A'))}",
        lambda: f"{rng.choice(('SATS', 'HR', 'SBP', 'RR', 'UO'))} {n(60, 90)}-{n(91, 140)}{rng.choice(('%', '', ' CC/HR', 'S'))}",
        lambda: f"{rng.choice(_RELATION_TYPOS)} {rng.choice(('CALLED', 'IN TO VISIT', 'UPDATED', 'AT BEDSIDE'))}",
        lambda: f"{rng.choice(_UNITS)} {rng.choice(_UNIT_VERBS)}",
        lambda: f"{rng.choice(('TMAX', 'T'))} {n(97, 102)}.{n(0, 9)}, {rng.choice(('HCT', 'K', 'MG'))} {n(2, 40)}.{n(0, 9)}",
        lambda: f"{n(1, 4)}X{n(1, 9)} CM {rng.choice(('DRSG', 'WOUND', 'AREA'))}",
    ]
    return "; ".join(rng.choice(shapes)() for _ in range(rng.randint(1, 3))) + "."


def with_confusers(items: list[LabelledText], seed: int, share: float = 0.5) -> list[LabelledText]:
    """``items`` with a confuser line appended to about ``share`` of them (cased like the note); spans unchanged."""
    import random

    rng = random.Random(seed)
    out = []
    for it in items:
        if rng.random() >= share:
            out.append(it)
            continue
        line = confuser_line(rng)
        upper = sum(c.isupper() for c in it.text[:400]) > sum(c.islower() for c in it.text[:400])
        line = line if upper else line.lower() if rng.random() < 0.5 else line.capitalize()
        out.append(LabelledText(it.text.rstrip() + "\n" + line + "\n", it.spans, it.source, it.doc_id, it.patients))
    return out


def with_typos(items: list[LabelledText], seed: int, share: float = 0.5, rate: float = 0.06) -> list[LabelledText]:
    """``items`` where about ``share`` of the texts get letter swaps and substitutions in ``rate`` of their non-PHI
    words of 4+ letters: nursing notes are full of misspelt clinical words ("REMAINES", "SENNAKOT"), which must stay
    O. Same-length edits only, so the spans stay where they are."""
    import random

    rng = random.Random(seed)
    out = []
    for it in items:
        if rng.random() >= share:
            out.append(it)
            continue
        chars = list(it.text)
        for m in re.finditer(r"[A-Za-z]{4,}", it.text):
            if rng.random() >= rate or any(s < m.end() and m.start() < e for s, e, _ in it.spans):
                continue
            i = rng.randrange(m.start() + 1, m.end() - 1)
            if rng.random() < 0.5:
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
            else:
                c = rng.choice("aeiourstnl")
                chars[i] = c.upper() if chars[i].isupper() else c
        out.append(LabelledText("".join(chars), it.spans, it.source, it.doc_id, it.patients))
    return out
