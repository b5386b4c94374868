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


def test_texts_of_mixed_lengths(enc):
    texts = ["w1 w2", " ".join(["w5"] * 25), "", "w3"]
    res = enc.logits(texts)
    assert [len(r) for r in res] == [1, 6, 1, 1]  # 25 tokens, 6 per window, step 4
    assert res[0][0].logits.shape == (4, len(WORDS))  # unpadded: [CLS] w1 w2 [SEP]
    assert [WORDS[int(np.argmax(r))] for r in res[1][5].logits] == ["[CLS]"] + ["w5"] * 5 + ["[SEP]"]  # tokens 20-24


def _dynamic_int8_model(path):
    """The shape of the bundled int8 encoders: activations quantized by DynamicQuantizeLinear (one scale for the
    whole input tensor), then an integer matmul. Token w39 has an embedding 1000 times the others'."""
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(WORDS), 8)).astype(np.float32)
    emb[WORDS.index("w39")] *= 1000.0
    w = rng.integers(-100, 100, size=(8, 5)).astype(np.int8)
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "s", 5])
    nodes = [helper.make_node("Gather", ["emb", "input_ids"], ["x"]),
             helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
             helper.make_node("MatMulInteger", ["xq", "w", "xz", "wz"], ["acc"]),
             helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["accf", "xs"], ["logits"])]
    init = [numpy_helper.from_array(emb, "emb"), numpy_helper.from_array(w, "w"),
            numpy_helper.from_array(np.array(0, np.int8), "wz")]
    m = helper.make_model(helper.make_graph(nodes, "dq", [ids, mask], [out], init),
                          opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


@pytest.mark.parametrize("threads", [1, 2])
def test_a_texts_output_does_not_depend_on_the_other_texts(tmp_path, threads):
    """A batch of windows shares one activation scale in an int8 graph: the same note scored alone and beside
    another note must still get the same numbers (and so the same PHI spans, labels and evidence)."""
    enc = TextEncoder.from_files(_dynamic_int8_model(tmp_path / "q.onnx"), _tokenizer(tmp_path / "t.json"),
                                 max_tokens=8, stride=2, threads=threads)
    note = "w1 w2 w3 w4 w5 w6 w7 w8 w9"  # two windows
    alone = enc.logits([note])[0]
    beside = enc.logits(["w39 w39", note, "w7"])[1]
    assert len(alone) == len(beside) == 2
    for a, b in zip(alone, beside):
        np.testing.assert_array_equal(a.logits, b.logits)
    # the model does quantize per tensor: run as one padded batch, the loud note changes the quiet one's numbers
    chunks = enc.encode(["w39 w39", note])
    width = max(len(c.ids) for cs in chunks for c in cs)
    ids = np.zeros((3, width), np.int64)
    for i, c in enumerate([chunks[0][0]] + chunks[1]):
        ids[i, :len(c.ids)] = c.ids
    batched = enc.session.run(None, {"input_ids": ids, "attention_mask": (ids > 0).astype(np.int64)})[0]
    assert not np.array_equal(batched[1, :len(alone[0].logits)], alone[0].logits)


def test_windows_keep_their_order_across_threads(tmp_path):
    model, tok = _identity_model(tmp_path / "m.onnx"), _tokenizer(tmp_path / "t.json")
    texts = [" ".join(f"w{(i * 7 + k) % 40}" for k in range(n)) for i, n in enumerate([3, 40, 0, 17, 1, 25, 9])]
    one = TextEncoder.from_files(model, tok, max_tokens=8, stride=2, threads=1).logits(texts)
    many = TextEncoder.from_files(model, tok, max_tokens=8, stride=2, threads=3).logits(texts)
    assert [len(r) for r in one] == [len(r) for r in many]
    for a, b in zip(one, many):
        for ca, cb in zip(a, b):
            assert ca.chunk.ids == cb.chunk.ids
            np.testing.assert_array_equal(ca.logits, cb.logits)


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
