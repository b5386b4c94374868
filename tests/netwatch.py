"""Watch a child process for network attempts and for files it writes, with ``strace -f``.

Used by the offline tests of the CLI and of the frozen app. The rule being checked (README, "Offline"): the app
opens no connection and sends no datagram to anything but loopback, and never asks a DNS server anything; it writes
files only in its own folders, the outputs it was asked for and the temp folder.

Only system calls that succeed or fail are read from the trace, so an attempt that the sandbox refuses (no network
at all) still counts: the question is whether the app *tried*.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

#: System calls traced: connections and datagrams, and everything that creates or writes a path.
TRACED = ("connect", "sendto", "sendmsg", "sendmmsg", "open", "openat", "creat", "mkdir", "mkdirat", "rename",
          "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat")
_INET = re.compile(r'sa_family=AF_INET6?, (?:sin6?_port=htons\((?P<port>\d+)\)).*?'
                   r'(?:inet_addr\("(?P<v4>[^"]+)"\)|inet_pton\(AF_INET6, "(?P<v6>[^"]+)")')
_CALL = re.compile(r'^(?:\d+\s+)?(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+)')
_DIRFD = re.compile(r'^\d+<(?P<dir>[^>]+)>,')
_PATH_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")


@dataclass
class Trace:
    """What a traced run did: network attempts (one line each) and paths it created or wrote."""

    returncode: int
    stdout: str
    stderr: str
    attempts: list[str] = field(default_factory=list)
    written: set[str] = field(default_factory=set)

    def written_outside(self, allowed: list[Path], allowed_patterns: tuple[str, ...] = ()) -> list[str]:
        """Written paths under none of ``allowed`` and matching none of ``allowed_patterns`` (regexes)."""
        roots = [str(Path(a).resolve()) for a in allowed]
        out = []
        for p in sorted(self.written):
            if any(p == r or p.startswith(r + os.sep) for r in roots):
                continue
            if any(r.startswith(p + os.sep) for r in roots):  # a parent made on the way (mkdir -p)
                continue
            if any(re.search(pat, p) for pat in allowed_patterns):
                continue
            out.append(p)
        return out


def strace_available() -> bool:
    """True when strace is installed and may trace a child here."""
    exe = shutil.which("strace")
    if exe is None:
        return False
    return subprocess.run([exe, "-f", "-e", "trace=connect", "true"], capture_output=True).returncode == 0


def _is_loopback(addr: str) -> bool:
    return addr.startswith("127.") or addr in ("::1", "0.0.0.0", "::") or addr.startswith("::ffff:127.")


def parse_trace(text: str, cwd: Path) -> tuple[list[str], set[str]]:
    """Network attempts and written paths in an ``strace -f`` log (relative paths resolved against ``cwd``)."""
    attempts: list[str] = []
    written: set[str] = set()
    for line in text.splitlines():
        m = _CALL.match(line.strip())
        if not m:
            continue
        name, args, ret = m["name"], m["args"], int(m["ret"])
        if name.startswith(("connect", "send")):
            for a in _INET.finditer(args):
                addr, port = a["v4"] or a["v6"], int(a["port"])
                if port == 53 or not _is_loopback(addr):
                    attempts.append(f"{name} to {addr}:{port}")
            continue
        if ret < 0:
            continue
        paths = _PATH_ARG.findall(args)
        if name in ("open", "openat", "creat"):
            if name != "creat" and not any(f in args for f in _WRITE_FLAGS):
                continue
            paths = paths[:1]
        elif name in ("rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat"):
            paths = paths[-1:]  # the new name
        base = cwd
        dirfd = _DIRFD.match(args)
        if name.endswith("at") and dirfd:  # relative to a directory descriptor, decoded by strace -y
            base = Path(dirfd["dir"])
        for p in paths[:1]:
            full = Path(p) if p.startswith("/") else base / p
            written.add(os.path.normpath(str(full)))
    return attempts, written


def run_traced(cmd: list[str], env: dict[str, str], cwd: Path, log: Path, timeout: float = 900) -> Trace:
    """Run ``cmd`` under ``strace -ff`` (one log per process: no interleaved, unfinished calls) and return what it
    attempted and wrote. ``log`` is the prefix of the per-process logs."""
    full = ["strace", "-ff", "-qq", "-y", "-s", "256", "-e", "trace=" + ",".join(TRACED), "-o", str(log), *cmd]
    r = subprocess.run(full, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    text = "\n".join(p.read_text(errors="replace") for p in sorted(log.parent.glob(log.name + ".*")))
    attempts, written = parse_trace(text, cwd)
    return Trace(r.returncode, r.stdout, r.stderr, attempts, written)


def clean_environment(home: Path, tmp: Path) -> dict[str, str]:
    """The environment of a user's session: the CI markers that make ONNX Runtime stay quiet and the app's own
    switch removed, HOME and TMPDIR in the test's folders, no MEDPRIV_HOME (the app's platform folders are used)."""
    drop = {"CI", "GITHUB_ACTIONS", "ORT_RUNNING_UNIT_TESTS", "ORT_DISABLE_TELEMETRY", "MEDPRIV_HOME",
            "MEDPRIV_SITE_MODELS", "MEDPRIV_KEY_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
            "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "TF_BUILD", "BUILD_ID", "PYTEST_CURRENT_TEST"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONDONTWRITEBYTECODE="1")
    return env
