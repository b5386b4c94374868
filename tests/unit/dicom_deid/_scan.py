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


def survivors(folder: Path, needles: set[str]) -> dict[str, set[str]]:
    """needle -> where it was found (element keywords, or 'raw bytes of <file>'), over every DICOM file."""
    import pydicom

    found: dict[str, set[str]] = {}
    needles = {n for n in needles if n}
    for f in dicom_files(folder):
        ds = pydicom.dcmread(f)
        for kw, text in element_strings(ds):
            for n in needles:
                if n in text:
                    found.setdefault(n, set()).add(kw)
        raw = f.read_bytes()
        for n in needles:
            if n.encode("latin-1", "replace") in raw:
                found.setdefault(n, set()).add(f"raw bytes of {f.name}")
    return found
