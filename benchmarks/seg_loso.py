"""Leave-one-scan-out evaluation of the torso teacher trained on real templates (issue 19).

The shared labelled scans are three (``training.seg.templates.TEMPLATE_FILES``): two CT (``ct_sm``, which is part of
``example_ct``, and the DICOM series ``ct_dicom``) and one MR (``mr_sm``). A fold fine-tunes the teacher (from the
bundled phantom teacher's weights) on the phantoms plus the *other two* scans as templates, exports it to ONNX and
scores it on the left-out scan through the app's path: reader, ``to_model_space``, sliding window,
``labels_to_input`` back onto the scan's own grid, Dice against TotalSegmentator's labels mapped onto ours
(structures we do not predict are ignored; predicted 'body' counts as background).

    python -m benchmarks.seg_loso --init --init-from V1/resources/models   # warm starts from the 1.x bundles
    python -m benchmarks.seg_loso --fold ct_sm --minutes 40 --results runs/seg_real/loso_full4000   # one fold,
                                                              # 4000 steps (about 25 min, 1 thread), then scored
    python -m benchmarks.seg_loso --fold ct_sm --minutes 40 --seed 2919 --results runs/seg_real/loso_8k \
        --warm-from runs/seg_real/loso_full4000               # the 2.1.0 recipe's second cycle of that fold
    python -m benchmarks.seg_loso --score-bundle resources/models/seg-torso-teacher   # a bundle on all 3 scans
    python -m benchmarks.seg_loso --table [--results DIR]     # Markdown table of every fold scored so far
    python -m benchmarks.seg_loso --amend-card resources/models/seg-torso-teacher --title ... --description ... \
        --command ... --loso-results runs/seg_real/loso_8k

Results go to ``<--results>/loso_<fold>.json`` (default ``runs/seg_real/loso``, where 2.0.0's folds are).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "runs" / "seg_real" / "loso"
#: The structures of the issue's target (a present one counts; kidneys and lungs are scored per side).
TARGET = ("liver", "spleen", "kidney_left", "kidney_right", "lung_left", "lung_right", "aorta", "vertebrae")
MIN_ML = 1.0
CONFIG = ROOT / "training" / "configs" / "seg_teacher_real.yaml"
INIT = ROOT / "runs" / "seg_real" / "init" / "teacher_v1.pt"


#: The card whose clean-up (largest component per organ, holes) the scoring applies, as ``medpriv segment`` does.
CARD = ROOT / "resources" / "models" / "seg-torso-teacher" / "model_card.json"


def score_scan(onnx_path: str | Path, name: str, data_dir: str | Path, threads: int = 2,
               postprocess: bool = True, smooth: bool = True) -> dict:
    """Dice per structure of an ONNX segmentation model on one shared scan, on the scan's own grid, after the
    app's default clean-up of the shipped card (``postprocess=False``: the network's raw argmax, as 2.0.0 and 2.1.0
    were first scored), with the labels brought to the scan's grid as the app does (linear interpolation of each
    label's indicator; ``smooth=False``: nearest neighbour, as the app did up to 2.1.0)."""
    from medpriv_desktop.core.imaging.io import read_volume
    from medpriv_desktop.core.imaging.preprocess import to_model_space
    from medpriv_desktop.core.imaging.sliding_window import sliding_window
    from medpriv_desktop.core.jobs import run_job
    from training.seg.evaluate import dice, onnx_predictor
    from training.seg.labels import N_SEG, SEG_LABELS, totalseg_lookup
    from training.seg.templates import TEMPLATE_FILES, _image_input

    root = Path(data_dir) / "imaging" / "totalsegmentator"
    img_name, seg_name, task, modality = TEMPLATE_FILES[name]
    card_input = _image_input(6.0, (64, 48, 32))
    vol = read_volume(root / img_name, modality=modality)
    ms = to_model_space(vol, card_input)
    predict = onnx_predictor(onnx_path, threads)
    pred_m, _, _ = run_job(sliding_window(ms.array, predict, card_input.patch_size, N_SEG,
                                          overlap=card_input.overlap, pad_value=ms.pad_value))
    pred = ms.labels_to_input(pred_m, smooth=smooth).array
    if postprocess:
        from medpriv_desktop.core.imaging.postprocess import postprocess_labels
        from medpriv_desktop.core.models.card import ModelCard

        postprocess_labels(pred, ModelCard.model_validate_json(CARD.read_text(encoding="utf-8")))
    ref_vol = read_volume(root / seg_name)
    # The DICOM series and its NIfTI label map are stored in different orientations: compare in RAS.
    pred = vol.with_array(pred).reoriented("RAS").array
    ref_raw = ref_vol.reoriented("RAS").array.astype(np.int64)
    lut = totalseg_lookup(json.loads((root / "class_map.json").read_text())[task])
    ref = lut[np.clip(ref_raw, 0, 255)]
    ignore = ref == 255
    pred_eval = np.where(ignore | (pred == 1), 0, pred)
    ref_eval = np.where(ignore, 0, ref)
    scores = {lb.name: dice(pred_eval, ref_eval, lb.value) for lb in SEG_LABELS[2:] if (ref_eval == lb.value).any()}
    voxel_ml = float(np.prod(vol.spacing)) / 1000.0
    ref_ml = {lb.name: float((ref_eval == lb.value).sum()) * voxel_ml for lb in SEG_LABELS[2:]}
    # A structure counts when at least MIN_ML of it is in the scan: a few voxels cut by the field of view (the MR's
    # 0.2 mL of right lung) would make the mean measure the edge of the scan, not the model.
    target = {k: v for k, v in scores.items() if k in TARGET and ref_ml[k] >= MIN_ML}
    any_target = {k: v for k, v in scores.items() if k in TARGET}
    return {"scan": name, "modality": modality, "dice": scores, "target_dice": target,
            "reference_ml": {k: round(ref_ml[k], 2) for k in scores},
            "mean_target_dice": float(np.mean(list(target.values()))) if target else None,
            "mean_target_dice_any_size": float(np.mean(list(any_target.values()))) if any_target else None,
            "mean_dice_all_present": float(np.mean(list(scores.values()))) if scores else None,
            "postprocess": postprocess, "smooth_labels": smooth}


