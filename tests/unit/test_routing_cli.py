"""File routing to workspaces and the basic CLI commands."""

from __future__ import annotations

import json

from pathlib import Path

import pytest

from medpriv_desktop.cli import main
from medpriv_desktop.core.routing import route
from tests.helpers import write_bundle


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("ct.nii.gz", b"x", "imaging"),
        ("scan.nrrd", b"x", "imaging"),
        ("img.mha", b"x", "imaging"),
        ("note.txt", b"Pt seen today, vitals stable.", "notes"),
        ("r.txt", b"FINDINGS: clear lungs.\nIMPRESSION: normal.", "reports"),
        ("batch.csv", b"id,findings,impression\n1,a,b\n", "reports"),
        ("notes.csv", b"id,note_text\n1,abc\n", "notes"),
        ("photo.jpg", b"x", None),
        ("noext", b"\0" * 128 + b"DICM" + b"\0" * 10, "imaging"),
    ],
)
def test_route_files(tmp_path, name, content, expected):
    p = tmp_path / name
    p.write_bytes(content)
    assert route(p) == expected


def test_route_folders(tmp_path):
    dcm = tmp_path / "series"
    dcm.mkdir()
    (dcm / "IM0001").write_bytes(b"\0" * 128 + b"DICM")
    assert route(dcm) == "imaging"
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("nursing note")
    assert route(notes) == "notes"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert route(empty) is None


def test_cli_models_commands(tmp_path, capsys, medpriv_home):
    bundle = write_bundle(tmp_path / "in", "seg-cli")
    assert main(["models", "import", str(bundle)]) == 0
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "seg-cli" in out and "user" in out
    assert main(["models", "show", "seg-cli"]) == 0
    assert '"intended_use"' in capsys.readouterr().out
    assert main(["models", "verify"]) == 0
    verified = capsys.readouterr().out  # IT builds the allow-list from these hashes
    card = json.loads((bundle / "model_card.json").read_text())
    assert f"seg-cli {card['version']}  sha256 {card['sha256']}" in verified
    assert main(["models", "show", "seg-clj"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'seg-cli'" in err and "Traceback" not in err
    assert main(["models", "import", str(tmp_path)]) == 2
    assert "no model_card.json" in capsys.readouterr().err
    assert main(["audit", "verify"]) == 0
    assert "1 entries" in capsys.readouterr().out


def test_cli_demo_is_deterministic(tmp_path):
    assert main(["demo", "-o", str(tmp_path / "a")]) == 0
    assert main(["demo", "-o", str(tmp_path / "b")]) == 0
    for rel in ("notes/note_01.txt", "reports.csv", "reports/R001.txt"):
        assert (tmp_path / "a" / rel).read_text() == (tmp_path / "b" / rel).read_text()
