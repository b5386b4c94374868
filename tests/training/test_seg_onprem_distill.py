"""On-premises distillation (``seg distill --teacher``): the DICOM series rule, the teacher's exposed features, the
cache (parity with the app's sliding window, size bound, top-k), the ReCo-KD terms, and a whole tiny run with a kill
halfway, resume, exported students the app loads, the report, the budget and the option checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("monai")

from medpriv_desktop.core.errors import ConfigError  # noqa: E402
from medpriv_desktop.core.jobs import run_job  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "resources" / "models" / "seg-torso-teacher"


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory) -> Path:
    """A copy of the shipped teacher bundle in a folder of its own (a site or user would hand over such a folder)."""
    import shutil

    dst = tmp_path_factory.mktemp("teachers") / SHIPPED.name
    shutil.copytree(SHIPPED, dst)
    return dst


def _ct(shape=(48, 40, 30), seed=0) -> np.ndarray:
    """A small CT-like torso: air, a body block, a 'lung' and a denser block (HU)."""
    rng = np.random.default_rng(seed)
    a = np.full(shape, -1000, np.int16)
    a[6:-6, 5:-5, :] = 40 + rng.integers(-20, 20)
    a[12:22, 10:24, 4:-4] = -800
    a[26:34, 12:22, 6:-8] = 70
    return a


def _nifti(path: Path, hu: np.ndarray, spacing=3.0) -> Path:
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(hu, np.diag([spacing, spacing, spacing, 1.0])), str(path))
    return path


def _series(folder: Path, study_uid: str, n: int, *, modality="CT", thickness=2.5, sagittal=False) -> str:
    """Write an ``n``-slice 8x8 DICOM series; returns its SeriesInstanceUID."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    uid = generate_uid()
    for k in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, uid, study_uid + ".1"
        ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, 1, k + 1
        ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1] if sagittal else [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [k * thickness, 0, 0] if sagittal else [0, 0, k * thickness]
        ds.PixelSpacing, ds.SliceThickness, ds.Rows, ds.Columns = [1.0, 1.0], thickness, 8, 8
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = np.full((8, 8), 1000, np.uint16).tobytes()
        ds.save_as(str(folder / f"{uid[-8:]}_{k:03d}.dcm"), enforce_file_format=True)
    return uid


@pytest.fixture(scope="module")
def dicom_site(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Study A (mixed in the top folder): sagittal CT 12 slices, axial CT 8 x 5 mm, axial CT 8 x 2.5 mm, axial CT
    5 x 1 mm, axial MR 20 slices. Study B (a subfolder): one axial MR series."""
    root = tmp_path_factory.mktemp("site")
    u = {"sag": _series(root, "1.2.3.1", 12, sagittal=True), "thick": _series(root, "1.2.3.1", 8, thickness=5.0),
         "thin": _series(root, "1.2.3.1", 8, thickness=2.5), "short": _series(root, "1.2.3.1", 5, thickness=1.0),
         "mr_a": _series(root, "1.2.3.1", 20, modality="MR"),
         "mr_b": _series(root / "study_b", "1.2.3.2", 6, modality="MR")}
    return root, u


@pytest.mark.parametrize("modalities, expected", [
    (["CT", "MR"], {"1.2.3.1": "thin", "1.2.3.2": "mr_b"}),  # CT first, axial, most slices, then thinnest
    (["MR"], {"1.2.3.1": "mr_a", "1.2.3.2": "mr_b"}),
    (["CT"], {"1.2.3.1": "thin"}),  # a study with no CT is left out
])
def test_dicom_series_rule_picks_one_series_per_study(dicom_site, modalities, expected):
    from medpriv_desktop.core.imaging.dicom_series import list_dicom_series
    from training.seg.onprem.scans import choose_study_series

    root, uids = dicom_site
    chosen = choose_study_series(list_dicom_series(root), modalities)
    assert {study: info.uid for study, info in chosen.items()} == {s: uids[k] for s, k in expected.items()}


def test_find_scans_mixes_dicom_studies_and_volume_files_without_naming_them(dicom_site, tmp_path):
    from training.seg.onprem.scans import find_scans, split_holdout

    root, _ = dicom_site
    scans = find_scans(root, ["CT", "MR"])
    assert len(scans) == 2 and all(s.series is not None for s in scans)
    site = tmp_path / "mixed"
    for name in ("DOE_JANE.nii.gz", "sub/SMITH_JOHN.nii.gz"):
        _nifti(site / name, _ct())
    ids = [s.scan_id for s in find_scans(site, ["CT"])]
    assert len(ids) == 2 and all(i.startswith("scan-") and "DOE" not in i and "SMITH" not in i for i in ids)
    train, held = split_holdout(find_scans(site, ["CT"]), None, seed=0)
    assert (len(train), len(held)) == (1, 1)


def test_exposed_features_leave_the_logits_unchanged(tmp_path, teacher_dir):
    import onnx
    import onnxruntime as ort

    from training.seg.onprem.teacher import expose_features

    src = teacher_dir / "model.onnx"
    path, name, channels = expose_features(src, "logits", tmp_path / "t.onnx")
    assert name is not None and channels == 8
    x = np.random.default_rng(0).normal(0, 1, (1, 1, 32, 32, 32)).astype(np.float32)
    base = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    logits, feats = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x})
    np.testing.assert_array_equal(logits, base)
    assert feats.shape == (1, 8, 32, 32, 32) and np.abs(feats).sum() > 0
    # A graph with no 1x1x1 head: no features, the caller falls back to logit-derived terms.
    h = onnx.helper
    g = h.make_graph([h.make_node("Identity", ["image"], ["logits"])], "g",
                     [h.make_tensor_value_info("image", onnx.TensorProto.FLOAT, None)],
                     [h.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, None)])
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), str(tmp_path / "id.onnx"))
    assert expose_features(tmp_path / "id.onnx", "logits", tmp_path / "x.onnx")[1:] == (None, 0)


@pytest.fixture(scope="module")
def teacher_space(tmp_path_factory, teacher_dir):
    """The shipped teacher (features exposed) and a small CT in its model space (2 tiles along each axis)."""
    from medpriv_desktop.core.imaging.preprocess import to_model_space
    from medpriv_desktop.core.imaging.volume import Volume
    from training.seg.onprem.teacher import OnnxTeacher, load_teacher_entry

    entry, reg = load_teacher_entry(str(teacher_dir))
    teacher = OnnxTeacher.open(entry, reg, tmp_path_factory.mktemp("work"), threads=1)
    vol = Volume(_ct((90, 70, 50)).astype(np.float32), (6.0, 6.0, 6.0), (0.0, 0.0, 0.0), np.eye(3), "CT", {})
    return teacher, to_model_space(vol, entry.card.image_input, entry.card.id), entry.card.image_input


@pytest.mark.parametrize("top_k", [None, 3])
def test_cache_matches_the_app_sliding_window_within_its_size_bound(teacher_space, tmp_path, top_k):
    from medpriv_desktop.core.imaging.sliding_window import sliding_window
    from training.seg.onprem.cache import CachedScan, cache_bytes, cache_scan

    teacher, space, ii = teacher_space
    out = run_job(cache_scan(space.array, teacher, ii.patch_size, ii.overlap, space.pad_value, tmp_path / "c",
                             {"scan_id": "x"}, top_k))
    labels, _, n_tiles = run_job(sliding_window(space.array, lambda b: teacher(b)[0], ii.patch_size, 16,
                                                overlap=ii.overlap, pad_value=space.pad_value))
    assert n_tiles >= 8
    scan = CachedScan.open(out)
    img, logp, feats = scan.patch((0, 0, 0), space.shape)
    # The student learns what the app would give it: float16 storage flips the argmax only at near-ties.
    assert (logp.argmax(0) != labels).mean() < 1e-3 and len(np.unique(labels)) > 2
    np.testing.assert_allclose(img, space.array, atol=2e-2)
    assert feats.shape == (8, *[-(-n // 2) for n in space.shape])
    bound = cache_bytes(space.shape, 16, top_k, 8)
    written = sum(f.stat().st_size for f in out.iterdir() if f.suffix == ".npy")
    assert bound <= written <= bound + 4 * 256  # the stated bytes per voxel, plus the .npy headers
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("with_features", [True, False])
def test_region_and_context_terms_are_nonzero_and_train_the_student(teacher_space, tmp_path, with_features):
    from training.seg.onprem.cache import CachedScan, cache_scan
    from training.seg.onprem.students import FeatureTap, SiteDistillLoss, build_student, teacher_levels

    teacher, space, ii = teacher_space
    scan = CachedScan.open(run_job(cache_scan(space.array, teacher, ii.patch_size, ii.overlap, space.pad_value,
                                              tmp_path / "c", {})))
    img, logp, feats = scan.patch((0, 0, 0), (32, 32, 32))
    img, logp = torch.from_numpy(img)[None, None], torch.from_numpy(logp)[None]
    ft = torch.from_numpy(feats)[None] if with_features else None
    channels = [4, 4, 8, 16]
    net = build_student(16, channels)
    tap = FeatureTap(net, len(channels))
    t_feats = teacher_levels(logp, ft, tap.scales, 2)
    assert [f.shape[2:] for f in t_feats] == [(8, 8, 8), (16, 16, 16)]
    for term in ("region", "context"):
        loss = SiteDistillLoss(16, tap.channels(channels), [8 if with_features else 16] * 2, {term: 1.0})
        net.zero_grad()
        total, terms = loss(net(img), tap.features(), logp, t_feats, logp.argmax(1))
        total.backward()
        assert terms[term] > 1e-4
        grad = sum(float(p.grad.abs().sum()) for p in net.parameters() if p.grad is not None)
        assert grad > 0, term


def _site(tmp_path: Path, n: int = 3) -> Path:
    for i in range(n):
        _nifti(tmp_path / "scans" / f"case{i}.nii.gz", _ct(seed=i))
    return tmp_path / "scans"


def _opts(tmp_path: Path, teacher: Path, **kw):
    from training.seg.onprem.run import DistillOptions

    base = dict(teacher=str(teacher), unlabelled=_site(tmp_path), out=tmp_path / "run", widths=[0.5, 0.25],
                steps=4, base_channels=[8, 16, 32, 64], patch=[32, 32, 32], batch_size=1, threads=1, ckpt_every=2)
    return DistillOptions(**{**base, **kw})


@pytest.mark.slow
def test_killed_run_resumes_without_recomputing_the_teacher_and_exports_loadable_students(tmp_path, teacher_dir):
    from medpriv_desktop.core.imaging.inference import segment_volume
    from medpriv_desktop.core.imaging.volume import Volume
    from medpriv_desktop.core.models.registry import ModelRegistry
    from training.seg.onprem.run import distill_on_site

    opts = _opts(tmp_path, teacher_dir)
    job = distill_on_site(opts)
    for p in job:  # kill the run in the middle of the first student's training
        if "step 3/4" in p.message:
            break
    job.close()
    cache = opts.out / "cache"
    stamps = {f: f.stat().st_mtime_ns for f in cache.rglob("*.npy")}
    assert len(stamps) == 2 * 3  # image, logits, features of each of the 2 distillation scans
    first = next((opts.out / "students").iterdir())
    before = torch.load(first / "checkpoint.pt", weights_only=False)
    assert before["step"] == 3 and not before["done"]

    report = run_job(distill_on_site(opts))
    assert {f: f.stat().st_mtime_ns for f in cache.rglob("*.npy")} == stamps  # teacher not run again
    after = torch.load(first / "checkpoint.pt", weights_only=False)
    assert after["step"] == 4 and after["history"][:3] == before["history"]
    ev = report["evaluation"]
    assert ev["n_scans"] == 1 and set(ev["students"]) == set(report["bundles"])
    for sid, s in ev["students"].items():
        assert s["dice_ratio"] and all(0 <= v <= 1 for v in s["dice_ratio"].values())
        assert s["tile_ms"] > 0 and s["scan_s"] > 0
    md = (opts.out / "report.md").read_text()
    assert "Dice ratio to the teacher per structure" in md and "| body |" in md

    registry = ModelRegistry(bundled_dir=opts.out / "bundles", site_dir=None, user_dir=tmp_path / "user")
    vol = Volume(_ct(seed=9).astype(np.float32), (3.0, 3.0, 3.0), (0.0, 0.0, 0.0), np.eye(3), "CT", {})
    for w, sid in zip(opts.widths, sorted(report["bundles"], reverse=True)):
        entry = registry.get(sid)
        card = entry.card
        assert (card.role, card.training.teacher_id) == ("student", "seg-torso-teacher")
        assert card.width_fraction == w and card.intended_use.startswith("Trained on site data: keep on site.")
        cfg = card.training.config
        assert cfg["site_data"] is True and cfg["weights"] == opts.weights and cfg["steps_done"] == 4
        assert card.metrics.get("dice_ratio_to_teacher") is not None and card.metrics.cpu_latency_ms > 0
        res = run_job(segment_volume(vol, entry, registry, threads=1))
        assert res.labelmap.array.shape == vol.shape


def test_cache_budget_and_changed_options_are_refused(tmp_path, teacher_dir):
    from training.seg.onprem.run import distill_on_site

    with pytest.raises(ConfigError, match="cache-budget-mb"):
        run_job(distill_on_site(_opts(tmp_path, teacher_dir, cache_budget_mb=0.05)))
    assert not list((tmp_path / "run" / "cache").glob("scan-*"))
    with pytest.raises(ConfigError, match="seed"):
        run_job(distill_on_site(_opts(tmp_path, teacher_dir, seed=1, cache_budget_mb=0.05)))


def test_a_first_scan_the_teacher_cannot_take_is_skipped_not_fatal(tmp_path, teacher_dir):
    # The skip mark used to be written before the cache folder existed: when the first scan was unusable the run
    # died with FileNotFoundError instead of leaving the scan out.
    from medpriv_desktop.core.errors import InputError
    from training.seg.onprem.run import _cache_all
    from training.seg.onprem.scans import ScanRef
    from training.seg.onprem.teacher import load_teacher_entry

    entry, _ = load_teacher_entry(str(teacher_dir))
    bad = tmp_path / "damaged.nii.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    cache = tmp_path / "run" / "cache"
    opts = _opts(tmp_path, teacher_dir)
    with pytest.raises(InputError, match="none of the distillation scans could be used"):
        run_job(_cache_all([ScanRef("scan-0123456789ab", bad)], None, entry.card.image_input, entry.card.id, cache,
                           opts))
    assert json.loads((cache / "scan-0123456789ab.skipped").read_text()) == {"reason": "InputError"}


def test_cli_dispatches_on_teacher(tmp_path, capsys, teacher_dir):
    from training.cli import main

    site = _site(tmp_path, 2)
    (site / "damaged.nii.gz").write_bytes(b"\x1f\x8b not really gzip")  # skipped and counted, not fatal
    code = main(["seg", "distill", "--teacher", str(teacher_dir), "--unlabelled", str(site), "-o", str(tmp_path / "r"),
                 "--widths", "0.125", "--steps", "1", "--base-channels", "8,16,32,64", "--patch", "32,32,32",
                 "--batch-size", "1", "--threads", "1", "--loss-weights", "kd=0", "-q"])
    assert code == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["recipe"]["weights"]["kd"] == 0.0 and "report:" in capsys.readouterr().out
    counts = report["scans"]
    assert counts["n_skipped"] == 1 and counts["n_distill"] + counts["n_holdout"] + counts["n_skipped"] == 3
    card = json.loads(next((tmp_path / "r" / "bundles").glob("*/model_card.json")).read_text())
    assert str(site) not in card["training"]["command"] and "--unlabelled DIR" in card["training"]["command"]
    assert main(["seg", "distill", "--teacher", str(teacher_dir), "-q"]) == 2  # no --unlabelled / -o: one message
    assert "needs --unlabelled" in capsys.readouterr().err
    # Without --teacher the config mode (torch checkpoint, phantoms) still answers.
    assert main(["seg", "distill", "-c", str(tmp_path / "none.yaml"), "-q"]) == 2
    assert "config file not found" in capsys.readouterr().err


@pytest.mark.parametrize("spec, problem", [
    ("seg-torso-teacher", None),
    ("seg-torso-techer", "did you mean 'seg-torso-teacher'"),
    ("minilm-embedding", "not a segmentation model"),
])
def test_teacher_by_id_is_checked_like_the_app_loads_it(spec, problem):
    from medpriv_desktop.core.errors import ModelError
    from training.seg.onprem.teacher import load_teacher_entry

    if problem is None:
        entry, _ = load_teacher_entry(spec)
        assert entry.card.id == spec and entry.manifest is not None  # verified (manifest computed)
    else:
        with pytest.raises(ModelError) as err:
            load_teacher_entry(spec)
        assert problem in err.value.message
