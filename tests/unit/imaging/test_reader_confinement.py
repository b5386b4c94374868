"""NRRD and MetaImage readers under attack: data files confined to the header's folder and regular, decompression
bounded to the declared size, data-file lists and patterns bounded, size arithmetic that cannot overflow, text data
parsed in chunks, MemoryError turned into one InputError, and no file names in the logs.

Every header is written by hand in the test; every volume is a few hundred bytes.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import os
import zlib
from pathlib import Path

import numpy as np
import pytest

from _imaging_fixtures import in_time, run_limited
from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging import itk_formats as itk
from medpriv_desktop.core.imaging import safe_read
from medpriv_desktop.core.imaging.io import read_volume

ARR = np.arange(5 * 4 * 3, dtype=np.int16).reshape((5, 4, 3), order="F") - 30
RAW = np.asfortranarray(ARR).astype("<i2").tobytes(order="F")
NRRD = {"type": "short", "dimension": "3", "sizes": "5 4 3", "endian": "little", "encoding": "raw"}
META = {"ObjectType": "Image", "NDims": "3", "DimSize": "5 4 3", "ElementType": "MET_SHORT"}


def nrrd(path: Path, fields: dict[str, str], data: bytes | None = b"") -> Path:
    """A NRRD header; ``data=None`` writes a detached header (no blank line, no data)."""
    head = "NRRD0004\n" + "".join(f"{k}: {v}\n" for k, v in fields.items())
    path.write_bytes(head.encode() + (b"\n" + data if data is not None else b""))
    return path


def meta(path: Path, fields: dict[str, str], data: bytes = b"") -> Path:
    """A MetaImage header (ElementDataFile must be the last field)."""
    path.write_bytes("".join(f"{k} = {v}\n" for k, v in fields.items()).encode() + data)
    return path


def refused(path: Path, *phrases: str) -> str:
    """read_volume raises one InputError naming ``path`` (the header) with every phrase; return the message."""
    with pytest.raises(InputError) as info:
        read_volume(path)
    message = str(info.value)
    assert path.name in message and "\n" not in message, message
    for phrase in phrases:
        assert phrase in message, message
    return message


def refused_in_time(path: Path, *phrases: str) -> str:
    """:func:`refused` within a time limit."""
    return in_time(lambda: refused(path, *phrases))


@pytest.fixture
def study(tmp_path) -> Path:
    """A study folder beside an 'outside' folder holding a file that must never be read."""
    (tmp_path / "study").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.raw").write_bytes(RAW)
    return tmp_path / "study"


# -- data files confined to the header's folder, regular files only ------------------------------------------------


def _detached(kind: str, folder: Path, target: str, encoding: str = "raw") -> Path:
    if kind == "nrrd":
        return nrrd(folder / "h.nhdr", dict(NRRD, encoding=encoding, **{"data file": target}), None)
    compressed = {"CompressedData": "True"} if encoding != "raw" else {}
    return meta(folder / "h.mhd", dict(META, **compressed, ElementDataFile=target))


@pytest.mark.parametrize("kind", ["nrrd", "mhd"])
@pytest.mark.parametrize("target", ["/etc/passwd", "../outside/secret.raw", "OUTSIDE_ABSOLUTE"])
def test_data_file_outside_the_header_folder_is_refused(study, kind, target):
    if target == "OUTSIDE_ABSOLUTE":
        target = str(study.parent / "outside" / "secret.raw")  # a valid image, but not in the study's folder
    header = _detached(kind, study, target)
    refused(header, "refused to read the header's data file", "outside the folder")


@pytest.mark.parametrize("kind", ["nrrd", "mhd"])
def test_link_leading_outside_is_refused_and_link_inside_is_read(study, kind):
    (study / "inside.raw").write_bytes(RAW)
    os.symlink(study / "inside.raw", study / "alias.raw")
    assert np.array_equal(read_volume(_detached(kind, study, "alias.raw")).array, ARR)
    os.symlink(study.parent / "outside" / "secret.raw", study / "link.raw")
    refused(_detached(kind, study, "link.raw"), "outside the folder")


@pytest.mark.parametrize("kind", ["nrrd", "mhd"])
def test_fifo_and_folder_data_files_are_refused_without_blocking(study, kind):
    os.mkfifo(study / "pipe.raw")  # opening it for reading would block forever without O_NONBLOCK
    refused_in_time(_detached(kind, study, "pipe.raw"), "not a regular file but a FIFO")
    (study / "sub.raw").mkdir()
    refused(_detached(kind, study, "sub.raw"), "not a regular file but a folder")


@pytest.mark.parametrize("encoding", ["gzip", "raw"])
def test_dev_zero_through_a_link_is_refused(study, encoding):
    os.symlink("/dev/zero", study / "zero.raw")
    refused(_detached("nrrd", study, "zero.raw", encoding), "refused")
    refused(_detached("nrrd", study, "/dev/zero", encoding), "refused")


def test_link_loop_is_refused(study):
    os.symlink(study / "b.raw", study / "a.raw")
    os.symlink(study / "a.raw", study / "b.raw")
    refused(_detached("nrrd", study, "a.raw"), "refused")


def test_header_reader_never_blocks_on_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "pipe.nhdr")
    with pytest.raises(safe_read.UnsafeFileError, match="FIFO"):
        in_time(lambda: itk.read_header(tmp_path / "pipe.nhdr"))


def test_input_that_is_not_a_regular_file_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.nrrd")
    refused_in_time(tmp_path / "pipe.nrrd", "not a regular file")
    os.symlink("/dev/zero", tmp_path / "zero.nii.gz")
    refused(tmp_path / "zero.nii.gz", "not a regular file")


def test_confined_path_helper(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"x")
    assert safe_read.confined_path(tmp_path / "a" / "f", tmp_path / "a") == (tmp_path / "a" / "f").resolve()
    for bad in (tmp_path / "a" / ".." / "a2", tmp_path / "f", Path("/etc/passwd")):
        with pytest.raises(safe_read.UnsafeFileError):
            safe_read.confined_path(bad, tmp_path / "a")


# -- decompression bounded to the declared size ---------------------------------------------------------------------


def _gzip_bomb(n_mib: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    return b"".join(comp.compress(block) for _ in range(n_mib)) + comp.flush()


@pytest.mark.parametrize("encoding,data", [
    ("gzip", lambda: _gzip_bomb(256)),  # 250 kB that inflates to 256 MiB
    ("bzip2", lambda: bz2.compress(b"\0" * (64 << 20))),
])
def test_compression_bomb_stops_after_the_declared_bytes(tmp_path, encoding, data, monkeypatch):
    produced = []
    real = safe_read._Inflater.step

    def spy(self, fh, room):
        chunk, had = real(self, fh, room)
        produced.append(len(chunk))
        return chunk, had

    monkeypatch.setattr(safe_read._Inflater, "step", spy)
    f = nrrd(tmp_path / "bomb.nrrd", dict(NRRD, encoding=encoding), data())
    refused(f, "more than the 120 bytes the header declares")
    assert sum(produced) <= 121  # declared size + 1: the rest of the bomb was never inflated


def test_inflate_bounded_exact_short_long_and_concatenated(tmp_path):
    import io

    def run(blob: bytes, encoding="gzip", skip=0, n=len(RAW)):
        return safe_read.inflate_bounded(io.BytesIO(blob), encoding, skip, n)

    assert run(gzip.compress(RAW)).tobytes() == RAW
    assert run(zlib.compress(RAW), "zlib").tobytes() == RAW
    assert run(bz2.compress(RAW[:50]) + bz2.compress(RAW[50:]), "bzip2").tobytes() == RAW
    assert run(gzip.compress(RAW[:7]) + gzip.compress(RAW[7:])).tobytes() == RAW  # two members
    assert run(gzip.compress(RAW) + b"\0" * 64).tobytes() == RAW  # padding after the last member is ignored
    assert run(gzip.compress(b"HEAD" + RAW), skip=4).tobytes() == RAW
    with pytest.raises(safe_read.UnsafeFileError):
        run(gzip.compress(RAW + b"x"))
    with pytest.raises(safe_read.UnsafeFileError):
        run(gzip.compress(RAW) + gzip.compress(b"more"))
    with pytest.raises(EOFError):
        run(gzip.compress(RAW[:-1]))
    with pytest.raises(EOFError):
        run(gzip.compress(RAW)[:-20])


@pytest.mark.parametrize("kind", ["nrrd", "mha"])
def test_compressed_data_longer_than_declared_is_an_error(tmp_path, kind):
    if kind == "nrrd":
        f = nrrd(tmp_path / "long.nrrd", dict(NRRD, encoding="gzip"), gzip.compress(RAW + b"\1\2"))
    else:
        f = meta(tmp_path / "long.mha", dict(META, CompressedData="True", ElementDataFile="LOCAL"),
                 zlib.compress(RAW + b"\1\2"))
    refused(f, "more than the 120 bytes")


def test_huge_byte_skip_into_compressed_data_is_refused(tmp_path):
    f = nrrd(tmp_path / "skip.nrrd", dict(NRRD, encoding="gzip", **{"byte skip": str(10**12)}), _gzip_bomb(1))
    refused(f, "byte skip")


# -- data-file lists and patterns, size arithmetic ------------------------------------------------------------------


PATTERNS = [
    ("s%d.raw 0 999999999 1", "names 1000000000 files"),
    ("s%d.raw 0 9999999999999999999 1", "files; this image can have 1 to 12"),
    ("s%d.raw 5 0 1", "names 0 files"),
    ("s%0999999999d.raw 0 2 1", "not a file-name format"),
    ("s%d%d.raw 0 2 1", "not a file-name format"),
    ("s%s.raw 0 2 1", "not a file-name format"),
]


def test_data_file_patterns_are_bounded_before_names_are_made(tmp_path):
    """Read in a child with 512 MB to spare: a pattern of 10^9 names used to take 3.6 GB before failing."""
    for n, (pattern, _phrase) in enumerate(PATTERNS):
        nrrd(tmp_path / f"p{n}.nhdr", dict(NRRD, **{"data file": pattern}), None)
    code = (
        "import medpriv_desktop, sys\n"
        "from medpriv_desktop.core.imaging.io import read_volume\n"
        "limit()\n"
        f"for n in range({len(PATTERNS)}):\n"
        "    try:\n"
        f"        read_volume({str(tmp_path)!r} + f'/p{{n}}.nhdr'); print('PARSED')\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__, str(exc).replace('\\n', ' '))\n")
    r = run_limited(code)
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == len(PATTERNS), r.stderr[-2000:]
    for line, (pattern, phrase) in zip(lines, PATTERNS):
        assert line.startswith("InputError") and phrase in line, (pattern, line)


def test_data_file_list_is_bounded_by_the_image(tmp_path):
    head = "NRRD0004\n" + "".join(f"{k}: {v}\n" for k, v in NRRD.items()) + "data file: LIST\n"
    (tmp_path / "l.nhdr").write_text(head + "".join(f"s{k}.raw\n" for k in range(13)))
    refused(tmp_path / "l.nhdr", "lists 13 files; this image can have 1 to 12")
    (tmp_path / "l.mhd").write_bytes(b"NDims = 3\nDimSize = 5 4 3\nElementType = MET_SHORT\nElementDataFile = LIST\n"
                                     + b"".join(b"s%d.raw\n" % k for k in range(13)))
    refused(tmp_path / "l.mhd", "lists 13 files")


@pytest.mark.parametrize("sizes", ["4294967296 4294967296 2", "4294967296 4294967296 4294967296",
                                   "100000 100000 100000"])
def test_sizes_that_overflow_int64_are_refused_before_allocating(tmp_path, sizes):
    fields = dict(NRRD, sizes=sizes, dimension=str(len(sizes.split())))
    refused(nrrd(tmp_path / "big.nrrd", fields, RAW), "too large")


def test_component_count_is_a_python_integer(tmp_path):
    # Two vector axes of 2^32 make 2^64 values per voxel: int64 wrapped that to 0 (and 2^32 x 2^32 x 2 voxels to 0,
    # which then passed the size check). Python integers keep the real count, and the message says it.
    fields = dict(NRRD, dimension="5", sizes="4294967296 4294967296 5 4 3", kinds="vector vector domain domain domain")
    header = itk.read_header(nrrd(tmp_path / "v.nrrd", fields, RAW))
    assert header.components == 2**64
    refused(tmp_path / "v.nrrd", f"{2**64} components per voxel")


def test_too_many_dimensions_are_refused(tmp_path):
    fields = dict(NRRD, dimension="17", sizes=" ".join(["1"] * 17))
    refused(nrrd(tmp_path / "d.nrrd", fields, RAW), "dimension 17")


# -- text data in chunks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 3, 7, 1 << 20])
def test_ascii_and_hex_data_parse_across_chunk_boundaries(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(itk, "_TEXT_CHUNK", chunk)
    values = np.asfortranarray(ARR).ravel(order="F")
    text = ("  ".join(str(v) for v in values[:30]) + ",\n" + "\t".join(f"{v}.0" for v in values[30:])).encode()
    f = nrrd(tmp_path / "t.nrrd", dict(NRRD, encoding="ascii"), text + b" 999 extra values ignored")
    assert np.array_equal(itk.read_image(f).array, ARR)
    hexed = RAW.hex()
    f = nrrd(tmp_path / "h.nrrd", dict(NRRD, encoding="hex"), "\n".join(hexed[i:i + 11] for i in
                                                                         range(0, len(hexed), 11)).encode())
    assert np.array_equal(itk.read_image(f).array, ARR)


def test_text_data_with_an_endless_value_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(itk, "_TEXT_CHUNK", 1024)
    f = nrrd(tmp_path / "t.nrrd", dict(NRRD, encoding="ascii"), b"1" * 20000)
    refused(f, "too long to be a number")
    f = nrrd(tmp_path / "s.nrrd", dict(NRRD, encoding="ascii"), b"1 2 3")
    refused(f, "truncated: 3 of 60 values")


# -- memory, logs, CLI ------------------------------------------------------------------------------------------------


def _no_memory(*_a, **_k):
    raise MemoryError


@pytest.mark.parametrize("fmt", ["nrrd", "nifti", "dicom"])
def test_memory_error_while_reading_is_one_input_error(tmp_path, monkeypatch, capsys, tiny_model, fmt):
    import nibabel as nib
    import pydicom

    from _imaging_fixtures import write_dicom_series

    if fmt == "nrrd":
        target = nrrd(tmp_path / "m.nrrd", dict(NRRD, encoding="gzip"), gzip.compress(RAW))
        monkeypatch.setattr(itk, "inflate_bounded", _no_memory)
    elif fmt == "nifti":
        target = tmp_path / "m.nii.gz"
        nib.save(nib.Nifti1Image(ARR, np.eye(4)), str(target))
        monkeypatch.setattr(nib, "load", _no_memory)
    else:
        target = tmp_path / "m_series"
        write_dicom_series(target, np.zeros((6, 5, 4), np.int16))
        real = pydicom.dcmread
        # Headers read; the pixels of a slice do not fit.
        monkeypatch.setattr(pydicom, "dcmread", lambda fp, *a, **k: real(fp, *a, **k) if k.get("stop_before_pixels")
                            else _no_memory())
    refused(target, "too large for this machine's memory")
    rc, err = _cli(capsys, target, "--model", tiny_model, "-o", tmp_path / "out", "--modality", "CT")
    assert rc != 0 and "Traceback" not in err
    assert [ln for ln in err.splitlines() if ln.strip()] == [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert "too large for this machine's memory" in err


def test_readers_log_no_file_names(tmp_path, caplog):
    secret = "Doe_Jane_MRN4711"
    folder = tmp_path / secret
    folder.mkdir()
    # A DICOM whose first element is cut short: pydicom raises, and the reader skips and counts it.
    (folder / f"{secret}.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\x10")
    (folder / f"{secret}.raw").write_bytes(RAW)
    os.symlink("/etc/hostname", folder / f"{secret}_link.dcm")
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(InputError):
            read_volume(folder)
        with pytest.raises(InputError):
            read_volume(_detached("nrrd", folder, f"../{secret}_missing.raw"))
    assert "skipped 1 unreadable DICOM files" in caplog.text and "did not follow 1 links" in caplog.text
    assert secret not in caplog.text


def _cli(capsys, *argv) -> tuple[int, str]:
    from medpriv_desktop.cli import main

    rc = main(["segment", *map(str, argv), "-q"])
    return rc, capsys.readouterr().err


@pytest.fixture
def tiny_model(medpriv_home) -> str:
    """The id of a tiny CT segmentation model installed in the test's user models folder."""
    pytest.importorskip("onnx")
    from _imaging_fixtures import make_bundle
    from medpriv_desktop.core import paths

    make_bundle(paths.user_models_dir(), "seg-tiny-test", spacing=(3.0, 3.0, 4.0))
    return "seg-tiny-test"


@pytest.mark.parametrize("case", ["etc_passwd", "fifo", "bomb", "dotdot"])
def test_segment_cli_refuses_with_one_line(tmp_path, capsys, tiny_model, case):
    folder = tmp_path / "study"
    folder.mkdir()
    if case == "etc_passwd":
        f = nrrd(folder / "a.nhdr", dict(NRRD, type="uchar", **{"data file": "/etc/passwd"}), None)
    elif case == "fifo":
        os.mkfifo(folder / "pipe.raw")
        f = nrrd(folder / "a.nhdr", dict(NRRD, **{"data file": "pipe.raw"}), None)
    elif case == "bomb":
        f = nrrd(folder / "a.nrrd", dict(NRRD, encoding="gzip"), _gzip_bomb(64))
    else:
        (tmp_path / "other.raw").write_bytes(RAW)
        f = nrrd(folder / "a.nhdr", dict(NRRD, **{"data file": "../other.raw"}), None)
    rc, err = in_time(lambda: _cli(capsys, f, "--model", tiny_model, "-o", tmp_path / "out", "--modality", "CT"))
    assert rc != 0 and "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "a.n" in lines[0], err
