"""Applying the profile to one dataset: every element, in every item of every sequence, gets its action.

For each element the action comes from Table E.1-1 (:mod:`.table`) under the run's :class:`~.profile.Profile`; an
element the table does not name falls under these safety nets (the table cannot list every attribute a vendor or a
later edition adds):

* a UID (VR UI) is remapped unless it names a class (:mod:`.uids`);
* a person name (PN) is emptied;
* a date, time or date-time is treated as the table treats dates: shifted (DA, DT) or kept (TM) under the Modified
  Dates Option, a dummy otherwise;
* long free text (ST, LT, UT) is removed, or cleaned with Clean Descriptors; a URL (UR) is removed;
* an element pydicom's data dictionary does not know (a later edition's, or a vendor's in an even group) is removed,
  and so are group lengths (they would be wrong after the changes);
* curves (50xx) and overlays (60xx) are removed whole; private elements go unless on the safe list
  (:mod:`.safe_private`).

PatientName and PatientID, wherever they occur, take the patient's keyed pseudonyms (:mod:`.patients`). Pixel data is
never touched. Nothing read from the dataset is logged; counts of actions are kept for the run's report.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from medpriv_desktop.core.dicom_deid.patients import pseudonym_id, pseudonym_name
from medpriv_desktop.core.dicom_deid.profile import Profile, dummy_for
from medpriv_desktop.core.dicom_deid.safe_private import is_safe
from medpriv_desktop.core.dicom_deid.table import is_curve_or_overlay, row_for
from medpriv_desktop.core.dicom_deid.uids import UidMapper, is_class_uid

TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
DATE_VRS = frozenset({"DA", "DT"})
#: Largest value length per text VR (characters); cleaned text is cut to it.
MAX_LEN = {"SH": 16, "LO": 64, "ST": 1024, "LT": 10240}
#: Elements the de-identifier writes itself (top level), never processed as input.
MARKERS = frozenset({0x00120062, 0x00120063, 0x00120064, 0x00280303})
PATIENT_NAME, PATIENT_ID = 0x00100010, 0x00100020


@dataclass
class DeidContext:
    """What the actions of one file need: the profile, the patient and their keyed tools, a text cleaner."""

    profile: Profile
    surrogator: Any
    uids: UidMapper
    patient: str
    #: Free text -> de-identified text (the notes engine with the tag operator); None without Clean Descriptors.
    clean_text: Callable[[str], str] | None = None
    counts: collections.Counter = field(default_factory=collections.Counter)

    @property
    def offset_days(self) -> int:
        """The patient's date shift (the notes' offset)."""
        return int(self.surrogator.date_offset(self.patient))


def planned_action(tag: int, vr: str, profile: Profile) -> str:
    """The action an element gets: its table row's under ``profile``, else the safety net's for its VR."""
    row = row_for(tag)
    if row is not None:
        return profile.action(row)
    if tag & 0xFFFF == 0 or not _known(tag):  # group lengths go stale with edits; unknown elements cannot be judged
        return "X"
    if vr == "UI":
        return "U"
    if vr == "PN":
        return "Z"
    if vr in ("DA", "DT", "TM"):
        return "C" if profile.shifts_dates else "D"
    if vr in ("ST", "LT", "UT"):
        return "C" if profile.clean_descriptors else "X"
    if vr in ("UR", "UN"):
        return "X"
    return "K"


def _known(tag: int) -> bool:
    from pydicom.datadict import dictionary_has_tag

    return dictionary_has_tag(tag)


# -- dates ------------------------------------------------------------------------------------------------------------

def shift_da(value: str, days: int) -> str:
    """A DA value (YYYYMMDD, or a partial YYYY / YYYYMM) moved by ``days``; a value that is no date gets the dummy."""
    v = value.strip()
    try:
        if re.fullmatch(r"\d{8}", v):
            return (dt.date(int(v[:4]), int(v[4:6]), int(v[6:8])) + dt.timedelta(days=days)).strftime("%Y%m%d")
        if re.fullmatch(r"\d{6}", v):  # a month: its middle day moves
            d = dt.date(int(v[:4]), int(v[4:6]), 15) + dt.timedelta(days=days)
            return d.strftime("%Y%m")
        if re.fullmatch(r"\d{4}", v):  # a year alone: by the whole years the offset carries mid-year, as notes do
            return str((dt.date(int(v), 7, 1) + dt.timedelta(days=days)).year)
    except ValueError:
        pass
    return "19000101"


def shift_dt(value: str, days: int) -> str:
    """A DT value moved by ``days``: the date part shifted, the time and any UTC offset kept."""
    v = value.strip()
    m = re.fullmatch(r"(\d{4,8})(.*)", v)
    if m is None:
        return "19000101000000.00"
    date = shift_da(m.group(1), days) if len(m.group(1)) in (4, 6, 8) else "19000101"
    return date + m.group(2)


def _map_values(value: Any, fn: Callable[[str], str]) -> Any:
    """Apply ``fn`` to each value of a (possibly multi-valued) string element."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [fn(str(v)) for v in value]
    return fn(str(value))


