"""HIPAA Safe Harbor output (issue 17, item 4): ages over 89 as "90+" or a tag, years kept only when asked and only
when they cannot reveal an age over 89, and `medpriv deid --help` stating what is and is not covered."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.notes.operators import OperatorOptions, apply_operator, year_to_keep
from medpriv_desktop.core.notes.spans import CATEGORIES, PhiSpan
from medpriv_desktop.core.notes.surrogates import Surrogator

KEY = bytes(range(32))
REF = 2025  # "within the last 89 years" of 2025 starts in 1936


def one_span(text: str, category: str, options: OperatorOptions, patient: str = "p1") -> str:
    """``text`` as one span of ``category``, replaced by ``options``."""
    return apply_operator(options, text, [PhiSpan(0, len(text), category)], Surrogator(KEY), patient)


# -- ages over 89 ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("original,operator,expected", [
    ("97", "tag", "[AGE]"),
    ("97", "mask", "**"),
    ("97", "surrogate", "90+"),
    ("97", "date-shift", "[AGE]"),
    ("104", "surrogate", "90+"),
    ("90", "surrogate", "90+"),
    ("97-year-old", "surrogate", "90+ year-old"),
    ("97 yo", "surrogate", "90+ yo"),
    ("ninety-two", "surrogate", "90+"),
    ("45", "surrogate", "45"),  # an age under 90 is not a Safe Harbor identifier: surrogate mode keeps it
    ("89", "surrogate", "89"),
    ("45", "tag", "[AGE]"),  # tag and mask replace every detected span
])
def test_age_spans_per_operator(original, operator, expected):
    assert one_span(original, "AGE", OperatorOptions(operator, reference_year=REF)) == expected


def test_age_over_89_in_a_note_never_reads_as_a_real_age():
    text = "PT IS 97 YO, WIFE 88 YO."
    spans = [PhiSpan(6, 8, "AGE")]
    out = apply_operator("surrogate", text, spans, Surrogator(KEY), "p1")
    assert out == "PT IS 90+ YO, WIFE 88 YO."


# -- years: kept only when asked, and only when recent enough ----------------------------------------------------------

@pytest.mark.parametrize("original,category,tag_out,mask_out", [
    ("3/14/2019", "DATE", "[DATE] 2019", "*****2019"),
    ("March 14, 2019", "DATE", "[DATE] 2019", "***** *** 2019"),
    ("2019-03-14", "DATE", "[DATE] 2019", "2019******"),
    ("12/2019", "DATE", "[DATE] 2019", "***2019"),
    ("3/14", "DATE", "[DATE]", "****"),  # no year written: nothing to keep ("14" is a day)
    ("2019", "YEAR", "2019", "2019"),  # a year alone stays as written
    ("1936", "YEAR", "1936", "1936"),  # exactly 89 years back: kept
    ("1935", "YEAR", "[DATE]", "****"),  # 90 years back: may be the birth year of someone over 89
    ("3/14/1931", "DATE", "[DATE]", "*********"),  # a birth date of someone over 89 loses its year too
    ("3/14/92", "DATE", "[DATE] '92", "*****92"),
    ("3/14/19", "DATE", "[DATE]", "*******"),  # could be 1919
    ("3/92", "DATE", "[DATE] '92", "**92"),
    ("3/19", "DATE", "[DATE]", "****"),  # "19" may be a day
    ("'92", "YEAR", "'92", "'92"),
    ("'05", "YEAR", "[DATE]", "***"),  # could be 1905
    ("81", "YEAR", "81", "81"),
    ("Christmas", "HOLIDAY", "[DATE]", "*********"),
])
def test_keep_year_for_tag_and_mask(original, category, tag_out, mask_out):
    assert one_span(original, category, OperatorOptions("tag", keep_year=True, reference_year=REF)) == tag_out
    assert one_span(original, category, OperatorOptions("mask", keep_year=True, reference_year=REF)) == mask_out


@pytest.mark.parametrize("original", ["3/14/2019", "2019", "March 2019", "'92"])
def test_default_replaces_the_whole_date(original):
    assert one_span(original, "DATE", OperatorOptions("tag", reference_year=REF)) == "[DATE]"
    assert "2019" not in one_span(original, "DATE", OperatorOptions("mask", reference_year=REF))


def test_keep_year_touches_dates_only():
    # a four-digit number inside another category is never "kept" as a year
    assert one_span("MRN 2019", "MRN", OperatorOptions("tag", keep_year=True, reference_year=REF)) == "[ID]"
    assert one_span("2019", "ID", OperatorOptions("mask", keep_year=True, reference_year=REF)) == "****"


@pytest.mark.parametrize("text,ref,expected", [
    ("1/2/1937", 2026, (4, 8)), ("1/2/1936", 2026, None), ("1/2/36", 2025, (4, 6)), ("1/2/36", 2026, None),
    ("2030", 2026, (0, 4)), ("from 1999 to 2001", 2026, (13, 17)),
])
def test_the_year_window_moves_with_the_reference_year(text, ref, expected):
    assert year_to_keep(text, ref) == expected


@pytest.mark.parametrize("operator", ["surrogate", "date-shift"])
def test_keep_year_is_refused_with_shifting_operators(operator):
    with pytest.raises(InputError, match="--keep-year works with the tag and mask"):
        OperatorOptions(operator, keep_year=True)


def test_surrogate_moves_a_year_alone_with_the_patient_offset_keeping_the_distance():
    s = Surrogator(KEY)
    for patient in ("p1", "p2", "p3", "p4"):
        a, b = one_span("1998", "YEAR", OperatorOptions("surrogate"), patient), \
            one_span("2004", "YEAR", OperatorOptions("surrogate"), patient)
        assert int(b) - int(a) == 6
        moved = int(a) - 1998
        # the shift of a year alone is what the patient's offset does to a mid-year day
        assert moved == (dt.date(1998, 7, 1) + dt.timedelta(days=s.date_offset(patient))).year - 1998


# -- the command line ------------------------------------------------------------------------------------------------

def test_cli_keep_year_and_ages(tmp_path, capsys):
    this_year = dt.date.today().year
    recent, old = this_year - 5, this_year - 95
    notes = tmp_path / "in"
    notes.mkdir()
    (notes / "a.txt").write_text(f"ADMITTED ON 3/14/{recent}. BORN 6/2/{old}. PT IS 97 YO.\n")
    rc = main(["deid", str(notes), "-o", str(tmp_path / "tag"), "--keep-year", "--quiet", "--rules-only"])
    out = (tmp_path / "tag" / "a.txt").read_text()
    assert rc == 0 and f"[DATE] {recent}" in out and str(old) not in out and "3/14" not in out
    assert "97" not in out and "[AGE]" in out
    assert "(years kept)" in capsys.readouterr().out
    rc = main(["deid", str(notes), "-o", str(tmp_path / "plain"), "--quiet", "--rules-only"])
    out = (tmp_path / "plain" / "a.txt").read_text()
    assert rc == 0 and str(recent) not in out and str(old) not in out  # default: the whole date goes
    rc = main(["deid", str(notes), "-o", str(tmp_path / "sur"), "--operator", "surrogate", "--quiet", "--rules-only"])
    out = (tmp_path / "sur" / "a.txt").read_text()
    assert rc == 0 and "PT IS 90+ YO" in out


@pytest.mark.parametrize("operator", ["surrogate", "date-shift"])
def test_cli_refuses_keep_year_with_shifting_operators_before_any_output(tmp_path, capsys, operator):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("SEEN 3/14/2019.\n")
    rc = main(["deid", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--operator", operator, "--keep-year",
               "--quiet", "--rules-only"])
    err = capsys.readouterr().err
    assert rc == 2 and "--keep-year works with the tag and mask operators" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def _help_text(capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        main(["deid", "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


def test_help_states_every_safe_harbor_identifier_and_the_review(capsys):
    text = _help_text(capsys)
    letters = re.findall(r"^  \(([A-R])\) ", text, re.M)
    assert letters == list("ABCDEFGHIJKLMNOPQR")  # all 18, in order
    flat = " ".join(text.split())
    assert "(Q) full-face photographs and comparable images: NOT covered" in flat
    assert "(P) biometric identifiers (finger and voice prints): NOT covered" in flat
    assert "What the detector misses stays in the output" in flat and "Review the output before release" in flat
    assert "--keep-year" in flat and "90+" in flat and "date-shift" in flat


def test_help_marks_every_category_the_tool_detects_as_covered():
    """Each identifier a PHI category maps to (spans.py) is listed as detected or partly, never as NOT covered."""
    from medpriv_desktop.commands.deid import SAFE_HARBOR
    from medpriv_desktop.core.notes.recognizers import age, contact, dates, ids, locations, names, phone

    status = {k: how for k, _, how in SAFE_HARBOR}
    emitted = {c for mod in (age, contact, dates, ids, locations, names, phone) for obj in vars(mod).values()
               if isinstance(obj, type) and obj.__module__ == mod.__name__ for c in getattr(obj, "CATEGORIES", ())}
    assert {"PATIENT", "DATE", "AGE", "PHONE", "MRN", "ZIP"} <= emitted
    for cat in emitted:
        letter = CATEGORIES[cat].hipaa[1]
        assert not status[letter].startswith("NOT"), (cat, letter)
