"""``verify`` never crashes on junk; a bad tail stops ``preflight`` and ``record`` before anything is written."""

from __future__ import annotations

import json
import os

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core import keys
from medpriv_desktop.core.audit import AuditError, AuditLog, verify_chain
from medpriv_desktop.core.audit.entries import MAX_LINE_BYTES


@pytest.fixture
def log() -> AuditLog:
    """A log with three keyed entries."""
    lg = AuditLog()
    for i in range(3):
        lg.record("reports.classify", n_reports=i, model_id="rep-a")
    return lg


def _replace_line(text: bytes, index: int, new: bytes) -> bytes:
    lines = text.split(b"\n")
    lines[index] = new
    return b"\n".join(lines)


def _set_field(line: bytes, field: str, value: object) -> bytes:
    e = json.loads(line)
    if value is _DROP:
        del e[field]
    else:
        e[field] = value
    return json.dumps(e, sort_keys=True, separators=(",", ":")).encode()


_DROP = object()

# (name, function of the original line 2 -> damaged line 2, expected words in the reason)
LINE_DAMAGE = [
    ("non_utf8_byte", lambda s: s.replace(b'"user"', b'"us\xffer"'), "not valid UTF-8"),
    ("binary_junk", lambda s: bytes(range(256)).replace(b"\n", b""), "not valid UTF-8"),
    ("nul_bytes", lambda s: b"\x00" * 40, "not JSON"),
    ("empty_line", lambda s: b"", "not JSON"),
    ("json_list", lambda s: b"[1,2,3]", "not a JSON object"),
    ("json_string", lambda s: b'"hello"', "not a JSON object"),
    ("deep_nesting", lambda s: b"[" * 20000 + b"]" * 20000, "not JSON"),
    ("huge_line", lambda s: b"x" * (MAX_LINE_BYTES + 10), "longer than 64 KiB"),
    ("missing_seq", lambda s: _set_field(s, "seq", _DROP), "'seq' is missing"),
    ("missing_hash", lambda s: _set_field(s, "hash", _DROP), "'hash' is missing"),
    ("missing_prev", lambda s: _set_field(s, "prev", _DROP), "'prev' is missing"),
    ("seq_is_string", lambda s: _set_field(s, "seq", "2"), "'seq' has the wrong type"),
    ("seq_is_bool", lambda s: _set_field(s, "seq", True), "'seq' has the wrong type"),
    ("hash_is_number", lambda s: _set_field(s, "hash", 12), "'hash' has the wrong type"),
    ("prev_short", lambda s: _set_field(s, "prev", "abc"), "'prev' has the wrong type"),
    ("action_is_dict", lambda s: _set_field(s, "action", {"a": 1}), "'action' has the wrong type"),
    ("version_unknown", lambda s: _set_field(s, "v", 3), "unknown entry format version"),
    ("key_id_missing", lambda s: _set_field(s, "key_id", _DROP), "'key_id' is missing"),
]


@pytest.mark.parametrize("name, damage, reason", LINE_DAMAGE, ids=[d[0] for d in LINE_DAMAGE])
def test_verify_reports_junk_in_a_middle_line(log, name, damage, reason):
    text = log.path.read_bytes()
    log.path.write_bytes(_replace_line(text, 1, damage(text.split(b"\n")[1])))
    res = verify_chain(log.path)
    assert not res.ok and res.first_bad_line == 2 and reason in res.reason and res.entries == 1


@pytest.mark.parametrize("name, damage, reason", LINE_DAMAGE, ids=[d[0] for d in LINE_DAMAGE])
def test_bad_last_line_stops_preflight_and_record_before_writing(log, name, damage, reason):
    text = log.path.read_bytes()
    broken = _replace_line(text, 2, damage(text.split(b"\n")[2]))
    log.path.write_bytes(broken)
    head = log.head_path.read_bytes()
    with pytest.raises(AuditError) as err:
        log.preflight()
    msg = err.value.message
    assert str(log.path) in msg and "medpriv audit verify" in msg and "new-log" in msg and "\n" not in msg
    with pytest.raises(AuditError):
        AuditLog().record("reports.classify", n_reports=9)
    assert log.path.read_bytes() == broken and log.head_path.read_bytes() == head  # nothing written


