"""On-premises distillation: a compact student learnt from a site's own unlabelled scans and any ONNX teacher bundle.

``medpriv-train seg distill --teacher BUNDLE --unlabelled DIR -o RUN`` (:mod:`.run`): the scans are found and one
series per DICOM study is chosen (:mod:`.scans`); the teacher's blended logits and features are computed once per
scan through the app's own preprocessing and tiling and cached on disk (:mod:`.teacher`, :mod:`.cache`); MONAI
DynUNet students at several widths are trained with the ReCo-KD terms plus a pseudo-label DiceCE loss
(:mod:`.students`), exported as bundles marked "trained on site data: keep on site" (:mod:`.site_bundle`) and
compared with the teacher on held-back scans through ``segment_volume`` (:mod:`.evaluate`).
"""
