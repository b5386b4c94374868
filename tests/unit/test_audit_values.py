"""The value rules of audit entries: counts, booleans, ids, HMACs and hashes only; the log's own fields are reserved."""

from __future__ import annotations

import json

import pytest

from medpriv_desktop.core.audit import AuditLog

HEX = "0123456789abcdef" * 4

ACCEPTED = [
    {"model_manifest": HEX},
    {"model_root": "bundled"}, {"model_root": "site"}, {"model_root": "user"},
    {"settings_hash": HEX}, {"config_hash": HEX},
    {"input_hmac": HEX}, {"inputs": {"note_hmac": HEX}},
    {"n_notes": 3, "ok": True, "ratio": 0.5, "missing": None},
    {"counts": {"NAME": 2, "DATE": 1}},
    {"model_id": "phi-small", "model_version": "1.2.0", "operator": "surrogate"},
]

REFUSED = [
    {"model_manifest": HEX.upper()},  # not the lower-case form the registry writes
    {"model_manifest": "sha256:" + HEX[:57]},
    {"model_root": "elsewhere"},
    {"model_root": "Patient Jane Roe"},
    {"settings_hash": "x" * 64},
    {"config_hash": HEX[:63]},
    {"input_hmac": "John Smith was seen on 3/14 at the clinic by Dr. Who, MRN 12345678"[:64]},
    {"note": "Patient John Smith seen today"},
    {"model_id": "x" * 200},
    {"counts": {"NAME": "John"}},
    {"tags": ["a", "b"]},
    {"seq": 7}, {"prev": HEX}, {"hash": HEX}, {"v": 1}, {"key_id": "00000000"}, {"time": "now"}, {"user": "mallory"},
]


@pytest.mark.parametrize("fields", ACCEPTED, ids=[next(iter(f)) for f in ACCEPTED])
def test_accepted_values_are_written(fields):
    log = AuditLog()
    entry = log.record("models.load", **fields)
    stored = json.loads(log.path.read_text().splitlines()[-1])
    assert stored == entry and all(stored[k] == v for k, v in fields.items())
    assert log.verify().ok


@pytest.mark.parametrize("fields", REFUSED, ids=[next(iter(f)) for f in REFUSED])
def test_refused_values_write_nothing(fields):
    log = AuditLog()
    with pytest.raises(ValueError):
        log.record("models.load", **fields)
    assert not log.path.exists()


def test_oversized_entry_is_refused_before_writing():
    log = AuditLog()
    with pytest.raises(ValueError, match="larger than"):
        log.record("x.y", counts={f"k{i:05d}": i for i in range(8000)})
    assert not log.path.exists() or log.path.read_bytes() == b""
    log.record("x.y", n=1)
    assert log.verify().ok and log.verify().entries == 1
