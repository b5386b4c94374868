"""A site's recognizers.yaml goes through Presidio's own registry loader (``RecognizerRegistryProvider`` of
presidio-analyzer 2.2) and finds a made-up hospital MRN format that the built-in rules miss; a bad file is one
:class:`ConfigError` naming it. The site folder is set the way IT sets it: a machine-wide site config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from presidio_analyzer import PatternRecognizer
from presidio_analyzer.recognizer_registry import RecognizerRegistryProvider

from medpriv_desktop.core import paths
from medpriv_desktop.core.errors import ConfigError
from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
from medpriv_desktop.core.notes.site_pattern import SitePatternRecognizer
from medpriv_desktop.core.notes.site_recognizers import load_site_recognizers

#: "HX7-" and six digits: a record format invented for this test.
MRN_YAML = """\
recognizers:
  - name: "Harbourview MRN"
    supported_entity: "MRN"
    patterns:
      - name: "HX7 record number"
        regex: "\\\\bHX7-\\\\d{6}\\\\b"
        score: 0.6
  - name: "Harbourview staff"
    supported_entity: "CLINICIAN"
    deny_list: ["Quenby", "Hope"]
    deny_list_score: 0.9
"""
NOTE = "Pt HX7-004512 transferred; seen by Quenby; hope for discharge."


def _site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str | None) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    cfg = tmp_path / "site.json"
    cfg.write_text(json.dumps({"version": 1, "site_models_dir": str(site)}))
    monkeypatch.setattr(paths, "MACHINE_SITE_CONFIG", cfg)
    f = site / "recognizers.yaml"
    if body is not None:
        f.write_text(body, encoding="utf-8")
    return f


def _found(engine: DeidEngine, text: str) -> dict[str, str]:
    return {text[s.start:s.end]: s.category for s in engine.analyze(text)}


def test_the_site_mrn_format_is_found_through_presidios_loader(tmp_path, monkeypatch):
    _site(tmp_path, monkeypatch, MRN_YAML)
    built: list[list[str]] = []
    real = RecognizerRegistryProvider.create_recognizer_registry

    def spy(self):
        registry = real(self)
        built.append([type(r).__name__ for r in registry.recognizers])
        return registry

    monkeypatch.setattr(RecognizerRegistryProvider, "create_recognizer_registry", spy)
    engine = DeidEngine(EngineConfig(use_model=False))
    assert built == [["PatternRecognizer", "PatternRecognizer"]]  # Presidio built them
    assert engine.site is not None and all(isinstance(r, SitePatternRecognizer) for r in engine.site.recognizers)
    found = _found(engine, NOTE)
    assert found.get("HX7-004512") == "MRN" and found.get("Quenby") == "CLINICIAN"
    assert "hope" not in found  # a word-like staff entry counts only with its capitals


def test_the_built_in_rules_miss_that_format(tmp_path, monkeypatch):
    _site(tmp_path, monkeypatch, None)
    assert "HX7-004512" not in _found(DeidEngine(EngineConfig(use_model=False)), NOTE)


def test_adopted_recognizers_keep_what_presidio_built(tmp_path, monkeypatch):
    f = _site(tmp_path, monkeypatch, MRN_YAML)
    registry = RecognizerRegistryProvider(registry_configuration={
        "supported_languages": ["en"], "global_regex_flags": 26,
        "recognizers": [{"name": "x", "supported_entity": "MRN", "supported_language": "en",
                         "patterns": [{"name": "p", "regex": r"\bHX7-\d{6}\b", "score": 0.6}],
                         "context": ["chart"]}]}).create_recognizer_registry()
    theirs: PatternRecognizer = registry.recognizers[0]
    ours = SitePatternRecognizer.adopt(theirs)
    assert (ours.patterns, ours.context, ours.global_regex_flags) == (theirs.patterns, theirs.context, 26)
    assert ours.id != theirs.id and ours.id.startswith("x_")
    assert [r.name for r in load_site_recognizers(f).recognizers] == ["Harbourview MRN", "Harbourview staff"]


BAD = [
    ("recognizers:\n  - name: [unclosed\n", "not valid YAML at line"),
    ("recognizers:\n  - name: x\n    supported_entity: MRN\n    patterns:\n      - name: p\n"
     "        regex: '('\n        score: 0.5\n", "regex"),
    ("recognizers: []\n", "empty"),
]


@pytest.mark.parametrize("body,words", BAD, ids=["syntax", "regex", "empty"])
def test_a_bad_file_is_one_error_naming_it(tmp_path, monkeypatch, body, words):
    f = _site(tmp_path, monkeypatch, body)
    with pytest.raises(ConfigError) as err:
        DeidEngine(EngineConfig(use_model=False))
    assert err.value.path == f and words in str(err.value.reason)


def test_what_presidios_loader_refuses_is_one_error_naming_the_file(tmp_path, monkeypatch, capfd):
    f = _site(tmp_path, monkeypatch, MRN_YAML)

    def refuse(self):
        raise ValueError("Invalid recognizer registry configuration\n  details that may quote Quenby")

    monkeypatch.setattr(RecognizerRegistryProvider, "create_recognizer_registry", refuse)
    with pytest.raises(ConfigError) as err:
        DeidEngine(EngineConfig(use_model=False))
    assert err.value.path == f and "Presidio refused it" in err.value.reason
    assert "Quenby" not in str(err.value) and "Quenby" not in "".join(capfd.readouterr())
