"""The smoke test of an installed (frozen) app: every engine once, on the bundled demo, with the bundled models.

``medpriv-desktop --smoke-test OUTDIR`` opens the real window with the demo and runs these steps on a worker thread:

1. ``demo``: write (or reuse) the generated demo study, notes and reports;
2. ``segment``: segment the demo CT with the default *bundled* segmentation
   model (the student when there is one) through ``core.app.segment_study`` (the use case of ``medpriv segment`` and
   the window: one read, the audit entry) driven by ``run_job``, writing the label map and per-structure statistics;
3. ``meshes``: surface meshes of the result with VTK (proves VTK works in the bundle; meshes the demo's reference
   labels when segmentation failed, so VTK is checked either way);
4. ``deid``: de-identify the demo notes with the notes engine's batch job (``notes.batch.deidentify_folder`` with a
   ``DeidEngine``, tag operator) and check that most of the PHI planted in them is gone (the count left is recorded);
5. ``classify``: classify the demo chest X-ray reports with the reports engine's batch job
   (``reports.batch.classify_reports`` with the bundled chest X-ray ``ReportModel``) and check one 0/1 column per
   supported label of its card.

Every job is driven by ``core.jobs.run_job``.

Each step records ok/failed, seconds and a one-line error naming what is missing (an engine that has not landed, a
model that is not bundled). ``OUTDIR/smoke_report.json`` holds everything; the exit code is 0 only when every step
passed. Nothing is faked: a missing piece is a failed step. Only demo data is touched, so messages may name files.
``python -m medpriv_desktop.smoke OUTDIR`` runs the same steps without a window.
"""

from __future__ import annotations

import csv
import json
import platform
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.fileio import atomic_write_text

REPORT_FILE = "smoke_report.json"
#: Share of the PHI values planted in the demo notes that must be gone for the step to pass. The smoke test checks
#: that the bundled engine runs with its recognizers (a broken bundle removes nothing); recall itself is measured by
#: the notes engine's evaluation, and the report records how many planted values were left.
MIN_PHI_REMOVED = 0.5


class SmokeStepError(Exception):
    """A smoke step failed for a reason it can state in one line."""


