"""De-identifying DICOM: the Basic Application Level Confidentiality Profile of DICOM PS3.15 Annex E, with options.

Implemented from the standard's Table E.1-1, transcribed as data (:mod:`.table`, 2024 edition), rather than on the
``deid`` package (pydicom/deid): its recipes express actions per tag but not the standard's option columns, it cannot
share the notes de-identifier's key, pseudonyms and per-patient date offsets (the point of this package: notes and
images of one patient must still line up), and it requires matplotlib, which would enter the frozen app.

Modules:

* :mod:`.table` Table E.1-1 as data; :mod:`.profile` named profiles, options (CID 7050 codes) and the one action each
  attribute gets; :mod:`.safe_private` the Retain Safe Private list; :mod:`.uids` keyed ``2.25.`` UID remapping;
  :mod:`.patients` who the patient is and their pseudonyms (the notes' :class:`Surrogator` and key);
* :mod:`.actions` the walk over every element of every sequence; :mod:`.instance` one instance (identity, markers,
  file meta); :mod:`.session` the keyed tools of a run and pseudonymous output names;
* :mod:`.burned_in` the burned-in text screen; :mod:`.descriptors` Clean Descriptors through the notes engine;
* :mod:`.batch` the resumable folder job (``medpriv deid-dicom``); :mod:`.outputs` its files and run manifest;
* :mod:`.verify` ``--verify``; :mod:`.exports` de-identified SEG, label map, statistics and mesh exports.

Not done: pixel data is never changed (Clean Pixel Data, Clean Recognizable Visual Features: text burned into an
ordinary image, or a face rendered from a head scan, stays); structured content (SR content trees), graphics and
overlays are removed, not cleaned; Retain UIDs and Retain Full Dates are not offered.
"""
