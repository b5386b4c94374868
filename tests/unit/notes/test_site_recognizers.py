"""Site recognizers without code: IT's recognizers.yaml in the site folder set by the machine-wide site config.

The made-up site MRN format ``QX-1234-56`` is not one the built-in rules know. Its pattern scores 0.3, under the
0.4 a site match needs, so it counts only when a context word ("chart", "record") is among the five words before it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from medpriv_desktop.core import paths
from medpriv_desktop.core.errors import ConfigError
from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
from medpriv_desktop.core.notes.site_recognizers import SITE_MIN_SCORE, load_site_recognizers

SITE_YAML = """\
recognizers:
  - name: "Site MRN"
    supported_entity: "MRN"
    patterns:
      - name: "QX record number"
        regex: "\\\\bQX-\\\\d{4}-\\\\d{2}\\\\b"
        score: 0.3
    context: [chart, record, mrn]
  - name: "Ward names"
    supported_entity: "WARD"
    deny_list: ["Larkspur Unit", "Tamarack"]
    deny_list_score: 0.8
  - name: "Staff list"
    supported_entity: "CLINICIAN"
    deny_list: ["May", "Okonkwo"]
    deny_list_score: 0.9
"""
WITH_CONTEXT = "Chart QX-4821-07 reviewed with the team."
WITHOUT_CONTEXT = "Seen QX-4821-07 today, stable."


def _site(tmp_path: Path, monkeypatch, body: str | bytes | None = SITE_YAML) -> Path:
    """A site folder named by a machine-wide site config (the way IT sets one up), with ``body`` as its file."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    cfg = tmp_path / "etc" / "site.json"
    cfg.parent.mkdir(exist_ok=True)
    cfg.write_text(json.dumps({"version": 1, "site_models_dir": str(site)}))
    monkeypatch.setattr(paths, "MACHINE_SITE_CONFIG", cfg)
    f = site / "recognizers.yaml"
    if isinstance(body, bytes):
        f.write_bytes(body)
    elif body is not None:
        f.write_text(body, encoding="utf-8")
    return f


def _found(engine: DeidEngine, text: str) -> dict[str, tuple[str, float]]:
    return {text[s.start:s.end]: (s.category, s.score) for s in engine.analyze(text)}


@pytest.fixture
def site_engine(tmp_path, monkeypatch) -> DeidEngine:
    _site(tmp_path, monkeypatch)
    return DeidEngine(EngineConfig(use_model=False))


def test_builtin_rules_miss_the_site_format(tmp_path, monkeypatch):
    _site(tmp_path, monkeypatch, body=None)  # the same site folder, without the file
    engine = DeidEngine(EngineConfig(use_model=False))
    # context stays on without the file: the built-in recognizers' weak candidates use it (test_presidio_context.py);
    # near "chart" the code is at most a generic ID at the floor, never the site's MRN
    assert engine.site is None and engine.site_recognizers_hash is None
    assert _found(engine, WITH_CONTEXT).get("QX-4821-07", ("", 0.0))[0] != "MRN"


def test_site_engine_finds_the_site_format_near_a_context_word(site_engine):
    cat, score = _found(site_engine, WITH_CONTEXT)["QX-4821-07"]
    assert cat == "MRN" and score >= SITE_MIN_SCORE
    assert "QX-4821-07" not in _found(site_engine, WITHOUT_CONTEXT)


@pytest.mark.parametrize("text,found", [
    ("Chart QX-4821-07 reviewed.", True),
    ("CHART: QX-4821-07", True),  # case and punctuation do not hide the word
    ("record QX-4821-07", True),
    ("Charted QX-4821-07", False),  # whole words only
    ("chart reviewed, vitals stable, pain controlled, plan unchanged; QX-4821-07", False),  # more than 5 words back
    ("Seen QX-4821-07 today.", False),
])
def test_context_word_moves_the_score_across_the_threshold(site_engine, text, found):
    assert ("QX-4821-07" in _found(site_engine, text)) is found


