"""Header parsing of NRRD (.nrrd, .nhdr) and MetaImage (.mha, .mhd): the half of :mod:`.itk_formats` that reads
what a header says (sizes, voxel type, encoding, data files, LPS+ geometry) before any voxel is touched.

Split from :mod:`.itk_formats` (which re-exports everything public here) to keep each module readable; the format
notes and the error contract are in that module's docstring.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medpriv_desktop.core.imaging.safe_read import open_regular

__all__ = ["ItkHeader", "ItkHeaderError", "ItkGeometryError", "read_header", "MAX_HEADER_BYTES", "MAX_DIMENSION",
           "MAX_DATA_FILES"]

#: Longest header read before deciding the file is not one (a detached header with a long LIST stays far below).
MAX_HEADER_BYTES = 4 * 1024 * 1024
#: Most axes a header may declare (Teem's NRRD_DIM_MAX; MetaIO's limit is lower).
MAX_DIMENSION = 16
#: Most detached data files (a LIST or a pattern); a 4D series of 1000 time points x 50 slices stays below it.
MAX_DATA_FILES = 100_000
_LPS_FLIPS = {"left-posterior-superior": (1, 1, 1), "lps": (1, 1, 1), "right-anterior-superior": (-1, -1, 1),
              "ras": (-1, -1, 1), "left-anterior-superior": (1, -1, 1), "las": (1, -1, 1)}
_OTHER_SPACES = {"scanner-xyz", "3d-right-handed", "3d-left-handed"}
_NRRD_TYPES = {
    np.dtype(np.int8): ("signed char", "int8", "int8_t"),
    np.dtype(np.uint8): ("uchar", "unsigned char", "uint8", "uint8_t"),
    np.dtype(np.int16): ("short", "short int", "signed short", "signed short int", "int16", "int16_t"),
    np.dtype(np.uint16): ("ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t"),
    np.dtype(np.int32): ("int", "signed int", "int32", "int32_t"),
    np.dtype(np.uint32): ("uint", "unsigned int", "uint32", "uint32_t"),
    np.dtype(np.int64): ("longlong", "long long", "long long int", "signed long long", "signed long long int",
                         "int64", "int64_t"),
    np.dtype(np.uint64): ("ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t"),
    np.dtype(np.float32): ("float",),
    np.dtype(np.float64): ("double",),
}
_NRRD_TYPE_OF = {name: dt for dt, names in _NRRD_TYPES.items() for name in names}
_NRRD_ENCODINGS = {"raw": "raw", "gz": "gzip", "gzip": "gzip", "bz2": "bzip2", "bzip2": "bzip2", "txt": "ascii",
                   "text": "ascii", "ascii": "ascii", "hex": "hex"}
#: NRRD axis kinds that make an axis part of the image domain (anything else holds a voxel's components).
_DOMAIN_KINDS = {"domain", "space", "time", "none", "???"}
# MetaIO's own sizes: MET_LONG is 4 bytes on every platform, MET_LONG_LONG 8.
_MET_TYPES = {"MET_CHAR": np.int8, "MET_ASCII_CHAR": np.int8, "MET_UCHAR": np.uint8, "MET_SHORT": np.int16,
              "MET_USHORT": np.uint16, "MET_INT": np.int32, "MET_UINT": np.uint32, "MET_LONG": np.int32,
              "MET_ULONG": np.uint32, "MET_LONG_LONG": np.int64, "MET_ULONG_LONG": np.uint64,
              "MET_FLOAT": np.float32, "MET_DOUBLE": np.float64}

class ItkHeaderError(ValueError):
    """The header cannot be read: not NRRD/MetaImage, a missing or malformed field, an unsupported feature."""


class ItkGeometryError(ItkHeaderError):
    """The header's voxel sizes or axis directions describe no 3D grid (zero, infinite, undefined, singular)."""


