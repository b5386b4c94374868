"""Training side of MedPriv Desktop: produces every model bundle the app ships.

Needs the ``train`` extra (torch, monai, transformers, opacus, peft). May import ``medpriv_desktop.core`` so that
preprocessing and the model card exist once; the app never imports this package.
"""
