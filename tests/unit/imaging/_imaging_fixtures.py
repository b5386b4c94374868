"""Tiny ONNX segmentation models and bundles made on the fly (no weights are committed), and synthetic volumes.

The "nearest-centre" model is a 1x1x1 convolution: logit_c = k * (2 mu_c x - mu_c^2), which is -k (x - mu_c)^2 up to
a term shared by every class, so argmax picks the class whose centre mu_c is closest to the normalised intensity x.
With the card's CT normalisation x = HU / 1000 it labels air, soft tissue and bone of a phantom: a real model, with
known right answers, that runs in milliseconds. It is flip-equivariant, so test-time-flip agreement must be 1.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

#: Normalised-intensity centres of the classes of the default tiny model: air/lung, soft tissue, bone.
DEFAULT_CENTRES = (-0.95, 0.05, 0.7)
DEFAULT_LABELS = ("background", "soft_tissue", "bone")


def build_centroid_model(path: Path, centres=DEFAULT_CENTRES, sharpness: float = 20.0, input_name: str = "image",
                         output_name: str = "logits", n_out: int | None = None, fixed_batch: bool = False) -> Path:
    """Write the nearest-centre 1x1x1 conv model ([N,1,X,Y,Z] -> [N,C,X,Y,Z] logits)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    mu = np.asarray(centres, np.float32)
    if n_out is not None and n_out != len(mu):  # a deliberately inconsistent model for bad-input tests
        mu = np.linspace(-1, 1, n_out).astype(np.float32)
    c = len(mu)
    w = (sharpness * 2 * mu).reshape(c, 1, 1, 1, 1).astype(np.float32)
    b = (-sharpness * mu**2).astype(np.float32)
    batch = 1 if fixed_batch else "N"
    inp = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [batch, 1, "X", "Y", "Z"])
    out = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [batch, c, "X", "Y", "Z"])
    node = helper.make_node("Conv", [input_name, "w", "b"], [output_name], kernel_shape=[1, 1, 1])
    graph = helper.make_graph([node], "nearest_centre", [inp], [out],
                              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="medpriv-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def build_conv_model(path: Path, width: int, n_classes: int = 3, seed: int = 0) -> Path:
    """A small random 3D conv net (two 3x3x3 convs of ``width`` channels + 1x1x1 head): a cost stand-in."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    inits, nodes = [], []
    prev, cin = "image", 1
    for i, cout in enumerate((width, width)):
        w = (rng.standard_normal((cout, cin, 3, 3, 3)) / np.sqrt(cin * 27)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(np.zeros(cout, np.float32), f"b{i}")]
        nodes += [helper.make_node("Conv", [prev, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[3, 3, 3],
                                   pads=[1] * 6),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"])]
        prev, cin = f"r{i}", cout
    wh = (rng.standard_normal((n_classes, cin, 1, 1, 1)) / np.sqrt(cin)).astype(np.float32)
    inits += [numpy_helper.from_array(wh, "wh"), numpy_helper.from_array(np.zeros(n_classes, np.float32), "bh")]
    nodes.append(helper.make_node("Conv", [prev, "wh", "bh"], ["logits"], kernel_shape=[1, 1, 1]))
    graph = helper.make_graph(
        nodes, f"conv_w{width}", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, "X", "Y", "Z"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", n_classes, "X", "Y", "Z"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="medpriv-tests")
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def make_bundle(root: Path, model_id: str = "seg-tiny-test", *, builder=build_centroid_model,
                builder_kwargs: dict[str, Any] | None = None, labels=DEFAULT_LABELS, modalities=("CT",),
                spacing=(2.0, 2.0, 2.0), orientation: str = "RAS", patch=(32, 32, 32), overlap: float = 0.25,
                family: str | None = "tiny", role: str = "single", label_extra: dict[str, dict] | None = None,
                card_extra: dict[str, Any] | None = None) -> Path:
    """Write ``root/<model_id>/`` with model.onnx and a valid model_card.json (sha256 computed)."""
    bundle = root / model_id
    onnx_path = builder(bundle / "model.onnx", **(builder_kwargs or {}))
    sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    colors = [(0, 0, 0), (220, 90, 60), (240, 240, 200), (60, 120, 220), (90, 200, 90)]
    intensity = {"CT": {"kind": "ct-clip-zscore", "clip_min": -1000, "clip_max": 1000, "mean": 0.0, "std": 1000.0},
                 "MR": {"kind": "percentile-zscore", "percentile_low": 0.5, "percentile_high": 99.5}}
    card = {
        "id": model_id, "title": f"Tiny test model {model_id}", "version": "0.0.1", "task": "segmentation",
        "intended_use": "unit tests only; not for diagnostic use", "license": "Apache-2.0", "sha256": sha,
        "family": family, "role": role,
        "image_input": {"modalities": list(modalities), "spacing_mm": list(spacing), "orientation": orientation,
                        "intensity": {m: intensity[m] for m in modalities}, "patch_size": list(patch),
                        "overlap": overlap, "batch_size": 2, "input_name": "image", "divisible_by": 1},
        "outputs": {"labels": [dict({"value": i, "name": n, "color": list(colors[i % len(colors)])},
                                    **(label_extra or {}).get(n, {})) for i, n in enumerate(labels)],
                    "output_name": "logits"},
        "training": {"datasets": [{"name": "none (hand-set weights)", "license": "n/a", "synthetic": True}],
                     "command": "tests", "date": "2026-11-23"},
    }
    card.update(card_extra or {})
    (bundle / "model_card.json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    return bundle


def phantom_volume(shape=(48, 40, 32), spacing=(3.0, 3.0, 4.0), seed: int = 0):
    """The foundation's torso phantom as a CT :class:`Volume` (RAS) plus its ground-truth label array."""
    from medpriv_desktop.core.demo import phantom_ct
    from medpriv_desktop.core.imaging.volume import Volume

    hu, lab, _names = phantom_ct(shape, spacing, seed)
    origin = tuple(-(n - 1) * s / 2 for n, s in zip(shape, spacing))
    return Volume(hu, spacing, origin, np.eye(3), "CT", {"source_format": "nifti"}), lab


def expected_tiny_labels(hu: np.ndarray, centres=DEFAULT_CENTRES) -> np.ndarray:
    """What the nearest-centre model must output for these HU (normalisation x = clip(HU, +-1000) / 1000)."""
    x = np.clip(hu.astype(np.float32), -1000, 1000) / 1000.0
    return np.argmin(np.abs(x[..., None] - np.asarray(centres, np.float32)), axis=-1).astype(np.uint8)


def write_dicom_series(folder: Path, hu: np.ndarray, spacing=(0.8, 0.8, 2.5), origin_lps=(-100.0, -120.0, 50.0),
                       *, series_uid: str | None = None, description: str = "synthetic", tilt_mm_per_slice=0.0,
                       z_positions=None, modality: str = "CT", patient_name: str = "DOE^JANE") -> list[Path]:
    """Write ``hu[i, j, k]`` (i = column, j = row) as a DICOM CT series, one file per slice k (axial, LPS)."""
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid()
    study_uid, for_uid = generate_uid(), generate_uid()
    nx, ny, nz = hu.shape
    files = []
    for k in range(nz):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, for_uid
        ds.PatientName, ds.PatientID = patient_name, "ID-12345"
        ds.PatientBirthDate, ds.PatientSex, ds.StudyDate, ds.StudyTime = "19700101", "F", "20260101", "120000"
        ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID = "A1", "", "1"
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, 3, k + 1
        ds.SeriesDescription = description
        ds.Manufacturer = "tests"
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        z = z_positions[k] if z_positions is not None else origin_lps[2] + k * spacing[2]
        ds.ImagePositionPatient = [origin_lps[0], origin_lps[1] + k * tilt_mm_per_slice, z]
        ds.PixelSpacing = [spacing[1], spacing[0]]
        ds.SliceThickness = spacing[2]
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = np.ascontiguousarray((hu[:, :, k].T.astype(np.int32) + 1024).astype(np.uint16)).tobytes()
        p = folder / f"slice_{series_uid[-6:]}_{k:03d}.dcm"
        ds.save_as(str(p), enforce_file_format=True)
        files.append(p)
    return files


def in_time(fn, seconds: float = 20.0):
    """``fn()`` run in a daemon thread, so that a reader that blocks (on a FIFO) fails the test instead of hanging
    it; its result is returned and its exception re-raised here."""
    import threading

    outcome: list = []

    def target():
        try:
            outcome.append(("ok", fn()))
        except BaseException as exc:  # handed over to the test's thread
            outcome.append(("raised", exc))

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"blocked for {seconds} s"
    kind, value = outcome[0]
    if kind == "raised":
        raise value
    return value


def run_limited(code: str, memory_mb: int = 512, timeout: float = 120.0):
    """Run Python ``code`` in a child whose address space may grow by only ``memory_mb`` beyond its imports.

    For regression tests of memory blow-ups: if the bound they check ever breaks, the child fails with a
    MemoryError instead of the test run eating the machine's memory. ``code`` may use ``limit()`` to apply the
    limit once its imports are done. Returns the CompletedProcess (text).
    """
    import os
    import subprocess
    import sys

    prelude = (
        "import resource\n"
        "def limit():\n"
        "    vm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmSize:'))\n"
        f"    cap = vm * 1024 + {memory_mb} * 1024 * 1024\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))\n")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=timeout,
                          env=env)
