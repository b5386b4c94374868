"""``core.app``: the Context (built once, lazy registry and audit log, one thread policy) and the audit vocabulary."""

from __future__ import annotations

import pytest

from medpriv_desktop.core import paths
from medpriv_desktop.core.app import ACTIONS, Context, SessionFactory, canonical_action
from medpriv_desktop.core.app.actions import NOTES_DEID, record
from medpriv_desktop.core.audit import AuditLog, verify_chain
from medpriv_desktop.core.settings import Settings


@pytest.mark.parametrize("env,saved,expected", [
    ({}, 3, 3),
    ({"MEDPRIV_ORT_THREADS": "5"}, 3, 5),
    ({"MEDPRIV_ORT_THREADS": "zero"}, 2, 2),
    ({"MEDPRIV_ORT_THREADS": "0"}, 4, 4),
])
def test_one_thread_policy(env, saved, expected):
    assert SessionFactory.from_settings(Settings(inference_threads=saved), env).threads == expected


def test_automatic_threads_take_every_core_in_a_command_and_leave_one_in_the_window(monkeypatch):
    """Measured: ``medpriv deid`` on 380 notes ran at 30 notes/s with the window's cores-minus-one (one thread on two
    cores) and about twice that with both; a saved Preferences value and the environment still win."""
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    auto = Settings()
    assert auto.inference_threads is None
    assert SessionFactory.from_settings(auto, {}, is_interactive=False).threads == 8
    assert SessionFactory.from_settings(auto, {}, is_interactive=True).threads == 7
    assert SessionFactory.from_settings(Settings(inference_threads=2), {}, is_interactive=False).threads == 2
    assert SessionFactory.from_settings(auto, {"MEDPRIV_ORT_THREADS": "3"}, is_interactive=True).threads == 3


def test_a_version_2_settings_file_with_the_old_default_threads_becomes_automatic(tmp_path):
    import json

    from medpriv_desktop.core.settings import default_threads, load_settings

    f = tmp_path / "settings.json"
    f.write_text(json.dumps({"version": 2, "inference_threads": default_threads(), "deid_operator": "mask"}))
    s = load_settings(f)
    assert s.inference_threads is None and s.deid_operator == "mask" and s.version == 3
    f.write_text(json.dumps({"version": 2, "inference_threads": default_threads() + 5}))
    assert load_settings(f).inference_threads == default_threads() + 5  # a value the user chose stays


def test_the_registry_is_made_once_on_first_use(monkeypatch, tmp_path):
    import medpriv_desktop.core.app.context as context

    made = []
    monkeypatch.setattr(context.ModelRegistry, "from_settings", classmethod(lambda cls, s: made.append(s) or "reg"))
    ctx = Context.build(Settings(site_models_dir=str(tmp_path / "site")))
    assert made == []  # a command refused before its work reads no model folder
    assert ctx.registry == "reg" and ctx.registry == "reg" and len(made) == 1  # one registry per entry point
    assert made[0].site_models_dir == str(tmp_path / "site")  # built from the context's settings
    assert ctx.audit is ctx.audit and ctx.audit.path.parent == paths.audit_dir()


def test_record_takes_only_the_vocabulary(medpriv_home):
    log = AuditLog()
    with pytest.raises(ValueError, match="vocabulary"):
        record(log, "notes.deidentify", notes_done=1)
    entry = record(log, NOTES_DEID, notes_done=1)
    assert entry["action"] == "notes.deid"


def test_old_action_names_still_verify_and_map(medpriv_home):
    """A log written before the vocabulary (the window's ``notes.deidentify``) verifies, and reads as today's."""
    log = AuditLog()
    log.record("notes.deidentify", notes_done=1)  # what the window wrote before issue 21
    record(log, NOTES_DEID, notes_done=2)
    assert verify_chain(log.path).ok
    assert canonical_action("notes.deidentify") == NOTES_DEID and canonical_action("reports.classify") in ACTIONS
