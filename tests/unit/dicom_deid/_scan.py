"""Direct scans of de-identified output: every element value, recursively, and the raw bytes of every file."""

from __future__ import annotations

from pathlib import Path


def dicom_files(folder: Path) -> list[Path]:
    """Every .dcm file under ``folder``, sorted."""
    return sorted(Path(folder).rglob("*.dcm"))


def element_strings(ds) -> list[tuple[str, str]]:
    """(keyword or tag, value as text) of every element of ``ds``, in every sequence item, recursively."""
    out = []
    for elem in ds.iterall():
        if elem.VR == "SQ":
            continue
        value = elem.value
        if isinstance(value, bytes):
            text = value.decode("latin-1")
        elif value is None:
            text = ""
        elif type(value).__name__ == "MultiValue" or isinstance(value, (list, tuple)):
            text = "\\".join(str(v) for v in value)
        else:
            text = str(value)
        out.append((elem.keyword or str(elem.tag), text))
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        out += [(e.keyword or str(e.tag), str(e.value)) for e in meta]
    return out


def minted_uids(ds) -> set[str]:
    """The keyed ``2.25.`` UIDs the de-identifier wrote into ``ds`` (file meta included)."""
    uids: set[str] = set()
    for e in list(ds.iterall()) + list(getattr(ds, "file_meta", None) or []):
        if e.VR == "UI" and e.value:
            many = isinstance(e.value, (list, tuple)) or type(e.value).__name__ == "MultiValue"
            uids |= {str(v) for v in (e.value if many else [e.value]) if str(v).startswith("2.25.")}
    return uids


def survivors(folder: Path, needles: set[str], pseudonyms: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """needle -> where it was found (element keywords, or 'raw bytes of <file>'), over every DICOM file. A needle of
    digits inside a minted ``2.25.`` UID is not counted: those UIDs are 30-odd random digits, so a four-digit value
    (a serial number) turns up in one by chance in about one run in ten. Nor is a needle inside one of
    ``pseudonyms`` (the keyed fake names the output is meant to hold): with a fresh key per run, the fake of "JOHN"
    is now and then "JOHNSON" (check the pseudonyms themselves with :func:`pseudonym_names`)."""
    import pydicom

    found: dict[str, set[str]] = {}
    needles = {n for n in needles if n}
    for f in dicom_files(folder):
        ds = pydicom.dcmread(f)
        minted = minted_uids(ds)
        for kw, text in element_strings(ds):
            for fake in pseudonyms:
                text = text.replace(fake, "")
            for n in needles:
                if n in text and not (n.isdigit() and text in minted):
                    found.setdefault(n, set()).add(kw)
        raw = f.read_bytes()
        for fake in pseudonyms:
            raw = raw.replace(fake.encode("latin-1", "replace"), b"")
        without_minted = raw
        for u in minted:
            without_minted = without_minted.replace(u.encode("ascii"), b"")
        for n in needles:
            if n.encode("latin-1", "replace") in (without_minted if n.isdigit() else raw):
                found.setdefault(n, set()).add(f"raw bytes of {f.name}")
    return found


def pseudonym_names(folder: Path) -> frozenset[str]:
    """The PatientName values written into the output files (the keyed fake names, where the profile makes them)."""
    import pydicom

    return frozenset(str(pydicom.dcmread(f).get("PatientName", "") or "") for f in dicom_files(folder)) - {""}
