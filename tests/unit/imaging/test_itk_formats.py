"""The project's own NRRD and MetaImage reader/writer (:mod:`medpriv_desktop.core.imaging.itk_formats`).

Round trips for every voxel type and encoding, hand-written headers for the features ITK's writers never produce,
geometry cross-checked against SimpleITK where it is installed (files written by either read by the other with the
same RAS+ geometry), the shared real CT converted by SimpleITK when present, and bad inputs that must become one
clear InputError.
"""

from __future__ import annotations

import bz2
import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import pytest

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.imaging import itk_formats as itk
from medpriv_desktop.core.imaging.io import read_volume, write_volume
from medpriv_desktop.core.imaging.volume import LPS_TO_RAS, Volume

SHARED_CT = Path("/work/shared/data/imaging/totalsegmentator/example_ct_sm.nii.gz")
DTYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64, np.float32, np.float64]
NRRD_TYPE = {np.int8: "signed char", np.uint8: "uchar", np.int16: "short", np.uint16: "ushort", np.int32: "int",
             np.uint32: "uint", np.int64: "longlong", np.uint64: "unsigned long long int", np.float32: "float",
             np.float64: "double"}
MET_TYPE = {np.int8: "MET_CHAR", np.uint8: "MET_UCHAR", np.int16: "MET_SHORT", np.uint16: "MET_USHORT",
            np.int32: "MET_INT", np.uint32: "MET_UINT", np.int64: "MET_LONG_LONG", np.uint64: "MET_ULONG_LONG",
            np.float32: "MET_FLOAT", np.float64: "MET_DOUBLE"}


def _oblique_lps() -> np.ndarray:
    """A non-symmetric rotation (axes permuted and tilted) so a transposed matrix would be caught."""
    a, b = 0.3, -0.2
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    perm = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], float)
    return rz @ rx @ perm


def _values(dtype, shape=(5, 4, 3)) -> np.ndarray:
    """Values that use the type's range (negative, large) so a wrong type or byte order changes them."""
    n = int(np.prod(shape))
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is not None:
        # The largest float64 below the type's maximum, so the cast is exact even for 64-bit types.
        top = float(np.nextafter(float(info.max), 0.0))
        vals = np.clip(np.round(np.linspace(info.min, info.max, n, dtype=np.float64)), info.min, top)
        return vals.astype(dtype).reshape(shape)
    return (np.linspace(-1e5, 1e5, n) + 0.123).astype(dtype).reshape(shape)


def _image(dtype=np.int16, shape=(5, 4, 3)) -> itk.ItkImage:
    return itk.ItkImage(_values(dtype, shape), (0.7, 1.3, 2.5), np.array([12.5, -30.0, 7.25]), _oblique_lps())


def _nrrd(path: Path, fields: dict[str, str], data: bytes = b"", magic: str = "NRRD0004") -> Path:
    head = magic + "\n" + "".join(f"{k}: {v}\n" for k, v in fields.items())
    path.write_bytes(head.encode() + (b"\n" + data if data is not None else b""))
    return path


def _meta(path: Path, fields: dict[str, str], data: bytes = b"") -> Path:
    path.write_bytes("".join(f"{k} = {v}\n" for k, v in fields.items()).encode() + data)
    return path


def _fbytes(arr: np.ndarray, order: str = "<") -> bytes:
    """Voxels in file order (i fastest) with the given byte order."""
    return np.asfortranarray(arr).astype(arr.dtype.newbyteorder(order)).tobytes(order="F")


BASE_NRRD = {"type": "short", "dimension": "3", "sizes": "5 4 3", "endian": "little", "encoding": "raw"}
BASE_META = {"ObjectType": "Image", "NDims": "3", "DimSize": "5 4 3", "ElementType": "MET_SHORT"}


