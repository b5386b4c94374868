"""NRRD (.nrrd, .nhdr) and MetaImage (.mha, .mhd) reading and writing with numpy and the standard library only.

The app reads and writes these two formats and nothing else of ITK, so it does not ship SimpleITK (about 260 MB in
the frozen app). Geometry here is ITK's: LPS+ physical space, ``direction`` columns are the unit vectors of voxel
axes i, j, k, ``origin`` is the centre of voxel (0, 0, 0); :mod:`.io` converts to the RAS+ :class:`Volume`.
Arrays are ``[i, j, k]`` with ``i`` the fastest axis on disk (Fortran-ordered like nibabel's, so reading needs
no transpose), writable, native byte order, the file's voxel type.

Supported: NRRD0001-0005, attached or detached data (one file, ``LIST`` or a ``%d`` pattern), encodings raw,
gzip, bzip2, ascii and hex, every scalar type, either endian, ``space`` (LPS, RAS, LAS and the long names),
``space directions`` / ``space origin`` or ``spacings`` / ``axis mins``, ``line skip`` and ``byte skip``.
MetaImage with ``ElementDataFile = LOCAL``, a companion file, ``LIST`` or a pattern; ``CompressedData``,
``BinaryDataByteOrderMSB`` / ``ElementByteOrderMSB``, ``TransformMatrix`` / ``Rotation`` / ``Orientation``,
``Offset`` / ``Origin`` / ``Position``, ``ElementSpacing``, ``HeaderSize`` and all ``MET_`` scalar types.

Errors: :class:`ItkHeaderError` (not a readable header; :class:`ItkGeometryError` for voxel sizes or directions that
describe no grid), :class:`ItkDataError` (data missing, truncated, damaged or longer than declared) and
:class:`~.safe_read.UnsafeFileError` (a data file outside the header's folder, or not a regular file); :mod:`.io`
turns each into an ``InputError`` naming the header file. Writers are atomic; a ``.mhd`` writes its
``.zraw`` first and the header last, so a header never names data that is not there.
"""

from __future__ import annotations

import io
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medpriv_desktop.core.fileio import atomic_path
# The header half lives in its own module; its public names are part of this module's API.
from medpriv_desktop.core.imaging.itk_headers import ItkGeometryError, ItkHeader, ItkHeaderError, read_header
from medpriv_desktop.core.imaging.safe_read import UnsafeFileError, confined_path, inflate_bounded, open_regular

__all__ = ["ItkHeader", "ItkImage", "ItkHeaderError", "ItkGeometryError", "ItkDataError", "read_header", "read_data",
           "read_image", "write_image"]

