"""The smoke steps of ``medpriv_desktop.smoke`` outside the frozen app (fast): real engines, a tiny bundled model.

A tiny ONNX "segmentation model" (one 1x1x1 convolution: soft tissue vs the rest) is placed in a temporary resources
folder, so the segment and mesh steps run the real reader, sliding-window inference, writers and VTK on the demo CT.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from medpriv_desktop import smoke
from tests.helpers import segmentation_card

REPO = Path(__file__).resolve().parents[2]


def _soft_tissue_onnx() -> bytes:
    """Logits [N, 2, X, Y, Z]: channel 1 = 10 * normalised intensity, channel 0 = its negative."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 1, None, None, None])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 2, None, None, None])
    w = numpy_helper.from_array(np.array([-10.0, 10.0], np.float32).reshape(2, 1, 1, 1, 1), "w")
    b = numpy_helper.from_array(np.zeros(2, np.float32), "b")
    graph = helper.make_graph([helper.make_node("Conv", ["image", "w", "b"], ["logits"])], "soft", [x], [y],
                              initializer=[w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


@pytest.fixture
def resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A resources folder with the real schema and lexicons and one tiny segmentation bundle."""
    res = tmp_path / "resources"
    for sub in ("schema", "lexicons"):
        if (REPO / "resources" / sub).is_dir():
            shutil.copytree(REPO / "resources" / sub, res / sub)
    bundle = res / "models" / "seg-smoke-test"
    bundle.mkdir(parents=True)
    data = _soft_tissue_onnx()
    (bundle / "model.onnx").write_bytes(data)
    card = segmentation_card("seg-smoke-test", hashlib.sha256(data).hexdigest(), role="student")
    (bundle / "model_card.json").write_text(json.dumps(card))
    monkeypatch.setenv("MEDPRIV_RESOURCES", str(res))
    return res


def test_segment_and_mesh_steps_run_the_real_engines(resources: Path, tmp_path: Path) -> None:
    """Demo -> segment (bundled student) -> label map, stats and STL meshes on disk."""
    ctx = {"out": tmp_path / "out"}
    assert smoke.step_demo(ctx)["notes"] >= 1
    seg = smoke.step_segment(ctx)
    assert seg["model"] == "seg-smoke-test" and seg["role"] == "student"
    assert seg["structures_found"] == ["liver"]  # the card's name for label 1
    # the files `medpriv segment` writes (the same use case): label map, its label table, stats, summary
    assert (tmp_path / "out" / "segmentation" / "demo_ct_seg.nii.gz").stat().st_size > 0
    assert (tmp_path / "out" / "segmentation" / "summary.json").is_file()
    assert "liver" in (tmp_path / "out" / "segmentation" / "stats.csv").read_text()
    mesh = smoke.step_meshes(ctx)
    assert mesh["files"] >= 1 and mesh["source"] == "segmentation"
    assert list((tmp_path / "out" / "meshes").glob("*.stl"))


def test_missing_model_fails_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No bundled segmentation model: the step fails and says which folder lacks one."""
    (tmp_path / "empty" / "models").mkdir(parents=True)
    monkeypatch.setenv("MEDPRIV_RESOURCES", str(tmp_path / "empty"))
    ctx = {"out": tmp_path / "out"}
    smoke.step_demo(ctx)
    with pytest.raises(smoke.SmokeStepError, match="no bundled segmentation model in .*empty"):
        smoke.step_segment(ctx)
    mesh = smoke.step_meshes(ctx)  # VTK is still checked, on the demo's reference labels
    assert mesh["source"] == "demo reference labels" and mesh["files"] >= 10


def test_missing_engine_is_named() -> None:
    """An engine module or function that has not landed is reported by name, not as a crash."""
    with pytest.raises(smoke.SmokeStepError, match=r"the X engine is not installed: medpriv_desktop.no_such.run"):
        smoke._engine("medpriv_desktop.no_such", ("run",), "the X engine")
    with pytest.raises(smoke.SmokeStepError, match=r"AttributeError"):
        smoke._engine("medpriv_desktop.core.jobs", ("no_such_job",), "the X engine")


def test_report_and_exit_code(resources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One failing step makes the report not ok and main() return 1; the others still run and are recorded."""
    def boom(ctx):
        raise ValueError("engine exploded")

    monkeypatch.setattr(smoke, "STEPS", (("demo", smoke.step_demo), ("boom", boom), ("segment", smoke.step_segment)))
    assert smoke.main([str(tmp_path / "out")]) == 1
    report = json.loads((tmp_path / "out" / smoke.REPORT_FILE).read_text())
    assert report["ok"] is False
    steps = {s["name"]: s for s in report["steps"]}
    assert steps["boom"]["error"].startswith("ValueError: engine exploded")
    assert steps["segment"]["ok"] is True and steps["demo"]["ok"] is True
    assert report["environment"]["frozen"] is False

    monkeypatch.setattr(smoke, "STEPS", (("demo", smoke.step_demo), ("segment", smoke.step_segment)))
    assert smoke.main([str(tmp_path / "out2")]) == 0