# -- round trips --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".mhd"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_write_read_round_trip_every_type(tmp_path, suffix, dtype):
    img = _image(dtype)
    itk.write_image(tmp_path / f"img{suffix}", img)
    back = itk.read_image(tmp_path / f"img{suffix}")
    assert back.array.dtype == np.dtype(dtype) and back.array.flags.writeable and back.array.dtype.isnative
    assert np.array_equal(back.array, img.array)
    assert np.allclose(back.spacing, img.spacing) and np.allclose(back.origin, img.origin)
    assert np.allclose(back.direction, img.direction)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"img{suffix}"] + (["img.zraw"] if suffix == ".mhd" else [])), "temporary file left behind"


def test_written_nrrd_header_is_lps_gzip_with_space_directions(tmp_path):
    itk.write_image(tmp_path / "a.nrrd", _image())
    head = (tmp_path / "a.nrrd").read_bytes().split(b"\n\n", 1)[0].decode()
    assert "space: left-posterior-superior" in head and "encoding: gzip" in head
    assert "space directions: (" in head and "space origin: (12.5,-30.0,7.25)" in head
    assert "endian: little" in head and "type: short" in head


@pytest.mark.parametrize("encoding,encode", [
    ("raw", lambda b: b), ("gzip", gzip.compress), ("gz", gzip.compress), ("bzip2", bz2.compress),
    ("bz2", bz2.compress), ("hex", lambda b: b.hex().encode()),
])
@pytest.mark.parametrize("endian", ["little", "big"])
def test_nrrd_encodings_and_endians(tmp_path, encoding, encode, endian):
    arr = _values(np.int16)
    data = encode(_fbytes(arr, "<" if endian == "little" else ">"))
    f = _nrrd(tmp_path / "a.nrrd", dict(BASE_NRRD, encoding=encoding, endian=endian), data)
    assert np.array_equal(itk.read_image(f).array, arr)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_nrrd_every_type_by_its_name_and_ascii(tmp_path, dtype):
    arr = _values(dtype)
    f = _nrrd(tmp_path / "a.nrrd", dict(BASE_NRRD, type=NRRD_TYPE[dtype], endian="big"), _fbytes(arr, ">"))
    assert np.array_equal(itk.read_image(f).array, arr)
    text = " ".join(repr(v) for v in np.asfortranarray(arr).ravel(order="F").tolist())
    f = _nrrd(tmp_path / "t.nrrd", dict(BASE_NRRD, type=NRRD_TYPE[dtype], encoding="ascii"), text.encode())
    assert np.array_equal(itk.read_image(f).array, arr)


@pytest.mark.parametrize("magic", ["NRRD0001", "NRRD0002", "NRRD0003", "NRRD0005"])
def test_nrrd_versions(tmp_path, magic):
    arr = _values(np.uint8)
    f = _nrrd(tmp_path / "a.nrrd", dict(BASE_NRRD, type="uint8"), _fbytes(arr), magic=magic)
    assert np.array_equal(itk.read_image(f).array, arr)


def test_nrrd_detached_single_list_and_pattern(tmp_path):
    arr = _values(np.int16)
    (tmp_path / "d.raw.gz").write_bytes(gzip.compress(_fbytes(arr)))
    f = _nrrd(tmp_path / "a.nhdr", dict(BASE_NRRD, encoding="gzip", **{"data file": "d.raw.gz"}), None)
    assert np.array_equal(itk.read_image(f).array, arr)
    slices = [_fbytes(np.ascontiguousarray(arr[:, :, k])) for k in range(3)]
    for k, s in enumerate(slices):
        (tmp_path / f"s{k:02d}.raw").write_bytes(s)
    head = "NRRD0004\n" + "".join(f"{k}: {v}\n" for k, v in BASE_NRRD.items()) + "data file: LIST 2\n"
    (tmp_path / "list.nhdr").write_text(head + "s00.raw\ns01.raw\ns02.raw\n")
    assert np.array_equal(itk.read_image(tmp_path / "list.nhdr").array, arr)
    f = _nrrd(tmp_path / "pat.nhdr", dict(BASE_NRRD, **{"data file": "s%02d.raw 0 2 1 2"}), None)
    assert np.array_equal(itk.read_image(f).array, arr)


