"""``medpriv synth`` (generate synthetic notes) and the ``synth`` piece of ``medpriv eval``.

``medpriv synth INPUT -o OUT --method keyword|one-shot|normalized --engine template|MODEL_ID``: one synthetic note per
``.txt`` note, with a progress bar; run it again to resume. ``register_eval(eval_subparsers)`` adds
``medpriv eval synth CORPUS -o REPORT_DIR`` to the ``eval`` command.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from medpriv_desktop.commands._common import (add_parser, add_restart, drive, non_negative_int, positive_int,
                                              prepare_outputs)


def register(sub: Any) -> None:
    """Add the ``synth`` command."""
    p = add_parser(sub, "synth", "generate synthetic notes from de-identified keywords (or one-shot, to compare)")
    p.add_argument("input", type=Path, help="a .txt note or a folder of .txt notes")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder (resumable)")
    p.add_argument("--method", default="keyword", choices=["keyword", "one-shot", "normalized"])
    p.add_argument("--engine", default="template", help="'template' (default, no model) or a causal-lm model id")
    p.add_argument("--source", default="tagged", choices=["tagged", "surrogate", "raw"],
                   help="tagged: de-identify first, PHI as tags (default); surrogate: de-identify first, PHI as "
                        "realistic surrogates; raw: use the text as given")
    p.add_argument("--note-type", choices=["nursing", "radiology", "discharge"], help="default: guessed per note")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-keywords", type=positive_int, default=20)
    p.add_argument("--max-new-tokens", type=positive_int, default=200, help="causal-lm engines only")
    p.add_argument("--top-k", type=positive_int, default=1,
                   help="causal-lm engines: 1 = greedy, >1 = seeded top-k sampling")
    add_restart(p)
    p.set_defaults(handler=_run)


def register_eval(eval_sub: Any) -> None:
    """Add ``synth`` under the ``eval`` command's subparsers."""
    p = add_parser(eval_sub, "synth", "privacy, quality and utility report for synthetic notes")
    p.add_argument("corpus", type=Path, help="PhysioNet deid folder (id.text + id-phi.phrase) or a .jsonl corpus")
    p.add_argument("-o", "--output", type=Path, required=True, help="report folder (report.md, report.json, PNG)")
    p.add_argument("--configs", default="keyword/tagged,keyword/raw,one-shot/raw,normalized/raw",
                   help="comma list of METHOD/SOURCE (SOURCE: tagged, surrogate or raw)")
    p.add_argument("--engine", default="template")
    p.add_argument("--limit", type=non_negative_int, default=0, help="first N notes only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-keywords", type=positive_int, default=20)
    p.add_argument("--no-cosine", action="store_true", help="skip the embedding similarity")
    p.add_argument("--embedding-model", help="embedding bundle id (default: minilm-embedding)")
    p.add_argument("--utility", type=Path, help="utility.json from 'medpriv-train synth utility' to add to the table")
    p.add_argument("--notes-dir", type=Path, help="also write the synthetic notes here (never inside the report)")
    p.set_defaults(handler=_run_eval)


def _engine(args: argparse.Namespace, ctx: Any) -> Any:
    from medpriv_desktop.core.notes.synth.engines import get_engine

    opts = {} if args.engine == "template" else {"top_k": getattr(args, "top_k", 1), "threads": ctx.sessions.threads}
    return get_engine(args.engine, registry=ctx.registry, **opts)


def _keep_torch_out() -> None:
    # The de-identifier's Presidio/spaCy stack would pull in torch when it is installed; the deid command's guard
    # keeps it out (MEDPRIV_ALLOW_TORCH=1 turns it off).
    from medpriv_desktop.commands.deid import _keep_torch_out as keep_out

    keep_out()


def _run(args: argparse.Namespace) -> int:
    import sys

    _keep_torch_out()

    from medpriv_desktop.core.app import Context, SynthRequest, synthesize_notes

    request = SynthRequest(args.input, args.output, args.method, args.engine, args.source, args.seed,
                           args.max_keywords, args.max_new_tokens, args.note_type, args.top_k, args.restart)
    request.check()  # a bad method, source or input fails before the outputs are checked and the de-identifier loads
    prepare_outputs([args.input], folders=[("-o", args.output)])
    # the use case writes the audit entry (notes.synth) the window writes for the same work
    summary = drive(synthesize_notes(Context.build(), request), args)
    for path, reason in summary.failed:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(f"wrote {summary.written} synthetic notes to {args.output}"
          + (f" ({summary.skipped_done} already done)" if summary.skipped_done else "")
          + (f"; {len(summary.failed)} notes skipped" if summary.failed else ""))
    return 1 if summary.failed and not (summary.written or summary.skipped_done) else 0


def _run_eval(args: argparse.Namespace) -> int:
    _keep_torch_out()
    from medpriv_desktop.core.app import Context, deid_engine_factory
    from medpriv_desktop.core.audit import AuditLog
    from medpriv_desktop.core.errors import InputError
    from medpriv_desktop.core.notes.synth.corpus import read_corpus
    from medpriv_desktop.core.notes.synth.engines.base import METHODS
    from medpriv_desktop.core.notes.synth.evaluate import evaluate_synthesis, parse_configs
    from medpriv_desktop.core.notes.synth.methods import SOURCE_MODES
    from medpriv_desktop.core.notes.synth.quality import load_embedding_encoder
    from medpriv_desktop.core.notes.synth.report import write_report

    prepare_outputs([args.corpus, args.utility], folders=[("-o", args.output), ("--notes-dir", args.notes_dir)])
    configs = parse_configs(args.configs)
    bad = [f"{m}/{s}" for m, s in configs if m not in METHODS or s not in SOURCE_MODES]
    if bad or not configs:
        raise InputError(f"unknown configuration {bad}", hint="use METHOD/SOURCE with METHOD in "
                         f"{', '.join(METHODS)} and SOURCE in {', '.join(SOURCE_MODES)}")
    utility = None
    if args.utility:
        try:
            utility = json.loads(args.utility.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read utility results ({type(exc).__name__})", path=args.utility) from None
    notes = read_corpus(args.corpus, args.limit or None)
    ctx = Context.build()
    encoder = None if args.no_cosine else load_embedding_encoder(args.embedding_model, ctx.registry,
                                                                   ctx.sessions.threads)
    engine = _engine(args, ctx)
    result = drive(evaluate_synthesis(notes, engine, deid_engine_factory(ctx)(), configs, encoder=encoder, seed=args.seed,
                                      notes_dir=args.notes_dir, max_keywords=args.max_keywords), args)
    result["max_keywords"] = args.max_keywords
    files = write_report(result, args.output, utility)
    AuditLog().record("notes.eval_synth", engine=args.engine, n_notes=len(notes), n_configs=len(configs))
    for f in files:
        print(f)
    return 0
