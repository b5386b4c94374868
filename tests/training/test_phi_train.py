"""The PHI tagger's training path end to end at toy size: train a 1-layer tagger, export the int8 bundle, choose the
threshold through the app's runtime, write the card, load it in the engine; plus the pure parts (token labels,
threshold rule, the tuning/validation split)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from training.phi.data import BIO, LabelledText, token_labels, tuning_train_val  # noqa: E402
from training.phi.physionet import AnnotatedNote  # noqa: E402
from training.phi.select import choose_threshold  # noqa: E402
from training.phi.train import TrainConfig, train_phi_model  # noqa: E402


@pytest.mark.parametrize("offsets,spans,expected", [
    ([(0, 2), (3, 8), (8, 10), (11, 15)], [(3, 10, "NAME")], ["O", "B-NAME", "I-NAME", "O"]),
    ([(0, 4), (5, 9)], [(0, 4, "NAME"), (5, 9, "NAME")], ["B-NAME", "B-NAME"]),  # two spans: two B
    ([(0, 3), (4, 7)], [], ["O", "O"]),
    ([(0, 5), (5, 6), (6, 10)], [(0, 10, "CONTACT")], ["B-CONTACT", "I-CONTACT", "I-CONTACT"]),
])
def test_token_labels(offsets, spans, expected):
    assert [BIO[i] for i in token_labels(offsets, spans)] == expected


def test_tuning_val_split_is_by_patient_and_about_a_quarter():
    notes = [AnnotatedNote(str(p), str(n), "x") for p in range(20) for n in range(p % 4 + 1)]
    train, val = tuning_train_val(notes)
    assert not {n.patient for n in train} & {n.patient for n in val}
    assert 0.2 <= len(val) / len(notes) <= 0.4
    assert tuning_train_val(list(reversed(notes)))[1] == [n for n in reversed(notes) if n.patient in
                                                            {v.patient for v in val}]


@pytest.mark.parametrize("scores,expected", [
    # the highest threshold that still reaches the recall target with enough precision
    ({0.3: {"recall": 0.99, "precision": 0.86}, 0.5: {"recall": 0.975, "precision": 0.9},
      0.7: {"recall": 0.95, "precision": 0.95}}, 0.5),
    # none reaches the target: the best recall among precise enough thresholds
    ({0.3: {"recall": 0.99, "precision": 0.5}, 0.5: {"recall": 0.96, "precision": 0.88},
      0.7: {"recall": 0.94, "precision": 0.95}}, 0.5),
    # a garbage model (nothing precise): the most precise threshold, never the all-PHI one
    ({0.1: {"recall": 1.0, "precision": 0.01}, 0.9: {"recall": 0.7, "precision": 0.2}}, 0.9),
])
def test_threshold_rule(scores, expected):
    assert choose_threshold(scores, 0.97, 0.85)[0] == expected


def test_tiny_training_exports_a_bundle_the_engine_loads(medpriv_home):
    import torch

    from training.phi.bundle import export_phi_bundle, set_threshold, write_card
    from training.phi.run import load_recognizer
    from training.phi.select import select_threshold

    cfg = TrainConfig(layers=1, epochs=1, synthetic=12, physionet_repeat=1, max_len=64, batch_size=8, lr=1e-4,
                      threads=1)
    notes = [AnnotatedNote("1", "1", "DR. ZORBLEWICK AWARE ON 8/18.", [(4, 14, "HCPName"), (25, 29, "Date")])]
    model, tok = train_phi_model(notes, cfg, log=lambda *_: None)
    assert model.config.num_hidden_layers == 1 and model.config.num_labels == len(BIO)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    out = medpriv_home / "site_models" / "phi-test"
    card = export_phi_bundle(model, tok, out, cfg, 1, command="pytest", model_id="phi-test")
    # int8 vs torch: logits close; a barely trained model's near-tied logits flip some argmax decisions
    assert card["training"]["config"]["parity_max_abs_diff"] < 0.25
    val = [LabelledText("seen by dr zorblewick on 8/18", [(11, 21, "NAME"), (25, 29, "DATE")], "test", "v1")]
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    write_card(out, card)
    choice = select_threshold({"val": val}, load_recognizer(out), DeidEngine(EngineConfig(use_model=False)),
                              decide_on="val", log=lambda *_: None)
    assert set(choice.scores["val"]) >= {0.05, 0.5, 0.95}
    set_threshold(card, choice.threshold)
    parsed = write_card(out, card)
    assert parsed.task.value == "phi-ner" and (out / "tokenizer.json").is_file() and (out / "LICENSE").is_file()
    assert {lb.threshold for lb in parsed.outputs.labels if lb.name != "O"} == {choice.threshold}
    engine = DeidEngine(EngineConfig(model_id="phi-test"))
    assert engine.model_id == "phi-test"
    spans = engine.analyze("DR. ZORBLEWICK AWARE ON 8/18.")  # rules find these whatever the tiny model says
    assert {s.tag for s in spans} >= {"NAME", "DATE"}


def test_training_can_continue_from_a_saved_tagger(tmp_path):
    """``--init``: the run starts from the saved tagger's weights (not the bare backbone) and trains them on."""
    import torch

    cfg = TrainConfig(layers=1, epochs=1, synthetic=4, physionet_repeat=1, max_len=64, batch_size=8, lr=1e-4,
                      threads=1)
    notes = [AnnotatedNote("1", "1", "DR. ZORBLEWICK AWARE ON 8/18.", [(4, 14, "HCPName"), (25, 29, "Date")])]
    first, tok = train_phi_model(notes, cfg, log=lambda *_: None)
    first.save_pretrained(str(tmp_path / "t"))
    tok.save_pretrained(str(tmp_path / "t"))
    head = first.classifier.weight.detach().clone()
    cont = TrainConfig(layers=1, epochs=1, synthetic=0, physionet_repeat=1, max_len=64, batch_size=8, lr=0.0,
                       threads=1, init=str(tmp_path / "t"), entity_weight=1.0)
    again, _ = train_phi_model(notes, cont, log=lambda *_: None)
    assert torch.equal(again.classifier.weight, head)  # lr 0: exactly the saved head, not a fresh one
    fresh, _ = train_phi_model(notes, TrainConfig(layers=1, epochs=1, synthetic=0, physionet_repeat=1, max_len=64,
                                                  batch_size=8, lr=0.0, threads=1), log=lambda *_: None)
    assert not torch.equal(fresh.classifier.weight, head)
    assert cont.as_dict()["init"] == str(tmp_path / "t") and cont.as_dict()["entity_weight"] == 1.0


def test_the_training_notes_of_each_mode():
    """Default: tuning-train vs tuning-val; --all-tuning: every tuning note, no validation; --cross-fit H: the other
    half trains, half H is held out. Patients never straddle train and validation."""
    from training.phi.data import cross_fit_halves
    from training.phi.run import physionet_parts

    notes = [AnnotatedNote(str(p), str(n), "x") for p in range(26) for n in range(p % 4 + 1)]
    train, val, split = physionet_parts(notes)
    assert (train, val) == tuning_train_val(notes) and split is None
    train, val, split = physionet_parts(notes, all_tuning=True)
    assert train == notes and val == [] and "every tuning note" in split
    for h in (1, 2):
        train, val, split = physionet_parts(notes, cross_fit=h)
        assert val == cross_fit_halves(notes)[h - 1] and len(train) + len(val) == len(notes)
        assert not {n.patient for n in train} & {n.patient for n in val} and "not shipped" in split