def test_nrrd_line_skip_and_byte_skip(tmp_path):
    arr = _values(np.int16)
    (tmp_path / "d.raw").write_bytes(b"junk line\nsecond junk\n" + b"XYZ" + _fbytes(arr))
    f = _nrrd(tmp_path / "a.nhdr", dict(BASE_NRRD, **{"data file": "d.raw", "line skip": "2", "byte skip": "3"}),
              None)
    assert np.array_equal(itk.read_image(f).array, arr)
    (tmp_path / "e.raw").write_bytes(b"any preamble of any length" + _fbytes(arr))
    f = _nrrd(tmp_path / "b.nhdr", dict(BASE_NRRD, **{"data file": "e.raw", "byte skip": "-1"}), None)
    assert np.array_equal(itk.read_image(f).array, arr)
    # With a compressed encoding the byte skip applies to the decompressed bytes.
    (tmp_path / "g.gz").write_bytes(gzip.compress(b"1234" + _fbytes(arr)))
    f = _nrrd(tmp_path / "c.nhdr", dict(BASE_NRRD, encoding="gzip", **{"data file": "g.gz", "byte skip": "4"}), None)
    assert np.array_equal(itk.read_image(f).array, arr)


@pytest.mark.parametrize("space,flip", [
    ("left-posterior-superior", (1, 1, 1)), ("LPS", (1, 1, 1)), ("right-anterior-superior", (-1, -1, 1)),
    ("RAS", (-1, -1, 1)), ("left-anterior-superior", (1, -1, 1)), ("LAS", (1, -1, 1)),
])
def test_nrrd_space_is_converted_to_lps(tmp_path, space, flip):
    d = _oblique_lps() * np.array([0.5, 0.8, 2.0])
    vecs = " ".join("(" + ",".join(repr(float(v)) for v in np.array(flip) * d[:, i]) + ")" for i in range(3))
    fields = dict(BASE_NRRD, space=space, **{"space directions": vecs, "space origin": "(10,-20,30)"})
    img = itk.read_image(_nrrd(tmp_path / "a.nrrd", fields, _fbytes(_values(np.int16))))
    assert np.allclose(img.spacing, (0.5, 0.8, 2.0))
    assert np.allclose(img.direction, _oblique_lps())
    assert np.allclose(img.origin, np.array(flip) * [10, -20, 30])


def test_nrrd_spacings_fallback_and_singleton_vector_axis(tmp_path):
    arr = _values(np.int16)
    img = itk.read_image(_nrrd(tmp_path / "a.nrrd", dict(BASE_NRRD, spacings="0.5 -2 3"), _fbytes(arr)))
    assert np.allclose(img.spacing, (0.5, 2, 3)) and np.allclose(img.direction, np.diag([1, -1, 1]))
    # A singleton non-spatial axis (ITK writes a 1-component vector image so) is no component at all.
    fields = dict(BASE_NRRD, dimension="4", sizes="1 5 4 3", kinds="vector domain domain domain", space="LPS",
                  **{"space directions": "none (1,0,0) (0,1,0) (0,0,1)"})
    img = itk.read_image(_nrrd(tmp_path / "b.nrrd", fields, _fbytes(arr)))
    assert np.array_equal(img.array, arr)


# -- MetaImage ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("msb_key", ["BinaryDataByteOrderMSB", "ElementByteOrderMSB"])
def test_mha_every_type_both_byte_orders(tmp_path, dtype, msb_key):
    arr = _values(dtype)
    for msb in (False, True):
        f = _meta(tmp_path / "a.mha", dict(BASE_META, ElementType=MET_TYPE[dtype], **{msb_key: str(msb)},
                                           ElementDataFile="LOCAL"), _fbytes(arr, ">" if msb else "<"))
        assert np.array_equal(itk.read_image(f).array, arr)


