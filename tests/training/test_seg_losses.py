"""Distillation losses: scale normalisation, identity cases, gradients only into the student."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from training.seg.losses import (  # noqa: E402
    ContextAlignLoss, DiceCELoss, DistillLoss, LogitKDLoss, RegionDistillLoss,
)
from training.seg.networks import NetConfig, UNet3D  # noqa: E402


def _region_setup(wrong_class: int):
    """Labels with a small (8 voxels) and a large (504 voxels) structure; the student errs on one of them only."""
    labels = torch.zeros(1, 8, 8, 8, dtype=torch.long)
    labels[0, :2, :2, :2] = 1  # small structure
    labels[0, 2:, :, :] = 2  # large structure
    ft = torch.zeros(1, 4, 8, 8, 8)
    ft[:, 0] = 1.0  # every teacher vector points along channel 0
    fs = ft.clone()
    wrong = labels == wrong_class
    fs[:, 0][wrong] = 0.0
    fs[:, 1][wrong] = 1.0  # orthogonal to the teacher there: error 2 per voxel after unit normalisation
    return fs, ft, labels


def test_region_term_weighs_small_and_large_structures_equally():
    loss = RegionDistillLoss([4], [4], n_classes=3)
    with torch.no_grad():
        loss.proj[0].weight.zero_()
        loss.proj[0].weight[:, :, 0, 0, 0] = torch.eye(4)  # identity projection
        loss.proj[0].bias.zero_()
        small = loss(*[[t] if i < 2 else t for i, t in enumerate(_region_setup(1))])
        large = loss(*[[t] if i < 2 else t for i, t in enumerate(_region_setup(2))])
    assert small.item() == pytest.approx(large.item(), rel=1e-5)
    assert small.item() == pytest.approx(2.0 / 3, rel=1e-4)  # one of three classes fully wrong (error 2)
    # A voxel-averaged loss would not be scale-normalised: 8 vs 504 wrong voxels.
    fs, ft, _ = _region_setup(1)
    fs2, _, _ = _region_setup(2)
    assert (fs - ft).pow(2).mean() < (fs2 - ft).pow(2).mean() / 10


def test_context_term_zero_for_identical_features_and_positive_otherwise():
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(2, 8, 16, 16, 16, generator=g), torch.randn(2, 16, 8, 8, 8, generator=g)]
    ctx = ContextAlignLoss(max_positions=512)
    assert ctx(feats, [f.clone() for f in feats]).item() == pytest.approx(0.0, abs=1e-6)
    # Different channel counts are fine (affinities are positions x positions); 16^3 is pooled under the cap.
    assert ctx.affinity(feats[0]).shape == (2, 512, 512)
    other = [torch.randn(2, 3, 16, 16, 16, generator=g), torch.randn(2, 5, 8, 8, 8, generator=g)]
    assert ctx(other, feats).item() > 1e-3


def test_logit_kd_and_dice_ce_basic_values():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(1, 4, 6, 6, 6, generator=g)
    kd = LogitKDLoss(temperature=2.0)
    assert kd(t.clone(), t).item() == pytest.approx(0.0, abs=1e-6)
    assert kd(torch.zeros_like(t), t).item() > 0.01
    y = torch.randint(0, 4, (1, 6, 6, 6), generator=g)
    perfect = torch.nn.functional.one_hot(y, 4).permute(0, 4, 1, 2, 3).float() * 30
    seg = DiceCELoss(4)
    assert seg(perfect, y).item() < 1e-3
    assert seg(torch.zeros_like(perfect), y).item() > 1.0


def test_only_the_student_and_projections_receive_gradients():
    torch.manual_seed(0)
    tcfg = NetConfig(n_classes=3, n_stages=3, base=8)
    teacher, student = UNet3D(tcfg).eval(), UNet3D(tcfg.scaled(0.25))
    for p in teacher.parameters():
        p.requires_grad_(False)
    crit = DistillLoss(3, student.feature_channels(), teacher.feature_channels(), context_levels=[0, 1],
                       max_positions=256)
    x = torch.randn(1, 1, 16, 16, 16)
    y = torch.randint(0, 3, (1, 16, 16, 16))
    with torch.no_grad():
        t_logits, t_feats = teacher(x, return_features=True)
    s_logits, s_feats = student(x, return_features=True)
    total, terms = crit(s_logits, s_feats, t_logits, t_feats, y)
    total.backward()
    assert set(terms) == {"seg", "kd", "region", "context"} and all(v > 0 for v in terms.values())
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in student.parameters())
    assert all(p.grad is not None for p in crit.region.proj.parameters())


def test_zero_weight_switches_a_term_off():
    crit = DistillLoss(3, [4], [8], w_kd=0.0, w_context=0.0, region_levels=[0])
    s = torch.randn(1, 3, 8, 8, 8)
    _, terms = crit(s, [torch.randn(1, 4, 8, 8, 8)], s, [torch.randn(1, 8, 8, 8, 8)],
                    torch.zeros(1, 8, 8, 8, dtype=torch.long))
    assert set(terms) == {"seg", "region"}


def test_a_small_unet_overfits_one_synthetic_volume():
    # End-to-end sanity check of the training recipe (synthesis -> normalisation -> Dice+CE -> AdamW -> argmax):
    # a small U-Net must be able to memorise one coarse CT phantom. A misaligned label map, a wrong softmax axis or
    # a broken loss keeps the big structures far below this.
    import numpy as np

    from training.seg.data import prepare_volume
    from training.seg.labels import SEG_BY_NAME
    from training.seg.networks import NetConfig, UNet3D
    from training.seg.phantom import PhantomSpec, generate_phantom
    from training.seg.synth import synthesize

    torch.manual_seed(0)
    gen, _ = generate_phantom(3, PhantomSpec(spacing=6.0))
    img, seg = synthesize(gen, "CT", np.random.default_rng(0), fine_spacing=6.0, crop=False, factor=2)
    img = prepare_volume(img, "CT")
    crop = tuple(slice(0, s // 4 * 4) for s in img.shape)
    x = torch.from_numpy(np.ascontiguousarray(img[crop]))[None, None]
    y = torch.from_numpy(seg[crop].astype(np.int64))[None]
    net = UNet3D(NetConfig(n_classes=16, n_stages=3, base=8))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2)
    crit = DiceCELoss(16)
    for _ in range(120):
        loss = crit(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = net(x).argmax(1)
    dice = {}
    for name in ("body", "lung_left", "lung_right", "liver"):  # 12 mm voxels: thin bone is left out
        v = SEG_BY_NAME[name]
        dice[name] = float(2 * ((pred == v) & (y == v)).sum() / ((pred == v).sum() + (y == v).sum()))
    assert min(dice.values()) > 0.85, dice


def test_dice_ce_penalises_a_predicted_class_absent_from_the_target():
    """A structure predicted where the target has none enters the Dice mean (Dice ~0), as the docstring says."""
    target = torch.zeros(1, 4, 4, 4, dtype=torch.long)
    target[0, :2] = 1
    clean = torch.full((1, 3, 4, 4, 4), -10.0)
    clean[:, 0][target == 0] = 10.0
    clean[:, 1][target == 1] = 10.0
    fp = clean.clone()
    fp[0, :, 3, 3, 3] = torch.tensor([-10.0, -10.0, 10.0])  # one background voxel predicted as class 2
    loss = DiceCELoss(3)
    # Class 2 joins the mean with Dice ~0: the Dice part grows by about 1/3, far more than CE's one voxel.
    assert loss(fp, target).item() - loss(clean, target).item() > 0.3


def test_warm_start_loads_weights_but_starts_a_fresh_schedule(tmp_path):
    from medpriv_desktop.core.jobs import run_job
    from training.seg.config import load_config
    from training.seg.train import _loop, DistributedContext, load_checkpoint

    net_cfg = NetConfig(1, 3, 2, 2)
    src = UNet3D(net_cfg)
    for p in src.parameters():
        torch.nn.init.constant_(p, 0.5)
    torch.save({"model": src.state_dict(), "net": net_cfg.__dict__, "step": 99}, tmp_path / "init.pt")
    cfg = load_config(None, {"run_dir": str(tmp_path / "run"), "optim.steps": 0,
                             "optim.init_checkpoint": str(tmp_path / "init.pt")})
    (tmp_path / "run").mkdir()
    model = UNet3D(net_cfg)
    ck = run_job(_loop(cfg, tmp_path / "run", model, None, None, iter(()), DistributedContext(), "teacher",
                       net_cfg, {}))
    saved = load_checkpoint(ck)
    assert saved["step"] == 0 and saved["minutes"] < 1
    assert all(torch.equal(saved["model"][k], v) for k, v in src.state_dict().items())


def test_student_width_floor_keeps_the_head_learnable_and_old_checkpoints_load():
    teacher = NetConfig(n_classes=16, n_stages=5, base=8)
    assert teacher.scaled(0.25).channels() == [2, 4, 8, 16, 32]  # the collapsed student's 2-channel head input
    student = teacher.scaled(0.25, min_channels=8)
    assert student.channels() == [8, 8, 8, 16, 32] and student.width_fraction == 0.25
    assert UNet3D(student).head.in_channels == 8
    # Checkpoints written before the floor existed have no min_channels: they keep their old shape.
    old = {k: v for k, v in teacher.scaled(0.25).__dict__.items() if k != "min_channels"}
    assert NetConfig(**old).channels() == [2, 4, 8, 16, 32]


def test_weight_selection_copies_the_teacher_and_slices_decoder_inputs_from_both_halves():
    from training.seg.networks import select_weights

    torch.manual_seed(0)
    tcfg = NetConfig(n_classes=3, n_stages=3, base=8)
    teacher = UNet3D(tcfg).eval()
    same = select_weights(UNet3D(tcfg), teacher).eval()
    x = torch.randn(1, 1, 8, 8, 8)
    with torch.no_grad():
        assert torch.equal(same(x), teacher(x))  # width 1: an exact copy
    student = select_weights(UNet3D(tcfg.scaled(0.5)), teacher)  # channels [4, 8, 16] of [8, 16, 32]
    w_s, w_t = student.decoder[0][0].weight, teacher.decoder[0][0].weight  # reads cat([up (8), skip (8)]) of 16+16
    assert torch.equal(w_s[:, :8], w_t[:8, :8]) and torch.equal(w_s[:, 8:], w_t[:8, 16:24])
    assert torch.equal(student.encoder[0][0].weight, teacher.encoder[0][0].weight[:4])
