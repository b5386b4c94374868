"""``medpriv segment INPUT --model ID -o OUTDIR [--qc] [--stats] [--meshes] [--fast] [--series UID] [--threads N]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import (add_parser, add_restart, add_scaleout_arguments, drive, float_between,
                                              positive_int, prepare_outputs)

FAST_OVERLAP = 0.25


def register(sub: Any) -> None:
    """Add the ``segment`` command."""
    p = add_parser(sub, "segment", "segment a CT/MR study (DICOM folder, NIfTI, NRRD, MHA) with an installed model")
    p.add_argument("input", type=Path, help="DICOM series folder, or a .nii/.nii.gz/.nrrd/.mha/.mhd file")
    p.add_argument("--model", "-m", help="model id (see 'medpriv models list --task segmentation')")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    p.add_argument("--series", help="DICOM SeriesInstanceUID when the folder holds several series")
    p.add_argument("--modality", choices=["CT", "MR"], type=str.upper, help="override the detected modality")
    p.add_argument("--qc", action="store_true", help="quality control: plausibility, agreement, uncertainty")
    p.add_argument("--stats", action="store_true", help="statistics per structure (CSV and JSON)")
    p.add_argument("--meshes", action="store_true", help="surface meshes (STL, OBJ, VTP) and a scene.vtp")
    p.add_argument("--fast", action="store_true",
                   help=f"use the family's student model when installed and tile overlap {FAST_OVERLAP}")
    p.add_argument("--threads", type=positive_int, help="inference threads (default: settings, cores minus one)")
    p.add_argument("--overlap", type=float_between(0.0, 0.9), help="tile overlap 0-0.9 (default: the model card's)")
    p.add_argument("--tta", action="store_true", help="average the flips the model was trained for (the card's mirror_axes; up to 8x slower)")
    p.add_argument("--force", action="store_true",
                   help="segment even when the study's body region (head, torso) does not fit the model's card")
    p.add_argument("--formats", default="nii.gz,nrrd", help="label map formats: nii.gz,nii,nrrd,mha")
    p.add_argument("--no-dicom-seg", action="store_true", help="do not write a DICOM SEG for DICOM input")
    p.add_argument("--deidentify", action="store_true",
                   help="de-identified exports: the SEG's headers by the deid-dicom profile (same pseudonyms, dates "
                        "and UIDs as 'medpriv deid-dicom'), pseudonymous file names, no source path inside")
    p.add_argument("--deid-profile", default="retain-dates-shifted", choices=["basic", "retain-dates-shifted",
                                                                              "research"],
                   help="with --deidentify: the profile (see 'medpriv deid-dicom --help')")
    p.add_argument("--studies", action="store_true",
                   help="INPUT is a folder of studies or a CSV list (column 'path'): one output folder per study, "
                        "a summary and an errors table; resumable (also implied by --cluster and --shard)")
    add_scaleout_arguments(p)
    add_restart(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.app import (Context, SegmentOptions, passed_over_students, segment_study,
                                          segmentation_model)
    from medpriv_desktop.core.errors import InputError
    from medpriv_desktop.core.imaging.dicom import MultipleSeriesError

    prepare_outputs([args.input], folders=[("-o", args.output)])  # before any model loads or input is read
    ctx = Context.build()
    entry = segmentation_model(ctx, args.model, fast=args.fast)
    # a default that is a teacher because its student fell below the card rule says so in the summary
    chosen = args.model or ctx.settings.default_segmentation_model
    passed_over = [] if chosen else passed_over_students(ctx.registry, entry)
    if args.threads is not None and args.threads < 1:
        raise InputError("--threads must be at least 1")
    if args.overlap is not None and not 0 <= args.overlap < 0.95:
        raise InputError("--overlap must be between 0 and 0.9")
    formats = tuple(f.strip().lower().lstrip(".") for f in args.formats.split(",") if f.strip())
    opts = SegmentOptions(
        series_uid=args.series, modality=args.modality, threads=args.threads,
        overlap=args.overlap if args.overlap is not None else (FAST_OVERLAP if args.fast else None),
        tta=args.tta and not args.fast, stats=args.stats, qc=args.qc, formats=formats,
        dicom_seg=not args.no_dicom_seg, deidentify=args.deidentify, deid_profile=args.deid_profile,
        check_fit=not args.force)
    if args.studies or args.cluster or args.shard:
        from medpriv_desktop.scaleout.commands import run_segment_studies  # the cluster extra, only when asked

        return run_segment_studies(args, entry, opts)
    if args.restart:
        raise InputError("--restart applies to a batch of studies (--studies, --cluster or --shard)")
    try:
        # one read: the body-region check (a torso model on a head says so and stops) and the segmentation
        res = drive(segment_study(ctx, args.input, entry, output=args.output, options=opts), args)
    except MultipleSeriesError as exc:
        print(f"{args.input} holds {len(exc.series)} DICOM series:")
        for s in exc.series:
            print(f"  {s.summary()}")
        raise
    if args.meshes:
        from medpriv_desktop.render.meshes import export_meshes

        import time

        t = time.perf_counter()
        res.outputs += export_meshes(res.segmentation.labelmap, args.output / "meshes")
        res.timings["meshes"] = time.perf_counter() - t
    _print_summary(res, entry, args, passed_over)
    return 0


def _print_summary(res, entry, args: argparse.Namespace, passed_over: list) -> None:
    from medpriv_desktop.core.app import dice_ratio_text

    seg = res.segmentation
    vol = res.volume
    out = sys.stdout
    print(f"model      {entry.card.id} {entry.card.version} ({entry.card.role})", file=out)
    for st in passed_over:
        print(f"           chosen over student {st.card.id} {st.card.version}: its card shows {dice_ratio_text(st)}; "
              f"--fast or --model {st.card.id} runs it", file=out)
    guessed = " (modality guessed from intensities; --modality overrides)" if vol.meta.get("modality_guessed") else ""
    print(f"input      {vol.modality} {'x'.join(map(str, vol.shape))} voxels, "
          f"{' x '.join(f'{s:.2f}' for s in vol.spacing)} mm, {vol.orientation_codes()}{guessed}", file=out)
    print(f"inference  {seg.n_tiles} tiles, {seg.threads} thread(s), {seg.flips} pass(es) per tile", file=out)
    times = "  ".join(f"{k} {v:.2f}s" for k, v in res.timings.items())
    print(f"time       {times}  (total {sum(res.timings.values()):.1f}s)", file=out)
    present = seg.labelmap.present_values()
    print(f"structures {len(present)} of {len(entry.card.outputs.labels) - 1} found", file=out)
    if res.stats and args.stats:
        top = sorted((s for s in res.stats if s.voxels), key=lambda s: -s.volume_ml)[:8]
        for s in top:
            mean = f"{s.mean:7.1f} {s.unit}" if s.mean is not None else ""
            print(f"  {s.name:28s} {s.volume_ml:10.1f} mL  {mean}", file=out)
        if len(present) > len(top):
            print(f"  ... {len(present) - len(top)} more in stats.csv", file=out)
    if res.qc is not None:
        c = res.qc.counts()
        print(f"QC         {c['pass']} pass, {c['warn']} warn, {c['fail']} fail "
              f"(second opinion: {res.qc.second_opinion}); details in qc.json", file=out)
        for name, status in res.qc.by_structure().items():
            if status == "fail":
                reasons = "; ".join(i.reason for i in res.qc.items if i.name == name and i.status == "fail")
                print(f"  FAIL {name}: {reasons}", file=out)
        for note in res.qc.notes:
            print(f"  note: {note}", file=out)
    for w in res.warnings:
        print(f"warning    {w}", file=out)
    print(f"outputs    {args.output} ({len(res.outputs)} files)", file=out)