@dataclass
class ItkHeader:
    """What a header says, enough to check the image before reading its data."""

    path: Path
    format: str  # "nrrd" or "metaimage"
    sizes: tuple[int, ...]  # every axis in file order, fastest first (component axes included)
    dims: tuple[int, ...]  # the domain axes (spatial, and time for 4D) in file order
    components: int  # values per voxel (product of the non-domain axes)
    dtype: np.dtype  # with the file's byte order
    encoding: str  # raw, gzip, bzip2, zlib, ascii or hex
    data_files: list[Path] | None  # None: the data follows the header in the same file
    data_offset: int = 0  # attached data: where it starts
    line_skip: int = 0
    byte_skip: int = 0  # -1: the data ends the file (raw only)
    spacing: tuple[float, ...] = (1.0, 1.0, 1.0)
    origin: np.ndarray = field(default_factory=lambda: np.zeros(3))  # LPS
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))  # LPS, columns are axes i, j, k


def read_header(path: str | Path) -> ItkHeader:
    """Parse the header of a NRRD (recognised by its magic) or MetaImage file; raises :class:`ItkHeaderError`.

    Only a regular file is opened (:class:`~.safe_read.UnsafeFileError` otherwise, never a blocking open).
    """
    path = Path(path)
    with open_regular(path) as fh:
        magic = fh.read(8)
    if magic.startswith(b"NRRD"):
        return _nrrd_header(path)
    return _meta_header(path)


def _iter_header_lines(path: Path, skip_magic: bool):
    """Yield (line text, offset after it) for the text lines at the start of a file, stopping at binary data."""
    with open_regular(path) as fh:
        if skip_magic:
            fh.readline(64)
        while fh.tell() < MAX_HEADER_BYTES:
            raw = fh.readline(MAX_HEADER_BYTES)
            if not raw or b"\0" in raw:
                return  # end of file, or binary data although the header has not ended
            yield raw.decode("latin-1").rstrip("\r\n"), fh.tell()
            if not raw.endswith(b"\n"):
                return


def _floats(text: str, n: int | None, what: str) -> list[float]:
    try:
        vals = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise ItkHeaderError(f"{what} is not a list of numbers: {text[:60]!r}") from None
    if n is not None and len(vals) < n:
        raise ItkHeaderError(f"{what} needs {n} numbers, has {len(vals)}")
    return vals


def _ints(text: str, what: str) -> list[int]:
    try:
        vals = [int(v) for v in text.split()]
    except ValueError:
        raise ItkHeaderError(f"{what} is not a list of whole numbers: {text[:60]!r}") from None
    if not vals or any(v < 1 for v in vals):
        raise ItkHeaderError(f"{what} must be positive whole numbers: {text[:60]!r}")
    return vals


