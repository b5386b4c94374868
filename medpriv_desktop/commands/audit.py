"""``medpriv audit verify|path|new-log``: check the tamper-evident audit log, show where it is, start a new one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medpriv_desktop.commands._common import add_parser

if TYPE_CHECKING:
    from medpriv_desktop.core.audit import VerifyResult


def register(sub: Any) -> None:
    """Add the ``audit`` command."""
    p = add_parser(sub, "audit", "verify the audit log's keyed hash chain, print where it is, or start a new log")
    p.add_argument("action", choices=["verify", "path", "new-log"],
                   help="verify: check every entry and the head; path: print the log's path; new-log: move the "
                        "log and its head aside and start a new chain linked to the old one")
    p.add_argument("--log", type=Path, metavar="FILE",
                   help="verify this log instead of yours (e.g. one moved aside by new-log)")
    p.add_argument("--key", type=Path, metavar="KEYFILE",
                   help="verify with this audit key file (e.g. a retired key kept for an old log)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.audit import AuditLog, verify_chain

    key = None
    if args.key is not None:
        from medpriv_desktop.core.keys import read_key_file

        key = read_key_file(args.key)
    if args.log is not None and args.action == "verify":
        return _report(verify_chain(args.log, key), args.log)
    log = AuditLog(key=key) if args.action == "verify" else AuditLog()
    if args.action == "path":
        print(log.path)
        return 0
    if args.action == "new-log":
        old = log.start_new_log()
        moved = f"old log moved to {old}" if old else "there was no old log"
        print(f"new audit log started ({log.path}); {moved}")
        return 0
    return _report(log.verify(), log.path)


def _report(res: VerifyResult, path: Path) -> int:
    """One line for a verification result; exit code 1 on a break."""
    if res.ok:
        legacy = f", {res.legacy} of them unkeyed (older format)" if res.legacy else ""
        anchored = "head matches" if res.head_seq is not None else "no head yet"
        print(f"audit log intact: {res.entries} entries{legacy}; {anchored} ({path})")
        return 0
    where = f" at line {res.first_bad_line}" if res.first_bad_line is not None else ""
    print(f"audit log BROKEN{where}: {res.reason} ({path})")
    return 1