def make_init(models: Path = ROOT / "resources" / "models", out: Path = INIT) -> Path:
    """Warm-start checkpoints from the 1.x teacher and student bundles in ``models`` (checked for parity with torch):
    ``runs/seg_real/init/teacher_v1.pt`` and ``student_q_v1.pt``. Once 2.x is shipped, pass a folder with the 1.x
    bundles (e.g. ``git worktree add /tmp/v1 828bfca`` and ``/tmp/v1/resources/models``) to redo the 2.0.0 runs."""
    from training.seg.export import parity
    from training.seg.networks import NetConfig
    from training.seg.train import checkpoint_from_onnx, model_from_checkpoint

    teacher = NetConfig(1, 16, 5, 8, 320, 1.0)
    for bundle, cfg, path in (("seg-torso-teacher", teacher, out),
                              ("seg-torso-student-q", teacher.scaled(0.25, 8), out.with_name("student_q_v1.pt"))):
        onnx_path = Path(models) / bundle / "model.onnx"
        ck = checkpoint_from_onnx(onnx_path, cfg, path)
        diff = parity(model_from_checkpoint(ck), onnx_path, (64, 48, 32))
        print(f"{ck}: max |torch - onnx| = {diff:.2e}")
    return out


def run_fold(left_out: str, data_dir: Path, minutes: float, seed: int, score_only: bool = False,
             results: Path = RESULTS, warm_from: Path | None = None, postprocess: bool = True,
             extra: dict | None = None) -> dict:
    """Fine-tune on phantoms + the other scans, export to a temporary ONNX, score the left-out scan
    (``score_only``: score the fold's finished checkpoint again, e.g. after a change of the app's preprocessing).

    ``warm_from``: a results folder of an earlier run (e.g. ``runs/seg_real/loso_full4000``) whose
    ``run_<fold>/checkpoint.pt`` starts this fold instead of the 1.x weights: a second cycle of the schedule (warm
    restart), trained on the same fold's scans only. Runs other than the default folder keep their training runs
    under ``results/run_<fold>``. ``extra``: more config overrides (``--set KEY=VALUE``)."""
    from medpriv_desktop.core.jobs import run_job
    from training.seg.config import load_config
    from training.seg.export import export_onnx
    from training.seg.templates import TEMPLATE_FILES
    from training.seg.train import model_from_checkpoint, train_teacher

    others = [n for n in TEMPLATE_FILES if n != left_out]
    run_dir = ROOT / "runs" / "seg_real" / f"loso_{left_out}" if results == RESULTS else results / f"run_{left_out}"
    overrides = {"run_dir": str(run_dir), "data.templates": others, "optim.max_minutes": minutes,
                 "data.seed": seed, "data.template_data_dir": str(data_dir), **(extra or {})}
    if warm_from is not None:
        start = Path(warm_from) / f"run_{left_out}" / "checkpoint.pt"
        if not start.exists():
            raise FileNotFoundError(f"no checkpoint of fold {left_out} under {warm_from}")
        overrides["optim.init_checkpoint"] = str(start)
    cfg = load_config(CONFIG, overrides)
    ck = run_dir / "checkpoint.pt"
    if not (run_dir / "done.json").exists() or not score_only:
        ck = run_job(train_teacher(cfg))
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export_onnx(model_from_checkpoint(ck), Path(tmp) / "fold.onnx", tuple(cfg.model.patch))
        result = score_scan(onnx_path, left_out, data_dir, postprocess=postprocess)
    steps = json.loads((run_dir / "done.json").read_text())["step"]
    result.update({"trained_on": others, "checkpoint": str(ck), "steps": steps, "minutes": minutes})
    return result