def test_mha_met_long_is_four_bytes_and_ascii_data(tmp_path):
    arr = _values(np.int32)
    f = _meta(tmp_path / "a.mha", dict(BASE_META, ElementType="MET_LONG", ElementDataFile="LOCAL"), _fbytes(arr))
    assert itk.read_image(f).array.dtype == np.int32
    text = " ".join(map(str, np.asfortranarray(arr).ravel(order="F"))).encode()
    f = _meta(tmp_path / "t.mha", dict(BASE_META, ElementType="MET_INT", BinaryData="False",
                                       ElementDataFile="LOCAL"), text)
    assert np.array_equal(itk.read_image(f).array, arr)


@pytest.mark.parametrize("matrix_key", ["TransformMatrix", "Rotation", "Orientation"])
@pytest.mark.parametrize("origin_key", ["Offset", "Origin", "Position"])
def test_mhd_geometry_synonyms_companion_file_and_compression(tmp_path, matrix_key, origin_key):
    arr = _values(np.uint16)
    d = _oblique_lps()
    (tmp_path / "a.zraw").write_bytes(zlib.compress(_fbytes(arr)))
    f = _meta(tmp_path / "a.mhd", dict(BASE_META, ElementType="MET_USHORT", CompressedData="True",
                                       **{matrix_key: " ".join(repr(float(v)) for v in d.T.ravel()),  # column-major, as MetaIO
                                          origin_key: "1 2 3"}, ElementSpacing="0.5 0.6 0.7",
                                       ElementDataFile="a.zraw"))
    img = itk.read_image(f)
    assert np.array_equal(img.array, arr)
    assert np.allclose(img.direction, d) and np.allclose(img.origin, [1, 2, 3])
    assert np.allclose(img.spacing, (0.5, 0.6, 0.7))


def test_mhd_header_size_and_list(tmp_path):
    arr = _values(np.int16)
    (tmp_path / "a.raw").write_bytes(b"P" * 17 + _fbytes(arr))
    f = _meta(tmp_path / "a.mhd", dict(BASE_META, HeaderSize="17", ElementDataFile="a.raw"))
    assert np.array_equal(itk.read_image(f).array, arr)
    f = _meta(tmp_path / "b.mhd", dict(BASE_META, HeaderSize="-1", ElementDataFile="a.raw"))
    assert np.array_equal(itk.read_image(f).array, arr)
    for k in range(3):
        (tmp_path / f"s{k}.raw").write_bytes(_fbytes(np.ascontiguousarray(arr[:, :, k])))
    f = _meta(tmp_path / "c.mhd", dict(BASE_META, ElementDataFile="LIST 2"), b"s0.raw\ns1.raw\ns2.raw\n")
    assert np.array_equal(itk.read_image(f).array, arr)


def test_mhd_writes_data_first_header_last(tmp_path, monkeypatch):
    order = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (order.append(Path(b).name), real(a, b)))
    itk.write_image(tmp_path / "v.mhd", _image())
    assert order == ["v.zraw", "v.mhd"]
    assert "ElementDataFile = v.zraw" in (tmp_path / "v.mhd").read_text()


# -- the RAS+ Volume through io ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".mhd"])
def test_volume_round_trip_keeps_ras_geometry(tmp_path, suffix):
    d_ras = LPS_TO_RAS @ _oblique_lps()
    vol = Volume(_values(np.int16, (6, 5, 4)), (0.8, 0.9, 2.5), (-5.0, 12.0, 40.0), d_ras)
    back = read_volume(write_volume(vol, tmp_path / f"v{suffix}"))
    assert np.allclose(back.affine, vol.affine, atol=1e-9)
    assert np.array_equal(back.array, vol.array) and back.meta["source_format"] == suffix[1:]


# -- against SimpleITK ---------------------------------------------------------------------------------------------


def _sitk_image(sitk, arr: np.ndarray):
    img = sitk.GetImageFromArray(np.ascontiguousarray(arr.transpose(2, 1, 0)))
    img.SetSpacing((0.7, 1.3, 2.5))
    img.SetOrigin((12.5, -30.0, 7.25))
    img.SetDirection(tuple(_oblique_lps().ravel()))
    return img


