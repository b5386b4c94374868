"""Train a 1-layer PHI model for a few steps, export it as a bundle and run it in the app's engine."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from training.phi.bundle import export_phi_bundle  # noqa: E402
from training.phi.physionet import AnnotatedNote  # noqa: E402
from training.phi.train import BIO, TrainConfig, train_phi_model  # noqa: E402


def test_tiny_training_exports_a_loadable_bundle(medpriv_home):
    import torch

    cfg = TrainConfig(layers=1, epochs=1, synthetic=12, max_len=64, batch_size=8, lr=1e-4)
    notes = [AnnotatedNote("1", "1", "DR. ZORBLEWICK AWARE ON 8/18.", [(4, 14, "HCPName"), (25, 29, "Date")])]
    model, tok = train_phi_model(notes, cfg, log=lambda *_: None)
    assert model.config.num_hidden_layers == 1 and model.config.num_labels == len(BIO)
    before = {k: v.clone() for k, v in model.state_dict().items() if "classifier" in k}
    assert all(torch.isfinite(v).all() for v in before.values())
    out = medpriv_home / "site_models" / "phi-test"
    card = export_phi_bundle(model, tok, out, cfg, n_physionet=1, command="pytest", model_id="phi-test")
    assert card.task.value == "phi-ner" and (out / "tokenizer.json").is_file() and (out / "LICENSE").is_file()
    # int8 vs torch: logits close; argmax agreement is looser here because a barely trained model's logits are
    # near-tied, so tiny int8 differences flip decisions (the shipped bundle's card records its own agreement)
    assert card.training.config["parity_max_abs_diff"] < 0.25
    assert card.training.config["parity_agreement"] >= 0.75
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    engine = DeidEngine(EngineConfig(model_id="phi-test"))
    assert engine.model_id == "phi-test"
    spans = engine.analyze("DR. ZORBLEWICK AWARE ON 8/18.")  # rules find these whatever the tiny model says
    assert {s.tag for s in spans} >= {"NAME", "DATE"}
