"""Issue 21 in the real window under Xvfb: regions of the screen, not colour counts.

Runs ``drive_usability.py`` (the demo CT, the demo notes, a demo report) and checks what a person would see: inside
the body the axial view is plain grey (the body is an outline) while its edge and an organ carry their colours; the
3D view shows the organs with the body hidden by default, and showing the body covers them; the colour-blind
palette reaches the screen; a table row's jump is announced; a highlight has its category's colour; a batch lists
every note and opens one for review; each kind of report bar (positive, negative, not assessed) has its own fill.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@pytest.mark.e2e
def test_usability_checks_on_screen(xvfb_run, artifacts_dir, medpriv_home):
    out = Path(artifacts_dir) / "usability_e2e"
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = str(REPO)
    r = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1400x900x24", sys.executable, str(HERE / "drive_usability.py"), str(out)],
        capture_output=True, text=True, timeout=600, env=env, cwd=REPO,
    )
    result_file = out / "usability_e2e.json"
    assert result_file.exists(), r.stdout[-2000:] + r.stderr[-4000:]
    res = json.loads(result_file.read_text())
    detail = json.dumps(res, indent=2) + r.stderr[-3000:]
    assert res["platform"] == "xcb", detail
    assert not res["errors_shown"], detail
    # Imaging (item 5): body outline in the slices, hidden in 3D, palette, announced jump.
    probes = res["axial_probes"]
    assert probes["organ_tinted_with_its_colour"], detail
    if "body_inside_untinted" in probes:
        assert probes["body_inside_untinted"] and probes["body_edge_tinted"], detail
        assert res["3d_body_hides_organs"], detail
    assert not res["body_surface_meshed_by_default"], detail
    assert res["jump_announced"] and res["palette_on_screen"], detail
    # Notes (items 1 and 9): the highlight's colour on screen; the batch lists every note and opens one for review.
    assert res["highlight_on_screen"], detail
    assert len(res["batch_listed"]) >= 2 and res["batch_note_opened_for_review"], detail
    assert res["synth_message"].startswith("None of the"), detail
    # Reports (item 4): one probe per kind of bar that occurred, a positive among them.
    if "reports_skipped" not in res:
        assert res["bar_probes"].get("positive") and all(res["bar_probes"].values()), detail
    assert all(res["ok"].values()) and r.returncode == 0, detail
