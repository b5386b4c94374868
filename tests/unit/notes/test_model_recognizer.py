"""The PHI model recognizer: a tiny phi-ner bundle (hand-made ONNX) loaded through the registry and used by the
engine; tampering with the model file refuses to load."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.registry import ModelRegistry, sha256_file

BIO = ["O", "B-NAME", "I-NAME", "B-DATE", "I-DATE"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "dr", "zorblewick", "aware", "on", "monday", "."]


def make_bundle(folder):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    folder.mkdir(parents=True)
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.save(str(folder / "tokenizer.json"))
    table = np.zeros((len(VOCAB), len(BIO)), np.float32)
    table[:, 0] = 4.0
    table[VOCAB.index("zorblewick")] = [0, 6, 0, 0, 0]
    table[VOCAB.index("monday")] = [0, 0, 0, 6, 0]
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "s", len(BIO)])
    graph = helper.make_graph([helper.make_node("Gather", ["w", "input_ids"], ["logits"])], "phi", [ids, mask], [out],
                              [numpy_helper.from_array(table, "w")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(folder / "model.onnx"))
    card = {"id": "phi-tiny-test", "title": "tiny", "version": "0.0.1", "task": "phi-ner", "intended_use": "tests",
            "license": "Apache-2.0", "sha256": sha256_file(folder / "model.onnx"),
            "text_input": {"max_tokens": 8, "stride": 2},
            "outputs": {"labels": [{"value": i, "name": b} for i, b in enumerate(BIO)]},
            "training": {"datasets": [{"name": "none", "license": "n/a"}], "command": "test", "date": "2026-01-01"}}
    (folder / "model_card.json").write_text(json.dumps(card))
    return folder


def test_engine_uses_installed_phi_model(medpriv_home):
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
    from medpriv_desktop.core.notes.model_recognizer import load_default_model_recognizer

    make_bundle(medpriv_home / "site_models" / "phi-tiny-test")
    rec = load_default_model_recognizer("phi-tiny-test")
    text = "xx zorblewick aware on monday . " * 3  # longer than one 8-token window
    spans = rec.find(text)
    # not gated by the rules: a lower-case word with no cue and no lexicon entry is still found
    assert [(text[s.start:s.end], s.category) for s in spans] == [("zorblewick", "NAME"), ("monday", "DATE")] * 3
    words = rec.word_scores(text)
    assert rec.spans_from_words(text, words, threshold=0.999) == []
    assert rec.spans_from_words(text, words) == spans
    engine = DeidEngine(EngineConfig(model_id="phi-tiny-test"))
    assert engine.model_id == "phi-tiny-test"
    # "zorblewick" has no rule cue here (no title): only the model finds it, also in lower case
    for short in ("Then Zorblewick came by.", "then zorblewick came by."):
        found = {short[s.start:s.end].lower() for s in engine.analyze(short)}
        assert "zorblewick" in found
    rules = DeidEngine(EngineConfig(use_model=False))
    assert "zorblewick" not in {"then zorblewick came by."[s.start:s.end] for s in rules.analyze("then zorblewick came by.")}


def test_tampered_model_refuses_to_load(medpriv_home):
    from medpriv_desktop.core.notes.model_recognizer import load_default_model_recognizer

    b = make_bundle(medpriv_home / "site_models" / "phi-tiny-test")
    with open(b / "model.onnx", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="sha256"):
        load_default_model_recognizer("phi-tiny-test")
    assert ModelRegistry().get("phi-tiny-test").card.task.value == "phi-ner"


def test_analyze_many_gives_the_spans_of_analyze_one_at_a_time(medpriv_home):
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    make_bundle(medpriv_home / "site_models" / "phi-tiny-test")
    engine = DeidEngine(EngineConfig(model_id="phi-tiny-test"))
    texts = ["then zorblewick came on monday.", "", "Dr. Smith saw zorblewick . " * 4, "nothing here"]
    assert engine.analyze_many(texts) == [engine.analyze(t) for t in texts]


@pytest.mark.parametrize("text,words,expected", [
    # a lone lower-case clinical word the tagger scored is not masked by the tagger alone
    ("foley in place", [(0, 5)], []),
    ("picc flushed", [(0, 4)], []),
    # the same word capitalised, inside a two-word name, or a first name that is also a clinical abbreviation: kept
    ("Foley in place", [(0, 5)], ["Foley"]),
    ("spoke with jane foley", [(11, 15), (16, 21)], ["jane foley"]),
    ("husband max aware", [(8, 11)], ["max"]),
    ("seen by zorblewick", [(8, 18)], ["zorblewick"]),
])
def test_lone_lower_case_clinical_words_are_not_tagger_spans(text, words, expected):
    from medpriv_desktop.core.notes.model_recognizer import PhiModelRecognizer, WordScore

    rec = PhiModelRecognizer(None, BIO, threshold=0.5)
    spans = rec.spans_from_words(text, [WordScore(s, e, 0.99, "NAME") for s, e in words])
    assert [text[s.start:s.end] for s in spans] == expected


def test_each_type_uses_its_own_threshold_from_the_card():
    from medpriv_desktop.core.notes.model_recognizer import PhiModelRecognizer, WordScore, card_thresholds

    from types import SimpleNamespace as L

    labels = [L(name="O", threshold=None), L(name="B-NAME", threshold=0.8), L(name="I-NAME", threshold=0.8),
              L(name="B-DATE", threshold=0.99), L(name="I-DATE", threshold=0.97)]
    default, per_type = card_thresholds(labels)
    assert default == 0.8 and per_type == {"NAME": 0.8, "DATE": 0.97}  # a type takes the lower of B- and I-
    rec = PhiModelRecognizer(None, BIO, threshold=default, thresholds=per_type)
    text = "seen by zorblewick on 3/14 and 4/15"
    words = [WordScore(8, 18, 0.85, "NAME"), WordScore(22, 26, 0.95, "DATE"), WordScore(31, 35, 0.98, "DATE")]
    assert [text[s.start:s.end] for s in rec.spans_from_words(text, words)] == ["zorblewick", "4/15"]
    # one threshold asked for holds for every type (the threshold search uses this)
    assert [text[s.start:s.end] for s in rec.spans_from_words(text, words, 0.9)] == ["3/14", "4/15"]


def test_bundled_tagger_scores_a_note_alike_alone_and_in_a_folder(medpriv_home):
    """The shipped int8 tagger quantizes activations per input tensor: batched with other notes' windows, a note's
    scores moved (5 of 380 PhysioNet tuning notes got other spans). Each window now runs by itself, so a note gets
    the same scores, to the last bit, whatever it is run with (the project's invented notes, short and long)."""
    from pathlib import Path

    from medpriv_desktop.core.notes.model_recognizer import load_default_model_recognizer

    folder = Path(__file__).resolve().parents[2] / "fixtures" / "invented_notes"
    texts = [f.read_text(encoding="utf-8") for f in sorted(folder.glob("*.txt"))]
    assert len(texts) >= 40
    tagger = load_default_model_recognizer()
    together = tagger.word_scores_many(texts)
    alone = [tagger.word_scores(t) for t in texts]
    assert sum(len(w) for w in alone) > 1000
    assert together == alone
