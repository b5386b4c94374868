"""Synthetic notes: PHI-checked keywords, generation engines, and the privacy / quality assessment.

Flow (DESIGN.md, "Notes"): de-identified text -> keywords (:mod:`.keywords`, each re-checked by the de-identifier)
-> a generation engine (:mod:`.engines`: ``template`` by default, or a local causal LM through ONNX Runtime) ->
synthetic note -> privacy (:mod:`.privacy`: PHI occurrence and co-occurrence per HIPAA category, 8-gram overlap) and
quality (:mod:`.quality`: ROUGE-1/2/L and MiniLM cosine). ``medpriv synth`` runs :func:`.batch.synthesize_notes`;
``medpriv eval synth`` runs :func:`.evaluate.evaluate_synthesis`.
"""
