"""``medpriv audit verify|path``: check the tamper-evident audit log."""

from __future__ import annotations

import argparse
from typing import Any

from medpriv_desktop.commands._common import add_parser


def register(sub: Any) -> None:
    """Add the ``audit`` command."""
    p = add_parser(sub, "audit", "verify the audit log's hash chain or print where it is")
    p.add_argument("action", choices=["verify", "path"])
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from medpriv_desktop.core.audit import AuditLog

    log = AuditLog()
    if args.action == "path":
        print(log.path)
        return 0
    res = log.verify()
    if res.ok:
        print(f"audit log intact: {res.entries} entries ({log.path})")
        return 0
    print(f"audit log BROKEN at line {res.first_bad_line}: {res.reason} ({log.path})")
    return 1