def _cap_age(value: str) -> str:
    """A kept PatientAge over 89 years becomes 090Y (Safe Harbor's single "90+" category, as the notes write it)."""
    m = re.fullmatch(r"(\d{3})Y", value.strip())
    return "090Y" if m and int(m.group(1)) >= 90 else value


# -- the walk ---------------------------------------------------------------------------------------------------------

def deidentify_elements(ds: Any, ctx: DeidContext, clean_all_text: bool = False) -> None:
    """Apply the profile to every element of ``ds`` and, recursively, of its sequences' items (in place)."""
    for tag in list(ds.keys()):
        if tag.is_private or int(tag) in MARKERS:
            continue
        elem = ds[tag]
        if is_curve_or_overlay(tag):
            del ds[tag]
            ctx.counts["X"] += 1
            continue
        if int(tag) in (PATIENT_NAME, PATIENT_ID):
            original = str(elem.value or "")
            make = pseudonym_name if int(tag) == PATIENT_NAME else pseudonym_id
            elem.value = make(ctx.surrogator, ctx.patient, original)
            ctx.counts["pseudonym"] += 1
            continue
        action = planned_action(int(tag), elem.VR, ctx.profile)
        if clean_all_text and action == "K" and elem.VR in TEXT_VRS:
            action = "C"
        _apply(ds, tag, elem, action, ctx, clean_all_text)
    _private(ds, ctx)


def _apply(ds: Any, tag: Any, elem: Any, action: str, ctx: DeidContext, clean_all_text: bool) -> None:
    vr = elem.VR
    if action == "C" and vr not in DATE_VRS and vr not in ("TM", "SQ", "AS") and (
            ctx.clean_text is None or vr not in TEXT_VRS):
        # Cleaning free text needs the notes engine (Clean Descriptors); without it the Basic action applies.
        row = row_for(int(tag))
        action = "X" if row is None else _basic(row.basic)
    ctx.counts[action] += 1
    if action == "X":
        del ds[tag]
    elif action == "Z":
        elem.value = [] if vr == "SQ" else elem.empty_value
    elif vr == "SQ":  # D, K, C, U on a sequence: keep it and walk its items (C cleans every text in them)
        for item in elem.value or []:
            deidentify_elements(item, ctx, clean_all_text or action == "C")
    elif vr == "UI":
        if action in ("U", "D") or (action == "K" and "uids" not in ctx.profile.columns):
            keyword = elem.keyword or ""
            elem.value = _map_values(elem.value, lambda v: v if is_class_uid(keyword, v) else ctx.uids(v))
    elif action == "D":
        dummy = dummy_for(vr)
        elem.value = elem.empty_value if dummy is None else dummy
    elif action == "C":
        clean_element(elem, ctx)
    elif action == "K" and int(tag) == 0x00101010 and elem.value:
        elem.value = _cap_age(str(elem.value))


def _basic(code: str) -> str:
    from medpriv_desktop.core.dicom_deid.profile import resolve

    return resolve(code)


def clean_element(elem: Any, ctx: DeidContext) -> None:
    """The C action: shift dates, keep times of day and ages (capped), run text through the notes de-identifier."""
    vr, value = elem.VR, elem.value
    if value is None or value == "":
        return
    days = ctx.offset_days
    if vr == "DA":
        elem.value = _map_values(value, lambda v: shift_da(v, days) if v.strip() else v)
    elif vr == "DT":
        elem.value = _map_values(value, lambda v: shift_dt(v, days) if v.strip() else v)
    elif vr == "AS":
        elem.value = _cap_age(str(value))
    elif vr in TEXT_VRS and ctx.clean_text is not None:
        limit = MAX_LEN.get(vr)
        clean = ctx.clean_text
        elem.value = _map_values(value, lambda v: clean(v)[:limit] if limit else clean(v))


def _private(ds: Any, ctx: DeidContext) -> None:
    """Remove private elements outside the safe list, then the creators of blocks left empty."""
    kept_blocks: set[tuple[int, int]] = set()
    creators = []
    for tag in [t for t in ds.keys() if t.is_private]:
        if 0x0010 <= tag.element <= 0x00FF:
            creators.append(tag)
            continue
        if ctx.profile.safe_private and is_safe(ds, tag, ds[tag]):
            kept_blocks.add((tag.group, tag.element >> 8))
            ctx.counts["K private"] += 1
        else:
            del ds[tag]
            ctx.counts["X private"] += 1
    for tag in creators:
        if (tag.group, tag.element) not in kept_blocks:
            del ds[tag]
