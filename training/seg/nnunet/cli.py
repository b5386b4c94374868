"""``medpriv-train seg import-nnunet RESULTS_DIR... -o BUNDLE``: argument parsing and the console report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.seg.nnunet.bundle import UNKNOWN


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.commands._common import drive
    from training.seg.nnunet.importer import import_nnunet

    if args.license == UNKNOWN:
        print(f"warning: --license not given: the card says '{UNKNOWN}'. Find out under which licence the weights "
              "may be used here before using the model or its students.", file=sys.stderr)
    if args.source == UNKNOWN:
        print(f"warning: --source not given: the card says '{UNKNOWN}'. Record where the weights came from.",
              file=sys.stderr)
    card = drive(import_nnunet(
        args.results_dirs, Path(args.out), folds=args.folds, checkpoint=args.checkpoint, model_id=args.model_id,
        title=args.title, license_=args.license, source=args.source, orientation=args.orientation.upper(),
        modality=args.modality, family=args.family, version=args.version,
        command=" ".join(["medpriv-train"] + [a if " " not in a else repr(a) for a in sys.argv[1:]])), args)
    ii = card.image_input
    print(f"bundle {card.id}: {args.out} ({len(card.outputs.labels) - 1} labels, spacing "
          f"{'x'.join(f'{s:g}' for s in ii.spacing_mm)} mm, patch {'x'.join(map(str, ii.patch_size))}, "
          f"{card.metrics.parameters} parameters, sha256 {card.sha256[:12]}...)")
    print("next: medpriv models import BUNDLE (or copy it into the site models folder), then medpriv models verify "
          "and add its manifest hash to the site allow-list")
    return 0


def register_import(ssub) -> None:
    """Add ``import-nnunet`` to the ``seg`` subcommands."""
    p = ssub.add_parser("import-nnunet", help="import nnU-Net v2 trained-model folders (e.g. TotalSegmentator's "
                                              "five parts) as one ONNX teacher bundle")
    p.add_argument("results_dirs", nargs="+", metavar="RESULTS_DIR",
                   help="<Dataset>/<Trainer>__<Plans>__<Configuration> folder(s); several are merged in this order, "
                        "later ones overwriting where they predict foreground (TotalSegmentator's rule)")
    p.add_argument("-o", "--out", required=True, help="bundle folder to write (new or empty)")
    p.add_argument("--folds", nargs="+", help="folds to use (default: every fold_N holding the checkpoint); "
                                              "their logits are averaged as nnU-Net's predictor does")
    p.add_argument("--checkpoint", choices=("final", "best"), default="final",
                   help="checkpoint_final.pth (default) or checkpoint_best.pth")
    p.add_argument("--license", default=UNKNOWN, help="licence of the weights, for the card (e.g. 'CC BY 4.0')")
    p.add_argument("--source", default=UNKNOWN, help="where the weights came from (URL, release, version)")
    p.add_argument("--model-id", help="kebab-case id (default: from the output folder name)")
    p.add_argument("--title", help="title for people")
    p.add_argument("--family", help="model family shared with its students (default: the id)")
    p.add_argument("--version", default="1.0.0", help="bundle version (default 1.0.0)")
    p.add_argument("--orientation", default="RAS",
                   help="directions of the training images' voxel axes i, j, k (default RAS: TotalSegmentator "
                        "reorients to RAS before nnU-Net sees an image)")
    p.add_argument("--modality", choices=("CT", "MR"), help="override the modality read from dataset.json")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(handler=_run)
