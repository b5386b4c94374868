"""Settings under MEDPRIV_HOME, the hash-chained audit log, and keys."""

from __future__ import annotations

import json

import pytest

from medpriv_desktop.core import paths
from medpriv_desktop.core.audit import AuditLog, verify_chain
from medpriv_desktop.core.settings import Settings, load_settings, save_settings, settings_path


def test_settings_roundtrip_under_medpriv_home(medpriv_home):
    s = Settings(inference_threads=3, deid_operator="surrogate")
    s.add_recent("/tmp/a.nii.gz")
    s.add_recent("/tmp/b.txt")
    s.add_recent("/tmp/a.nii.gz")
    save_settings(s)
    assert settings_path().is_relative_to(medpriv_home)
    back = load_settings()
    assert back.inference_threads == 3 and back.deid_operator == "surrogate"
    assert back.recent_files[0].endswith("a.nii.gz") and len(back.recent_files) == 2


def test_damaged_settings_fall_back_to_defaults():
    settings_path().write_text("{broken")
    assert load_settings() == Settings()
    settings_path().write_text(json.dumps({"inference_threads": -4, "deid_operator": "mask", "future_key": 1}))
    s = load_settings()
    assert s.deid_operator == "mask" and s.inference_threads == Settings().inference_threads


def test_audit_chain_verifies_and_detects_tampering():
    log = AuditLog()
    for i in range(5):
        log.record("deid.batch", files=i, spans={"NAME": i, "DATE": 2 * i}, model_id="phi-test",
                   input_hmac=log.input_hmac(f"input {i}"))
    assert log.verify().ok and log.verify().entries == 5
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[2])
    entry["files"] = 99
    lines[2] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    log.path.write_text("\n".join(lines) + "\n")
    res = verify_chain(log.path)
    assert not res.ok and res.first_bad_line == 3 and "changed" in res.reason
    del lines[2]
    log.path.write_text("\n".join(lines) + "\n")
    assert verify_chain(log.path).first_bad_line == 3


def test_audit_refuses_free_text_and_uses_keyed_hmac():
    log = AuditLog()
    with pytest.raises(ValueError):
        log.record("deid.note", note="Patient John Smith seen today")
    with pytest.raises(ValueError):
        log.record("deid.note", model_id="x" * 200)
    import hashlib

    h = log.input_hmac("John Smith")
    assert h != hashlib.sha256(b"John Smith").hexdigest() and len(h) == 64
    other = AuditLog(path=log.path.with_name("other.jsonl"), key=b"k" * 32)
    assert other.input_hmac("John Smith") != h  # depends on the site key


def test_audit_entries_carry_user_time_and_key_id():
    e = AuditLog().record("models.import", model_id="seg-a", model_version="1.0.0")
    assert e["user"] and e["time"].endswith("+00:00") and len(e["key_id"]) == 8
    assert (paths.keys_dir() / "audit.key").stat().st_mode & 0o077 == 0
