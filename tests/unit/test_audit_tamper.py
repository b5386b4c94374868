"""The keyed audit chain detects forgery, recomputation, truncation, deletion, reordering and editing.

Every attack here is made by someone who can change the log (and the head, where said) but does not have the key.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import pytest

from medpriv_desktop.core import keys
from medpriv_desktop.core.audit import AuditLog, head_path_for, verify_chain
from medpriv_desktop.core.audit.entries import canonical, chain_key, keyed_hash


def _canon(entry: dict) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


def _sha(entry: dict) -> str:
    return hashlib.sha256(_canon({k: v for k, v in entry.items() if k != "hash"}).encode()).hexdigest()


def _legacy_lines(n: int, start_prev: str = "0" * 64) -> list[str]:
    """Lines as the old, unkeyed writer made them (plain SHA-256 over the canonical body)."""
    lines, prev = [], start_prev
    for i in range(1, n + 1):
        e = {"seq": i, "time": "2026-01-0%dT10:00:00+00:00" % i, "user": "tester", "action": "deid.batch",
             "key_id": "0badc0de", "files": i, "prev": prev}
        e["hash"] = _sha(e)
        lines.append(_canon(e))
        prev = e["hash"]
    return lines


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


@pytest.fixture
def log() -> AuditLog:
    """A log with five keyed entries."""
    lg = AuditLog()
    for i in range(5):
        lg.record("deid.batch", files=i, model_id="phi-test", input_hmac=lg.input_hmac(f"input {i}"))
    assert lg.verify().ok
    return lg


def _lines(lg: AuditLog) -> list[str]:
    return lg.path.read_text().splitlines()


def test_new_entries_are_keyed_and_versioned(log):
    e = json.loads(_lines(log)[-1])
    assert e["v"] == 2 and e["seq"] == 5 and e["key_id"] == keys.key_id(log.key)
    assert e["hash"] != _sha(e)  # not the unkeyed hash any more
    assert e["hash"] == keyed_hash(chain_key(log.key), e)
    res = log.verify()
    assert (res.ok, res.entries, res.legacy, res.head_seq) == (True, 5, 0, 5)


def _forge_legacy(prev_entry: dict) -> dict:
    e = {**prev_entry, "seq": prev_entry["seq"] + 1, "prev": prev_entry["hash"], "files": 0}
    e.pop("v")
    e["hash"] = _sha(e)
    return e


def _forge_wrong_key(prev_entry: dict) -> dict:
    e = {**prev_entry, "seq": prev_entry["seq"] + 1, "prev": prev_entry["hash"], "files": 0}
    e["hash"] = keyed_hash(chain_key(secrets.token_bytes(32)), e)
    return e


def _forge_plain_hash(prev_entry: dict) -> dict:
    e = {**prev_entry, "seq": prev_entry["seq"] + 1, "prev": prev_entry["hash"], "files": 0}
    e["hash"] = _sha(e)
    return e


@pytest.mark.parametrize("forge, reason", [
    (_forge_legacy, "unkeyed (legacy) entry after keyed"),
    (_forge_wrong_key, "forged without the key"),
    (_forge_plain_hash, "forged without the key"),
])
def test_forged_appended_entry_is_a_break(log, forge, reason):
    lines = _lines(log)
    lines.append(_canon(forge(json.loads(lines[-1]))))
    _write(log.path, lines)
    res = log.verify()
    assert not res.ok and res.first_bad_line == 6 and reason in res.reason


def test_input_hmacs_in_the_log_cannot_serve_as_entry_hashes(log):
    # An attacker chooses an input whose bytes are the body of the entry they want, has the app record its input
    # HMAC, and copies that HMAC as the forged entry's hash: the chain key differs from the input key.
    last = json.loads(_lines(log)[-1])
    forged = {**last, "seq": 6, "prev": last["hash"], "files": 999}
    forged["hash"] = log.input_hmac(canonical({k: v for k, v in forged.items() if k != "hash"}))
    log.record("deid.batch", input_hmac=forged["hash"])  # the oracle answer now sits in the log
    lines = _lines(log)[:5] + [_canon(forged)]
    _write(log.path, lines)
    res = log.verify()
    assert not res.ok and res.first_bad_line == 6


def test_chain_recomputed_without_the_key_is_a_break(log):
    # Edit entry 2, then recompute every hash and link with plain SHA-256 (the old format).
    entries = [json.loads(x) for x in _lines(log)]
    prev, out = "0" * 64, []
    for e in entries:
        e.pop("v")
        e["prev"] = prev
        if e["seq"] == 2:
            e["files"] = 1000
        e["hash"] = _sha(e)
        prev = e["hash"]
        out.append(_canon(e))
    _write(log.path, out)
    res = log.verify()
    assert not res.ok and res.first_bad_line == 5 and "head" in res.reason
    # ... and with a key of the attacker's own: the key id gives it away at line 1.
    other = secrets.token_bytes(32)
    prev, out = "0" * 64, []
    for e in entries:
        e.update(v=2, key_id=keys.key_id(other), prev=prev)
        e["hash"] = keyed_hash(chain_key(other), e)
        prev = e["hash"]
        out.append(_canon(e))
    _write(log.path, out)
    res = log.verify()
    assert not res.ok and res.first_bad_line == 1 and "another audit key" in res.reason


@pytest.mark.parametrize("keep", [4, 3, 1])
def test_truncation_of_last_lines_is_detected(log, keep):
    _write(log.path, _lines(log)[:keep])
    res = log.verify()
    assert not res.ok and res.first_bad_line == keep + 1
    assert "shorter than its recorded head" in res.reason and res.head_seq == 5


@pytest.mark.parametrize("how", ["delete", "empty", "delete_folder"])
def test_deleting_the_log_is_detected(log, how):
    if how == "empty":
        log.path.write_bytes(b"")
    else:
        log.path.unlink()
        if how == "delete_folder":
            for f in log.path.parent.iterdir():
                f.unlink()
            log.path.parent.rmdir()
    res = verify_chain(log.path)
    assert not res.ok and "log missing or empty but a head exists" in res.reason and res.first_bad_line == 1


def test_reordering_and_editing_are_detected(log):
    lines = _lines(log)
    swapped = lines[:1] + [lines[2], lines[1]] + lines[3:]
    _write(log.path, swapped)
    res = log.verify()
    assert not res.ok and res.first_bad_line == 2 and "link" in res.reason
    edited = json.loads(lines[3])
    edited["files"] = 77
    _write(log.path, lines[:3] + [_canon(edited)] + lines[4:])
    res = log.verify()
    assert not res.ok and res.first_bad_line == 4 and "changed" in res.reason
    # A byte-level edit that keeps the JSON equal (extra space, duplicate key) is still an edit.
    _write(log.path, lines[:3] + [lines[3].replace(",", ", ", 1)] + lines[4:])
    res = log.verify()
    assert not res.ok and res.first_bad_line == 4 and "canonical" in res.reason


@pytest.mark.parametrize("damage, reason", [
    (lambda p: p.write_text("{}"), "damaged"),
    (lambda p: p.write_text(p.read_text().replace('"seq":5', '"seq":3')), "MAC does not match"),
    (lambda p: p.write_bytes(b"\xff\xfe junk"), "damaged"),
])
def test_a_changed_head_is_detected(log, damage, reason):
    damage(log.head_path)
    res = log.verify()
    assert not res.ok and res.first_bad_line is None and reason in res.reason


def test_head_lives_outside_the_log_folder(log):
    assert log.head_path == head_path_for(log.path) and log.head_path.exists()
    assert log.head_path.parent != log.path.parent and log.head_path.parent == keys.key_path("audit").parent


def test_removing_the_head_of_a_keyed_log_is_detected(log):
    log.head_path.unlink()
    res = log.verify()
    assert not res.ok and "head file is missing" in res.reason


def test_legacy_entries_verify_and_the_log_continues_keyed(medpriv_home):
    lg = AuditLog()
    _write(lg.path, _legacy_lines(3))
    res = lg.verify()
    assert (res.ok, res.entries, res.legacy, res.head_seq) == (True, 3, 3, None)
    lg.preflight()
    lg.record("models.import", model_id="seg-a")
    res = lg.verify()
    assert (res.ok, res.entries, res.legacy, res.head_seq) == (True, 4, 3, 4)
    # Once a keyed entry exists, a legacy one after it is a break, and editing a legacy one still shows.
    lines = _lines(lg)
    tail = json.loads(lines[-1])
    extra = _legacy_lines(1, start_prev=tail["hash"])[0]
    extra_e = json.loads(extra)
    extra_e["seq"] = 5
    extra_e["hash"] = _sha(extra_e)
    _write(lg.path, lines + [_canon(extra_e)])
    res = lg.verify()
    assert not res.ok and res.first_bad_line == 5 and "legacy" in res.reason
    old = json.loads(lines[1])
    old["files"] = 50
    _write(lg.path, [lines[0], _canon(old)] + lines[2:])
    res = lg.verify()
    assert not res.ok and res.first_bad_line == 2 and "changed" in res.reason


def test_missing_or_replaced_key_is_reported_not_recreated(log):
    key_file = keys.key_path("audit")
    key_file.unlink()
    res = verify_chain(log.path)
    assert not res.ok and res.first_bad_line == 1 and "key file is missing" in res.reason
    assert not key_file.exists()  # verify never makes a key
    key_file.write_text(secrets.token_hex(32))
    res = verify_chain(log.path)
    assert not res.ok and res.first_bad_line == 1 and "another audit key" in res.reason
    key_file.write_text("not a key")
    res = verify_chain(log.path)
    assert not res.ok and res.first_bad_line == 1 and "cannot be read" in res.reason


def test_a_crash_between_log_and_head_write_is_accepted_and_repaired(log):
    stale = log.head_path.read_bytes()
    log.record("deid.batch", files=6)
    log.head_path.write_bytes(stale)  # the head write of entry 6 never happened
    res = log.verify()
    assert res.ok and res.entries == 6 and res.head_seq == 5
    log.preflight()
    log.record("deid.batch", files=7)
    res = log.verify()
    assert res.ok and res.entries == 7 and res.head_seq == 7
