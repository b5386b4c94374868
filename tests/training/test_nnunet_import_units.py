"""Fast checks of the nnU-Net importer that need no training: the merge rule, both plans schemas against nnunetv2's
own translation, checkpoint safety, refusals with one clear message, the CLI wiring."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).parent))
import _nnunet_tiny as tiny  # noqa: E402

from medpriv_desktop.core.errors import MedPrivError  # noqa: E402
from medpriv_desktop.core.jobs import run_job  # noqa: E402
from training.seg.nnunet.graph import merge_part_logits, part_after_part  # noqa: E402
from training.seg.nnunet.importer import check_compatible, import_nnunet  # noqa: E402
from training.seg.nnunet.network import build_network, load_checkpoint  # noqa: E402
from training.seg.nnunet.plans import NnunetImportError, read_part, to_card_order  # noqa: E402

ORGANS = {"background": 0, "liver": 1, "spleen": 2}


def _folder(root: Path, name: str = "Dataset901_Organs", labels=None, weights: bool = True, **plan_kw) -> Path:
    """A results folder with random (untrained) weights saved the way nnU-Net's checkpoint holds them."""
    folder = root / name / "nnUNetTrainer__nnUNetPlans__3d_fullres"
    kw = {"patch": [16, 24, 32], "spacing": [3.0, 1.5, 2.0], **plan_kw}
    tiny.write_plans(folder / "plans.json", dataset=name, **kw)
    tiny.write_dataset_json(folder / "dataset.json", labels or ORGANS)
    if weights:
        torch.manual_seed(0)
        net = build_network(_part_without_checkpoint(folder))
        torch.save({"network_weights": net.state_dict(), "trainer_name": "nnUNetTrainer",
                    "inference_allowed_mirroring_axes": (0, 1, 2), "logging": {"ema_fg_dice": [np.float64(0.5)]},
                    "current_epoch": 3}, folder / "fold_0" / "checkpoint_final.pth")
    return folder


def _part_without_checkpoint(folder: Path):
    (folder / "fold_0").mkdir(parents=True, exist_ok=True)
    (folder / "fold_0" / "checkpoint_final.pth").touch()
    return read_part(folder)


# -- the merge rule ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_merge_rule_is_totalsegmentators_on_one_tile(seed):
    """argmax of the merged logits == each part's argmax written part after part (later parts overwrite where they
    say foreground), on random logits with conflicts, ties, large margins and parts of different sizes."""
    rng = np.random.default_rng(seed)
    sizes = [3, 2, 4][: 2 + seed % 2]
    shape = (2, 6, 7, 5)
    logits = []
    for n in sizes:
        z = rng.normal(0, 1 + 10 * (seed % 3), (shape[0], n, *shape[1:])).astype(np.float32)
        z[:, 0] += rng.normal(0.5, 1.0)  # more background than not, as in a real scan
        tie = rng.random(shape) < 0.05  # exact ties between background and the best foreground class
        best = z[:, 1:].max(1)
        z[:, 0][tie] = best[tie]
        logits.append(z)
    merged = merge_part_logits([torch.from_numpy(z) for z in logits]).numpy()
    ours = merged.argmax(1)
    expected = part_after_part([z.argmax(1) for z in logits], [n - 1 for n in sizes])
    conflicts = sum((z.argmax(1) > 0).astype(int) for z in logits) > 1
    assert conflicts.any() and (~conflicts).any()
    np.testing.assert_array_equal(ours, expected)


def test_merge_is_linear_without_conflicts():
    """Away from conflicts the merged logits are z_kc - b_k: blending tiles then merging == merging then blending."""
    rng = np.random.default_rng(1)
    a = [torch.from_numpy(rng.normal(0, 1, (1, n, 4, 4, 4)).astype(np.float32)) for n in (3, 2)]
    b = [torch.from_numpy(rng.normal(0, 1, (1, n, 4, 4, 4)).astype(np.float32)) for n in (3, 2)]
    for z in a + b:
        z[:, 0] += 10.0  # every part says background: no conflict anywhere
    a[0][:, 0, 0] -= 20.0  # part 1 claims one plane in both tiles
    b[0][:, 0, 0] -= 20.0
    w = 0.3
    blended_then_merged = merge_part_logits([w * x + (1 - w) * y for x, y in zip(a, b)])
    merged_then_blended = w * merge_part_logits(a) + (1 - w) * merge_part_logits(b)
    torch.testing.assert_close(blended_then_merged, merged_then_blended)


# -- plans ---------------------------------------------------------------------------------------------------------

