"""Segmentation training: procedural torso phantoms, CT/MR synthesis, a width-scaled 3D U-Net family,
ReCo-KD-style distillation losses, evaluation, ONNX export and bundle writing.

Heavy imports (torch) live in the modules that need them; ``phantom``, ``synth``, ``labels`` and ``msd`` are
numpy-only so data generation works without torch.
"""
