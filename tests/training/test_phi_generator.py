"""The many-style note generator: exact spans, every label and PHI shape, hard negatives outside spans, styles and
lengths, determinism, the CLI. One corpus of 2,000 notes is made once per module (about two seconds)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from medpriv_desktop.core.errors import ConfigError
from medpriv_desktop.core.notes import lexicons as lx
from training.phi.generator import LABELS, STYLES, SynthNote, generate, iter_notes
from training.phi.generator import lists_clinical as lc
from training.phi.generator import lists_people as lp
from training.phi.generator.fake_dates import HOLIDAYS
from training.phi.generator.negatives import KEEP_KINDS

N = 2000
MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"


@pytest.fixture(scope="module")
def corpus() -> list[SynthNote]:
    return generate(N, seed=11)


def _context(note: SynthNote, s: int, e: int) -> tuple[str, str]:
    return note.text[max(0, s - 40): s], note.text[e: e + 40]


NICKS = {n.lower() for names in lp.NICKNAMES.values() for n in names} | {
    n.lower() for names in lp.STANDALONE_NICKNAMES.values() for n in names}
STATES = {w.lower() for w in lx.states()}
CREDS = r"(RRT|CRT|RCP|PharmD|RPh|RN|BSN|LICSW|MSW|LCSW|PT|DPT|OTR/L|COTA|RD|RDN|MD|DO|NP|PA-C|CNM|LPN|FNP|NNP|LSW|ACM)"

# (label, shape, span regex, regex on the 40 characters before, regex on the 40 after); None matches anything.
SHAPES = [
    ("NAME", "hyphenated", r"\w-\w", None, None),
    ("NAME", "particle (de la, van der, Al-)", r"(?i)\b(de la|del|de los|van der|van den|von|bin|al-|el-|du|dos|da)\b",
    None, None),
    ("NAME", "Irish O'/Mc", r"(?i)\b(o'|mc)[a-z]", None, None),
    ("NAME", "initials A.B.", r"^([A-Z]\.){2,3}$", None, None),
    ("NAME", "initials AB", r"^[A-Z]{2,3}$", None, r"^ (RN|rn|RRT|PT|OT)\b"),
    ("NAME", "nickname", None, None, None),
    ("NAME", "lower-case in mixed text", r"^[a-z][a-z'-]+( [a-z][a-z'-]+)*$", None, None),
    ("NAME", "first name after relation", r"^[A-Za-z'-]+$", r"(?i)\b(husband|wife|son|daughter|dtr|sister|brother) $",
    None),
    ("NAME", "first name after staff role", r"^[A-Za-z'-]+$", r"\b(SW|CM|RT|RN|OT|PT|chaplain|interpreter) $", None),
    ("NAME", "first name before 'from case mgmt'", r"^[A-Za-z'-]+$", r"(?i)spoke (with|w/) $", r"^ from case mgmt"),
    ("NAME", "name before a credential", r"\w \w", None, rf"^,? ?{CREDS}\b"),
    ("NAME", "surname after lower-case dr", r"^[a-z'-]+", r"\bdr\.? $", None),
    ("NAME", "word that is also a name", None, None, None),
    ("LOCATION", "place without a cue word", r"^[A-Za-z]+$", r"(?i)\b(to|from) $", None),
    ("LOCATION", "hospital", r"(?i)(hospital|medical center|memorial|regional)", None, None),
    ("LOCATION", "rehab", r"(?i)(rehab|transitional care|sub-acute)", None, None),
    ("LOCATION", "nursing home", r"(?i)(manor|nursing|senior living|assisted living|care center)", None, None),
    ("LOCATION", "pharmacy", r"(?i)(pharmacy|drugs?|apothecary)$", None, None),
    ("LOCATION", "employer", r"(?i)(logistics|& sons|manufacturing|construction|bakery|shipyard|insurance|landscaping)",
    None, None),
    ("LOCATION", "school", r"(?i)(elementary|middle school|high school|college|academy|montessori|regional high)", None,
    None),
    ("LOCATION", "church", r"(?i)(church|mosque|congregational|temple|kingdom hall|gurdwara|methodist|our lady)", None,
    None),
    ("LOCATION", "street with number", r"^\d+ [A-Za-z]", None, None),
    ("LOCATION", "apartment", r"(?i)^(apt\.?|apartment|unit|suite|flat|#) ?\w+$", None, None),
    ("LOCATION", "ZIP code", r"^\d{5}(-\d{4})?$", None, None),
    ("LOCATION", "county", r"(?i)(county|parish)$", None, None),
    ("LOCATION", "state in an address", None, r"[A-Za-z][,]? {1,2}$", r"^ {1,2}\d{5}"),
    ("LOCATION", "ward named without a cue", r"^[A-Za-z]+$", None, r"^ (\d|2/3)"),
    ("LOCATION", "UK postcode", r"(?i)^[a-z]{2}\d{1,2} \d[a-z]{2}$", None, None),
    ("CONTACT", "phone", r"^\(?\d{3}\)?[-. ]?\d{3}-\d{4}$", None, None),
    ("CONTACT", "phone, space inside the groups", r"\d- \d", None, None),
    ("CONTACT", "phone 617 5550199", r"^\d{3} \d{7}$", None, None),
    ("CONTACT", "phone with extension", r"(?i)\d (x|ext\.?|extension) ?\d+$", None, None),
    ("CONTACT", "extension alone", r"(?i)^(x|ext\.?|extension) ?\d+$", None, None),
    ("CONTACT", "pager", None, r"(?i)pager:? #?$|pager $", None),
    ("CONTACT", "fax", None, r"(?i)fax:? $", None),
    ("CONTACT", "e-mail", r"^[\w.]+@[\w.]*example\.(com|org|net|edu)$", None, None),
    ("CONTACT", "URL", r"(?i)^(https?://|www\.)|example\.(com|org|net)/", None, None),
    ("CONTACT", "IP address", r"^(\d{1,3}\.){3}\d{1,3}$|^2001:db8::", None, None),
    ("CONTACT", "UK phone", r"^0\d{3,4} \d{3,4} ?\d{3,4}$", None, None),
    ("ID", "MRN", None, r"(?i)\b(MRN|MR#):? $", None),
    ("ID", "letter prefix", r"(?i)^[a-z]{1,3}-?\d{5,}$", None, None),
    ("ID", "digits with spaces", r"^\d{2,4} \d{3,}", None, None),
    ("ID", "SSN", r"^987-65-432\d$", None, None),
    ("ID", "SSN with spaces", r"^987 65 432\d$", None, None),
    ("ID", "accession", None, r"(?i)accession:? $", None),
    ("ID", "member id", None, r"(?i)member id:? $", None),
    ("ID", "plate", None, r"(?i)plate $", None),
    ("ID", "device serial", None, r"(?i)serial $", None),
    ("ID", "licence", None, r"(?i)(license:?|license #|license \(|NPI on file:) $", None),
    ("ID", "NHS number", r"^999 \d{3} \d{4}$", None, None),
    ("DATE", "m/d at line start", r"^\d{1,2}/\d{1,2}$", r"(^|\n)$", None),
    ("DATE", "d/m (UK)", r"^(1[3-9]|2\d)/(0?[1-9]|1[0-2])(/\d{2,4})?$", None, None),
    ("DATE", "m/d/yy", r"^\d{1,2}/\d{1,2}/\d{2}$", None, None),
    ("DATE", "m/d/yyyy", r"^\d{1,2}/\d{1,2}/\d{4}$", None, None),
    ("DATE", "ISO", r"^\d{4}-\d{2}-\d{2}$", None, None),
    ("DATE", "Jan 5", rf"(?i)^{MONTH} \d{{1,2}}$", None, None),
    ("DATE", "5-Jan", rf"(?i)^\d{{1,2}}-{MONTH}$", None, None),
    ("DATE", "January 5th, 2019", r"(?i)^[a-z]+ \d{1,2}(st|nd|rd|th), \d{4}$", None, None),
    ("DATE", "month alone", rf"(?i)^{MONTH}$", None, None),
    ("DATE", "the 13th", r"^\d{1,2}(st|nd|rd|th)$", r"(?i)the $", None),
    ("DATE", "holiday", None, None, None),
    ("DATE", "two-digit year '92", r"^'\d{2}$", None, None),
    ("DATE", "two-digit year 81", r"^\d{2}$", r"(?i)(cabg|mi|cva|in) $", None),
    ("DATE", "four-digit year", r"^(19|20)\d{2}$", None, None),
    ("AGE", "98 yo", r"^(9\d|1[01]\d)$", None, r"(?i)^ ?(yo|y/o|y\.o\.)"),
    ("AGE", "91-year-old", r"^(9\d|1[01]\d)$", None, r"(?i)^-(year|yr)-old"),
    ("AGE", "in words", r"(?i)^(ninety|one hundred)", None, None),
]
SPECIAL = {
    "nickname": lambda t: t.lower() in NICKS,
    "word that is also a name": lambda t: t.lower() in {w.lower() for w in lp.WORD_NAMES},
    "holiday": lambda t: t.lower() in {h.lower() for h in HOLIDAYS},
    "state in an address": lambda t: t.lower() in STATES,
}


def _matches(note: SynthNote, s: int, e: int, shape: str, span_re, before_re, after_re) -> bool:
    text = note.text[s:e]
    if shape in SPECIAL and not SPECIAL[shape](text):
        return False
    if span_re and not re.search(span_re, text):
        return False
    before, after = _context(note, s, e)
    if before_re and not re.search(before_re, before):
        return False
    if after_re and not re.search(after_re, after):
        return False
    if shape == "lower-case in mixed text":
        return any(ch.isupper() for ch in note.text)
    return True


@pytest.mark.parametrize(("label", "shape", "span_re", "before_re", "after_re"), SHAPES, ids=[s[1] for s in SHAPES])
def test_every_phi_shape_appears(corpus, label, shape, span_re, before_re, after_re):
    hits = sum(1 for n in corpus for s, e, lab in n.spans
               if lab == label and _matches(n, s, e, shape, span_re, before_re, after_re))
    assert hits >= 5, f"{label} shape '{shape}' found {hits} times in {N} notes"


def test_spans_are_exact_and_disjoint(corpus):
    for n in corpus:
        prev_end = 0
        for s, e, lab in sorted(n.spans):
            assert 0 <= s < e <= len(n.text) and lab in LABELS
            piece = n.text[s:e]
            assert piece == piece.strip(), (n.style, piece)
            assert s >= prev_end, (n.style, piece)  # no overlap
            prev_end = e


def test_every_label_is_common(corpus):
    counts = {lab: sum(1 for n in corpus for _, _, x in n.spans if x == lab) for lab in LABELS}
    assert all(counts[lab] >= 300 for lab in LABELS), counts


def test_names_are_census_and_invented(corpus):
    census = lx.surnames() | lx.first_names()
    words = [w.upper().strip(".,'") for n in corpus for s, e,
    lab in n.spans if lab == "NAME" for w in n.text[s:e].split()]
    known = sum(w in census for w in words)
    assert 0.3 < known / len(words) < 0.85, known / len(words)


NEGATIVE_RE = re.compile(r"(?<![\w-])(" + "|".join(
    re.escape(w) for w in sorted(set(lc.DRUGS + lc.EPONYMS + lc.NO_NAME_PHRASES), key=len,
                                 reverse=True)) + r")(?![\w-])",
    re.IGNORECASE)


def test_hard_negatives_never_fall_inside_a_span(corpus):
    found = 0
    for n in corpus:
        for m in NEGATIVE_RE.finditer(n.text):
            found += 1
            assert not any(s < m.end() and m.start() < e for s, e, _ in n.spans), (n.style, m.group(), n.spans)
        for ks, ke, kind in n.keeps:
            assert kind in KEEP_KINDS
            assert not any(s < ke and ks < e for s, e, _ in n.spans), (n.style, n.text[ks:ke])
    assert found > N  # drugs and eponyms are frequent, about one per note or more


def test_hard_negatives_of_every_kind_are_frequent(corpus):
    kinds = {k: 0 for k in KEEP_KINDS}
    for n in corpus:
        for _, _, kind in n.keeps:
            kinds[kind] += 1
    assert all(v >= 50 for v in kinds.values()), kinds
    with_keeps = sum(1 for n in corpus if n.keeps)
    assert with_keeps > 0.95 * N
    # the words that are also names appear both ways: as ordinary words (keeps) and as NAME spans
    as_words = {n.text[s:e].lower() for n in corpus for s, e, k in n.keeps if k == "WORD"}
    as_names = {n.text[s:e].lower() for n in corpus for s, e, lab in n.spans if lab == "NAME"}
    assert {"may", "will", "art"} <= as_words
    assert len(as_words & as_names) >= 5


def test_chart_shorthand_is_taught_as_not_phi(corpus):
    # 1.5.0: the shorthand the 1.4.0 cross-fit taggers masked out of fold ("MAE" after the short first name "Mae"
    # joined the name pool) is written as keep pieces, in capitals and lower case; "Mae" stays a name too.
    keeps = {n.text[s:e] for n in corpus for s, e, _ in n.keeps}
    for word in ("MAE", "PERRL", "PEARL", "MICU", "careview", "angio", "norepi", "serosang"):
        assert {word, word.upper(), word.lower()} & keeps, word
    assert {"MAE", "mae"} <= keeps
    names = {n.text[s:e].lower() for n in corpus for s, e, lab in n.spans if lab == "NAME"}
    assert any(w == "mae" for name in names for w in name.split())


def test_every_style_appears_with_a_plausible_length(corpus):
    seen = {n.style for n in corpus}
    assert seen == set(STYLES)
    for n in corpus:
        assert 300 <= len(n.text) <= 2500, (n.style, len(n.text))
    for style in STYLES:
        mean = sum(len(n.text) for n in corpus if n.style == style) / sum(1 for n in corpus if n.style == style)
        assert 400 < mean < 1800, (style, mean)


def test_casing_varies(corpus):
    kinds = {"upper" if n.text.isupper() else "lower" if n.text.islower() else "mixed" for n in corpus}
    assert kinds == {"upper", "lower", "mixed"}
    icu = [n for n in corpus if n.style == "icu_nursing"]
    assert sum(n.text.isupper() for n in icu) > len(icu) / 2  # ICU nursing is mostly in capitals


def test_run_on_notes_lose_spaces():
    notes = generate(40, seed=2, styles=["run_on"])
    glued = sum(len(re.findall(r"[a-z][.,;:][a-z]", n.text, re.IGNORECASE)) for n in notes)
    assert glued > 40


def test_uk_letters_use_day_first_dates_and_uk_numbers():
    notes = generate(60, seed=4, styles="referral_letter")
    uk = [n for n in notes if "NHS number" in n.text]
    assert 10 < len(uk) < 50
    for n in uk:
        dates = [n.text[s:e] for s, e, lab in n.spans if lab == "DATE"]
        assert not any(re.fullmatch(r"\d{1,2}/(1[3-9]|2\d|3[01])(/\d+)?", d) for d in dates), dates  # never m/d


def test_deterministic_for_a_seed_and_streaming():
    a, b = generate(50, seed=7), generate(50, seed=7)
    assert [(n.text, n.spans, n.style) for n in a] == [(n.text, n.spans, n.style) for n in b]
    assert [n.text for n in generate(10, seed=7)] == [n.text for n in a[:10]]
    stream = iter_notes(7)
    assert [next(stream).text for _ in range(10)] == [n.text for n in a[:10]]
    assert [n.text for n in generate(10, seed=8)] != [n.text for n in a[:10]]


def test_same_corpus_in_another_process_whatever_the_hash_seed():
    code = ("import hashlib; from training.phi.generator import generate; "
            "print(hashlib.sha256(repr([(n.text, n.spans) for n in generate(200, seed=9)]).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": h}).stdout for h in ("1", "2")}
    assert len(digests) == 1 and len(digests.pop().strip()) == 64


@pytest.mark.parametrize(("styles", "expected"), [
    (["radiology"], {"radiology"}), ("pharmacy,dietitian", {"pharmacy", "dietitian"}), (None, None)])
def test_style_filter(styles, expected):
    notes = generate(30, seed=1, styles=styles)
    assert len(notes) == 30
    if expected:
        assert {n.style for n in notes} == expected


@pytest.mark.parametrize("bad", ["radiolgy", "", "icu_nursing,nope"])
def test_unknown_style_is_refused_before_any_note(bad):
    with pytest.raises(ConfigError) as err:
        iter_notes(0, bad)
    if bad == "radiolgy":
        assert "radiology" in err.value.message


def test_compatibility_module_reexports():
    from training.phi import synth

    assert synth.generate is generate and synth.SynthNote is SynthNote and synth.LABELS == LABELS


def test_cli_writes_jsonl(tmp_path):
    from training.cli import main

    out = tmp_path / "notes.jsonl"
    assert main(["phi", "synth", "-n", "7", "--seed", "3", "--styles", "ed_triage,portal_message", "--with-keeps",
                 "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 7 and {r["style"] for r in rows} <= {"ed_triage", "portal_message"}
    for r in rows:
        assert set(r) == {"text", "spans", "style", "keeps"}
        assert all(r["text"][s:e].strip() == r["text"][s:e] and lab in LABELS for s, e, lab in r["spans"])
    assert main(["phi", "synth", "-n", "2", "--styles", "nope", "-o", str(tmp_path / "x.jsonl")]) == 2
    assert not (tmp_path / "x.jsonl").exists()