def _data_files(value: str, base: Path, extra_lines: list[str], what: str, sizes: list[int]) -> list[Path]:
    """A data-file field: one name, ``LIST`` (names on the following lines) or ``pattern min max step``.

    How many files there may be is bounded before any name is made: each file holds at least one row of voxels
    (so at most the product of all sizes but the fastest) and never more than :data:`MAX_DATA_FILES`. The names are
    only joined to ``base`` here; :mod:`.itk_formats` confines them to the header's folder when it opens them.
    """
    most = min(MAX_DATA_FILES, math.prod(sizes[1:]) if len(sizes) > 1 else 1)
    tokens = value.split()
    if tokens and tokens[0].upper() == "LIST":
        names = [ln.strip() for ln in extra_lines if ln.strip()]
        if not names:
            raise ItkHeaderError(f"{what} is LIST but no file names follow")
    elif len(tokens) >= 4 and "%" in tokens[0] and all(re.fullmatch(r"-?\d{1,19}", t) for t in tokens[1:4]):
        # One integer conversion with a width of at most two digits: "%0999999999d" would make a 1 GB name.
        if not re.fullmatch(r"[^%]*%0?\d{0,2}[diu][^%]*", tokens[0]):
            raise ItkHeaderError(f"{what} has a pattern that is not a file-name format")
        lo, hi, step = (int(t) for t in tokens[1:4])
        if step == 0:
            raise ItkHeaderError(f"{what} has a pattern with step 0")
        # Counted in Python integers before any name is made (len() of a huge range overflows).
        count = max(0, (hi - lo) // step + 1)
        if not 1 <= count <= most:
            raise ItkHeaderError(f"{what} pattern names {count} files; this image can have 1 to {most}")
        indices = range(lo, hi + (1 if step > 0 else -1), step)
        try:
            names = [tokens[0] % i for i in indices]
        except (TypeError, ValueError, OverflowError):
            raise ItkHeaderError(f"{what} has a pattern that is not a file-name format") from None
    else:
        names = [value.strip()]
    if len(names) > most:
        raise ItkHeaderError(f"{what} lists {len(names)} files; this image can have 1 to {most}")
    return [p if p.is_absolute() else base / p for p in (Path(n) for n in names)]


def _axis_geometry(vectors: list[np.ndarray]) -> tuple[tuple[float, ...], np.ndarray]:
    """Spacing and unit direction columns from per-axis step vectors; a negative step flips its direction.

    Refuses a zero, infinite or undefined step and axes that (nearly) coincide, which describe no 3D grid.
    """
    from medpriv_desktop.core.imaging.volume import MIN_DIRECTION_DET

    spacing = []
    cols = []
    for v in vectors:
        if not np.all(np.isfinite(v)):
            raise ItkGeometryError("an axis has an infinite or undefined voxel size")
        norm = float(np.linalg.norm(v))
        if not np.isfinite(norm) or norm == 0:
            raise ItkGeometryError("an axis has a zero, infinite or undefined voxel size")
        spacing.append(norm)
        cols.append(v / norm)
    direction = np.column_stack(cols)
    if abs(float(np.linalg.det(direction))) < MIN_DIRECTION_DET:
        raise ItkGeometryError("two voxel axes point the same way (singular orientation matrix)")
    return tuple(spacing), direction


# -- NRRD ---------------------------------------------------------------------------------------------------------


def _nrrd_header(path: Path) -> ItkHeader:
    with open_regular(path) as fh:
        magic = fh.readline(64).strip()
    if not re.fullmatch(rb"NRRD000[1-5]", magic):
        raise ItkHeaderError(f"unsupported NRRD version {magic[:12].decode('latin-1')!r}")
    fields: dict[str, str] = {}
    data_offset = None
    list_names: list[str] = []
    in_list = False
    for text, end in _iter_header_lines(path, skip_magic=True):
        if not text.strip():
            data_offset = end
            break
        if in_list:
            list_names.append(text)
            continue
        if text.startswith("#") or re.match(r"[^:]*:=", text):
            continue  # comments and key/value pairs
        m = re.match(r"([^:]+):\s?(.*)$", text)
        if not m:
            raise ItkHeaderError(f"not a NRRD header line: {text[:60]!r}")
        key = m.group(1).strip().lower().replace(" ", "")
        fields[key] = m.group(2).strip()
        if key == "datafile" and fields[key].split()[:1] == ["LIST"]:
            in_list = True  # the file names follow, to the end of the header
    if data_offset is None and "datafile" not in fields:
        raise ItkHeaderError("the NRRD header does not end (no blank line before the data)")
    for required in ("type", "dimension", "sizes", "encoding"):
        if required not in fields:
            raise ItkHeaderError(f"the NRRD header has no '{required}' field")
    type_name = " ".join(fields["type"].lower().split())
    if type_name not in _NRRD_TYPE_OF:
        raise ItkHeaderError(f"unsupported NRRD type '{fields['type']}'")
    dtype = _NRRD_TYPE_OF[type_name]
    encoding = _NRRD_ENCODINGS.get(fields["encoding"].lower())
    if encoding is None:
        raise ItkHeaderError(f"unknown NRRD encoding '{fields['encoding']}'")
    endian = fields.get("endian", "little").lower()
    if endian not in ("little", "big"):
        raise ItkHeaderError(f"unknown NRRD endian '{fields['endian']}'")
    dtype = dtype.newbyteorder("<" if endian == "little" else ">")
    try:
        ndim = int(fields["dimension"])
    except ValueError:
        raise ItkHeaderError(f"NRRD dimension is not a number: {fields['dimension']!r}") from None
    if not 1 <= ndim <= MAX_DIMENSION:
        raise ItkHeaderError(f"NRRD dimension {ndim} is not between 1 and {MAX_DIMENSION}")
    sizes = _ints(fields["sizes"], "NRRD sizes")
    if len(sizes) != ndim:
        raise ItkHeaderError(f"NRRD sizes has {len(sizes)} entries for dimension {ndim}")

    # Which axes are the image domain: those with a space direction, else those of a domain kind.
    domain = [True] * ndim
    directions = None
    if "spacedirections" in fields:
        entries = re.findall(r"\(([^)]*)\)|(none)", fields["spacedirections"], flags=re.I)
        if len(entries) != ndim:
            raise ItkHeaderError(f"NRRD space directions has {len(entries)} entries for dimension {ndim}")
        domain = [not none for _vec, none in entries]
        directions = [np.array(_floats(vec, None, "a NRRD space direction")) if not none else None
                      for vec, none in entries]
    elif "kinds" in fields:
        kinds = fields["kinds"].split()
        if len(kinds) == ndim:
            domain = [k.lower() in _DOMAIN_KINDS for k in kinds]
    # Singleton non-domain axes change nothing in the layout; larger ones make a vector (or 4D) image.
    dims = tuple(s for s, d in zip(sizes, domain) if d)
    components = math.prod(s for s, d in zip(sizes, domain) if not d)  # Python integers: no overflow
    header = ItkHeader(path, "nrrd", tuple(sizes), dims, components, dtype, encoding, None, data_offset or 0)
    try:
        header.line_skip = int(fields.get("lineskip", 0))
        header.byte_skip = int(fields.get("byteskip", 0))
    except ValueError:
        raise ItkHeaderError("NRRD line skip or byte skip is not a whole number") from None
    if header.line_skip < 0 or header.byte_skip < -1 or (header.byte_skip == -1 and encoding != "raw"):
        raise ItkHeaderError("NRRD byte skip -1 works only with raw encoding; skips cannot be negative")
    if "datafile" in fields:
        header.data_files = _data_files(fields["datafile"], path.parent, list_names, "NRRD data file", sizes)
    if components == 1 and len(dims) >= 3:
        _nrrd_geometry(header, fields, directions, domain)
    return header


def _nrrd_geometry(header: ItkHeader, fields: dict[str, str], directions, domain: list[bool]) -> None:
    space = " ".join(fields.get("space", "").lower().split())
    if space and space not in _LPS_FLIPS and space not in _OTHER_SPACES:
        raise ItkHeaderError(f"NRRD space '{fields['space']}' is not a 3D space (LPS, RAS, LAS, scanner-xyz)")
    if fields.get("spacedimension", "3").strip() != "3":
        raise ItkHeaderError(f"NRRD space dimension {fields['spacedimension']} is not 3")
    flip = np.array(_LPS_FLIPS.get(space, (1, 1, 1)), float)
    axes = [i for i, d in enumerate(domain) if d][:3]
    if directions is not None and any(directions[i] is None for i in axes):
        raise ItkHeaderError("NRRD space directions says 'none' for a spatial axis")
    if directions is not None:
        vecs = [directions[i] for i in axes]
        if any(v.shape != (3,) for v in vecs):
            raise ItkHeaderError("NRRD space directions are not 3D vectors")
        header.spacing, header.direction = _axis_geometry([flip * v for v in vecs])
    elif "spacings" in fields:
        sp = _floats(fields["spacings"].lower(), len(domain), "NRRD spacings")
        steps = [sp[i] for i in axes]
        if not all(np.isfinite(steps)) or 0 in steps:
            raise ItkGeometryError("an axis has a zero, infinite or undefined voxel size")
        header.spacing, header.direction = _axis_geometry([s * np.eye(3)[n] for n, s in enumerate(steps)])
    if "spaceorigin" in fields:
        org = re.findall(r"\(([^)]*)\)", fields["spaceorigin"])
        if not org:
            raise ItkHeaderError("NRRD space origin is not a (x,y,z) vector")
        vals = _floats(org[0], 3, "NRRD space origin")
        header.origin = flip * np.array(vals[:3]) if np.all(np.isfinite(vals[:3])) else np.zeros(3)
    elif "axismins" in fields:
        mins = _floats(fields["axismins"].lower(), len(domain), "NRRD axis mins")
        vals = [mins[i] if np.isfinite(mins[i]) else 0.0 for i in axes]
        header.origin = np.array(vals, float)


# -- MetaImage ----------------------------------------------------------------------------------------------------


def _meta_header(path: Path) -> ItkHeader:
    fields: dict[str, str] = {}
    data_offset = None
    rest: list[str] = []
    lines = _iter_header_lines(path, skip_magic=False)
    for text, end in lines:
        if not text.strip():
            continue
        key, eq, value = text.partition("=")
        # ITK also writes its own metadata (``dim[1] = 122``...): any printable key is accepted, then ignored.
        if not eq or not key.strip() or not text.replace("\t", " ").isprintable():
            raise ItkHeaderError("not a NRRD or MetaImage header")
        key = key.strip().lower()
        fields[key] = value.strip()
        if key == "elementdatafile":
            data_offset = end
            if fields[key].split()[:1] == ["LIST"]:
                rest = [t for t, _e in lines]  # the file names, to the end of the file
            break
    if data_offset is None:
        raise ItkHeaderError("not a NRRD or MetaImage header (no ElementDataFile field)")
    if fields.get("objecttype", "Image").lower() != "image":
        raise ItkHeaderError(f"MetaImage object type '{fields['objecttype']}' is not an image")
    for required in ("ndims", "dimsize", "elementtype"):
        if required not in fields:
            raise ItkHeaderError(f"the MetaImage header has no '{required}' field")
    etype = fields["elementtype"].upper().removesuffix("_ARRAY")
    if etype not in _MET_TYPES:
        raise ItkHeaderError(f"unsupported MetaImage element type '{fields['elementtype']}'")
    msb = _bool(fields.get("binarydatabyteordermsb", fields.get("elementbyteordermsb", "False")))
    dtype = np.dtype(_MET_TYPES[etype]).newbyteorder(">" if msb else "<")
    try:
        ndim = int(fields["ndims"])
        channels = int(fields.get("elementnumberofchannels", "1"))
        header_size = int(fields.get("headersize", "0"))
    except ValueError:
        raise ItkHeaderError("MetaImage NDims, ElementNumberOfChannels or HeaderSize is not a whole number") from None
    if not 1 <= ndim <= MAX_DIMENSION:
        raise ItkHeaderError(f"MetaImage NDims {ndim} is not between 1 and {MAX_DIMENSION}")
    dims = _ints(fields["dimsize"], "MetaImage DimSize")
    if len(dims) != ndim:
        raise ItkHeaderError(f"MetaImage DimSize has {len(dims)} entries for NDims {ndim}")
    if channels < 1:
        raise ItkHeaderError("MetaImage ElementNumberOfChannels must be at least 1")
    compressed = _bool(fields.get("compresseddata", "False"))
    binary = _bool(fields.get("binarydata", "True"))
    encoding = "zlib" if compressed else ("raw" if binary else "ascii")
    sizes = ([channels] if channels > 1 else []) + dims  # channels are interleaved (fastest)
    value = fields["elementdatafile"]
    local = value.upper() == "LOCAL"
    header = ItkHeader(path, "metaimage", tuple(sizes), tuple(dims), channels, dtype, encoding,
                       None if local else _data_files(value, path.parent, rest, "MetaImage ElementDataFile", sizes),
                       data_offset)
    if not local and header_size:
        if header_size < -1 or (header_size == -1 and encoding != "raw"):
            raise ItkHeaderError("MetaImage HeaderSize -1 works only with uncompressed binary data")
        header.byte_skip = header_size
    if channels == 1 and ndim >= 3:
        spacing = fields.get("elementspacing", fields.get("elementsize"))
        sp = _floats(spacing, ndim, "MetaImage ElementSpacing") if spacing else [1.0] * ndim
        matrix = next((fields[k] for k in ("transformmatrix", "rotation", "orientation") if k in fields), None)
        # MetaIO lists the direction of axis 0, then of axis 1...: column-major.
        m = (np.array(_floats(matrix, ndim * ndim, "MetaImage TransformMatrix")[:ndim * ndim]).reshape(ndim, ndim).T
             if matrix else np.eye(ndim))
        header.spacing, header.direction = _axis_geometry([m[:3, i] * sp[i] for i in range(3)])
        origin = next((fields[k] for k in ("offset", "origin", "position") if k in fields), None)
        header.origin = np.array(_floats(origin, ndim, "MetaImage Offset")[:3]) if origin else np.zeros(3)
    return header


def _bool(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes")
