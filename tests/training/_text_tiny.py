"""Tiny tokenizer + randomly initialised BERT models for fast export/runtime tests (seconds, no downloads)."""

from __future__ import annotations

WORDS = ("the patient was seen by doctor on at in and with a of for to is pain chest home call seen today "
         "john smith boston mass general hospital note date name").split()


def tiny_tokenizer():
    """A fast WordPiece tokenizer over a 60-token vocabulary, wrapped for transformers."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz0123456789"] + list("abcdefghijklmnopqrstuvwxyz0123456789.,/:-")
    vocab = list(dict.fromkeys(vocab))
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")


def tiny_bert(kind: str, num_labels: int = 5, seed: int = 0):
    """A 2-layer, 32-wide BERT for ``kind`` (token-classification, sequence-classification, embedding)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertForTokenClassification, BertModel

    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64, num_labels=num_labels,
                     attn_implementation="eager")
    cls = {"token-classification": BertForTokenClassification, "sequence-classification": BertForSequenceClassification,
           "embedding": BertModel}[kind]
    return cls(cfg).eval()