@dataclass
class StepResult:
    """What one step did."""

    name: str
    ok: bool = False
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class SmokeReport:
    """All steps, the environment, and the verdict."""

    steps: list[StepResult] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every step passed."""
        return bool(self.steps) and all(s.ok for s in self.steps)

    def to_json(self) -> str:
        """The report as JSON."""
        return json.dumps({"ok": self.ok, "environment": self.environment,
                           "steps": [asdict(s) for s in self.steps]}, indent=2, default=str)


def _environment() -> dict[str, Any]:
    from medpriv_desktop import __version__
    from medpriv_desktop.core import paths

    return {"version": __version__, "frozen": bool(getattr(sys, "frozen", False)), "python": platform.python_version(),
            "platform": platform.platform(), "resources": str(paths.resources_dir()),
            "torch_importable": _importable("torch")}


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


# -- steps ---------------------------------------------------------------------------------------------------------


def step_demo(ctx: dict[str, Any]) -> dict[str, Any]:
    """Write or reuse the demo data."""
    from medpriv_desktop.core.demo import make_demo

    demo = make_demo()
    ctx["demo"] = demo
    needed = [demo / "demo_ct.nii.gz", demo / "notes", demo / "reports.csv"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise SmokeStepError(f"demo data incomplete: {', '.join(missing)}")
    return {"folder": str(demo), "notes": len(list((demo / "notes").glob("*.txt")))}


def _bundled_entry(task: str, prefer: Callable[[Any], bool] | None = None):
    from medpriv_desktop.core.models.registry import ModelRegistry

    registry = ModelRegistry()
    entries = [e for e in registry.entries(task) if e.root == "bundled"]
    if prefer is not None:
        # preferred first; among the rest, a student the card does not vouch for comes last
        entries.sort(key=lambda e: (not prefer(e), e.card.role == "student"))
    if not entries:
        raise SmokeStepError(f"no bundled {task} model in {registry.bundled_dir} "
                             f"(problems: {[p.message for p in registry.problems] or 'none'})")
    return registry, entries[0]


def step_segment(ctx: dict[str, Any]) -> dict[str, Any]:
    """Segment the demo CT with the default bundled segmentation model."""
    from medpriv_desktop.core.app import Context, SegmentOptions, segment_study
    from medpriv_desktop.core.jobs import run_job

    registry, entry = _bundled_entry("segmentation", prefer=lambda e: e.card.preferred_student)
    out = ctx["out"] / "segmentation"
    out.mkdir(parents=True, exist_ok=True)
    # the use case the CLI and the window run: one read, the session factory's threads, stats, the audit entry
    res = run_job(segment_study(Context.build(registry=registry), ctx["demo"] / "demo_ct.nii.gz", entry, output=out,
                                options=SegmentOptions(stats=True, formats=("nii.gz",), check_fit=False)))
    result, volume = res.segmentation, res.volume
    present = result.labelmap.present_values()
    if not present:
        raise SmokeStepError(f"model {entry.card.id} found no structure in the demo CT")
    if result.labelmap.shape != volume.shape:
        raise SmokeStepError(f"label map shape {result.labelmap.shape} differs from the CT's {volume.shape}")
    ctx["labelmap"] = result.labelmap
    return {"model": entry.card.id, "version": entry.card.version, "role": entry.card.role,
            "structures_found": [result.labelmap.labels.get(v, str(v)) for v in present],
            "tiles": result.n_tiles, "timings": {k: round(v, 3) for k, v in result.timings.items()}}


def step_meshes(ctx: dict[str, Any]) -> dict[str, Any]:
    """Surface meshes with VTK: of the segmentation, or of the demo's reference labels when segmentation failed.

    Meshing the reference labels keeps VTK checked in the bundle even while no segmentation model is installed; the
    segment step fails on its own in that case, so the run still fails.
    """
    from medpriv_desktop.core.imaging.io import read_labelmap
    from medpriv_desktop.render.meshes import export_meshes

    labelmap, source = ctx.get("labelmap"), "segmentation"
    if labelmap is None:
        names = json.loads((ctx["demo"] / "demo_ct_reference_labels.json").read_text(encoding="utf-8"))
        labelmap = read_labelmap(ctx["demo"] / "demo_ct_reference_labels.nii.gz",
                                 {int(k): v for k, v in names.items()})
        source = "demo reference labels"
    written = export_meshes(labelmap, ctx["out"] / "meshes", formats=("stl",), smoothing_iterations=4)
    empty = [p.name for p in written if p.stat().st_size == 0]
    if not written or empty:
        raise SmokeStepError(f"VTK wrote no usable mesh (empty: {empty})")
    return {"files": len(written), "source": source}


def _engine(module: str, names: tuple[str, ...], owner: str) -> tuple[Any, ...]:
    """Import public names of an engine; a missing module or name is a step failure naming the engine."""
    import importlib

    try:
        mod = importlib.import_module(module)
        return tuple(getattr(mod, n) for n in names)
    except (ImportError, AttributeError) as exc:
        raise SmokeStepError(f"{owner} is not installed: {module}.{'/'.join(names)} ({type(exc).__name__})") from None


def step_deid(ctx: dict[str, Any]) -> dict[str, Any]:
    """De-identify the demo notes with the notes engine's batch job and check the planted PHI is gone."""
    from medpriv_desktop.core.demo import demo_notes
    from medpriv_desktop.core.jobs import run_job

    (deidentify_folder,) = _engine("medpriv_desktop.core.notes.batch", ("deidentify_folder",),
                                   "the de-identification engine")
    deid_engine, engine_config = _engine("medpriv_desktop.core.notes.engine", ("DeidEngine", "EngineConfig"),
                                         "the de-identification engine")
    src = ctx["demo"] / "notes"
    out = ctx["out"] / "deid"
    summary = run_job(deidentify_folder(src, out, lambda: deid_engine(engine_config()), "tag"))
    if summary.failed:
        raise SmokeStepError(f"{len(summary.failed)} notes failed: {summary.failed[:3]}")
    planted = {n.name: n for n in demo_notes()}
    left, total, files = 0, 0, 0
    for name, note in planted.items():
        f = out / name
        if not f.is_file():
            raise SmokeStepError(f"no de-identified output for {name}")
        text = f.read_text(encoding="utf-8")
        files += 1
        for values in note.phi.values():
            for v in values:
                total += 1
                left += v in text
    if total == 0 or (total - left) < MIN_PHI_REMOVED * total:
        raise SmokeStepError(f"{left} of {total} planted PHI values are still in the de-identified notes")
    return {"notes": files, "planted_phi": total, "phi_left": left, "model": summary.model_id or "rules only",
            "counts": dict(summary.counts)}


def _is_chest_xray(entry: Any) -> bool:
    names = {lb.name for lb in entry.card.outputs.labels}
    return bool(names & {"Cardiomegaly"}) and bool(names & {"Effusion", "Pleural Effusion", "Pneumothorax"})