@pytest.mark.parametrize("damage, reason", [
    (lambda p: p.write_bytes(p.read_bytes()[:-1]), "incomplete"),  # newline of the last line cut off
    (lambda p: p.write_bytes(p.read_bytes()[:-30]), "incomplete"),
    (lambda p: p.write_bytes(p.read_bytes() + b"x" * (300 * 1024) + b"\n"), "longer than 64 KiB"),
    (lambda p: p.write_bytes(p.read_bytes() + b"y" * (300 * 1024)), "incomplete"),
    (lambda p: p.write_bytes(b"\n".join(p.read_bytes().split(b"\n")[:2]) + b"\n"), "shorter than its recorded head"),
    (lambda p: p.unlink(), "missing or empty but its head"),
])
def test_preflight_catches_a_bad_tail(log, damage, reason):
    damage(log.path)
    with pytest.raises(AuditError, match=reason):
        log.preflight()
    assert not verify_chain(log.path).ok


def test_preflight_catches_a_changed_head_and_a_missing_key(log):
    log.preflight()  # the intact log passes
    head = log.head_path.read_bytes()
    log.head_path.write_bytes(head.replace(b'"seq":3', b'"seq":4'))
    with pytest.raises(AuditError, match="MAC does not match"):
        log.preflight()
    log.head_path.write_bytes(head)
    key_file = keys.key_path("audit")
    key_file.unlink()
    with pytest.raises(AuditError, match="audit key file is missing") as err:
        AuditLog().preflight()
    assert err.value.path == key_file and "new-log" in err.value.hint
    with pytest.raises(AuditError):
        AuditLog().record("models.import", model_id="m")
    assert not key_file.exists() and verify_chain(log.path, key=log.key).ok  # no new key was made


def test_verify_handles_a_directory_and_a_fifo_as_log(medpriv_home):
    lg = AuditLog()
    lg.path.mkdir()
    res = lg.verify()
    assert not res.ok and "not a regular file" in res.reason
    with pytest.raises(AuditError, match="not a regular file"):
        lg.preflight()
    lg.path.rmdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(lg.path)
        res = lg.verify()  # must not block on the FIFO
        assert not res.ok and "not a regular file" in res.reason


def test_cli_verify_prints_one_line_and_fails_on_a_break(log, capsys):
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "intact: 3 entries" in out and "head matches" in out
    text = log.path.read_bytes()
    log.path.write_bytes(text.replace(b'"n_reports":1', b'"n_reports":\xff', 1))
    assert main(["audit", "verify"]) == 1
    cap = capsys.readouterr()
    assert cap.out.count("\n") == 1 and "BROKEN at line 2: line is not valid UTF-8" in cap.out
    assert "Traceback" not in cap.err


def test_new_log_moves_a_broken_log_aside_and_links_to_it(log, capsys):
    text = log.path.read_bytes()
    log.path.write_bytes(text[:-5])  # a cut-off last write
    with pytest.raises(AuditError):
        log.preflight()
    assert main(["audit", "new-log"]) == 0
    out = capsys.readouterr().out
    old = sorted(log.path.parent.glob("audit-*.jsonl"))
    assert len(old) == 1 and str(old[0]) in out and old[0].read_bytes() == text[:-5]
    log.preflight()
    first = json.loads(log.path.read_text())
    assert first["action"] == "audit.new_log" and first["seq"] == 1
    assert first["previous_intact"] is False and first["previous_head_seq"] == 3
    res = AuditLog().verify()
    assert res.ok and res.entries == 1
    # The old log keeps its head beside the keys and still verifies as what it is (broken at line 3).
    assert main(["audit", "verify", "--log", str(old[0])]) == 1
    assert "line 3" in capsys.readouterr().out


def test_new_log_on_an_intact_log_and_key_rotation(log, capsys):
    old_key = log.key
    retired = keys.key_path("audit").with_name("retired-audit.key")
    keys.key_path("audit").rename(retired)  # rotation: move the key away, then start a new log
    assert main(["audit", "new-log"]) == 0
    capsys.readouterr()
    first = json.loads(AuditLog().path.read_text())
    assert first["previous_intact"] is None and first["key_id"] != keys.key_id(old_key)
    AuditLog().record("models.import", model_id="m")
    assert AuditLog().verify().ok
    old = next(log.path.parent.glob("audit-*.jsonl"))
    assert main(["audit", "verify", "--log", str(old)]) == 1  # the current key is not the old log's
    assert "another audit key" in capsys.readouterr().out
    assert main(["audit", "verify", "--log", str(old), "--key", str(retired)]) == 0
    assert "intact: 3 entries" in capsys.readouterr().out