def _ras_affine_of_sitk(img) -> np.ndarray:
    a = np.eye(4)
    a[:3, :3] = LPS_TO_RAS @ np.array(img.GetDirection()).reshape(3, 3) @ np.diag(img.GetSpacing())
    a[:3, 3] = LPS_TO_RAS @ np.array(img.GetOrigin())
    return a


@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".mhd"])
@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_simpleitk_files_read_by_ours(tmp_path, suffix, compress, dtype):
    sitk = pytest.importorskip("SimpleITK")
    arr = _values(dtype)
    img = _sitk_image(sitk, arr)
    sitk.WriteImage(img, str(tmp_path / f"s{suffix}"), compress)
    ours = itk.read_image(tmp_path / f"s{suffix}")
    assert ours.array.dtype == np.dtype(dtype) and np.array_equal(ours.array, arr)
    vol = read_volume(tmp_path / f"s{suffix}")
    assert np.allclose(vol.affine, _ras_affine_of_sitk(img), atol=1e-9)


@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".mhd"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_our_files_read_by_simpleitk(tmp_path, suffix, dtype):
    sitk = pytest.importorskip("SimpleITK")
    vol = Volume(_values(dtype), (0.7, 1.3, 2.5), (-12.5, 30.0, 7.25), LPS_TO_RAS @ _oblique_lps())
    write_volume(vol, tmp_path / f"o{suffix}")
    img = sitk.ReadImage(str(tmp_path / f"o{suffix}"))
    assert np.array_equal(np.transpose(sitk.GetArrayFromImage(img), (2, 1, 0)), vol.array)
    assert sitk.GetArrayViewFromImage(img).dtype == np.dtype(dtype)
    assert np.allclose(_ras_affine_of_sitk(img), vol.affine, atol=1e-9)


@pytest.mark.skipif(not SHARED_CT.is_file(), reason=f"shared real CT absent ({SHARED_CT})")
def test_shared_real_ct_through_simpleitk_nrrd_and_mha(tmp_path):
    """The real CT converted by SimpleITK reads voxel for voxel with nibabel's geometry; ours converts back."""
    sitk = pytest.importorskip("SimpleITK")
    ref = read_volume(SHARED_CT)
    src = sitk.ReadImage(str(SHARED_CT))
    for suffix in (".nrrd", ".mha"):
        sitk.WriteImage(src, str(tmp_path / f"ct{suffix}"), True)
        ours = read_volume(tmp_path / f"ct{suffix}")
        assert ours.shape == ref.shape and np.array_equal(ours.array, ref.array)
        assert np.allclose(ours.affine, ref.affine, atol=1e-4)
        write_volume(ours, tmp_path / f"back{suffix}")
        again = sitk.ReadImage(str(tmp_path / f"back{suffix}"))
        assert np.array_equal(sitk.GetArrayViewFromImage(again), sitk.GetArrayViewFromImage(src).astype(np.int16))
        assert np.allclose(again.GetDirection(), src.GetDirection(), atol=1e-6)
        assert np.allclose(again.GetOrigin(), src.GetOrigin(), atol=1e-4)


# -- bad inputs ----------------------------------------------------------------------------------------------------


def _fails(path: Path, *phrases: str) -> None:
    with pytest.raises(InputError) as info:
        read_volume(path)
    message = str(info.value)
    assert path.name in message
    for phrase in phrases:
        assert phrase in message, message


