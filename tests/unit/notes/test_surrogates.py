"""Surrogates: realistic, consistent per patient, intervals kept, ages collapsed, reproducible only with the key."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from medpriv_desktop.core.notes.operators import apply_operator, mask, surrogate, tag
from medpriv_desktop.core.notes.spans import PhiSpan
from medpriv_desktop.core.notes.surrogates import Surrogator

KEY = bytes(range(32))


def span_of(text: str, surface: str, cat: str, nth: int = 0) -> PhiSpan:
    starts = [m.start() for m in re.finditer(re.escape(surface), text)]
    return PhiSpan(starts[nth], starts[nth] + len(surface), cat)


def test_same_name_same_fake_across_documents_of_one_patient():
    s = Surrogator(KEY)
    a = s.replace(PhiSpan(0, 5, "CLINICIAN"), "SMITH", "p1")
    b = s.replace(PhiSpan(10, 15, "CLINICIAN"), "Smith", "p1")
    assert a.upper() == b.upper() and a != "SMITH"
    assert a.isupper() and b.istitle()  # case style follows the original
    assert s.replace(PhiSpan(0, 5, "CLINICIAN"), "SMITH", "p2") != a or True  # other patients may differ


def test_reproducible_with_key_and_different_without():
    assert Surrogator(KEY).name("p1", "JOHN DOE") == Surrogator(KEY).name("p1", "JOHN DOE")
    other = Surrogator(bytes(32))
    names = {other.name("p1", n) for n in ("JOHN DOE", "MARY ROE", "ANN LEE")}
    mine = {Surrogator(KEY).name("p1", n) for n in ("JOHN DOE", "MARY ROE", "ANN LEE")}
    assert names != mine


@pytest.mark.parametrize("first,second,fmt", [("8/18", "8/31", "md"), ("8/18/2016", "9/2/2016", "mdy"),
                                              ("2016-08-18", "2016-09-02", "iso"), ("March 3, 2015", "March 20, 2015", "text"),
                                              ("27.05.2020", "14.06.2020", "dmy")])
def test_dates_shift_by_one_patient_offset_keeping_intervals(first, second, fmt):
    s = Surrogator(KEY)
    a, b = s.shift_date("p7", first), s.shift_date("p7", second)
    assert a != first and b != second

    def parse(x):
        if fmt == "md":
            m, d = map(int, x.split("/"))
            return dt.date(2002, m, d)
        if fmt == "mdy":
            m, d, y = map(int, x.split("/"))
            return dt.date(y, m, d)
        if fmt == "dmy":  # day first, zero-padded, as written
            assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", x)
            d, m, y = map(int, x.split("."))
            return dt.date(y, m, d)
        if fmt == "iso":
            return dt.date.fromisoformat(x)
        return dt.datetime.strptime(x, "%B %d, %Y").date()

    # m/d has no year: compare intervals modulo a (non-leap) year
    assert (parse(b) - parse(a)).days % 365 == (parse(second) - parse(first)).days % 365
    assert (parse(a) - parse(first)).days % 365 != 0
    assert s.date_offset("p7") == s.date_offset("p7") and s.date_offset("p7") != 0


def test_ages_over_89_collapse_and_ids_keep_layout():
    s = Surrogator(KEY)
    # Safe Harbor's single category: "90" would read as a real age (updated from "90" for issue 17, item 4)
    assert s.replace(PhiSpan(0, 2, "AGE"), "97", "p") == "90+"
    phone = s.replace(PhiSpan(0, 12, "PHONE"), "410-555-1234", "p")
    assert re.fullmatch(r"\d{3}-\d{3}-\d{4}", phone) and phone != "410-555-1234"


def test_operators_on_a_note():
    text = "DR. SMITH SAW PT ON 8/18."
    spans = [span_of(text, "SMITH", "CLINICIAN"), span_of(text, "8/18", "DATE")]
    assert tag(text, spans) == "DR. [NAME] SAW PT ON [DATE]."
    assert mask(text, spans) == "DR. ***** SAW PT ON ****."
    out = surrogate(text, spans, Surrogator(KEY), "p1")
    assert "SMITH" not in out and "8/18" not in out and out.startswith("DR. ") and out.endswith(".")


def test_date_offsets_are_keyed_per_patient_never_zero_and_within_a_year():
    a, b = Surrogator(KEY), Surrogator(bytes(32))
    offsets = [a.date_offset(f"p{i}") for i in range(2000)]
    assert 0 not in offsets and min(offsets) >= -364 and max(offsets) <= 364
    assert len(set(offsets)) > 600  # spread over the range, not a handful of values
    assert sum(o < 0 for o in offsets) > 800 and sum(o > 0 for o in offsets) > 800
    # another key gives other offsets for the same patients: nothing to guess without the key
    assert sum(a.date_offset(f"p{i}") == b.date_offset(f"p{i}") for i in range(200)) < 10


@pytest.mark.parametrize("operator", ["surrogate", "date-shift"])
def test_surrogate_and_date_shift_use_the_same_keyed_offset(operator):
    from medpriv_desktop.core.notes.operators import apply_operator

    s = Surrogator(KEY)
    text = "SEEN 3/14/2019 BY DR. SMITH, BACK 3/21/2019."
    spans = [span_of(text, "3/14/2019", "DATE"), span_of(text, "SMITH", "CLINICIAN"),
             span_of(text, "3/21/2019", "DATE")]
    out = apply_operator(operator, text, spans, s, "p9")
    first, second = re.findall(r"\d+/\d+/\d{4}", out)
    shift = dt.timedelta(days=s.date_offset("p9"))
    assert dt.datetime.strptime(first, "%m/%d/%Y").date() == dt.date(2019, 3, 14) + shift
    assert dt.datetime.strptime(second, "%m/%d/%Y").date() == dt.date(2019, 3, 21) + shift
    assert "SMITH" not in out and ("[NAME]" in out) == (operator == "date-shift")


def test_a_surrogate_name_is_never_the_real_name():
    """With a pool where every keyed pick would often be the original, the surrogate is still another name, for
    every patient; initials likewise."""
    s = Surrogator(KEY)
    s._lasts = ["JOHN", "ADAMS"]
    s._firsts = ["JOHN", "ADAMS"]
    for n in range(40):
        assert s.name(f"p{n}", "John") == "Adams"
        assert s.name(f"p{n}", "J.")[0] != "J"


def _dates_in(text: str) -> list[str]:
    return re.findall(r"\d{1,2}[./]\d{1,2}[./]\d{4}", text)


@pytest.mark.parametrize("note,day_first", [
    ("CT 27.05.2020, compared with 03.06.2020 and 14.06.2020.", True),  # one date says day first: all are read so
    ("seen 03/06/2020 and 5/27/2020.", False),  # one date says month first (and is not padded)
    ("seen 03/06/2020 and 04/07/2020.", False),  # nothing says: month first, as US notes write it
])
def test_date_shift_reads_a_note_s_dates_in_one_order_and_keeps_intervals(note, day_first):
    s = Surrogator(KEY)
    spans = [span_of(note, d, "DATE") for d in _dates_in(note)]
    out = apply_operator("date-shift", note, spans, s, "p3")
    order = "%d.%m.%Y" if day_first else "%m/%d/%Y"

    def parse(x):
        return dt.datetime.strptime(x.replace("/", order[2]).replace(".", order[2]), order).date()

    before, after = [parse(d) for d in _dates_in(note)], [parse(d) for d in _dates_in(out)]
    assert len(after) == len(before) and after != before
    assert {(a - b).days for a, b in zip(after, before)} == {s.date_offset("p3")}  # one offset, intervals kept
    # a zero-padded date stays padded, an unpadded one unpadded
    for a, b in zip(_dates_in(note), _dates_in(out)):
        padded = any(p.startswith("0") for p in re.split(r"[./]", a)[:2])
        parts = re.split(r"[./]", b)[:2]
        assert all(len(p) == 2 for p in parts) if padded else not any(p.startswith("0") for p in parts)


@pytest.mark.parametrize("first,second,shape,fmt", [
    ("27 May 2020", "3 June 2020", r"\d{1,2} [A-Z][a-z]+ \d{4}", "%d %B %Y"),
    ("27-MAY-2020", "03-JUN-2020", r"\d\d-[A-Z]{3}-\d{4}", "%d-%b-%Y"),
    ("3rd of June 2019", "21st of June 2019", r"\d{1,2}(st|nd|rd|th) of [A-Z][a-z]+ \d{4}", None),
    ("May 2020", "August 2020", r"[A-Z][a-z]+ \d{4}", "%B %Y"),
    ("05/2020", "11/2020", r"\d\d/\d{4}", "%m/%Y"),
    ("March", "SEPTEMBER", r"[A-Z][a-z]+|[A-Z]+", "%B"),
])
def test_written_and_month_year_dates_shift_in_their_own_format(first, second, shape, fmt):
    s = Surrogator(KEY)
    a, b = s.shift_date("p9", first), s.shift_date("p9", second)
    assert re.fullmatch(shape, a) and re.fullmatch(shape, b), (a, b)  # the format is kept, nothing falls back

    def parse(x):
        if fmt is None:
            return dt.datetime.strptime(re.sub(r"(st|nd|rd|th) of", "", x), "%d %B %Y").date()
        return dt.datetime.strptime(x.title() if "%b" in fmt or fmt == "%B" else x, fmt).date()

    off = s.date_offset("p9")
    if "%d" in (fmt or "%d"):  # a full date: moved by exactly the offset, so the interval holds
        assert (parse(a) - parse(first)).days == off and (parse(b) - parse(second)).days == off
    else:  # a month without a day: moved from the middle of the month (of 2002 when no year is written)
        mid = parse(first).replace(day=15, year=parse(first).year if "%Y" in fmt else 2002) + dt.timedelta(days=off)
        assert parse(a).month == mid.month and ("%Y" not in fmt or parse(a).year == mid.year)
        assert a.isupper() == first.isupper() and b.isupper() == second.isupper()
