"""Seeds and mutators of ``bench_fuzz_readers``: small valid inputs made here, and the ways a case damages one.

Each target names the reader kind the worker calls and builds one case in a fresh folder: the seed's files, one of
them mutated (bytes, a text header field, or a DICOM tag). Cases that point outside their folder use
``../canary.raw``, a file of :data:`CANARY_BYTE` that the driver places beside the case folder: a volume made of
those bytes proves a reader left the folder.
"""

from __future__ import annotations

import gzip
import io
import random
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

CANARY_BYTE = 0x7B
SHAPE = (6, 5, 4)
INTERESTING_INTS = [0, 1, 2, 3, 7, 8, 15, 16, 64, 127, 128, 255, 256, 4096, 32767, 32768, 65535, 65536,
                    2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64, 10**9, 10**12, -1, -2]
INTERESTING_TEXT = ["0", "-1", "1", "2", "3", "4", "65535", "2147483648", "4294967296", "18446744073709551616",
                    "1e308", "-1e308", "1e-320", "nan", "inf", "-inf", "0.0", "-0", "", " ", "1" * 5000, "0x10",
                    "1 2", "1,2,3", "(1,0,0)", "(0,0,0) (0,0,0) (0,0,0)", "(1,0,0) (1,0,0) (0,0,1)", "none"]
DATA_FILE_NAMES = ["../canary.raw", "/dev/zero", "/etc/passwd", "/etc", "..", ".", "pipe.raw", "link.raw", "LIST",
                   "LIST 2", "s%d.raw 0 999999999 1", "s%d.raw 0 2 1", "s%0999999999d.raw 0 1 1",
                   "s%d.raw 0 9999999999999999999 1", "s%s%s.raw 0 2 1", "d.raw", "LOCAL", "nonexistent.raw"]
ENCODINGS = ["raw", "gzip", "gz", "bzip2", "bz2", "ascii", "text", "hex", "lzma", ""]


@dataclass(frozen=True)
class Target:
    """A reader under test: the worker's reader kind and the function that writes a mutated case."""

    kind: str
    build: Callable[[Path, random.Random, bool], tuple[Path, str]]


# -- seeds ----------------------------------------------------------------------------------------------------------


def _voxels() -> np.ndarray:
    return (np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE, order="F") * 37 - 1000)


def _raw() -> bytes:
    return np.asfortranarray(_voxels()).astype("<i2").tobytes(order="F")


@lru_cache(maxsize=None)
def seed_nifti(compressed: bool) -> bytes:
    """A 6x5x4 int16 NIfTI-1 (2 x 2 x 3 mm), gzip-compressed or not."""
    import nibabel as nib

    data = nib.Nifti1Image(_voxels(), np.diag([2.0, 2.0, 3.0, 1.0])).to_bytes()
    return gzip.compress(data) if compressed else data


def _nrrd_head(encoding: str, extra: str = "") -> str:
    return ("NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\nsizes: 6 5 4\n"
            "space directions: (2,0,0) (0,2,0) (0,0,3)\nendian: little\n"
            f"encoding: {encoding}\nspace origin: (0,0,0)\n{extra}")


def _nrrd_data(encoding: str) -> bytes:
    raw = _raw()
    return {"raw": raw, "gzip": gzip.compress(raw),
            "ascii": " ".join(map(str, np.asfortranarray(_voxels()).ravel(order="F"))).encode()}[encoding]


def _meta_head(compressed: bool, data_file: str) -> str:
    return ("ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
            f"CompressedData = {compressed}\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = 0 0 0\n"
            f"ElementSpacing = 2 2 3\nDimSize = 6 5 4\nElementType = MET_SHORT\nElementDataFile = {data_file}\n")


@lru_cache(maxsize=None)
def seed_dicom() -> tuple[bytes, ...]:
    """Three axial CT slices (8 x 6 pixels) of one series, as file bytes."""
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    out = []
    for k in range(3):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.PatientName, ds.PatientID, ds.Modality, ds.InstanceNumber = "FUZZ^SEED", "0", "CT", k + 1
        ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 2.5 * k]
        ds.PixelSpacing, ds.SliceThickness, ds.Rows, ds.Columns = [0.8, 0.8], 2.5, 6, 8
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = (np.arange(48, dtype=np.uint16) * 40 + k).tobytes()
        buf = io.BytesIO()
        pydicom.dcmwrite(buf, ds, enforce_file_format=True)
        out.append(buf.getvalue())
    return tuple(out)