def step_classify(ctx: dict[str, Any]) -> dict[str, Any]:
    """Classify the demo chest X-ray reports with the bundled report classifier (the engine's batch job)."""
    from medpriv_desktop.core.jobs import run_job

    read_reports, classify_reports = _engine("medpriv_desktop.core.reports.batch",
                                             ("read_reports", "classify_reports"), "the report classification engine")
    (report_model,) = _engine("medpriv_desktop.core.reports.classifier", ("ReportModel",),
                              "the report classification engine")
    registry, entry = _bundled_entry("report-classification", prefer=_is_chest_xray)
    src = ctx["demo"] / "reports.csv"
    out = ctx["out"] / "classify" / "labels.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    reports = read_reports(src, "text", "report_id")
    summary = run_job(classify_reports(report_model.from_entry(entry, registry), reports, out))
    with open(src, encoding="utf-8", newline="") as fh:
        n_in = sum(1 for _ in csv.DictReader(fh))
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    labels = [lb.name for lb in entry.card.outputs.labels if lb.supported]
    missing = [lb for lb in labels if rows and lb not in rows[0]]
    if len(rows) != n_in or missing:
        raise SmokeStepError(f"classifier output has {len(rows)} rows for {n_in} reports; missing columns {missing}")
    bad = [r.get("report_id") for r in rows for lb in labels if r[lb] not in ("0", "1")]
    if bad:
        raise SmokeStepError(f"non-0/1 decisions for reports {sorted(set(map(str, bad)))[:5]}")
    return {"model": entry.card.id, "reports": len(rows), "labels": len(labels),
            "positives": sum(summary.positives.values())}


STEPS: tuple[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]], ...] = (
    ("demo", step_demo), ("segment", step_segment), ("meshes", step_meshes), ("deid", step_deid),
    ("classify", step_classify))


def run_smoke(outdir: Path, on_step: Callable[[StepResult], Any] | None = None) -> SmokeReport:
    """Run every step (a failed step does not stop the others), write ``OUTDIR/smoke_report.json``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    report = SmokeReport(environment=_environment())
    ctx: dict[str, Any] = {"out": outdir}
    for name, fn in STEPS:
        res = StepResult(name)
        t = time.perf_counter()
        try:
            if name != "demo" and "demo" not in ctx:
                raise SmokeStepError("no demo data (the demo step failed)")
            res.details = fn(ctx)
            res.ok = True
        except SmokeStepError as exc:
            res.error = str(exc)
        except Exception as exc:  # any engine failure is a failed step, recorded with where it happened
            msg = getattr(exc, "message", None) or str(exc)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            res.error = f"{type(exc).__name__}: {msg} (at {Path(where.filename).name}:{where.lineno})"
        res.seconds = round(time.perf_counter() - t, 3)
        report.steps.append(res)
        if on_step is not None:
            on_step(res)
    atomic_write_text(outdir / REPORT_FILE, report.to_json())
    return report


def _print_step(res: StepResult) -> None:
    if sys.stdout is None:  # a windowed Windows build has no console
        return
    status = "ok  " if res.ok else "FAIL"
    print(f"smoke {status} {res.name:9s} {res.seconds:7.2f}s  {res.error or ''}", flush=True)


# -- in the window -----------------------------------------------------------------------------------------------


def start_in_window(window: Any, app: Any, outdir: Path, timeout_s: float = 900.0, min_seconds: float = 0.0) -> None:
    """Open the demo in ``window``, run the steps on a thread, save a screenshot, quit ``app`` with 0 or 1
    (not before ``min_seconds`` from the start)."""
    from PySide6.QtCore import QTimer

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    window.open_demo()  # on the GUI thread first, so the worker finds the demo already written
    box: dict[str, SmokeReport] = {}
    worker = threading.Thread(target=lambda: box.setdefault("report", run_smoke(outdir, _print_step)),
                              name="smoke", daemon=True)
    worker.start()
    started = time.monotonic()
    timer = QTimer(window)

    def _poll() -> None:
        timed_out = time.monotonic() - started > timeout_s
        if worker.is_alive() and not timed_out:
            return
        if getattr(window.runner, "busy", False) and not timed_out:
            return  # let the window finish loading the demo study before the picture
        if time.monotonic() - started < min_seconds and not timed_out:
            return
        timer.stop()
        from medpriv_desktop.gui.screenshot import grab_window

        window.tabs.setCurrentWidget(window.workspaces["imaging"])
        app.processEvents()
        grab_window(window, outdir / "window.png")
        report = box.get("report")
        if report is None:
            atomic_write_text(outdir / REPORT_FILE, json.dumps({"ok": False, "error": f"timed out after {timeout_s} s"}))
        code = 0 if report is not None and report.ok else 1
        if sys.stdout is not None:
            print(f"smoke {'passed' if code == 0 else 'FAILED'}; results in {outdir}", flush=True)
        window.close()
        app.exit(code)

    timer.timeout.connect(_poll)
    timer.start(200)


def main(argv: list[str] | None = None) -> int:
    """``python -m medpriv_desktop.smoke OUTDIR``: the steps without a window."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m medpriv_desktop.smoke OUTDIR", file=sys.stderr)
        return 2
    from medpriv_desktop.core.logging import setup_logging

    setup_logging()
    return 0 if run_smoke(Path(args[0]), _print_step).ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
