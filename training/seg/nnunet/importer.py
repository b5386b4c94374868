"""``import_nnunet``: one or more nnU-Net v2 trained-model folders -> one ONNX teacher bundle (a job).

Steps: read every part (:mod:`.plans`); refuse parts that cannot share one input contract (spacing, patch size,
normalisation scheme, modality) or that reuse a label name; load the folds with ``weights_only=True``
(:mod:`.network`); wrap them in :class:`~.graph.ImportedTeacher`; export ONNX (opset 17) atomically; check ONNX
Runtime against torch on a random tile; write the card, LICENSE and README.

CT parts whose CTNormalization statistics differ (each nnU-Net dataset measures its own foreground intensities) are
normalised inside the graph, each with its own statistics, and the card then asks for raw HU (kind ``none``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from medpriv_desktop.core.fileio import atomic_path
from medpriv_desktop.core.jobs import Job, Progress
from medpriv_desktop.core.models.card import CARD_FILE, ModelCard
from training.seg.nnunet.bundle import UNKNOWN, build_card, kebab, write_bundle_files
from training.seg.nnunet.plans import NnunetImportError, NnunetPart, read_part

_MR_WORDS = ("MR", "T1", "T2", "FLAIR", "ADC", "DWI", "PD")
_BUNDLE_FILES = {"model.onnx", CARD_FILE, "LICENSE", "README.md"}


def modality_of(part: NnunetPart, override: str | None) -> str:
    """CT or MR: the override, else CT for CTNormalization, else guessed from the channel name."""
    if override:
        return override.upper()
    if part.normalization == "CTNormalization" or part.channel_name.strip().upper() == "CT":
        return "CT"
    if any(w in part.channel_name.upper() for w in _MR_WORDS):
        return "MR"
    raise NnunetImportError(f"cannot tell the modality from the channel name of {part.dataset_name}",
                            path=part.folder, hint="give --modality CT or --modality MR")


def check_compatible(parts: list[NnunetPart], modality: str | None) -> tuple[str, bool]:
    """``(modality, normalise in graph)``; one clear error when the parts cannot share one input contract."""
    p0 = parts[0]
    mod = modality_of(p0, modality)
    for p in parts[1:]:
        problems = []
        if p.patch_card != p0.patch_card:
            problems.append(f"patch size {list(p.patch_card)} vs {list(p0.patch_card)}")
        if any(abs(a - b) > 1e-6 * max(a, b) for a, b in zip(p.spacing_card, p0.spacing_card)):
            problems.append(f"spacing {list(p.spacing_card)} vs {list(p0.spacing_card)} mm")
        if p.normalization != p0.normalization:
            problems.append(f"normalisation {p.normalization} vs {p0.normalization}")
        if modality_of(p, modality) != mod:
            problems.append("modality")
        if problems:
            raise NnunetImportError(f"{p.dataset_name} cannot be merged with {p0.dataset_name}: different "
                                    f"{'; '.join(problems)}", path=p.folder,
                                    hint="merge only models made with the same plans (e.g. TotalSegmentator's "
                                         "parts of one task)")
    names = [n for p in parts for n, _ in p.labels]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise NnunetImportError(f"label names appear in more than one part: {dup[:8]}", path=parts[-1].folder)
    in_graph = p0.normalization == "CTNormalization" and len({p.ct for p in parts}) > 1
    return mod, in_graph


def _export(model, path: Path, patch: tuple[int, int, int]) -> None:
    import warnings

    import torch

    dummy = torch.zeros(1, 1, *patch)
    with atomic_path(path, suffix=".onnx") as tmp, torch.no_grad(), warnings.catch_warnings():
        # InstanceNorm always uses the tile's own statistics (nnU-Net's too): the exporter's train-mode and tracer
        # notes about it are expected.
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (dummy,), str(tmp), dynamo=False, opset_version=17, input_names=["image"],
                          output_names=["logits"], do_constant_folding=True,
                          dynamic_axes={"image": {0: "batch", 2: "x", 3: "y", 4: "z"},
                                        "logits": {0: "batch", 2: "x", 3: "y", 4: "z"}})


def onnx_parity(model, path: Path, patch: tuple[int, int, int], scale: float = 1.0,
                seed: int = 0) -> tuple[float, float]:
    """``(max, 99.99th percentile)`` of |logit| differences between torch and ONNX Runtime (1 thread) on one random
    tile. A merged model's gates (graph.py) may flip at a voxel whose margin is within rounding of 0, which moves
    that voxel's logits by a priority step without any real disagreement: the percentile is what is checked."""
    import onnxruntime as ort
    import torch

    x = np.random.default_rng(seed).normal(0, scale, (1, 1, *patch)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    d = np.abs(sess.run(["logits"], {"image": x})[0] - ref)
    return float(d.max()), float(np.quantile(d, 0.9999))


def check_orientation(codes: str) -> None:
    """Three axis codes, one from each of R/L, A/P, S/I (e.g. RAS, LPS)."""
    pairs = [{"R", "L"}, {"A", "P"}, {"S", "I"}]
    if len(codes) != 3 or sorted(next((i for i, p in enumerate(pairs) if c in p), 9) for c in codes) != [0, 1, 2]:
        raise NnunetImportError(f"orientation {codes!r} is not three axis codes like RAS or LPS",
                                hint="give the directions of the training images' voxel axes i, j, k")


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise NnunetImportError("the output path exists and is not a folder", path=out)
    if out.is_dir():
        extra = sorted(p.name for p in out.iterdir() if p.name not in _BUNDLE_FILES and not p.name.startswith("."))
        if extra:
            raise NnunetImportError(f"the output folder holds other files ({len(extra)}); a bundle folder may hold "
                                    "only its own files", path=out, hint="choose a new or empty folder")


def import_nnunet(folders: list[str | Path], out: str | Path, *, folds: list[str] | None = None,
                  checkpoint: str = "final", model_id: str | None = None, title: str | None = None,
                  license_: str = UNKNOWN, source: str = UNKNOWN, orientation: str = "RAS",
                  modality: str | None = None, family: str | None = None, command: str = "",
                  version: str = "1.0.0") -> Job[ModelCard]:
    """Import ``folders`` (one part each, merged in the given order) into the bundle folder ``out``."""
    import torch

    from training.seg.nnunet.graph import ImportedTeacher, PartNetwork
    from training.seg.nnunet.network import load_fold_networks

    out = Path(out)
    _check_out(out)
    check_orientation(orientation)
    yield Progress(0.0, "reading plans")
    parts = [read_part(f, folds, checkpoint) for f in folders]
    mod, in_graph = check_compatible(parts, modality)
    modules, info = [], []
    for i, part in enumerate(parts):
        yield Progress(0.05 + 0.45 * i / len(parts), f"loading part {i + 1}/{len(parts)}")
        nets, facts = load_fold_networks(part)
        modules.append(PartNetwork(part, nets, part.ct if in_graph else None))
        info.append(facts)
    model = ImportedTeacher(modules).eval()
    patch = parts[0].patch_card
    out.mkdir(parents=True, exist_ok=True)
    yield Progress(0.5, "exporting ONNX")
    torch.set_grad_enabled(False)
    try:
        _export(model, out / "model.onnx", patch)
        yield Progress(0.8, "checking ONNX against torch")
        diff, typical = onnx_parity(model, out / "model.onnx", patch, scale=300.0 if in_graph else 1.0)
    finally:
        torch.set_grad_enabled(True)
    if not math.isfinite(diff) or typical > 1e-2:
        raise NnunetImportError(f"ONNX Runtime and torch disagree on a test tile (logit difference {typical:.3g} at "
                                "the 99.99th percentile)", path=out / "model.onnx")
    params = sum(int(p.numel()) for p in model.parameters())
    mid = model_id or kebab(out.name)
    card = build_card(parts=parts, model_id=mid, title=title or f"Imported nnU-Net teacher ({mid})",
                      onnx_path=out / "model.onnx", modality=mod, orientation=orientation, in_graph_norm=in_graph,
                      license_=license_, source=source, command=command or "medpriv-train seg import-nnunet",
                      checkpoint=checkpoint, info=info, parity=(diff, typical), parameters=params, family=family,
                      version=version)
    write_bundle_files(card, out)
    yield Progress(1.0, "bundle written")
    return card
