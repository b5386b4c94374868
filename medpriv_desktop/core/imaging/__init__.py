"""Imaging engine: volumes, readers/writers, preprocessing from a model card, ONNX inference, QC, statistics.

Orientation convention for the whole code base: see :mod:`medpriv_desktop.core.imaging.volume` (RAS+, nibabel's).

Entry points (all headless; long work is a job generator, see :mod:`medpriv_desktop.core.jobs`):

- :func:`.io.read_volume`, :func:`.io.read_labelmap`, :func:`.io.list_dicom_series`, :func:`.io.write_labelmap`
- :func:`.preprocess.to_model_space` and :meth:`.preprocess.ModelSpace.labels_to_input` (back onto the input grid)
- :func:`.inference.segment_volume` (job) -> :class:`.inference.SegmentationResult` (ONNX contract in its docstring)
- :func:`.postprocess.postprocess_labels`, :func:`.stats.structure_stats`, :func:`.qc.run_qc` (job)
- :func:`.export.export_labelmap`, :func:`.export.export_dicom_seg`
- :func:`.label_files.read_segmentation_onto` (job): a saved label map or DICOM SEG onto an open study
- the whole workflow (read once, segment, statistics, QC, exports, audit entry) is the use case
  ``core.app.segment_study``, shared by ``medpriv segment``, the window and ``smoke.py``
- meshes live in :mod:`medpriv_desktop.render.meshes` (VTK, no Qt)
"""
