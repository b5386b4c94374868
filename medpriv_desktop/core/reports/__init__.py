"""Radiology-report classification at run time: sections, label sets, the rule labeler, the ONNX classifier with
thresholds and evidence, and batch jobs over a CSV or a folder. Imports only numpy, onnxruntime and tokenizers."""
