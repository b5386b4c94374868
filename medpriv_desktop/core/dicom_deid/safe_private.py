"""The safe private list of the Retain Safe Private Option: private attributes kept because they hold only numbers.

PS3.15 E.3.10 lets a de-identifier keep private attributes it knows to be safe (Table E.3.10-1 gives examples). This
list is deliberately short and numeric: an entry names the group, the private creator (exact, as the vendor writes it)
and the element's low byte, and the attribute is kept only when every value it holds is a plain number (a decimal or
integer string, or a binary number). A text value under a listed tag (a vendor that reuses the slot) is removed.
Everything else private goes, private sequences included; a private creator element stays only while an element of its
block stays. Each entry's meaning is the vendor's conformance statement's.

| group | private creator | element | meaning |
|---|---|---|---|
| 0019 | SIEMENS CT VA0  COAD | xx90 | Osteo Offset |
| 0019 | SIEMENS CT VA0  COAD | xx92 | Osteo Regression Line Slope |
| 0019 | SIEMENS CT VA0  COAD | xx93 | Osteo Regression Line Intercept |
| 0019 | SIEMENS CT VA0  COAD | xx96 | Osteo Phantom Number |
| 0019 | SIEMENS CT VA0  COAD | xxB0 | Feed per Rotation |
| 0019 | GEMS_ACQU_01 | xx23 | Table Speed (mm/rotation) |
| 0019 | GEMS_ACQU_01 | xx27 | Rotation Speed (gantry period) |
"""

from __future__ import annotations

import re
from typing import Any

#: (group, private creator, element low byte) -> meaning.
SAFE_PRIVATE: dict[tuple[int, str, int], str] = {
    (0x0019, "SIEMENS CT VA0  COAD", 0x90): "Osteo Offset",
    (0x0019, "SIEMENS CT VA0  COAD", 0x92): "Osteo Regression Line Slope",
    (0x0019, "SIEMENS CT VA0  COAD", 0x93): "Osteo Regression Line Intercept",
    (0x0019, "SIEMENS CT VA0  COAD", 0x96): "Osteo Phantom Number",
    (0x0019, "SIEMENS CT VA0  COAD", 0xB0): "Feed per Rotation",
    (0x0019, "GEMS_ACQU_01", 0x23): "Table Speed",
    (0x0019, "GEMS_ACQU_01", 0x27): "Rotation Speed",
}

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_NUMERIC_VRS = frozenset({"US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"})
_STRING_NUMBER_VRS = frozenset({"DS", "IS", "UN", "LO", "SH", "CS"})


def private_creator(ds: Any, tag: Any) -> str | None:
    """The private creator string that reserves the block of private data element ``tag`` in ``ds``, or None."""
    from pydicom.tag import Tag

    tag = Tag(tag)
    block = tag.element >> 8
    if block < 0x10:
        return None
    ctag = Tag(tag.group, block)
    if ctag not in ds:
        return None
    value = ds[ctag].value
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    return str(value).strip("\x00 ") if value is not None else None


def _numeric(elem: Any) -> bool:
    """True when every value of ``elem`` is a plain number."""
    vr, value = elem.VR, elem.value
    if value is None or value == "" or value == b"":
        return True
    if vr in _NUMERIC_VRS:
        return True
    if vr not in _STRING_NUMBER_VRS:
        return False
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return False
        parts = value.rstrip("\x00 ").split("\\")
    elif isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        parts = [str(v) for v in value]
    else:
        parts = [str(value)]
    return all(_NUMBER.fullmatch(p) for p in parts)


def is_safe(ds: Any, tag: Any, elem: Any) -> bool:
    """True when private element ``elem`` (at ``tag`` in ``ds``) is on the safe list and holds only numbers."""
    from pydicom.tag import Tag

    tag = Tag(tag)
    creator = private_creator(ds, tag)
    if creator is None:
        return False
    key = (tag.group, creator, tag.element & 0xFF)
    return key in SAFE_PRIVATE and elem.VR != "SQ" and _numeric(elem)