NOTE = ("Patient seen on 03/04/2021 for follow-up.\nHistory: chest pain, resolved.\nPlan: review in 6 weeks.\n"
        "Signed: Dr. Example, MD\n").encode()
REPORTS_CSV = ("id,text\n1,\"Heart size normal. No effusion.\"\n2,\"Small left pleural effusion, \"\"new\"\".\"\n"
               "3,No acute findings.\n").encode()
DEID_CSV = ("patient,note\nP1,\"Seen 2021-03-04 by Dr Example.\"\nP2,\"Phone 555-0100, follow-up.\"\n").encode()


# -- mutators -------------------------------------------------------------------------------------------------------


def mutate_bytes(data: bytes, rng: random.Random, protect: int = 0) -> tuple[bytes, str]:
    """One to four byte-level mutations after the first ``protect`` bytes; returns the bytes and a description."""
    buf = bytearray(data)
    done = []
    for _ in range(rng.randint(1, 4)):
        n = len(buf)
        lo = min(protect, max(n - 1, 0))
        op = rng.choice(["flip", "byte", "int", "insert", "delete", "dup", "truncate", "append"])
        pos = rng.randint(lo, max(n - 1, lo)) if n else 0
        if op == "flip" and n:
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == "byte" and n:
            buf[pos] = rng.choice([0, 0xFF, 0x7F, 0x80, 0x20, 0x0A, 0x22, 0x2C])
        elif op == "int" and n >= 4:
            v = rng.choice(INTERESTING_INTS) & 0xFFFFFFFF
            buf[pos:pos + 4] = v.to_bytes(4, rng.choice(["little", "big"]))
        elif op == "insert":
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == "delete" and n:
            del buf[pos:pos + rng.randint(1, 64)]
        elif op == "dup" and n:
            end = min(n, pos + rng.randint(1, 256))
            buf[pos:pos] = buf[pos:end] * rng.randint(1, 8)
        elif op == "truncate" and n:
            del buf[pos:]
        elif op == "append":
            buf += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        done.append(op)
    return bytes(buf), "bytes:" + "+".join(done)


def mutate_header(head: str, rng: random.Random, sep: str) -> tuple[str, str]:
    """Change one ``key<sep>value`` line of a text header (or drop, duplicate or swap lines)."""
    lines = head.splitlines()
    i = rng.randrange(len(lines))
    op = rng.choice(["value", "value", "value", "drop", "dup", "swap", "datafile"])
    if op == "datafile":
        # Data-file names are where confinement is tested: aim at them more often than one line in ten would.
        key = "data file" if sep == ":" else "ElementDataFile"
        value = rng.choice(DATA_FILE_NAMES)
        squeezed = key.lower().replace(" ", "")
        found = [n for n, ln in enumerate(lines) if ln.lower().replace(" ", "").startswith(squeezed)]
        if found:
            lines[found[0]] = f"{key}{sep} {value}"
        else:
            lines.append(f"{key}{sep} {value}")
        desc = f"{key} = {value!r}"
    elif op == "drop":
        desc = f"drop line {i}"
        del lines[i]
    elif op == "dup":
        lines.insert(i, lines[i])
        desc = f"duplicate line {i}"
    elif op == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        desc = f"swap lines {i},{j}"
    else:
        key, found, _old = lines[i].partition(sep)
        low = key.strip().lower().replace(" ", "")
        if low in ("datafile", "elementdatafile"):
            value = rng.choice(DATA_FILE_NAMES)
        elif low == "encoding":
            value = rng.choice(ENCODINGS)
        elif low in ("type", "elementtype"):
            value = rng.choice(["short", "uchar", "double", "block", "MET_SHORT", "MET_DOUBLE", "MET_STRING", "int"])
        else:
            value = rng.choice(INTERESTING_TEXT)
            if rng.random() < 0.3:
                value = " ".join(rng.choice(INTERESTING_TEXT) for _ in range(3))
        lines[i] = f"{key}{sep} {value}" if found else lines[i] + value
        desc = f"{key.strip() or 'line'} = {value[:40]!r}"
    return "\n".join(lines) + "\n", "header:" + desc


