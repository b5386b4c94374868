"""Issue 19, item 1: left/right label pairs. A mirror image of the body swaps its left and right structures, so flip
agreement (QC) and test-time flips must swap the paired channels of every pass flipped along the left-right axis.

The "sided blob" model below is perfectly mirror-consistent: inside a bright blob it says "left" on one half of its
tile and "right" on the other (a fixed ramp along the left-right axis of the tile decides), so flipping its input
along that axis flips its output and swaps the two labels, exactly. A correct QC gives it flip agreement 1.0 and TTA
gives the plain output; without the swap both collapse.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from medpriv_desktop.core.imaging.inference import segment_volume
from medpriv_desktop.core.imaging.qc import run_qc
from medpriv_desktop.core.imaging.sliding_window import ALL_FLIPS, mirror_permutation, sliding_window
from medpriv_desktop.core.imaging.stats import structure_stats
from medpriv_desktop.core.imaging.volume import Volume
from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.models.card import ImageInput, Outputs

PATCH = 24
LABELS = ("background", "kidney_left", "kidney_right")


def _ramp(lr_axis: int, n: int = PATCH) -> np.ndarray:
    """Signed position along the left-right axis of a tile, broadcastable to [1, 1, X, Y, Z] (never 0: n is even)."""
    shape = [1, 1, 1, 1, 1]
    shape[2 + lr_axis] = n
    return (np.arange(n, dtype=np.float32) - (n - 1) / 2.0).reshape(shape)


def _sided_logits(x: np.ndarray, lr_axis: int, s: float = 10.0, t: float = 0.1) -> np.ndarray:
    """Numpy twin of the ONNX model: background vs blob from intensity, left vs right from the tile ramp."""
    base = s * (x - 0.5)
    ramp = _ramp(lr_axis, x.shape[2 + lr_axis])
    return np.concatenate([-base, base - t * ramp, base + t * ramp], axis=1).astype(np.float32)


def build_sided_model(path: Path, lr_axis: int, s: float = 10.0, t: float = 0.1) -> Path:
    """ONNX version of :func:`_sided_logits` for tiles of PATCH^3 voxels."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.array([-s, s, s], np.float32).reshape(3, 1, 1, 1, 1)
    b = np.array([0.5 * s, -0.5 * s, -0.5 * s], np.float32)
    ramp = _ramp(lr_axis)
    side = np.concatenate([0 * ramp, -t * ramp, t * ramp], axis=1).astype(np.float32)
    inp = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, PATCH, PATCH, PATCH])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3, PATCH, PATCH, PATCH])
    nodes = [helper.make_node("Conv", ["image", "w", "b"], ["base"], kernel_shape=[1, 1, 1]),
             helper.make_node("Add", ["base", "side"], ["logits"])]
    graph = helper.make_graph(nodes, "sided_blob", [inp], [out], [numpy_helper.from_array(w, "w"),
                                                                    numpy_helper.from_array(b, "b"),
                                                                    numpy_helper.from_array(side, "side")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="medpriv-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _bundle(root: Path, orientation: str, lr_axis: int, pairs: list | None, model_id: str = "seg-sided-test") -> Path:
    bundle = root / model_id
    onnx_path = build_sided_model(bundle / "model.onnx", lr_axis)
    outputs: dict = {"labels": [{"value": i, "name": n} for i, n in enumerate(LABELS)], "output_name": "logits"}
    if pairs is not None:
        outputs["label_pairs"] = pairs
    card = {
        "id": model_id, "title": "sided blob", "version": "0.0.1", "task": "segmentation",
        "intended_use": "unit tests only; not for diagnostic use", "license": "Apache-2.0",
        "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "image_input": {"modalities": ["CT"], "spacing_mm": [2.0, 2.0, 2.0], "orientation": orientation,
                        "intensity": {"CT": {"kind": "ct-clip-zscore", "clip_min": -1000, "clip_max": 1000,
                                             "mean": 0.0, "std": 1000.0}},
                        "patch_size": [PATCH] * 3, "overlap": 0.5, "batch_size": 1, "divisible_by": 1},
        "outputs": outputs,
        "training": {"datasets": [{"name": "none", "license": "n/a", "synthetic": True}], "command": "tests",
                     "date": "2026-12-05"},
    }
    (bundle / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    return bundle


def _blob_volume(n: int = PATCH) -> Volume:
    """A CT volume (RAS, 2 mm) holding one bright sphere in the middle: symmetric about every axis."""
    c = (np.arange(n) - (n - 1) / 2.0) ** 2
    r2 = c[:, None, None] + c[None, :, None] + c[None, None, :]
    hu = np.where(r2 <= (0.35 * n) ** 2, 1000, -1000).astype(np.int16)
    return Volume(hu, (2.0, 2.0, 2.0), (0.0, 0.0, 0.0), np.eye(3), "CT", {})


def _registry(tmp_path, orientation, lr_axis, pairs):
    pytest.importorskip("onnx")
    from medpriv_desktop.core.models.registry import ModelRegistry

    _bundle(tmp_path / "bundled", orientation, lr_axis, pairs)
    reg = ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=None)
    return reg, reg.get("seg-sided-test")


# -- the card field -----------------------------------------------------------------------------------------------

def _outputs(pairs):
    return Outputs(labels=[{"value": i, "name": n} for i, n in enumerate(LABELS + ("lung_left", "lung_right"))],
                   label_pairs=pairs)


@pytest.mark.parametrize("pairs, problem", [
    ([[1, 7]], "7"),  # a value the card does not have
    ([[1, 2], [2, 3]], "2"),  # one label in two pairs
    ([[1, 1]], "itself"),
    ([[0, 1]], "background"),
])
def test_card_refuses_bad_label_pairs(pairs, problem):
    with pytest.raises(ValidationError, match=problem):
        _outputs(pairs)


def test_card_accepts_pairs_and_builds_the_channel_swap():
    out = _outputs([[1, 2], [3, 4]])
    assert out.label_pairs == [(1, 2), (3, 4)]
    assert mirror_permutation(5, out.label_pairs).tolist() == [0, 2, 1, 4, 3]
    assert Outputs(labels=[{"value": 0, "name": "background"}]).label_pairs == []  # optional: no pairs


@pytest.mark.parametrize("orientation, axis", [("RAS", 0), ("LPS", 0), ("SLP", 1), ("ASR", 2), ("PIL", 2)])
def test_left_right_axis_follows_the_card_orientation(orientation, axis):
    ii = ImageInput(modalities=["CT"], spacing_mm=(2, 2, 2), orientation=orientation, patch_size=(8, 8, 8),
                    intensity={"CT": {"kind": "none"}})
    assert ii.left_right_axis == axis


# -- sliding window -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lr_axis", [0, 1, 2])
def test_tta_with_pairs_equals_the_plain_output(lr_axis):
    x = np.where(np.asarray(_blob_volume().array) > 0, 1.0, -1.0).astype(np.float32)
    predict = lambda b: _sided_logits(b, lr_axis)  # noqa: E731
    plain, _, _ = run_job(sliding_window(x, predict, (PATCH,) * 3, 3))
    assert set(np.unique(plain)) == {0, 1, 2}  # both sides present: the test can tell them apart
    tta, _, _ = run_job(sliding_window(x, predict, (PATCH,) * 3, 3, flips=ALL_FLIPS, lr_axis=lr_axis,
                                       label_pairs=[(1, 2)]))
    assert np.array_equal(tta, plain)


def test_without_pairs_a_left_right_flip_is_averaged_as_before():
    """No pairs declared: channels are not swapped (today's behaviour), so the two sides blur into one."""
    x = np.where(np.asarray(_blob_volume().array) > 0, 1.0, -1.0).astype(np.float32)
    predict = lambda b: _sided_logits(b, 0)  # noqa: E731
    tta, _, _ = run_job(sliding_window(x, predict, (PATCH,) * 3, 3, flips=ALL_FLIPS, lr_axis=0))
    assert not (tta == 2).any()  # left and right logits averaged to a tie: argmax takes the first


# -- the whole path: card -> segment_volume -> run_qc --------------------------------------------------------------

@pytest.mark.parametrize("orientation, lr_axis", [("RAS", 0), ("ASR", 2)])
def test_mirror_consistent_model_gets_full_flip_agreement_and_tta_changes_nothing(tmp_path, orientation, lr_axis):
    reg, entry = _registry(tmp_path, orientation, lr_axis, [[1, 2]])
    vol = _blob_volume()
    plain = run_job(segment_volume(vol, entry, reg, threads=1))
    assert {1, 2} <= set(np.unique(plain.labelmap.array))
    tta = run_job(segment_volume(vol, entry, reg, threads=1, tta=True))
    assert tta.flips == 8 and np.array_equal(tta.labelmap.array, plain.labelmap.array)
    stats = structure_stats(plain.labelmap, vol)
    report = run_job(run_qc(vol, plain, entry, reg, stats, second_opinion="flip", threads=1))
    agreement = {i.name: i.metric for i in report.items if i.check == "agreement"}
    assert report.second_opinion == "flip"
    assert agreement["kidney_left"] > 0.99 and agreement["kidney_right"] > 0.99


def test_card_without_pairs_flip_agreement_is_as_before(tmp_path):
    """Without pairs nothing is swapped: the same model 'disagrees' with itself on the paired labels (today)."""
    reg, entry = _registry(tmp_path, "RAS", 0, None)
    vol = _blob_volume()
    plain = run_job(segment_volume(vol, entry, reg, threads=1))
    report = run_job(run_qc(vol, plain, entry, reg, structure_stats(plain.labelmap, vol), second_opinion="flip",
                            threads=1))
    agreement = {i.name: i.metric for i in report.items if i.check == "agreement"}
    assert agreement["kidney_left"] < 0.1 and agreement["kidney_right"] < 0.1


# -- mirror axes: flips only along axes the model was trained to mirror -------------------------------------------

def test_card_with_no_mirror_axes_runs_one_pass_and_qc_takes_no_flipped_opinion(tmp_path):
    """The shipped torso models were trained without mirroring: a flipped body is no second opinion for them."""
    reg, entry = _registry(tmp_path, "RAS", 0, [[1, 2]])
    card_path = entry.path / "model_card.json"
    card = json.loads(card_path.read_text())
    card["image_input"]["mirror_axes"] = []
    card_path.write_text(json.dumps(card))
    reg.refresh()
    entry = reg.get("seg-sided-test")
    vol = _blob_volume()
    tta = run_job(segment_volume(vol, entry, reg, threads=1, tta=True))
    assert tta.flips == 1 and any("mirror" in w for w in tta.warnings)
    report = run_job(run_qc(vol, tta, entry, reg, structure_stats(tta.labelmap, vol), second_opinion="flip",
                            threads=1))
    assert report.second_opinion == "none" and not [i for i in report.items if i.check == "agreement"]
    assert any("mirror" in n for n in report.notes)


@pytest.mark.parametrize("axes, flips", [(None, ALL_FLIPS), ([0], ((), (0,))), ([0, 2], ((), (0,), (2,), (0, 2)))])
def test_tta_flip_set_is_built_from_the_mirror_axes(axes, flips):
    from medpriv_desktop.core.imaging.sliding_window import flip_sets

    ii = ImageInput(modalities=["CT"], spacing_mm=(2, 2, 2), patch_size=(8, 8, 8), intensity={"CT": {"kind": "none"}},
                    mirror_axes=axes)
    tta, qc = flip_sets(ii.mirror_axes)
    assert set(tta) == set(flips)
    assert qc == (tuple(axes) if axes is not None else (0, 1, 2))