def test_both_plans_schemas_build_the_network_nnunet_builds(tmp_path):
    """Pre-2.4 and 2.4+ plans give the same arch kwargs as nnunetv2's own translation, and the same network."""
    pytest.importorskip("nnunetv2")
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    nets = {}
    for schema in ("old", "new"):
        folder = _folder(tmp_path / schema, schema=schema, weights=False)
        part = _part_without_checkpoint(folder)
        plans = json.loads((folder / "plans.json").read_text())
        theirs = PlansManager(plans).get_configuration("3d_fullres").network_arch_init_kwargs
        for key in ("n_stages", "features_per_stage", "kernel_sizes", "strides", "n_conv_per_stage",
                    "n_conv_per_stage_decoder", "conv_bias", "norm_op_kwargs", "nonlin_kwargs"):
            assert part.arch_kwargs[key] == theirs[key], key
        for key in ("conv_op", "norm_op", "nonlin"):  # same class, spelt with or without the module path
            assert part.arch_kwargs[key].rsplit(".", 1)[-1] == theirs[key].rsplit(".", 1)[-1]
        nets[schema] = build_network(part)
    shapes = [{k: tuple(v.shape) for k, v in n.state_dict().items()} for n in nets.values()]
    assert shapes[0] == shapes[1] and len(shapes[0]) > 10


@pytest.mark.parametrize("transpose, patch_card", [([0, 1, 2], (32, 24, 16)), ([2, 0, 1], (16, 32, 24)),
                                                   ([1, 2, 0], (24, 16, 32))])
def test_card_axes_follow_transpose_forward(tmp_path, transpose, patch_card):
    """Network axis p runs along voxel axis 2 - transpose_forward[p]; the card lists (i, j, k)."""
    folder = _folder(tmp_path, transpose=transpose, weights=False)
    part = _part_without_checkpoint(folder)
    assert part.patch_card == patch_card
    assert part.spacing_card == to_card_order((3.0, 1.5, 2.0), part.card_axis_of_net)
    x = torch.arange(32 * 24 * 16, dtype=torch.float32).reshape(1, 1, *part.patch_card)
    from training.seg.nnunet.graph import PartNetwork

    class Probe(torch.nn.Module):  # returns its input, so the permutation round trip is visible
        def forward(self, t):
            assert tuple(t.shape[2:]) == tuple(part.patch_net)
            return torch.cat([t, t, t], 1)

    out = PartNetwork(part, [Probe()])(x)
    torch.testing.assert_close(out[:, :1], x)


def test_region_labels_and_bad_layers_are_refused(tmp_path):
    folder = _folder(tmp_path / "r", labels={"background": 0, "whole": [1, 2], "core": 2}, weights=False)
    (folder / "fold_0").mkdir(parents=True, exist_ok=True)
    (folder / "fold_0" / "checkpoint_final.pth").touch()
    with pytest.raises(NnunetImportError, match="region-based"):
        read_part(folder)
    folder = _folder(tmp_path / "l", weights=False)
    plans = json.loads((folder / "plans.json").read_text())
    plans["configurations"]["3d_fullres"]["architecture"]["arch_kwargs"]["nonlin"] = "os.system"
    (folder / "plans.json").write_text(json.dumps(plans))
    with pytest.raises(NnunetImportError, match="not an allowed layer"):
        build_network(_part_without_checkpoint(folder))


def test_parts_with_other_spacing_or_patch_are_not_merged(tmp_path):
    a = _part_without_checkpoint(_folder(tmp_path, "Dataset1_A", weights=False))
    b = _part_without_checkpoint(_folder(tmp_path, "Dataset2_B", labels={"background": 0, "kidney": 1},
                                         spacing=[3.0, 1.5, 1.0], weights=False))
    with pytest.raises(NnunetImportError, match="cannot be merged.*spacing"):
        check_compatible([a, b], None)
    c = _part_without_checkpoint(_folder(tmp_path, "Dataset3_C", labels={"background": 0, "liver": 1},
                                         weights=False))
    with pytest.raises(NnunetImportError, match="more than one part"):
        check_compatible([a, c], None)


# -- checkpoints ---------------------------------------------------------------------------------------------------

class _Gadget:
    """Stands for any object a hostile checkpoint could carry."""


def test_checkpoint_loads_weights_only_and_refuses_objects(tmp_path):
    folder = _folder(tmp_path)
    ck = folder / "fold_0" / "checkpoint_final.pth"
    with pytest.raises(Exception, match="scalar|Unsupported global"):
        torch.load(ck, weights_only=True)  # what nnU-Net's numpy-valued training log needs
    assert "network_weights" in load_checkpoint(ck)
    bad = tmp_path / "bad.pth"
    torch.save({"network_weights": {}, "x": _Gadget()}, bad)
    with pytest.raises(NnunetImportError, match="weights only") as e:
        load_checkpoint(bad)
    assert isinstance(e.value, MedPrivError)


