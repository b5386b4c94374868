"""The shipped torso cards and the bundle writer declare the left/right pairs and say that the models were trained
without mirroring (so no flipped image is averaged or taken as QC's second opinion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medpriv_desktop.core.models.registry import read_card

REPO = Path(__file__).resolve().parents[3]
SHIPPED = ("seg-torso-teacher", "seg-torso-student-q")


@pytest.mark.parametrize("model_id", SHIPPED)
def test_shipped_cards_pair_every_left_label_with_its_right_one(model_id):
    card = read_card(REPO / "resources" / "models" / model_id)
    names = {lb.value: lb.name for lb in card.outputs.labels}
    pairs = {(names[a], names[b]) for a, b in card.outputs.label_pairs}
    lefts = {n for n in names.values() if n.endswith("_left")}
    assert {a for a, _ in pairs} == lefts
    assert all(b == a[: -len("left")] + "right" for a, b in pairs)
    assert card.image_input.mirror_axes == []
    assert card.image_input.left_right_axis == 0  # RAS


def test_bundle_writer_puts_the_pairs_on_the_card(tmp_path):
    pytest.importorskip("yaml")
    from training.seg.bundle import build_card
    from training.seg.labels import LABEL_PAIRS, SEG_BY_NAME

    assert set(LABEL_PAIRS) == {(SEG_BY_NAME[f"{s}_left"], SEG_BY_NAME[f"{s}_right"])
                                for s in ("lung", "kidney", "adrenal_gland")}
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"not a real model: the card only hashes it")
    card = build_card(model_id="seg-x-test", title="x", onnx_path=onnx, role="single", width_fraction=1.0,
                      patch=(32, 32, 32), spacing=6.0, divisible_by=16, metrics=[], parameters=1, flops=1.0,
                      latency_ms=None, latency_note=None, n_phantoms=1, command="tests", seed=0, config={},
                      teacher_id=None, description="x")
    assert [tuple(p) for p in card.outputs.label_pairs] == list(LABEL_PAIRS)
    assert card.image_input.mirror_axes == []
