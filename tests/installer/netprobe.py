"""Prove the current network namespace is cut off: ``python netprobe.py PORT``; exit 0 and print "network blocked".

Two checks, neither sending a packet anywhere: the namespace has no interface but loopback (``/proc/net/dev`` is per
namespace), and a TCP port that listens on the parent namespace's loopback cannot be reached from here.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path


def interfaces() -> list[str]:
    """Network interfaces of this process's namespace."""
    lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    return [ln.split(":", 1)[0].strip() for ln in lines if ":" in ln]


def reachable(port: int) -> bool:
    """True when 127.0.0.1:port accepts a connection."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    """Exit 0 only when the namespace has no network."""
    port = int(argv[0])
    ifs = interfaces()
    if ifs != ["lo"]:
        print(f"network NOT blocked: interfaces {ifs}")
        return 1
    if reachable(port):
        print(f"network NOT blocked: the parent's port {port} is reachable")
        return 1
    print(f"network blocked: interfaces {ifs}, the parent's port {port} unreachable")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
