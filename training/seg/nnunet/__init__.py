"""Import nnU-Net v2 trained-model folders (TotalSegmentator's weights use that layout) as one ONNX teacher bundle.

- :mod:`.plans`: read ``plans.json`` (pre-2.4 and 2.4+ schemas) and ``dataset.json`` into a :class:`~.plans.NnunetPart`;
- :mod:`.network`: build the network from an allow-list of architectures and load checkpoints with
  ``weights_only=True``;
- :mod:`.graph`: the exported module: axis order, per-part normalisation, fold averaging and the part-merge rule;
- :mod:`.bundle`: the model card; :mod:`.importer`: the job behind ``medpriv-train seg import-nnunet``.

The app never imports this package (nor torch); only the bundle it writes crosses over.
"""