def test_context_raises_presidio_scores_by_the_enhancer(site_engine):
    """Straight from Presidio's analyzer (no threshold): 0.3 without the word, 0.65 with it."""
    def score(text):
        res = site_engine.analyzer.analyze(text=text, language="en", entities=["MRN"], score_threshold=0.0)
        return max(r.score for r in res if r.recognition_metadata["recognizer_name"] == "Site MRN")

    assert score(WITHOUT_CONTEXT) == pytest.approx(0.3)
    assert score(WITH_CONTEXT) == pytest.approx(0.65)


def test_context_needs_the_lemma_engine_and_decisions_stay_unlogged(site_engine):
    """A blank spaCy pipeline has no lemmatizer (empty lemmas: context words would be inert); ours supplies them."""
    from medpriv_desktop.core.notes.nlp_engines import blank_nlp_engine

    assert set(blank_nlp_engine().process_text("Chart QX", "en").lemmas) == {""}
    assert site_engine.analyzer.nlp_engine.process_text("Chart QX", "en").lemmas == ["chart", "qx"]
    assert site_engine.analyzer.log_decision_process is False


def test_a_higher_threshold_also_applies_to_site_matches(tmp_path, monkeypatch):
    _site(tmp_path, monkeypatch)
    engine = DeidEngine(EngineConfig(use_model=False, threshold=0.7))
    assert "QX-4821-07" not in _found(engine, WITH_CONTEXT)  # 0.65 < 0.7
    assert "Tamarack" in _found(engine, "back to Tamarack after CT")


@pytest.mark.parametrize("text,surface,tagged", [
    ("pt may go home today.", "may", False),
    ("Dr. Okonkwo and May at bedside.", "May", True),
    ("seen by dr okonkwo", "okonkwo", True),  # a rare name matches in any case
    ("MAY NEED MORE LASIX", "MAY", False),  # "May" is a word: only as written
    ("moved to larkspur unit overnight", "larkspur unit", True),
])
def test_deny_lists_of_word_names_match_only_as_written(site_engine, text, surface, tagged):
    assert (surface in _found(site_engine, text)) is tagged


def test_hash_identifies_the_file_and_changes_with_it(tmp_path, monkeypatch):
    f = _site(tmp_path, monkeypatch)
    first = DeidEngine(EngineConfig(use_model=False))
    assert first.site_recognizers_hash == hashlib.sha256(f.read_bytes()).hexdigest()
    assert first.site_recognizers_path == f
    f.write_text(SITE_YAML.replace("score: 0.3", "score: 0.5"), encoding="utf-8")
    second = DeidEngine(EngineConfig(use_model=False))
    assert second.site_recognizers_hash != first.site_recognizers_hash
    assert "QX-4821-07" in _found(second, WITHOUT_CONTEXT)  # 0.5 needs no context


def test_site_recognizers_can_be_switched_off(tmp_path, monkeypatch):
    _site(tmp_path, monkeypatch)
    engine = DeidEngine(EngineConfig(use_model=False, site_recognizers=False))
    assert engine.site is None
    assert _found(engine, WITH_CONTEXT).get("QX-4821-07", ("", 0.0))[0] != "MRN"


def test_unmanaged_machine_uses_the_site_models_folder(tmp_path, monkeypatch):
    folder = tmp_path / "unmanaged"
    folder.mkdir()
    (folder / "recognizers.yaml").write_text(SITE_YAML, encoding="utf-8")
    monkeypatch.setenv("MEDPRIV_SITE_MODELS", str(folder))
    assert DeidEngine(EngineConfig(use_model=False)).site is not None


def test_a_broken_site_config_refuses_instead_of_running_without_the_site_rules(tmp_path, monkeypatch):
    cfg = tmp_path / "etc" / "site.json"
    cfg.parent.mkdir()
    cfg.write_text("{not json")
    monkeypatch.setattr(paths, "MACHINE_SITE_CONFIG", cfg)
    with pytest.raises(ConfigError) as err:
        DeidEngine(EngineConfig(use_model=False))
    assert err.value.path == cfg