VERSION = "2.1.0"  # of the bundles --amend-card writes (2.0.0: one cycle, cut at 680 steps)
TEMPLATE_DATASET = dict(
    name="TotalSegmentator test-suite examples as deformed templates: label maps + images of example_ct_sm (CT), "
         "example_ct_dicom (CT) and example_mr_sm (MR)",
    license="Apache-2.0 (TotalSegmentator repository; labels are TotalSegmentator model predictions)",
    n=3, synthetic=False, split="train",
    citation="Wasserthal J. et al., TotalSegmentator: robust segmentation of 104 anatomic structures in CT images, "
             "Radiology: AI 2023")
INTENDED_USE = (
    "Research and demonstration of on-premises segmentation with compact distilled models. Trained on synthetic "
    "computational phantoms and on three real scans (two CT, one MR) whose label maps were used as deformed "
    "templates; not for diagnostic use and not validated on patients.")
LIMITATION = (
    "Trained on synthetic phantoms plus only three real scans (two CT, one MR, TotalSegmentator's own predictions as "
    "labels) under random deformation: leave-one-scan-out mean Dice over liver, spleen, kidneys, lungs, aorta and "
    "vertebrae was {loso} (see the metrics), so expect errors on real scans, above all for small structures "
    "(adrenal glands, gallbladder) and for anatomy outside the abdomen and lower chest.")
LICENSE_TEXT = """Apache License 2.0 (weights and card), MedPriv Desktop developers.

These weights were trained on synthetic phantoms generated by this project's code and on three public example scans
of the TotalSegmentator repository (Apache-2.0; Wasserthal et al.), used as deformed anatomical templates. The full
licence text is at https://www.apache.org/licenses/LICENSE-2.0 (also in the project's LICENSE file).
NOT FOR DIAGNOSTIC USE.
"""


