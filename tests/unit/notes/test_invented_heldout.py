"""The project's held-out invented notes (tests/fixtures/invented_notes, written once and never tuned on): with the
bundled engine (rules + PHI tagger), at most 3% of the planted PHI strings survive and the look-alikes stay.

Only counts are asserted and shown; which strings survived is never printed (reading them would turn the test set
into a tuning set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medpriv_desktop.core.notes.leaks import count_leaks
from medpriv_desktop.core.notes.operators import apply_operator

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "invented_notes"


@pytest.fixture(scope="module")
def leaks():
    from medpriv_desktop.core.notes.engine import DeidEngine, EngineConfig

    engine = DeidEngine(EngineConfig())
    if engine.model_recognizer is None:
        pytest.fail("the bundled PHI tagger did not load")
    outputs = {}
    for f in sorted(CASES.glob("n*.txt")):
        text = f.read_text(encoding="utf-8")
        outputs[f.name] = apply_operator("tag", text, engine.analyze(text))
    assert len(outputs) == 45
    return count_leaks(CASES, outputs)


def test_at_most_three_percent_of_planted_phi_survives(leaks):
    counts = {k: v for k, v in leaks.items() if k != "KEEP"}
    surviving, total = sum(v[0] for v in counts.values()), sum(v[1] for v in counts.values())
    assert total == 795
    assert surviving <= 0.03 * total, f"{surviving} of {total} survive: " + ", ".join(
        f"{k} {v[0]}/{v[1]}" for k, v in sorted(counts.items()))


def test_look_alikes_mostly_survive(leaks):
    kept, total = leaks["KEEP"]
    assert kept >= 0.85 * total, f"only {kept} of {total} look-alikes kept"


def test_leak_counter_counts_what_the_shared_checker_counts(tmp_path):
    """The counting rule itself, on a note made here: a surviving phrase, a broken phrase, a number inside a number."""
    import json

    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "phi.json").write_text(json.dumps({"a.txt": [
        {"text": "Jane Ruiz", "category": "NAME"}, {"text": "88", "category": "AGE"},
        {"text": "Westbrook", "category": "LOCATION"}]}))
    got = count_leaks(tmp_path, {"a.txt": "seen by jane   ruiz; temp 98.88, room 880; to [LOCATION]"})
    assert got["NAME"] == (1, 1) and got["AGE"] == (0, 1) and got["LOCATION"] == (0, 1)