def test_engine_with_site_recognizers_is_reentrant(site_engine):
    notes = [WITH_CONTEXT * 20, ("Dr. Okonkwo aware. chart QX-1111-22 reviewed. " * 20)]
    alone = [sorted((s.start, s.end, s.category) for s in site_engine.analyze(t)) for t in notes]
    got: list[list] = [[], []]

    def work(k):
        for _ in range(15):
            got[k].append(sorted((s.start, s.end, s.category) for s in site_engine.analyze(notes[k])))

    threads = [threading.Thread(target=work, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r == alone[0] for r in got[0]) and all(r == alone[1] for r in got[1]) and len(got[0]) == 15


def test_the_format_is_presidios_own(tmp_path, monkeypatch, capsys):
    """Presidio's add_recognizers_from_yaml reads the same file into the same recognizers."""
    from presidio_analyzer import RecognizerRegistry

    f = _site(tmp_path, monkeypatch)
    theirs = RecognizerRegistry(supported_languages=["en"])
    theirs.add_recognizers_from_yaml(f)
    ours = load_site_recognizers(f).recognizers
    assert len(theirs.recognizers) == len(ours)
    for a, b in zip(theirs.recognizers, ours):
        assert (a.name, a.supported_entities, a.context, a.deny_list, a.deny_list_score) == \
               (b.name, b.supported_entities, b.context, b.deny_list, b.deny_list_score)
        assert [(p.name, p.regex, p.score) for p in a.patterns] == [(p.name, p.regex, p.score) for p in b.patterns]


def _one(extra: str) -> str:
    """A one-recognizer file whose recognizer ends with ``extra`` (YAML lines indented for a recognizer)."""
    return ('recognizers:\n  - name: "Site MRN"\n    supported_entity: "MRN"\n'
            '    patterns:\n      - {name: qx, regex: "QX-\\\\d+", score: 0.3}\n' + extra)


# (file body, words the one-sentence reason must contain)
BAD_FILES = [
    ("recognizers: [\n  - name: x\n", "not valid YAML at line"),
    (_one("    contex: [chart]\n"), "unknown key 'contex' (did you mean 'context'?)"),
    (_one("    supported_entity: MRNN\n").replace('    supported_entity: "MRN"\n', ""),
     "did you mean 'MRN'?"),
    ('recognizers:\n  - name: a\n    supported_entity: MRN\n    patterns:\n      - {name: p, regex: "QX-(\\\\d+", '
     'score: 0.3}\n', "not a valid regular expression"),
    ('recognizers:\n  - name: a\n    supported_entity: MRN\n    patterns:\n      - {name: p, regex: "\\\\d*", '
     'score: 0.3}\n', "matches the empty text"),
    ('recognizers:\n  - name: a\n    supported_entity: MRN\n    patterns:\n      - {name: p, regex: "Q", score: 2}\n',
     "score must be a number from 0 to 1"),
    ('recognizers:\n  - name: a\n    supported_entity: MRN\n    patterns:\n      - {name: p, regex: "(a+)+$", '
     'score: 0.3}\n', "too slow"),
    (_one("    context: [call]\n"), "stop word"),
    (_one("    context: [medical record]\n"), "one word"),
    (_one("    type: predefined\n"), "'type' is not supported"),
    (_one("    supported_language: de\n"), "must be 'en'"),
    ('recognizers:\n  - name: names\n    supported_entity: NAME\n    deny_list: [Okonkwo]\n', "taken by a built-in"),
    ('recognizers:\n  - name: a\n    supported_entity: MRN\n', "needs 'patterns' or a 'deny_list'"),
    ("recognizers: []\n", "'recognizers' is empty"),
    ("other: 1\n", "unknown key 'other'"),
    ("- just\n- a list\n", "must be a mapping"),
    ('base: &b {name: a}\nrecognizers: [*b]\n', "anchors or aliases"),
    (b"recognizers:\n  - name: \xff\n", "not UTF-8"),
    ("# " + "x" * (1024 * 1024) + "\n", "too large"),
    (_one("") + _one("").replace("recognizers:\n", ""), "two recognizers are named 'Site MRN'"),
]


@pytest.mark.parametrize("body,reason", BAD_FILES, ids=[r for _b, r in BAD_FILES])
def test_a_bad_file_is_one_clear_config_error(tmp_path, monkeypatch, capfd, body, reason):
    f = _site(tmp_path, monkeypatch, body)
    with pytest.raises(ConfigError) as err:
        DeidEngine(EngineConfig(use_model=False))
    assert err.value.path == f and reason in err.value.reason, err.value.message
    assert "\n" not in err.value.message and "Traceback" not in err.value.message
    out, errout = capfd.readouterr()
    assert out == "" and errout == ""  # nothing printed (Presidio's own YAML reader prints its errors)


def test_a_folder_in_place_of_the_file_is_refused(tmp_path, monkeypatch):
    f = _site(tmp_path, monkeypatch, body=None)
    f.mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        DeidEngine(EngineConfig(use_model=False))


def test_errors_never_echo_deny_list_entries(tmp_path, monkeypatch):
    secret = "Zebulon" * 40  # an entry over the length limit
    body = f'recognizers:\n  - name: s\n    supported_entity: NAME\n    deny_list: ["{secret}"]\n'
    f = _site(tmp_path, monkeypatch, body)
    with pytest.raises(ConfigError) as err:
        load_site_recognizers(f)
    assert "Zebulon" not in err.value.message and "deny_list[0]" in err.value.message


# -- the file's hash in audit entries and batch resume manifests --------------------------------------------------


def _audit(action: str) -> list[dict]:
    lines = (paths.audit_dir() / "audit.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, filter(None, lines)) if e.get("action") == action]


def test_deid_and_eval_audit_entries_carry_the_file_hash(tmp_path, monkeypatch):
    from medpriv_desktop.cli import main

    f = _site(tmp_path, monkeypatch)
    sha = hashlib.sha256(f.read_bytes()).hexdigest()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text(WITH_CONTEXT + "\n", encoding="utf-8")
    assert main(["deid", str(notes), "-o", str(tmp_path / "out"), "--rules-only"]) == 0
    assert "QX-4821-07" not in (tmp_path / "out" / "a.txt").read_text()
    assert _audit("notes.deid")[-1]["site_recognizers_hash"] == sha
    corpus = tmp_path / "gold.jsonl"
    corpus.write_text(json.dumps({"id": "1", "text": WITH_CONTEXT, "spans": [[6, 16, "MRN"]]}) + "\n")
    assert main(["eval", "deid", str(corpus), "--rules-only"]) == 0
    assert _audit("notes.eval")[-1]["site_recognizers_hash"] == sha


def test_without_a_file_the_audit_says_none(tmp_path, monkeypatch):
    from medpriv_desktop.cli import main

    _site(tmp_path, monkeypatch, body=None)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text(WITH_CONTEXT + "\n", encoding="utf-8")
    assert main(["deid", str(notes), "-o", str(tmp_path / "out"), "--rules-only"]) == 0
    entry = _audit("notes.deid")[-1]
    assert "site_recognizers_hash" in entry and entry["site_recognizers_hash"] is None


@pytest.mark.parametrize("change", ["edit", "remove"])
def test_a_changed_site_file_does_not_resume_into_old_outputs(tmp_path, monkeypatch, change):
    from medpriv_desktop.cli import main

    f = _site(tmp_path, monkeypatch)
    notes = tmp_path / "notes"
    notes.mkdir()
    for k in range(3):
        (notes / f"n{k}.txt").write_text(WITH_CONTEXT + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["deid", str(notes), "-o", str(out), "--rules-only"]) == 0
    assert main(["deid", str(notes), "-o", str(out), "--rules-only"]) == 0  # same file: resumes (all done)
    if change == "edit":
        f.write_text(SITE_YAML.replace("score: 0.3", "score: 0.5"), encoding="utf-8")
    else:
        f.unlink()
    assert main(["deid", str(notes), "-o", str(out), "--rules-only"]) == 2
    assert main(["deid", str(notes), "-o", str(out), "--rules-only", "--restart"]) == 0