def amend_card(bundle: Path, title: str, description: str, command: str, folder: Path = RESULTS) -> None:
    """Make a bundle written by ``medpriv-train seg export`` tell what it was trained on (``bundle.py`` still
    writes the phantom-only wording): version, title, description, intended use, datasets, limitations, LICENSE,
    README; the three scans are marked as training scans in the metrics, and the leave-one-scan-out figures of the
    recipe (``loso_*.json``) are added. ``model.onnx`` and its sha256 are untouched."""
    from medpriv_desktop.core.fileio import atomic_write_text
    from medpriv_desktop.core.models.card import CARD_FILE, Dataset, Metric, ModelCard
    from training.seg.bundle import _readme

    card = ModelCard.model_validate_json((bundle / CARD_FILE).read_text())
    metrics = []
    for m in card.metrics.values:
        if m.split.startswith("totalsegmentator-") and not m.split.endswith("-training-scan"):
            m = m.model_copy(update={"split": m.split + "-training-scan"})
        metrics.append(m)
    loso = []
    for p in sorted(folder.glob("loso_*.json")):
        r = json.loads(p.read_text())
        split = f"leave-one-scan-out-{r['scan']}-fold-teacher"
        loso.append((r["scan"], r["mean_target_dice"]))
        if card.role != "teacher":
            continue  # the folds measure the teacher's recipe: a student's card only quotes them in its limitations
        metrics.append(Metric(name="mean_dice_vs_totalsegmentator", value=r["mean_target_dice"], split=split, n=1))
        metrics += [Metric(name="dice_vs_totalsegmentator", value=v, split=split, label=k, n=1)
                    for k, v in r["target_dice"].items()]
    loso_txt = (f"{np.mean([v for _, v in loso]):.2f} (left-out scan {', '.join(f'{k} {v:.2f}' for k, v in loso)})"
                if loso else "not measured")
    if card.role != "teacher":
        loso_txt += " for its teacher's recipe (the student itself was not run leave-one-scan-out)"
    lims = [LIMITATION.format(loso=loso_txt)] + [x for x in card.limitations if "synthetic phantoms only" not in x]
    training = card.training.model_copy(update={
        "datasets": list(card.training.datasets) + [Dataset(**TEMPLATE_DATASET)], "command": command})
    # Until bundle.py writes them: these networks were trained without mirroring, and their paired structures are
    # the lungs, kidneys and adrenal glands (the names that differ only by _left / _right).
    if card.image_input.mirror_axes is None:
        card = card.model_copy(update={"image_input": card.image_input.model_copy(update={"mirror_axes": []})})
    if not card.outputs.label_pairs:
        by_name = {lb.name: lb.value for lb in card.outputs.labels}
        pairs = [(v, by_name[n[: -len("_left")] + "_right"]) for n, v in by_name.items()
                 if n.endswith("_left") and n[: -len("_left")] + "_right" in by_name]
        card = card.model_copy(update={"outputs": card.outputs.model_copy(update={"label_pairs": pairs})})
    card = card.model_copy(update={"version": VERSION, "title": title, "description": description,
                                   "intended_use": INTENDED_USE, "training": training, "limitations": lims,
                                   "metrics": card.metrics.model_copy(update={"values": metrics})})
    card = ModelCard.model_validate(card.model_dump())  # re-validate the amended card as the app will
    atomic_write_text(bundle / CARD_FILE, json.dumps(card.model_dump(mode="json", exclude_none=True), indent=2) + "\n")
    atomic_write_text(bundle / "LICENSE", LICENSE_TEXT)
    atomic_write_text(bundle / "README.md", _readme(card))


def table(folder: Path = RESULTS) -> str:
    """Markdown: one row per scored file, Dice of every target structure and their mean."""
    rows = ["| model | scan | " + " | ".join(TARGET) + " | mean (target) |", "|" + "---|" * (len(TARGET) + 3)]
    for p in sorted(folder.glob("*.json")):
        r = json.loads(p.read_text())
        cells = [f"{r['target_dice'][k]:.2f}" if k in r["target_dice"] else "-" for k in TARGET]
        mean = r["mean_target_dice"]
        rows.append(f"| {p.stem} | {r['scan']} | " + " | ".join(cells) + f" | {mean:.3f} |")
    return "\n".join(rows)