def _side_files(case: Path, rng: random.Random) -> None:
    """What a mutated data-file name may point at: a FIFO, a link out, the seed's detached data."""
    import os

    os.mkfifo(case / "pipe.raw")
    os.symlink("../canary.raw", case / "link.raw")
    (case / "d.raw").write_bytes(_raw())
    for k in range(3):
        (case / f"s{k}.raw").write_bytes(_raw()[k * 60:(k + 1) * 60])


def _nrrd_case(encoding: str, detached: bool) -> Callable[[Path, random.Random, bool], tuple[Path, str]]:
    def build(case: Path, rng: random.Random, mutate: bool) -> tuple[Path, str]:
        _side_files(case, rng)
        if detached:
            head, data, name = _nrrd_head(encoding, "data file: d.raw\n"), b"", "v.nhdr"
        else:
            head, data, name = _nrrd_head(encoding), _nrrd_data(encoding), "v.nrrd"
        if not mutate:
            blob, desc = head.encode() + (b"\n" + data if not detached else b""), "seed"
        elif rng.random() < 0.6:
            head, desc = mutate_header(head, rng, ":")
            blob = head.encode() + (b"\n" + data if not detached else b"")
        else:
            blob, desc = mutate_bytes(head.encode() + (b"\n" + data if not detached else b""), rng)
        (case / name).write_bytes(blob)
        return case / name, desc
    return build


def _meta_case(compressed: bool, detached: bool) -> Callable[[Path, random.Random, bool], tuple[Path, str]]:
    def build(case: Path, rng: random.Random, mutate: bool) -> tuple[Path, str]:
        _side_files(case, rng)
        raw = _raw()
        data = zlib.compress(raw) if compressed else raw
        if detached:
            (case / "d.raw").write_bytes(data)
        head = _meta_head(compressed, "d.raw" if detached else "LOCAL")
        name = "v.mhd" if detached else "v.mha"
        if not mutate:
            blob, desc = head.encode() + (b"" if detached else data), "seed"
        elif rng.random() < 0.6:
            head, desc = mutate_header(head, rng, "=")
            blob = head.encode() + (b"" if detached else data)
        else:
            blob, desc = mutate_bytes(head.encode() + (b"" if detached else data), rng)
        (case / name).write_bytes(blob)
        return case / name, desc
    return build


def _nifti_case(compressed: bool) -> Callable[[Path, random.Random, bool], tuple[Path, str]]:
    def build(case: Path, rng: random.Random, mutate: bool) -> tuple[Path, str]:
        data = seed_nifti(False)
        # Mutate the uncompressed bytes (the header is what matters), then compress like the seed.
        blob, desc = mutate_bytes(data, rng) if mutate else (data, "seed")
        name = "v.nii.gz" if compressed else "v.nii"
        (case / name).write_bytes(gzip.compress(blob) if compressed else blob)
        return case / name, desc
    return build


DICOM_TAGS = {
    "Rows": [0, 1, 65535], "Columns": [0, 1, 65535], "BitsAllocated": [0, 1, 7, 12, 32, 64, 65535],
    "NumberOfFrames": ["0", "-1", "2", "1000000", "99999999999"], "SamplesPerPixel": [0, 3, 65535],
    "PixelSpacing": [["0", "0"], ["nan", "1"], ["inf", "1"], ["1"], ["-1", "1"]],
    "ImageOrientationPatient": [["0"] * 6, ["1", "0", "0", "1", "0", "0"], ["1", "0", "0"], ["nan"] * 6],
    "ImagePositionPatient": [["0", "0", "0"], ["nan", "0", "0"], ["1e308", "0", "0"], ["0"]],
    "RescaleSlope": ["0", "inf", "nan", "1e308", "0.5"], "RescaleIntercept": ["nan", "-1e308"],
    "SOPClassUID": ["", "1.2.3"], "SeriesInstanceUID": ["", "1.2.3.4"], "PhotometricInterpretation": ["RGB", ""],
    "PixelRepresentation": [1, 7], "PixelData": [b"", b"\0" * 7, b"\0" * 200000],
}