def test_import_writes_a_valid_teacher_bundle(tmp_path):
    """Random weights are enough for the card: labels, axes, licence warning, mirroring note, registry import."""
    from medpriv_desktop.core.models.registry import ModelRegistry

    folder = _folder(tmp_path)
    card = run_job(import_nnunet([folder], tmp_path / "out" / "ct-teacher-test"))
    assert card.id == "ct-teacher-test" and card.role == "teacher" and card.family == "ct-teacher-test"
    assert card.license == "unknown: ask the provider" and any("licence" in x for x in card.limitations)
    assert any("mirrored" in x for x in card.limitations)
    if "mirror_axes" in type(card.image_input).model_fields:  # the trainer mirrored along all three axes
        assert card.image_input.mirror_axes == [0, 1, 2]
    assert card.image_input.intensity["CT"].kind == "ct-clip-zscore"
    assert card.image_input.intensity["CT"].clip_min == tiny.CT_PROPS["percentile_00_5"]
    assert card.metrics.values[0].value < 1e-3  # ONNX Runtime vs torch on a random tile
    reg = ModelRegistry(bundled_dir=tmp_path / "bundled", user_dir=tmp_path / "user", site_dir=None)
    assert reg.import_bundle(tmp_path / "out" / "ct-teacher-test").card.id == "ct-teacher-test"
    (tmp_path / "out" / "other").mkdir()
    (tmp_path / "out" / "other" / "notes.txt").write_text("x")
    with pytest.raises(NnunetImportError, match="other files"):
        run_job(import_nnunet([folder], tmp_path / "out" / "other"))


def test_cli_registers_import_nnunet(tmp_path, capsys):
    from training.cli import main

    folder = _folder(tmp_path)
    rc = main(["seg", "import-nnunet", str(folder), "-o", str(tmp_path / "b"), "--license", "Apache-2.0",
               "--source", "test", "--folds", "0", "-q"])
    out = capsys.readouterr()
    assert rc == 0 and "bundle b:" in out.out and "warning" not in out.err
    assert json.loads((tmp_path / "b" / "model_card.json").read_text())["license"] == "Apache-2.0"


def test_label_pairs_follow_totalsegmentator_names_unless_mirrored():
    from medpriv_desktop.core.models.card import Label
    from training.seg.nnunet.bundle import label_pairs

    labels = [Label(value=i, name=n) for i, n in enumerate(
        ["background", "kidney_right", "kidney_left", "liver", "lung_upper_lobe_left", "lung_upper_lobe_right"])]
    assert sorted(label_pairs(labels, "RAS", [])) == [(2, 1), (4, 5)]
    assert label_pairs(labels, "RAS", [0]) == []  # nnU-Net mirrored left-right without swapping labels
    assert sorted(label_pairs(labels, "ASR", [0, 1])) == [(2, 1), (4, 5)]  # R/L is axis 2 there


@pytest.mark.parametrize("patch", [16, 32, 64, 112, 128])
def test_app_tiles_where_nnunet_tiles(patch):
    """nnU-Net patches are even (multiples of the network stride): the app's tile starts at overlap 0.5 are
    nnU-Net's compute_steps_for_sliding_window at step 0.5 for every image length, so tile_starts needs no change."""
    pytest.importorskip("nnunetv2")
    from nnunetv2.inference.sliding_window_prediction import compute_steps_for_sliding_window

    from medpriv_desktop.core.imaging.sliding_window import tile_starts

    for n in range(patch, 4 * patch + 3):
        assert tile_starts(n, patch, 0.5) == compute_steps_for_sliding_window((n,), (patch,), 0.5)[0], n


def test_patch_not_divisible_by_the_stride_is_refused(tmp_path):
    """112^3 with six stages (stride 32) cannot be an nnU-Net plan: refused before any export is tried."""
    folder = _folder(tmp_path, patch=[112, 112, 112], n_stages=6, weights=False)
    with pytest.raises(NnunetImportError, match="not divisible"):
        _part_without_checkpoint(folder)


@pytest.mark.slow
def test_nnunet_and_the_importer_attempt_no_network(tmp_path):
    """Importing nnunetv2 (trainer, predictor) and running the importer CLI, traced: no connection, no DNS query."""
    import subprocess

    sys.path.insert(0, str(Path(__file__).parents[1]))
    try:
        import netwatch
    finally:
        sys.path.pop(0)
    if not netwatch.strace_available():
        pytest.skip("strace is not installed")
    folder = _folder(tmp_path)
    code = ("import sys; from training.seg.nnunet.reference import nnunet_env\n"
            "with nnunet_env():\n"
            "    import nnunetv2.inference.predict_from_raw_data, nnunetv2.training.nnUNetTrainer.nnUNetTrainer\n"
            "from training.cli import main\n"
            f"sys.exit(main(['seg', 'import-nnunet', {str(folder)!r}, '-o', {str(tmp_path / 'b')!r}, '-q']))\n")
    log = tmp_path / "strace.log"
    r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", str(log),
                        sys.executable, "-c", code], cwd=Path(__file__).parents[2], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    attempts, _ = netwatch.parse_trace(log.read_text(errors="replace"), tmp_path)
    assert attempts == []
    assert (tmp_path / "b" / "model.onnx").is_file()