#: The names written (Teem's canonical ones, which every NRRD reader knows).
_NRRD_NAME = {np.dtype(np.int8): "signed char", np.dtype(np.uint8): "unsigned char", np.dtype(np.int16): "short",
              np.dtype(np.uint16): "unsigned short", np.dtype(np.int32): "int", np.dtype(np.uint32): "unsigned int",
              np.dtype(np.int64): "long long int", np.dtype(np.uint64): "unsigned long long int",
              np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_MET_NAME = {np.dtype(np.int8): "MET_CHAR", np.dtype(np.uint8): "MET_UCHAR", np.dtype(np.int16): "MET_SHORT",
             np.dtype(np.uint16): "MET_USHORT", np.dtype(np.int32): "MET_INT", np.dtype(np.uint32): "MET_UINT",
             np.dtype(np.int64): "MET_LONG_LONG", np.dtype(np.uint64): "MET_ULONG_LONG",
             np.dtype(np.float32): "MET_FLOAT", np.dtype(np.float64): "MET_DOUBLE"}


#: Most decompressed bytes a byte skip may drop before the data (real files skip a small preamble, if anything).
MAX_COMPRESSED_SKIP = 64 * 1024 * 1024
#: Text data is read in chunks of this many bytes; a single value longer than _MAX_TEXT_TOKEN is refused.
_TEXT_CHUNK = 1 << 20
_MAX_TEXT_TOKEN = 4096
#: Longest line a "line skip" reads at a time (a line longer than this counts as several).
_MAX_SKIPPED_LINE = 1 << 20


class ItkDataError(ValueError):
    """The voxel data is missing, shorter than the header says, or cannot be decoded."""


@dataclass
class ItkImage:
    """Voxels ``[i, j, k]`` and LPS+ geometry, as ITK holds an image."""

    array: np.ndarray
    spacing: tuple[float, float, float]
    origin: np.ndarray
    direction: np.ndarray


# -- reading ------------------------------------------------------------------------------------------------------


def read_image(path: str | Path) -> ItkImage:
    """Read a NRRD or MetaImage file (header and data)."""
    return read_data(read_header(path))


def read_data(header: ItkHeader) -> ItkImage:
    """Read and decode the voxels a header describes; raises :class:`ItkDataError` when they are not all there.

    Detached data files are read only when they are regular files inside the header's folder (links resolved);
    otherwise :class:`~.safe_read.UnsafeFileError`. Compressed data is inflated to exactly the size the header
    declares (more is an error, never a longer read) and text data is parsed in chunks, so memory stays at the
    size of the voxels whatever the file holds. Sizes are Python integers: no product of sizes can overflow.
    """
    if header.components != 1:
        raise ItkHeaderError(f"{header.components} values per voxel; only scalar images are read")
    dtype = header.dtype
    count = math.prod(header.sizes)
    nbytes = count * dtype.itemsize
    sources = header.data_files or [header.path]
    if header.encoding in ("ascii", "hex"):
        flat = _read_text_values(header, sources, count)
    else:
        per_file, rest = divmod(nbytes, len(sources))
        if rest:
            raise ItkDataError(f"{nbytes} bytes of data cannot be split evenly over {len(sources)} files")
        if header.encoding != "raw" and header.byte_skip > MAX_COMPRESSED_SKIP:
            raise ItkDataError(f"a byte skip of {header.byte_skip} into compressed data is more than this reader "
                               f"allows ({MAX_COMPRESSED_SKIP})")
        if len(sources) == 1:
            buf = _read_binary(header, sources[0], per_file, None)
        else:
            buf = np.empty(nbytes, np.uint8)
            for n, src in enumerate(sources):
                _read_binary(header, src, per_file, buf[n * per_file:(n + 1) * per_file])
        flat = np.frombuffer(buf, dtype=dtype, count=count)
    # File order has i fastest: a Fortran-order reshape gives [i, j, k] without moving a byte (nibabel returns NIfTI
    # voxels the same way). One straight copy makes the array writable and native-endian; no transpose.
    arr = np.array(flat.reshape(header.dims, order="F"), dtype=dtype.newbyteorder("="), order="F")
    return ItkImage(arr, tuple(header.spacing[:3]), np.array(header.origin, float), np.array(header.direction, float))


def _open_data(header: ItkHeader, src: Path):
    """Open a data source positioned at its data: confined to the header's folder, a regular file, lines skipped."""
    if header.data_files is not None:
        src = confined_path(src, header.path.parent)
    try:
        fh = open_regular(src)
    except OSError:
        raise ItkDataError(f"the data file {src.name} is missing or unreadable") from None
    if header.data_files is None:
        fh.seek(header.data_offset)
    for _ in range(header.line_skip):
        if not fh.readline(_MAX_SKIPPED_LINE):
            break
    return fh


def _read_binary(header: ItkHeader, src: Path, nbytes: int, into: np.ndarray | None) -> np.ndarray:
    """``nbytes`` of raw or decompressed data from one source, as uint8 (written into ``into`` when given)."""
    with _open_data(header, src) as fh:
        if header.encoding == "raw":
            if header.byte_skip == -1:
                size = fh.seek(0, 2)
                if size < nbytes:
                    raise ItkDataError(f"data is truncated: {size} of {nbytes} bytes")
                fh.seek(-nbytes, 2)
            elif header.byte_skip:
                fh.seek(header.byte_skip, 1)
            out = np.empty(nbytes, np.uint8) if into is None else into
            got = fh.readinto(memoryview(out))  # never more than nbytes, whatever the file's size
            if got < nbytes:
                raise ItkDataError(f"data is truncated: {got} of {nbytes} bytes")
            return out
        try:
            data = inflate_bounded(fh, header.encoding, header.byte_skip, nbytes)
        except EOFError as exc:
            raise ItkDataError(str(exc)) from None
        except UnsafeFileError as exc:
            raise ItkDataError(str(exc)) from None
        except (zlib.error, OSError, ValueError):
            raise ItkDataError(f"the {header.encoding} data is damaged") from None
    if into is None:
        return data
    into[:] = data
    return into


def _read_text_values(header: ItkHeader, sources: list[Path], count: int) -> np.ndarray:
    """Parse ascii or hex voxel text in chunks straight into the output array (no list of every token)."""
    dtype = header.dtype.newbyteorder("=")
    if header.encoding == "hex":
        raw = np.empty(count * dtype.itemsize, np.uint8)
        filled = 0
        for src in sources:
            with _open_data(header, src) as fh:
                carry = ""
                while filled < raw.size:
                    chunk = fh.read(_TEXT_CHUNK)
                    digits = carry + "".join(chunk.decode("latin-1").split())
                    usable = min(len(digits) // 2, raw.size - filled)
                    try:
                        raw[filled:filled + usable] = np.frombuffer(bytes.fromhex(digits[:2 * usable]), np.uint8)
                    except ValueError:
                        raise ItkDataError("the hex data is damaged") from None
                    filled += usable
                    carry = digits[2 * usable:]
                    if not chunk:
                        break
        if filled < raw.size:
            raise ItkDataError(f"data is truncated: {filled} of {raw.size} bytes")
        return np.frombuffer(raw, dtype=header.dtype, count=count)
    out = np.empty(count, dtype)
    filled = 0
    for src in sources:
        with _open_data(header, src) as fh:
            carry = ""
            while filled < count:
                chunk = fh.read(_TEXT_CHUNK)
                text = (carry + chunk.decode("latin-1")).replace(",", " ")
                tokens = text.split()
                carry = ""
                if chunk and tokens and not text[-1].isspace():
                    carry = tokens.pop()  # perhaps cut by the chunk's end: parsed with the next chunk
                    if len(carry) > _MAX_TEXT_TOKEN:
                        raise ItkDataError("the text data holds a value too long to be a number")
                tokens = tokens[:count - filled]
                out[filled:filled + len(tokens)] = _parse_numbers(tokens, dtype)
                filled += len(tokens)
                if not chunk:
                    break
    if filled < count:
        raise ItkDataError(f"data is truncated: {filled} of {count} values")
    return out


def _parse_numbers(tokens: list[str], dtype: np.dtype) -> np.ndarray:
    try:
        return np.array(tokens, dtype=dtype)
    except (ValueError, OverflowError):
        try:  # integers written as "3.0"
            return np.array(tokens, dtype=np.float64).astype(dtype)
        except ValueError:
            raise ItkDataError("the text data holds something that is not a number") from None


# -- writing ------------------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    # repr is the shortest text that reads back as the same double.
    x = float(x)
    return repr(0.0 if x == 0 else x)


def _writable(array: np.ndarray) -> np.ndarray:
    if array.ndim != 3:
        raise ValueError(f"only 3D images are written, got shape {array.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    elif array.dtype == np.float16:
        array = array.astype(np.float32)
    if array.dtype.newbyteorder("=") not in _MET_NAME:
        raise ValueError(f"cannot write voxels of type {array.dtype}")
    # File order is i fastest: the Fortran-order bytes of [i, j, k], little-endian.
    return np.asfortranarray(array, dtype=array.dtype.newbyteorder("<"))


def _finish(fh) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _compress_to(fh, array: np.ndarray, wbits: int, level: int) -> int:
    """Stream ``array``'s bytes compressed into ``fh`` in slabs (no second full copy); return the bytes written."""
    comp = zlib.compressobj(level, zlib.DEFLATED, wbits)
    flat = memoryview(array.reshape(-1, order="F").view(np.uint8))
    written = 0
    step = 16 * 1024 * 1024
    for start in range(0, len(flat), step):
        written += fh.write(comp.compress(flat[start:start + step]))
    return written + fh.write(comp.flush())


def write_image(path: str | Path, image: ItkImage, level: int = 1) -> Path:
    """Write ``image`` as gzip NRRD (.nrrd) or zlib MetaImage (.mha, or .mhd + .zraw), atomically.

    ``level`` is zlib's: 1 compresses a CT nearly as well as 6 in about half the time, and label maps shrink tens
    of times at any level.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    arr = _writable(image.array)
    spacing = [float(s) for s in image.spacing]
    direction = np.asarray(image.direction, float).reshape(3, 3)
    origin = np.asarray(image.origin, float).reshape(3)
    dtype = arr.dtype.newbyteorder("=")
    if suffix == ".nrrd":
        vecs = " ".join("(" + ",".join(_num(v) for v in direction[:, i] * spacing[i]) + ")" for i in range(3))
        lines = ["NRRD0004", "# Complete NRRD file format specification at:",
                 "# http://teem.sourceforge.net/nrrd/format.html", f"type: {_NRRD_NAME[dtype]}",
                 "dimension: 3", "space: left-posterior-superior", "sizes: " + " ".join(map(str, arr.shape)),
                 f"space directions: {vecs}", "kinds: domain domain domain"]
        if dtype.itemsize > 1:
            lines.append("endian: little")
        lines += ["encoding: gzip", "space origin: (" + ",".join(_num(v) for v in origin) + ")"]
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            fh.write(("\n".join(lines) + "\n\n").encode("ascii"))
            _compress_to(fh, arr, 31, level)
            _finish(fh)
        return path
    if suffix not in (".mha", ".mhd"):
        raise ValueError(f"write_image writes .nrrd, .mha or .mhd, not {suffix!r}")

    def meta_header(data_file: str, compressed_size: int) -> bytes:
        fields = [("ObjectType", "Image"), ("NDims", "3"), ("BinaryData", "True"),
                  ("BinaryDataByteOrderMSB", "False"), ("CompressedData", "True"),
                  ("CompressedDataSize", str(compressed_size)),
                  ("TransformMatrix", " ".join(_num(v) for v in direction.T.ravel())),
                  ("Offset", " ".join(_num(v) for v in origin)), ("CenterOfRotation", "0 0 0"),
                  ("ElementSpacing", " ".join(_num(v) for v in spacing)),
                  ("DimSize", " ".join(map(str, arr.shape))), ("ElementType", _MET_NAME[dtype]),
                  ("ElementDataFile", data_file)]
        return "".join(f"{k} = {v}\n" for k, v in fields).encode("ascii")

    if suffix == ".mhd":
        data_path = path.with_suffix(".zraw")
        with atomic_path(data_path) as tmp, open(tmp, "wb") as fh:
            size = _compress_to(fh, arr, 15, level)
            _finish(fh)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            fh.write(meta_header(data_path.name, size))
            _finish(fh)
        return path
    # .mha: CompressedDataSize precedes the data, so compress into memory first.
    buf = io.BytesIO()
    size = _compress_to(buf, arr, 15, level)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(meta_header("LOCAL", size))
        fh.write(buf.getbuffer())
        _finish(fh)
    return path