def _dicom_case(case: Path, rng: random.Random, mutate: bool) -> tuple[Path, str]:
    import os

    import pydicom
    from pydicom import config

    folder = case / "series"
    folder.mkdir()
    slices = list(seed_dicom())
    k = rng.randrange(len(slices))
    if not mutate:
        desc = "seed"
    elif rng.random() < 0.5:
        config.settings.writing_validation_mode = config.IGNORE
        config.settings.reading_validation_mode = config.IGNORE
        ds = pydicom.dcmread(io.BytesIO(slices[k]))
        tag = rng.choice(list(DICOM_TAGS) + ["delete"])
        if tag == "delete":
            tag = rng.choice(["ImageOrientationPatient", "ImagePositionPatient", "Rows", "PixelData", "Modality"])
            delattr(ds, tag)
            desc = f"dicom: delete {tag}"
        else:
            value = rng.choice(DICOM_TAGS[tag])
            setattr(ds, tag, value)
            desc = f"dicom: {tag} = {str(value)[:30]}"
        if rng.random() < 0.2:
            ds.file_meta.TransferSyntaxUID = rng.choice(["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5", "1.2"])
            desc += " + transfer syntax"
        buf = io.BytesIO()
        try:
            pydicom.dcmwrite(buf, ds)
            slices[k] = buf.getvalue()
        except Exception as exc:  # pydicom itself cannot write this value: fall back to a byte mutation
            slices[k], desc = mutate_bytes(slices[k], rng, protect=132)
            desc += f" (tag write failed: {type(exc).__name__})"
    else:
        slices[k], desc = mutate_bytes(slices[k], rng, protect=rng.choice([0, 132, 132]))
    for i, data in enumerate(slices):
        (folder / f"im{i}.dcm").write_bytes(data)
    if mutate and rng.random() < 0.05:
        os.mkfifo(folder / "pipe.dcm")
        desc += " + FIFO in folder"
    return folder, desc


def _text_case(seed: bytes, name: str) -> Callable[[Path, random.Random, bool], tuple[Path, str]]:
    def build(case: Path, rng: random.Random, mutate: bool) -> tuple[Path, str]:
        r = rng.random() if mutate else -1.0
        if r < 0:
            blob, desc = seed, "seed"
        elif r < 0.15:
            blob, desc = seed.decode().encode(rng.choice(["utf-16", "utf-16-le", "utf-32", "latin-1"])), "re-encoded"
        elif r < 0.3:
            specials = [b'"', b'"unclosed', b"\0", b"\r", b"\r\n", b",,,,", b"\xff\xfe", b"\xef\xbb\xbf", b"=1+1",
                        b"x" * 200_000, b"\n" * 1000, b"\xe9", b"\xc3"]
            pos = rng.randint(0, len(seed))
            piece = rng.choice(specials)
            blob, desc = seed[:pos] + piece + seed[pos:], f"insert {piece[:12]!r}"
        elif r < 0.33:
            blob, desc = rng.choice([b"", b" \n\t ", b"id\n", b"text\n"]), "degenerate"
        else:
            blob, desc = mutate_bytes(seed, rng)
        (case / name).write_bytes(blob)
        return case / name, desc
    return build


TARGETS: dict[str, Target] = {
    "nifti": Target("nifti", _nifti_case(False)),
    "nifti.gz": Target("nifti", _nifti_case(True)),
    "nrrd raw": Target("nrrd", _nrrd_case("raw", False)),
    "nrrd gzip": Target("nrrd", _nrrd_case("gzip", False)),
    "nrrd ascii": Target("nrrd", _nrrd_case("ascii", False)),
    "nhdr detached": Target("nrrd", _nrrd_case("raw", True)),
    "mha": Target("mha", _meta_case(False, False)),
    "mha zlib": Target("mha", _meta_case(True, False)),
    "mhd detached": Target("mhd", _meta_case(False, True)),
    "dicom": Target("dicom", _dicom_case),
    "note": Target("note", _text_case(NOTE, "note.txt")),
    "reports csv": Target("reports_csv", _text_case(REPORTS_CSV, "reports.csv")),
    "deid csv": Target("deid_csv", _text_case(DEID_CSV, "notes.csv")),
}


def make_case(name: str, case_dir: Path, rng: random.Random, mutate: bool = True) -> tuple[Path, str]:
    """Write one case of target ``name`` into ``case_dir`` (the seed itself when not ``mutate``); return the path to
    read and a description of the mutation."""
    return TARGETS[name].build(case_dir, rng, mutate)
