"""The Context's one registry follows the site rule for every text model (issue 20, items 1 and 3).

A site folder and an allow-list set up the machine-wide way (a site config file, here named by
``MEDPRIV_SITE_CONFIG`` as a machine without administrator rights does), or on an unmanaged machine by the user's
``site_models_dir`` setting: the PHI model (de-identification), the embedding model (synthesis quality) and a
causal language model (synthesis) all refuse to load when the allow-list does not list them, and load when it does.
Before the Context, the PHI, embedding and language-model loaders built ``ModelRegistry()`` themselves, which never
reads the ``site_models_dir`` setting: the "settings" case loaded models the site's allow-list did not admit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medpriv_desktop.core.app import Context, SynthRequest, deid_engine_factory
from medpriv_desktop.core.errors import ModelError
from medpriv_desktop.core.models.manifest import bundle_manifest
from medpriv_desktop.core.settings import Settings

LM_ID = "tiny-lm-site"


def _lm_bundle(folder: Path) -> Path:
    """A causal-lm bundle: the registry's checks (manifest, allow-list) come before any byte of it is run."""
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"not run: refused or checked before loading")
    (folder / "tokenizer.json").write_text("{}")
    from medpriv_desktop.core.models.registry import sha256_file

    card = {"id": LM_ID, "title": "tiny LM", "version": "0.0.1", "task": "causal-lm", "intended_use": "tests",
            "license": "Apache-2.0", "sha256": sha256_file(folder / "model.onnx"),
            "text_input": {"max_tokens": 64},
            "outputs": {"generation": {"eos_token_id": 0, "max_new_tokens": 8}},
            "training": {"datasets": [{"name": "none", "license": "n/a"}], "command": "test", "date": "2026-01-01"}}
    (folder / "model_card.json").write_text(json.dumps(card))
    return folder


def _site(tmp: Path, monkeypatch, how: str, listed: list[str]) -> Settings:
    """A site folder holding the LM bundle and an allow-list of ``listed`` manifests, set up ``how``."""
    site = tmp / "site"
    _lm_bundle(site / LM_ID)
    allow = {"version": 2, "manifest_sha256": listed or ["0" * 64]}
    if how == "machine-wide":
        (tmp / "it").mkdir()
        (tmp / "it" / "allowlist.json").write_text(json.dumps(allow))
        cfg = tmp / "it" / "site.json"
        cfg.write_text(json.dumps({"version": 1, "site_models_dir": str(site),
                                   "allowlist": str(tmp / "it" / "allowlist.json")}))
        monkeypatch.setenv("MEDPRIV_SITE_CONFIG", str(cfg))
        # the user's setting names another folder: the site config wins
        return Settings(site_models_dir=str(tmp / "elsewhere"))
    (site / "allowlist.json").write_text(json.dumps(allow))
    return Settings(site_models_dir=str(site))


def _manifests() -> dict[str, str]:
    """Manifest hashes of the bundled PHI and embedding models and the site LM (what IT would list)."""
    ctx = Context.build(Settings())
    out = {e.card.id: bundle_manifest(e.path).sha256 for e in ctx.registry.entries()
           if e.card.task.value in ("phi-ner", "embedding")}
    return out


def _loaders(ctx: Context):
    from medpriv_desktop.core.app.notes import synthesize_notes
    from medpriv_desktop.core.notes.model_recognizer import load_default_model_recognizer
    from medpriv_desktop.core.notes.synth.engines import get_engine
    from medpriv_desktop.core.notes.synth.quality import load_embedding_encoder

    def lm_through_the_use_case(tmp: Path) -> None:
        (tmp / "in").mkdir(parents=True, exist_ok=True)
        (tmp / "in" / "n.txt").write_text("Chest pain, seen today.")
        job = synthesize_notes(ctx, SynthRequest(tmp / "in", tmp / "out", engine=LM_ID),
                               detector_factory=lambda: None)
        next(job)

    return {
        "phi": lambda tmp: load_default_model_recognizer(registry=ctx.registry, threads=1),
        "phi via the engine": lambda tmp: deid_engine_factory(ctx)(),
        "embedding": lambda tmp: load_embedding_encoder(registry=ctx.registry, threads=1),
        "language model": lambda tmp: get_engine(LM_ID, ctx.registry),
        "language model via the use case": lm_through_the_use_case,
    }


@pytest.mark.parametrize("how", ["machine-wide", "settings"])
def test_unlisted_text_models_refuse_to_load(tmp_path, monkeypatch, medpriv_home, how):
    settings = _site(tmp_path, monkeypatch, how, listed=[])
    ctx = Context.build(settings)
    assert ctx.registry.site_dir == tmp_path / "site"
    ids = {e.card.id for e in ctx.registry.entries()}
    assert {"phi-minilm-l4-int8", "minilm-embedding", LM_ID} <= ids  # listed (JSON only), refused on load
    for name, load in _loaders(ctx).items():
        with pytest.raises(ModelError, match="allow-list") as info:
            load(tmp_path / name.replace(" ", "_"))
        assert info.value.path is not None, name


def test_listed_text_models_pass_the_site_checks(tmp_path, monkeypatch, medpriv_home):
    listed = _manifests()
    lm_manifest = bundle_manifest(_lm_bundle(tmp_path / "probe" / LM_ID)).sha256
    settings = _site(tmp_path, monkeypatch, "machine-wide", list(listed.values()) + [lm_manifest])
    ctx = Context.build(settings)
    loaders = _loaders(ctx)
    assert loaders["phi"](tmp_path) is not None
    assert loaders["embedding"](tmp_path) is not None
    # the LM's bytes are no ONNX model: past the allow-list, loading it fails on its content instead
    entry = ctx.registry.get(LM_ID)
    assert ctx.registry.verified_model_path(entry) == entry.model_path
