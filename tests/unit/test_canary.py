"""Canary PHI pushed through jobs, errors and third-party loggers never reaches the log or the audit log."""

from __future__ import annotations

import logging

import pytest

from medpriv_desktop.core import paths
from medpriv_desktop.core.audit import AuditLog
from medpriv_desktop.core.jobs import Progress, run_job
from medpriv_desktop.core.logging import RedactingFilter, file_handler

CANARY = "Zebulon Quackenbush-Ostrowski"
CANARY_NOTE = (f"Patient {CANARY} was seen at Wexford Pines Infirmary on 3/14 and lives at 77 Larkspur Lane, his "
               "daughter can be reached at the number on file and he reports ongoing chest pain since Tuesday.")


def _all_log_text(home) -> str:
    texts = []
    for f in home.rglob("*"):
        if f.is_file() and (f.suffix in (".log", ".jsonl") or ".log" in f.name):
            texts.append(f.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def test_canary_never_reaches_logs_or_audit(medpriv_home):
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    handler = file_handler(paths.log_dir() / "canary.log")
    root.addHandler(handler)

    def job_over_note(note: str):
        # A job that handles note text: counts go to the log and audit; the note itself must not.
        logging.getLogger("medpriv_desktop.test").info("processing note of %d characters", len(note))
        yield Progress(0.5, "detecting")
        words = note.split()
        AuditLog().record("test.job", words=len(words), input_hmac=AuditLog().input_hmac(note))
        # A third-party library that echoes its input must be withheld.
        logging.getLogger("somelib").warning("token stream: %s", note)
        # Our own code logging long text by mistake is caught by the run-of-words filter.
        logging.getLogger("medpriv_desktop.test").warning("unexpected: %s", note)
        return len(words)

    assert run_job(job_over_note(CANARY_NOTE)) == len(CANARY_NOTE.split())
    handler.flush()
    text = _all_log_text(medpriv_home)
    assert "processing note of" in text  # the log really was written
    assert "Quackenbush" not in text and "Larkspur" not in text and "Wexford" not in text
    root.removeHandler(handler)


@pytest.mark.parametrize("name", ["presidio-analyzer", "urllib3", "onnxruntime"])
def test_third_party_records_are_withheld(name):
    rec = logging.LogRecord(name, logging.WARNING, __file__, 1, "saw %s", (CANARY,), None)
    assert RedactingFilter().filter(rec)
    assert CANARY not in rec.getMessage()


# -- file names are PHI (issue 17, item 8): a canary in a file name never reaches the log or the audit log -------------

FILE_CANARY = "Quackenbush_Zebulon_MRN4471"


@pytest.fixture
def app_log(medpriv_home):
    """The application log exactly as the commands set it up (file in MEDPRIV_HOME, redacting filter), at DEBUG."""
    import medpriv_desktop.core.logging as mlog

    root = logging.getLogger()
    saved = root.handlers[:], root.level, mlog._configured
    root.handlers = []
    mlog._configured = False
    log_file = mlog.setup_logging(level=logging.DEBUG)
    yield log_file
    for h in root.handlers:
        h.close()
    root.handlers, root.level, mlog._configured = saved


def _assert_no_file_canary(home) -> str:
    text = _all_log_text(home)
    for part in ("Quackenbush", "Zebulon", "MRN4471"):
        assert part not in text, f"{part} reached the log or the audit log"
    return text


def test_canary_in_file_names_never_reaches_log_or_audit_after_deid(tmp_path, medpriv_home, app_log, capsys):
    from medpriv_desktop.cli import main

    src = tmp_path / f"{FILE_CANARY}_notes"
    src.mkdir()
    (src / f"{FILE_CANARY}.txt").write_text(CANARY_NOTE)
    (src / f"{FILE_CANARY}_bad.txt").write_bytes(b"\x00\x01\x02binary")  # its failure is logged
    mapping = tmp_path / f"{FILE_CANARY}_map.csv"
    mapping.write_text(f"file,patient\n{FILE_CANARY}.txt,{FILE_CANARY}\n")
    notes_csv = tmp_path / f"{FILE_CANARY}.csv"
    notes_csv.write_text(f'id,note\n{FILE_CANARY},"{CANARY_NOTE}"\n')
    runs = [
        ["deid", str(src), "-o", str(tmp_path / f"{FILE_CANARY}_out"), "--operator", "surrogate",
         "--patient-id", str(mapping)],
        ["deid", str(src), "-o", str(tmp_path / f"{FILE_CANARY}_tags")],
        ["deid", str(notes_csv), "-o", str(tmp_path / f"{FILE_CANARY}_out.csv"), "--csv", "--text-column", "note",
         "--id-column", "id", "--operator", "date-shift"],
        ["deid", str(notes_csv), "-o", str(tmp_path / "x.csv"), "--csv", "--text-column", "nope"],  # error path
        ["deid", str(tmp_path / f"{FILE_CANARY}_missing"), "-o", str(tmp_path / "y")],  # error path
    ]
    codes = [main(argv + ["--quiet", "--rules-only"]) for argv in runs]
    assert codes == [1, 1, 0, 2, 2]
    assert FILE_CANARY in capsys.readouterr().err  # the person at the console is told which file failed
    text = _assert_no_file_canary(medpriv_home)
    assert text.count('"action":"notes.deid"') == 3 and "note skipped: file#" in text


def test_canary_in_file_names_never_reaches_log_or_audit_after_classify_and_segment(tmp_path, medpriv_home, app_log,
                                                                                   capsys):
    pytest.importorskip("onnx")
    import nibabel as nib

    from medpriv_desktop.cli import main
    from medpriv_desktop.core import paths
    from tests.unit.imaging._imaging_fixtures import make_bundle, phantom_volume
    from tests.unit.reports._tiny import build_bundle

    classifier = build_bundle(medpriv_home / "site_models").name
    reports = tmp_path / f"{FILE_CANARY}_reports.csv"
    reports.write_text("id,report\n1,small left effusion\n2,lung clear\n")
    make_bundle(paths.user_models_dir(), "seg-tiny-test", spacing=(3.0, 3.0, 4.0))
    vol, _ = phantom_volume()
    study = tmp_path / f"{FILE_CANARY}_ct.nii.gz"
    nib.save(nib.Nifti1Image(vol.array, vol.affine), str(study))
    broken = tmp_path / f"{FILE_CANARY}_broken.nii.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    runs = [
        ["classify", str(reports), "--text-column", "report", "--id-column", "id", "--model", classifier,
         "-o", str(tmp_path / f"{FILE_CANARY}_labels.csv")],
        ["segment", str(study), "--model", "seg-tiny-test", "-o", str(tmp_path / f"{FILE_CANARY}_seg"),
         "--threads", "1", "--stats"],
        ["segment", str(broken), "--model", "seg-tiny-test", "-o", str(tmp_path / "seg2"), "--threads", "1"],
    ]
    codes = [main(argv + ["--quiet"]) for argv in runs]
    assert codes[:2] == [0, 0] and codes[2] != 0, capsys.readouterr().err
    text = _assert_no_file_canary(medpriv_home)
    assert '"action":"reports.classify"' in text and '"action":"imaging.segment"' in text


def test_a_damaged_settings_file_is_logged_by_keyed_reference(tmp_path, medpriv_home, app_log):
    from medpriv_desktop.core.settings import load_settings

    for content in ("not json", '{"threads": "many"}'):
        damaged = tmp_path / f"{FILE_CANARY}_settings.json"
        damaged.write_text(content)
        load_settings(damaged)
    text = _assert_no_file_canary(medpriv_home)
    assert "settings file file#" in text
