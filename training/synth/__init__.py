"""Training-side tools for synthetic notes: causal-LM export to ONNX bundles, the embedding bundle, utility runs."""
