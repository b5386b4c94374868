"""The shared text runtime: windows with stride, offsets into the original text, batching, embeddings."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.text.encoder import TextEncoder, merge_token_scores

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + [f"w{i}" for i in range(40)]


def _tokenizer(path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(path))
    return path


def _identity_model(path, embedding=False):
    """logits[b, s, :] = one-hot(input_ids[b, s]) ; or, for embeddings, the mean one-hot over the masked tokens."""
    eye = numpy_helper.from_array(np.eye(len(WORDS), dtype=np.float32), "eye")
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"])
    nodes = [helper.make_node("Gather", ["eye", "input_ids"], ["tok"])]
    if embedding:
        nodes += [helper.make_node("Cast", ["attention_mask"], ["mf"], to=TensorProto.FLOAT),
                  helper.make_node("Unsqueeze", ["mf", "ax"], ["m3"]),
                  helper.make_node("Mul", ["tok", "m3"], ["masked"]),
                  helper.make_node("ReduceSum", ["masked", "ax1"], ["embeddings"], keepdims=0)]
        init = [eye, numpy_helper.from_array(np.array([2], np.int64), "ax"),
                numpy_helper.from_array(np.array([1], np.int64), "ax1")]
        out = helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["b", len(WORDS)])
    else:
        nodes += [helper.make_node("Identity", ["tok"], ["logits"])]
        init = [eye]
        out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "s", len(WORDS)])
    graph = helper.make_graph(nodes, "tiny", [ids, mask], [out], init)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


@pytest.fixture
def enc(tmp_path):
    return TextEncoder.from_files(_identity_model(tmp_path / "m.onnx"), _tokenizer(tmp_path / "t.json"),
                                  max_tokens=8, stride=2, threads=1)


@pytest.mark.parametrize("n_words,n_chunks", [(0, 1), (3, 1), (6, 1), (7, 2), (10, 2), (11, 3), (30, 7)])
def test_windows_cover_every_token(enc, n_words, n_chunks):
    text = " ".join(f"w{i % 40}" for i in range(n_words))
    chunks = enc.encode([text])[0]
    assert len(chunks) == n_chunks
    assert all(len(c.ids) <= 8 for c in chunks)
    assert chunks[0].ids[0] == 2 and chunks[0].ids[-1] == 3  # [CLS] ... [SEP]
    offsets, scores = merge_token_scores(enc.logits([text])[0])
    assert len(offsets) == n_words  # nothing truncated, nothing duplicated
    words = [text[s:e] for s, e in offsets]
    assert words == text.split()
    # the identity model says which token each row came from
    assert [WORDS[int(np.argmax(r))] for r in scores] == words


def test_batches_mix_lengths(enc):
    texts = ["w1 w2", " ".join(["w5"] * 25), "", "w3"]
    res = enc.logits(texts, batch_size=2)
    assert [len(r) for r in res] == [1, 6, 1, 1]  # 25 tokens, 6 per window, step 4
    assert res[0][0].logits.shape == (4, len(WORDS))


def test_embeddings_average_windows(tmp_path):
    enc = TextEncoder.from_files(_identity_model(tmp_path / "e.onnx", embedding=True), _tokenizer(tmp_path / "t.json"),
                                 max_tokens=6, stride=1, threads=1)
    vec = enc.embed(["w4 w4 w4 w4 w4 w4 w4 w4 w4", "w7"])
    assert vec.shape == (2, len(WORDS))
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0, atol=1e-5)
    assert vec[0, WORDS.index("w4")] > 0.9 and vec[1, WORDS.index("w7")] > 0.5


def test_bad_stride_and_missing_files(tmp_path):
    with pytest.raises(ModelError):
        TextEncoder.from_files(_identity_model(tmp_path / "m.onnx"), _tokenizer(tmp_path / "t.json"), 8, stride=7)
    with pytest.raises(ModelError, match="tokenizer"):
        TextEncoder.from_files(tmp_path / "m.onnx", tmp_path / "missing.json", 8)
