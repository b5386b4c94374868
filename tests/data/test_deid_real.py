"""The de-identification engine on the public PhysioNet deid notes (skipped when ../shared/data is absent).

The development notes are split by patient into a tuning and a locked part (core/notes/dev_split.py). On the tuning
part the floors below catch a regression of the engine. On the locked part nothing is read note by note: the test
recomputes the totals the bundled tagger's card publishes and checks that the card tells the truth.
"""

from __future__ import annotations

import pytest

from medpriv_desktop.core.jobs import run_job
from medpriv_desktop.core.notes import eval_parts
from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig
from medpriv_desktop.core.notes.evaluation import evaluate_corpus, read_corpus


@pytest.fixture(scope="module")
def physionet_docs():
    from tests.conftest import shared_data_dir

    root = shared_data_dir()
    if root is None or not (root / "notes" / "physionet-deid").is_dir():
        pytest.skip("../shared/data/notes/physionet-deid not present: public-data test skipped")
    return read_corpus(root / "notes" / "physionet-deid", "physionet")


@pytest.fixture(scope="module")
def engine():
    return DeidEngine(EngineConfig())


def test_split_is_fixed_and_by_patient(physionet_docs):
    tuning = eval_parts.select_part(physionet_docs, "tuning")
    locked = eval_parts.select_part(physionet_docs, "locked")
    assert len(physionet_docs) == 591 and (len(tuning), len(locked)) == (380, 211)
    assert not {eval_parts.patient_of(d) for d in tuning} & {eval_parts.patient_of(d) for d in locked}


def test_engine_on_the_tuning_part(physionet_docs, engine):
    report = run_job(evaluate_corpus(eval_parts.select_part(physionet_docs, "tuning"), engine))
    tok = report.token["ALL"]
    assert tok.recall >= 0.97 and tok.precision >= 0.85, report.table()
    for cat in ("HCPName", "RelativeProxyName", "Date", "Location"):
        assert report.token[cat].recall >= 0.95, report.table()


def test_card_figures_on_the_locked_part_are_reproduced(physionet_docs, engine):
    entry = engine.model_recognizer
    assert entry is not None, "the bundled PHI tagger did not load"
    from medpriv_desktop.core.models.registry import ModelRegistry

    card = ModelRegistry().get(engine.model_id).card
    published = {(m.name, m.label): m.value for m in card.metrics.values if m.split.startswith("locked part")}
    if ("token_recall", None) not in published:
        pytest.fail(f"{card.id} publishes no locked-part figures (medpriv-train phi report-locked BUNDLE)")
    docs = eval_parts.select_part(physionet_docs, "locked")
    per_doc: list = []
    report = run_job(evaluate_corpus(docs, engine, per_doc))
    table = eval_parts.bootstrap_table(docs, per_doc, rounds=200)
    assert abs(table["ALL"]["recall"].value - published[("token_recall", None)]) < 0.002
    assert abs(table["ALL"]["precision"].value - published[("token_precision", None)]) < 0.002
    assert report.docs == 211