def _override(kv: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE read as YAML (numbers, booleans, lists)."""
    import yaml

    key, sep, value = kv.partition("=")
    if not sep:
        raise SystemExit(f"--set {kv}: expected KEY=VALUE")
    return key, yaml.safe_load(value)


def main(argv: list[str] | None = None) -> int:
    """Command line: --init, --fold NAME, --score-bundle DIR, --table."""
    from training.seg.report import default_data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--init", action="store_true", help="write the warm-start checkpoints from the 1.x bundles")
    ap.add_argument("--init-from", default=str(ROOT / "resources" / "models"),
                    help="folder holding the 1.x seg-torso-teacher and seg-torso-student-q bundles for --init")
    ap.add_argument("--fold", help="left-out scan: ct_sm, ct_dicom or mr_sm")
    ap.add_argument("--score-only", action="store_true", help="with --fold: score the finished fold again")
    ap.add_argument("--minutes", type=float, default=12.0, help="training minutes per fold (1 thread)")
    ap.add_argument("--seed", type=int, default=1919)
    ap.add_argument("--results", default=str(RESULTS), help="folder for --fold results (default: %(default)s)")
    ap.add_argument("--warm-from", help="with --fold: start from run_<fold>/checkpoint.pt of this results folder "
                                        "(a second cycle of the schedule)")
    ap.add_argument("--raw", action="store_true",
                    help="score the network's raw argmax, without the app's clean-up (how 2.0.0 / 2.1.0 were first "
                         "scored)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="with --fold: a training config override, e.g. data.template_label_intensity_p=0.5")
    ap.add_argument("--score-bundle", help="score a bundle folder (or .onnx) on every scan (no training)")
    ap.add_argument("--label", help="name of the result file for --score-bundle")
    ap.add_argument("--table", action="store_true", help="print the table of every result so far")
    ap.add_argument("--amend-card", metavar="BUNDLE", help="rewrite an exported bundle's card for v2 (real templates)")
    ap.add_argument("--title", help="title for --amend-card")
    ap.add_argument("--description", help="description for --amend-card")
    ap.add_argument("--command", help="training command(s) for --amend-card")
    ap.add_argument("--loso-results", default=str(RESULTS),
                    help="folder of the loso_*.json folds --amend-card quotes (default: %(default)s; the 2.1.0 cards "
                         "quote runs/seg_real/loso_8k, the folds of the two-cycle recipe)")
    ap.add_argument("--data", help="shared data folder (default MEDPRIV_DATA or ../shared/data)")
    args = ap.parse_args(argv)
    data_dir = Path(args.data) if args.data else default_data_dir()
    if data_dir is None:
        print("shared data not found: set MEDPRIV_DATA or pass --data", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.init:
        make_init(Path(args.init_from))
    if args.fold:
        if not INIT.exists():
            make_init()
        results = Path(args.results)
        results.mkdir(parents=True, exist_ok=True)
        res = run_fold(args.fold, data_dir, args.minutes, args.seed, args.score_only, results,
                       Path(args.warm_from) if args.warm_from else None, postprocess=not args.raw,
                       extra=dict(_override(kv) for kv in args.set))
        res["warm_from"] = args.warm_from
        res["overrides"] = args.set
        (results / f"loso_{args.fold}.json").write_text(json.dumps(res, indent=1))
        print(json.dumps(res["target_dice"]), res["mean_target_dice"])
    if args.score_bundle:
        from training.seg.templates import TEMPLATE_FILES

        p = Path(args.score_bundle)
        onnx_path = p / "model.onnx" if p.is_dir() else p
        label = args.label or p.name
        for name in TEMPLATE_FILES:
            res = score_scan(onnx_path, name, data_dir, postprocess=not args.raw)
            res["source"] = str(p)
            (RESULTS / f"{label}_{name}.json").write_text(json.dumps(res, indent=1))
            print(name, json.dumps({k: round(v, 3) for k, v in res["target_dice"].items()}),
                  res["mean_target_dice"])
    if args.amend_card:
        amend_card(Path(args.amend_card), args.title, args.description, args.command, Path(args.loso_results))
    if args.table:
        print(table(Path(args.results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
