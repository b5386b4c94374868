"""The bundle manifest: its definition, every file covered, plain files only, safe card reading."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.card import ModelCard
from medpriv_desktop.core.models.jsonfile import json_depth, read_json_file
from medpriv_desktop.core.models.manifest import bundle_files, bundle_manifest, plain_name_problem
from medpriv_desktop.core.models.registry import ModelRegistry, read_card
from tests.helpers import segmentation_card, write_bundle


def _registry(tmp: Path) -> ModelRegistry:
    return ModelRegistry(bundled_dir=tmp / "bundled", user_dir=tmp / "user", site_dir=tmp / "site")


def test_manifest_is_sha256_of_the_sorted_sha256sum_listing(tmp_path):
    b = write_bundle(tmp_path, "seg-m")
    (b / "weights.bin").write_bytes(b"\0" * 10)
    (b / ".hidden").write_text("x")
    (b / "Zeta name.txt").write_text("spaces are fine")
    names = sorted(os.listdir(b), key=lambda n: n.encode())
    listing = "".join(f"{hashlib.sha256((b / n).read_bytes()).hexdigest()}  {n}\n" for n in names)
    man = bundle_manifest(b)
    assert man.listing() == listing
    assert man.sha256 == hashlib.sha256(listing.encode()).hexdigest()
    assert set(man.files) == {"model.onnx", "model_card.json", "LICENSE", "weights.bin", ".hidden", "Zeta name.txt"}
    if shutil.which("sha256sum"):  # the README's one-liner gives the same number
        out = subprocess.run("LC_ALL=C ls -A | tr '\\n' '\\0' | xargs -0 sha256sum | sha256sum", shell=True,
                             cwd=b, capture_output=True, text=True, check=True).stdout.split()[0]
        assert out == man.sha256


@pytest.mark.parametrize("name", ["model.onnx", "model_card.json", "LICENSE", "tokenizer.json", "weights.bin",
                                  "README.md"])
def test_every_file_changes_the_manifest(tmp_path, name):
    b = write_bundle(tmp_path, "seg-m")
    for extra in ("tokenizer.json", "weights.bin", "README.md"):
        (b / extra).write_text(f"{extra} v1")
    before = bundle_manifest(b).sha256
    with open(b / name, "ab") as fh:
        fh.write(b" ")
    assert bundle_manifest(b).sha256 != before


def test_adding_or_removing_a_file_changes_the_manifest(tmp_path):
    b = write_bundle(tmp_path, "seg-m")
    before = bundle_manifest(b).sha256
    (b / "notes.txt").write_text("")
    added = bundle_manifest(b).sha256
    (b / "LICENSE").unlink()
    assert len({before, added, bundle_manifest(b).sha256}) == 3


def _subfolder(b: Path) -> str:
    (b / "sub").mkdir()
    return "sub"


def _symlinked_model(b: Path) -> str:
    real = b.parent / "elsewhere.onnx"
    os.replace(b / "model.onnx", real)
    (b / "model.onnx").symlink_to(real)
    return "model.onnx"


def _symlink_loop(b: Path) -> str:
    (b / "loop").symlink_to(b / "loop")
    return "loop"


def _dangling(b: Path) -> str:
    (b / "weights.bin").symlink_to(b / "gone")
    return "weights.bin"


def _fifo(b: Path) -> str:
    os.mkfifo(b / "pipe")
    return "pipe"


def _dir_link(b: Path) -> str:
    (b / "up").symlink_to(b.parent)
    return "up"


@pytest.mark.parametrize("make", [_subfolder, _symlinked_model, _symlink_loop, _dangling, _fifo, _dir_link])
def test_anything_but_plain_files_makes_the_bundle_invalid(tmp_path, make):
    reg = _registry(tmp_path)
    b = write_bundle(reg.site_dir, "seg-odd")
    culprit = make(b)
    for check in (bundle_files, bundle_manifest):
        with pytest.raises(ModelError) as info:
            check(b)
        assert info.value.path == b / culprit
    assert reg.entries() == []  # refused on discovery, with one reason naming the file
    assert len(reg.problems) == 1 and culprit in reg.problems[0].message


@pytest.mark.parametrize("name", ["a\\b", "c:d", "tab\there", "new\nline", " lead", "trail "])
def test_odd_file_names_make_the_bundle_invalid(tmp_path, name):
    b = write_bundle(tmp_path, "seg-odd")
    (b / name).write_text("x")
    with pytest.raises(ModelError, match="plain names"):
        bundle_files(b)


def test_bundle_folder_that_is_a_link_is_refused(tmp_path):
    reg = _registry(tmp_path)
    real = write_bundle(tmp_path / "real", "seg-real")
    reg.site_dir.mkdir(parents=True)
    (reg.site_dir / "seg-real").symlink_to(real)
    (reg.site_dir / "loop").symlink_to(reg.site_dir / "loop")  # a loop where a bundle would be: ignored quietly
    assert reg.entries() == []
    assert [p.path for p in reg.problems] == [reg.site_dir / "seg-real"]


@pytest.mark.parametrize(("name", "ok"), [
    ("model.onnx", True), ("tokenizer.json", True), ("weights.onnx.data", True),
    ("", False), (".", False), ("..", False), ("../../etc/passwd", False), ("/etc/passwd", False),
    ("C:\\Windows\\x.onnx", False), ("sub/model.onnx", False), ("x\x00y", False), ("a" * 300, False),
])
def test_plain_name_rule(name, ok):
    assert (plain_name_problem(name) is None) is ok


@pytest.mark.parametrize(("field", "value"), [
    ("model_file", "/etc/passwd"), ("model_file", "../model.onnx"), ("model_file", "C:\\m.onnx"),
    ("model_file", "model_card.json"), ("model_file", ".."),
    ("tokenizer_file", "../../../../etc/passwd"), ("tokenizer_file", "/tmp/tokenizer.json"),
    ("tokenizer_file", "sub/tokenizer.json"),
])
def test_card_refuses_file_names_outside_the_bundle(tmp_path, field, value):
    card = segmentation_card("phi-x", "a" * 64, task="phi-ner", image_input=None,
                             text_input={"max_tokens": 64})
    if field == "model_file":
        card["model_file"] = value
    else:
        card["text_input"]["tokenizer_file"] = value
    with pytest.raises(ValidationError, match="plain file name|card file"):
        ModelCard.model_validate(card)
    reg = _registry(tmp_path)  # and on discovery: one problem naming the card, no entry
    b = reg.site_dir / "phi-x"
    b.mkdir(parents=True)
    (b / "model_card.json").write_text(json.dumps(card))
    assert reg.entries() == [] and field in reg.problems[0].message


def test_deeply_nested_card_is_one_clear_error(tmp_path):
    reg = _registry(tmp_path)
    b = write_bundle(reg.site_dir, "seg-deep")
    card = json.loads((b / "model_card.json").read_text())
    deep = "[" * 200_000 + "]" * 200_000  # json.loads alone raises RecursionError on this
    text = json.dumps(card)[:-1] + ', "training_extra": ' + deep + "}"
    (b / "model_card.json").write_text(text)
    with pytest.raises(ModelError, match="nested too deeply"):
        read_card(b)
    assert reg.entries() == [] and "nested too deeply" in reg.problems[0].message


def test_card_size_links_and_fifos_are_refused_without_blocking(tmp_path):
    b = write_bundle(tmp_path, "seg-c")
    card = b / "model_card.json"
    card.write_text(" " * (2 * 1024 * 1024) + "{}")
    with pytest.raises(ModelError, match="too large"):
        read_card(b)
    card.unlink()
    os.mkfifo(card)  # opening a FIFO for reading would block forever
    with pytest.raises(ModelError, match="FIFO"):
        read_card(b)
    card.unlink()
    card.symlink_to("/dev/zero")
    with pytest.raises(ModelError, match="symbolic link"):
        read_card(b)


@pytest.mark.parametrize(("text", "depth"), [
    ("{}", 1), ('{"a": [1, {"b": []}]}', 4), ('"[[[[["', 0), ('{"k": "}}]]"}', 1), ('[[["\\"[["]]]', 3),
])
def test_json_depth_skips_strings(text, depth):
    assert json_depth(text) == depth


def test_read_json_file_reports_bad_json_and_encoding(tmp_path):
    p = tmp_path / "x.json"
    p.write_bytes(b"\xff\xfe{")
    with pytest.raises(ModelError, match="not UTF-8"):
        read_json_file(p, what="thing", max_bytes=100, max_depth=3, follow_symlinks=False)
    p.write_text("{not json")
    with pytest.raises(ModelError, match="thing is not valid JSON"):
        read_json_file(p, what="thing", max_bytes=100, max_depth=3, follow_symlinks=False)