@pytest.mark.parametrize("suffix", [".nrrd", ".mha"])
def test_truncated_files(tmp_path, suffix):
    f = write_volume(Volume(_values(np.int16, (40, 30, 20)), (1, 1, 1)), tmp_path / f"v{suffix}")
    data = f.read_bytes()
    f.write_bytes(data[: len(data) * 2 // 3])
    _fails(f, "truncated or damaged")


def test_wrong_sizes_and_damaged_compression(tmp_path):
    arr = _values(np.int16)
    _fails(_nrrd(tmp_path / "big.nrrd", dict(BASE_NRRD, sizes="5 4 9"), _fbytes(arr)), "truncated")
    _fails(_meta(tmp_path / "big.mha", dict(BASE_META, DimSize="5 4 9", ElementDataFile="LOCAL"), _fbytes(arr)),
           "truncated")
    junk = bytearray(gzip.compress(_fbytes(arr)))
    junk[20:40] = b"\xff" * 20
    _fails(_nrrd(tmp_path / "junk.nrrd", dict(BASE_NRRD, encoding="gzip"), bytes(junk)), "truncated or damaged")
    _fails(_meta(tmp_path / "m.mhd", dict(BASE_META, ElementDataFile="missing.raw")), "truncated or damaged",
           "missing.raw")


@pytest.mark.parametrize("fields,phrase", [
    ({"encoding": "lzma"}, "unknown NRRD encoding"),
    ({"type": "block"}, "unsupported NRRD type"),
    ({"sizes": "5 4"}, "sizes has 2 entries"),
    ({"space": "right-anterior-superior-time"}, "not a 3D space"),
])
def test_bad_nrrd_headers(tmp_path, fields, phrase):
    _fails(_nrrd(tmp_path / "bad.nrrd", dict(BASE_NRRD, **fields), _fbytes(_values(np.int16))),
           "not a readable image file", phrase)


def test_not_an_image_and_bad_magic(tmp_path):
    (tmp_path / "x.mha").write_bytes(os.urandom(2000))
    _fails(tmp_path / "x.mha", "not a readable image file")
    _fails(_nrrd(tmp_path / "v.nrrd", BASE_NRRD, _fbytes(_values(np.int16)), magic="NRRD0009"),
           "unsupported NRRD version")
    _fails(_meta(tmp_path / "m.mha", dict(BASE_META, ElementType="MET_STRING", ElementDataFile="LOCAL")),
           "unsupported MetaImage element type")


def test_4d_vector_and_2d_images_are_refused_clearly(tmp_path):
    data = _fbytes(np.zeros((5, 4, 3, 2), np.int16))
    _fails(_nrrd(tmp_path / "t.nrrd", dict(BASE_NRRD, dimension="4", sizes="5 4 3 2"), data), "4D image")
    vec = dict(BASE_NRRD, dimension="4", sizes="3 5 4 2", kinds="vector domain domain domain", space="LPS",
               **{"space directions": "none (1,0,0) (0,1,0) (0,0,1)"})
    _fails(_nrrd(tmp_path / "vec.nrrd", vec, _fbytes(np.zeros((3, 5, 4, 2), np.int16))), "3 components per voxel")
    _fails(_meta(tmp_path / "rgb.mha", dict(BASE_META, ElementNumberOfChannels="3", ElementDataFile="LOCAL"),
                 _fbytes(np.zeros((3, 5, 4, 3), np.int16))), "3 components per voxel")
    _fails(_meta(tmp_path / "t.mha", dict(BASE_META, NDims="4", DimSize="5 4 3 2", ElementDataFile="LOCAL"), data),
           "4D image")
    _fails(_nrrd(tmp_path / "flat.nrrd", dict(BASE_NRRD, dimension="2", sizes="5 4"), _fbytes(np.zeros((5, 4),
                                                                                                     np.int16))),
           "2D image")
    # A trailing singleton axis is still a 3D volume.
    one = _nrrd(tmp_path / "one.nrrd", dict(BASE_NRRD, dimension="4", sizes="5 4 3 1"), _fbytes(_values(np.int16)))
    assert read_volume(one).shape == (5, 4, 3)


def test_write_refuses_what_it_cannot_write(tmp_path):
    bad = itk.ItkImage(np.zeros((2, 2, 2), np.complex64), (1, 1, 1), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="cannot write"):
        itk.write_image(tmp_path / "c.nrrd", bad)
    assert not list(tmp_path.iterdir())
