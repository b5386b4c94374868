"""Appends from several processes and threads form one intact chain (the lock covers read-tail-append-head)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter

from medpriv_desktop.core import keys
from medpriv_desktop.core.audit import AuditError, AuditLog, verify_chain
from medpriv_desktop.core.audit.lock import AuditLock

WORKER = """
import sys
from medpriv_desktop.core.audit import AuditLog
worker = int(sys.argv[1])
sys.stdin.readline()  # start together
for i in range(50):
    AuditLog().record("test.proc", worker=worker, i=i)
"""


def test_four_processes_of_fifty_records_make_one_chain_of_two_hundred(medpriv_home):
    assert not keys.key_path("audit").exists()  # the key is made by whichever process comes first
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(w)], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
             for w in range(4)]
    for p in procs:
        p.stdin.write(b"go\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode(errors="replace")[-2000:]
    log = AuditLog()
    res = log.verify()
    assert (res.ok, res.entries, res.head_seq) == (True, 200, 200), res.reason
    entries = [json.loads(x) for x in log.path.read_text().splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, 201))
    assert Counter(e["worker"] for e in entries) == {0: 50, 1: 50, 2: 50, 3: 50}
    for w in range(4):  # each process's records stay in its own order
        assert [e["i"] for e in entries if e["worker"] == w] == list(range(50))


def test_threads_share_the_chain(medpriv_home):
    log = AuditLog()
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(25):
                AuditLog().record("test.thread", worker=t, i=i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    res = verify_chain(log.path)
    assert res.ok and res.entries == 100


HOLDER = """
import sys, time
from pathlib import Path
from medpriv_desktop.core.audit.lock import AuditLock
with AuditLock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_a_held_lock_makes_another_process_wait_then_give_up(medpriv_home):
    log = AuditLog()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(log.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        try:
            with AuditLock(log.path, timeout=0.3):
                raise AssertionError("got the lock another process holds")
        except AuditError as exc:
            assert "locked by another process" in exc.message
    finally:
        holder.communicate(b"\n", timeout=30)
    with AuditLock(log.path, timeout=5):  # released when the holder finished
        pass
    assert log.path.with_name("audit.jsonl.lock").exists()
