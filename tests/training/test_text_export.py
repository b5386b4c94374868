"""The shared encoder export: ONNX + tokenizer.json + int8 + parity, on tiny random BERTs."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

import numpy as np  # noqa: E402
import onnx  # noqa: E402

from tests.training._text_tiny import tiny_bert, tiny_tokenizer  # noqa: E402
from training.text.export import export_encoder  # noqa: E402

TEXTS = ["the patient was seen by doctor john smith", "chest pain at home", "call 617 555 1234 today"]


@pytest.mark.parametrize("kind,output", [("token-classification", "logits"), ("sequence-classification", "logits"),
                                         ("embedding", "embeddings")])
def test_export_fp32_matches_torch(tmp_path, kind, output):
    res = export_encoder(tiny_bert(kind), tiny_tokenizer(), tmp_path, kind, quantize=False, parity_texts=TEXTS)
    assert res.output_name == output
    assert res.input_names == ["input_ids", "attention_mask"]
    assert res.parity.max_abs_diff < 1e-4
    if kind != "embedding":
        assert res.parity.decision_agreement == 1.0
    else:
        assert res.parity.cosine_min > 0.9999
    m = onnx.load(str(res.model_path))
    assert m.opset_import[0].version == 17
    dims = m.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and dims[1].dim_param  # dynamic batch and sequence
    assert (tmp_path / "tokenizer.json").is_file()
    assert len(res.sha256) == 64


def test_export_int8_is_smaller_and_close(tmp_path):
    fp = export_encoder(tiny_bert("token-classification"), tiny_tokenizer(), tmp_path / "fp", "token-classification",
                        quantize=False, parity_texts=TEXTS)
    q = export_encoder(tiny_bert("token-classification"), tiny_tokenizer(), tmp_path / "q", "token-classification",
                       quantize=True, parity_texts=TEXTS)
    assert q.quantized and not (tmp_path / "q" / "model.fp32.onnx").exists()
    assert q.size_bytes < fp.size_bytes
    assert q.parity.max_abs_diff < 0.5  # int8 weights move logits a little, not a lot
    assert q.fp32_parity is not None and q.fp32_parity.max_abs_diff < 1e-4


def test_exported_model_runs_on_other_lengths(tmp_path):
    import onnxruntime as ort

    res = export_encoder(tiny_bert("embedding"), tiny_tokenizer(), tmp_path, "embedding", quantize=False,
                         parity_texts=TEXTS, normalize=True)
    sess = ort.InferenceSession(str(res.model_path))
    ids = np.full((3, 17), 7, dtype=np.int64)
    out = sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
    assert out.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)


def test_runtime_encoder_matches_torch_on_padded_batches(tmp_path):
    """The app's TextEncoder (onnxruntime + tokenizers) gives torch's logits on a padded batch of new lengths."""
    import torch

    from medpriv_desktop.core.text.encoder import TextEncoder

    model, tok = tiny_bert("token-classification"), tiny_tokenizer()
    res = export_encoder(model, tok, tmp_path, "token-classification", quantize=False, parity_texts=TEXTS[:1])
    enc = TextEncoder.from_files(res.model_path, res.tokenizer_path, max_tokens=64, threads=1)
    texts = ["chest pain", "the patient was seen at mass general hospital by doctor smith on the date of the note"]
    got = enc.logits(texts)
    for text, chunks in zip(texts, got):
        ids = torch.tensor([chunks[0].chunk.ids])
        with torch.no_grad():
            ref = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0].numpy()
        np.testing.assert_allclose(chunks[0].logits, ref, atol=1e-4)
