"""Quality control of a segmentation, per structure, each check ending in pass / warn / fail with a reason.

(a) plausibility: the structure's volume against the card's ``reference_volume`` (published adult norms, cited in the
    card; a structure without one gets an ``info`` item with its volume and the card's ``volume_note`` saying why no
    range is checked, so every structure found has a volume line) and its number of connected components against ``expected_components``, counted on the map as the model
    made it, before keep-largest-component removed the fragments (the reason says how much was removed);
(b) agreement: Dice between the model and a second opinion, the installed ``teacher`` of the same model ``family``
    when there is one, else the same model on the image flipped along the card's ``mirror_axes`` with its left/right
    ``label_pairs`` swapped back (test-time-flip agreement; none when the model was not trained mirrored);
(c) uncertainty: the mean normalised softmax entropy (0..1) inside the structure, at model resolution.

Thresholds are class constants of :class:`QCThresholds` so a site can tune them in one place. Every reason a person
reads states the measured value, the threshold it was held against and, for volumes, the source of the range
("spleen 34.0 mL below the adult range 50-400 mL [Prassopoulos P et al. 1997]"; "mean entropy 0.41 > 0.35"); a structure cut
by the edge of the field of view (the array's edge or a CT's reconstruction circle, see ``stats.touches_border``) is
reported as partial, never as implausibly small or fragmented, and agreement is worded as agreement between two
models, never as accuracy.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from medpriv_desktop.core.fileio import atomic_write_text
from medpriv_desktop.core.imaging.inference import SegmentationResult, segment_volume
from medpriv_desktop.core.imaging.postprocess import component_counts
from medpriv_desktop.core.imaging.sliding_window import flip_sets
from medpriv_desktop.core.imaging.stats import StructureStats
from medpriv_desktop.core.imaging.volume import Volume
from medpriv_desktop.core.jobs import Job, Progress, scaled
from medpriv_desktop.core.models.card import ModelCard
from medpriv_desktop.core.models.registry import ModelEntry, ModelRegistry

#: ``info`` states a measurement without a verdict (a volume with no adult range): it never changes a structure's
#: worst status and is not counted in the summary.
_RANK = {"info": -1, "pass": 0, "warn": 1, "fail": 2}


class QCThresholds:
    """Where pass ends and warn / fail begin."""

    #: Outside the reference range by more than this fraction of the range's bound: fail (else warn).
    VOLUME_FAIL_MARGIN = 0.5
    DICE_PASS = 0.85
    DICE_WARN = 0.6
    ENTROPY_PASS = 0.15
    ENTROPY_WARN = 0.35


@dataclass
class QCItem:
    """One check of one structure."""

    value: int
    name: str
    check: str  # "volume" | "components" | "agreement" | "uncertainty"
    status: str  # "pass" | "warn" | "fail" | "info" (a measurement without a verdict)
    reason: str
    metric: float | None = None


@dataclass
class QCReport:
    """All checks, plus how the second opinion was obtained."""

    items: list[QCItem] = field(default_factory=list)
    second_opinion: str = "none"  # "teacher:<id>", "flip" or "none"
    notes: list[str] = field(default_factory=list)  # why a check was not made, for people

    def by_structure(self) -> dict[str, str]:
        """Worst status of each structure."""
        out: dict[str, str] = {}
        for it in self.items:
            cur = out.get(it.name, "pass")
            out[it.name] = it.status if _RANK[it.status] > _RANK[cur] else cur
        return out

    def counts(self) -> dict[str, int]:
        """How many structures end in pass, warn and fail."""
        worst = self.by_structure().values()
        return {s: sum(1 for w in worst if w == s) for s in ("pass", "warn", "fail")}

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps({"second_opinion": self.second_opinion, "summary": self.counts(),
                           "structures": self.by_structure(), "checks": [asdict(i) for i in self.items],
                           "notes": self.notes}, indent=2)

    def write(self, path: Path) -> None:
        """Write the JSON report atomically."""
        atomic_write_text(path, self.to_json() + "\n")


def short_source(source: str | None) -> str:
    """A citation short enough for a table cell: the first author part and the year ("Heymsfield SB et al. 1979")."""
    if not source:
        return "source not given on the card"
    head = source.split(",")[0].strip()
    year = re.search(r"\b(19|20)\d{2}\b", source)
    return f"{head} {year.group(0)}" if year and year.group(0) not in head else head


def _range_text(ref) -> str:
    return f"adult range {ref.min_ml:g}-{ref.max_ml:g} mL [{short_source(getattr(ref, 'source', None))}]"


#: Said of a structure that touches the edge of the field of view.
_PARTIAL = "partial: cut by the edge of the field of view"


def _components_item(s: StructureStats, n: int, exp: int, removed_ml: float) -> QCItem:
    """Component count (before post-processing) against ``exp``; a structure cut by the field of view is partial
    (one organ can show as several pieces there, as an aortic arch cut by the top slice does), so at most a warn."""
    status = "pass" if n <= exp else ("warn" if n <= exp + 2 else "fail")
    limits = f"{exp} expected (warn above {exp}, fail above {exp + 2})"
    if removed_ml > 0:
        reason = (f"{n} connected components before post-processing, {limits}; post-processing kept the largest "
                  f"(and any piece cut by the edge of the scan) and removed the rest ({removed_ml:.1f} mL)")
    else:
        reason = f"{n} connected component(s), {limits}"
    if n > exp and s.touches_border:
        status = "warn"
        reason += f"; {_PARTIAL}, where one structure can show as several pieces"
    return QCItem(s.value, s.name, "components", status, reason, float(n))


def plausibility(stats: list[StructureStats], card: ModelCard, components: dict[int, int], *,
                 removed_ml: dict[int, float] | None = None) -> list[QCItem]:
    """Volume against the card's reference range and component count against ``expected_components``.

    ``components`` holds the counts of the map before post-processing; ``removed_ml`` the volume keep-largest-
    component removed per label, so the reason can say that the fragments were there and were removed.
    """
    t = QCThresholds
    by_value = card.label_by_value()
    items: list[QCItem] = []
    for s in stats:
        lb = by_value.get(s.value)
        if lb is None:
            continue
        ref = lb.reference_volume
        if ref is None and s.voxels > 0:
            why = getattr(lb, "volume_note", None) or "the card gives no published adult range for this structure"
            items.append(QCItem(s.value, s.name, "volume", "info", f"{s.volume_ml:.1f} mL; volume not checked: {why}",
                                s.volume_ml))
        if ref is not None:
            v = s.volume_ml
            if s.voxels == 0:
                items.append(QCItem(s.value, s.name, "volume", "warn", "not found (outside the field of view or "
                                    f"missed by the model; {_range_text(ref)})", 0.0))
            elif ref.min_ml <= v <= ref.max_ml:
                edge = "; touches the edge of the field of view" if s.touches_border else ""
                items.append(QCItem(s.value, s.name, "volume", "pass",
                                    f"{v:.1f} mL within the {_range_text(ref)}{edge}", v))
            elif v < ref.min_ml and s.touches_border:
                items.append(QCItem(s.value, s.name, "volume", "warn",
                                    f"{_PARTIAL}, {v:.1f} mL seen (the {_range_text(ref)} is for the whole organ)",
                                    v))
            else:
                bound = ref.min_ml if v < ref.min_ml else ref.max_ml
                far = abs(v - bound) > t.VOLUME_FAIL_MARGIN * bound
                side = "below" if v < ref.min_ml else "above"
                items.append(QCItem(s.value, s.name, "volume", "fail" if far else "warn",
                                    f"{v:.1f} mL {side} the {_range_text(ref)} (fail beyond "
                                    f"{t.VOLUME_FAIL_MARGIN:.0%} of the bound)", v))
        if lb.expected_components is not None and s.voxels > 0:
            items.append(_components_item(s, components.get(s.value, 0), lb.expected_components,
                                          (removed_ml or {}).get(s.value, 0.0)))
    return items


def dice_by_name(a: Volume, names_a: dict[int, str], b: Volume, names_b: dict[int, str]) -> dict[str, float]:
    """Dice per structure name between two label maps on the same grid (labels matched by name)."""
    if a.shape != b.shape:
        raise ValueError("label maps on different grids")
    inv_b = {n: v for v, n in names_b.items()}
    na = max(int(a.array.max()) + 1 if a.array.size else 1, max(names_a, default=0) + 1)
    nb = int(b.array.max()) + 1 if b.array.size else 1
    # Translate b's values into a's by name (-1 for names a lacks), then count everything in one pass.
    lut = np.full(max(nb, max(inv_b.values(), default=0) + 1), -1, np.int32)
    for va, name in names_a.items():
        if name in inv_b and va != 0:
            lut[inv_b[name]] = va
    b_in_a = lut[b.array]
    count_a = np.bincount(a.array.ravel(), minlength=na)
    count_b = np.bincount(b_in_a[b_in_a >= 0].ravel(), minlength=na)
    same = a.array == b_in_a
    inter = np.bincount(a.array[same].ravel(), minlength=na)
    out: dict[str, float] = {}
    for va, name in names_a.items():
        if va == 0 or name not in inv_b or va >= na:
            continue
        denom = int(count_a[va]) + int(count_b[va])
        if denom:
            out[name] = 2.0 * int(inter[va]) / denom
    return out


def agreement_items(dice: dict[str, float], names: dict[int, str], method: str,
                    partial: set[str] | None = None) -> list[QCItem]:
    """pass / warn / fail from Dice values; structures named in ``partial`` (cut by the field of view) say so, since
    both opinions then judge only the part that was scanned."""
    t = QCThresholds
    inv = {n: v for v, n in names.items()}
    items = []
    for name, d in dice.items():
        status = "pass" if d >= t.DICE_PASS else ("warn" if d >= t.DICE_WARN else "fail")
        cmp = {"pass": f"≥ {t.DICE_PASS:.2f}", "warn": f"< {t.DICE_PASS:.2f}", "fail": f"< {t.DICE_WARN:.2f}"}[status]
        cut = f"; {_PARTIAL}: the Dice is of the part in the scan" if partial and name in partial else ""
        items.append(QCItem(inv[name], name, "agreement", status,
                            f"Dice {d:.2f} {cmp} between this model and {method} (agreement of two models, not "
                            f"accuracy; pass from {t.DICE_PASS:.2f}, warn from {t.DICE_WARN:.2f}){cut}", d))
    return items


def uncertainty_items(result: SegmentationResult) -> list[QCItem]:
    """Mean normalised entropy inside each structure (model resolution)."""
    t = QCThresholds
    lab = result.labels_model.array.ravel().astype(np.intp)
    ent = result.entropy.array.ravel().astype(np.float64)
    n = len(result.labels_model.labels) if result.labels_model.labels else int(lab.max()) + 1
    n = max(n, int(lab.max()) + 1 if lab.size else 1)
    counts = np.bincount(lab, minlength=n)
    sums = np.bincount(lab, weights=ent, minlength=n)
    items = []
    for v, name in sorted(result.labels_model.labels.items()):
        if v == 0 or counts[v] == 0:
            continue
        m = float(sums[v] / counts[v])
        status = "pass" if m <= t.ENTROPY_PASS else ("warn" if m <= t.ENTROPY_WARN else "fail")
        cmp = {"pass": f"≤ {t.ENTROPY_PASS:.2f}", "warn": f"> {t.ENTROPY_PASS:.2f}",
               "fail": f"> {t.ENTROPY_WARN:.2f}"}[status]
        items.append(QCItem(v, name, "uncertainty", status,
                            f"mean entropy {m:.2f} {cmp} (pass up to {t.ENTROPY_PASS:.2f}, warn up to "
                            f"{t.ENTROPY_WARN:.2f}; 0 = certain, 1 = uniform)", m))
    return items


def find_teacher(registry: ModelRegistry, entry: ModelEntry) -> ModelEntry | None:
    """The installed teacher of the same family (not the model itself), or None."""
    fam = entry.card.family
    if not fam:
        return None
    for e in registry.entries("segmentation"):
        if e.card.family == fam and e.card.role == "teacher" and e.card.id != entry.card.id:
            if set(e.card.modalities) & set(entry.card.modalities):
                return e
    return None


def run_qc(volume: Volume, result: SegmentationResult, entry: ModelEntry, registry: ModelRegistry,
           stats: list[StructureStats], *, second_opinion: str = "auto", threads: int | None = None) -> Job[QCReport]:
    """All three QC forms. ``second_opinion``: "auto" (teacher if installed, else flip), "teacher", "flip", "none".

    The flipped opinion flips the axes the card's ``mirror_axes`` allow (all three when it does not say) and swaps
    the left/right ``label_pairs`` back; a card with no mirror axes gets no flipped opinion, and a note says why.
    """
    card = entry.card
    yield Progress(0.0, "QC: plausibility")
    named = [lb.value for lb in card.outputs.labels if lb.expected_components is not None]
    comps = result.components_before
    if comps is None or any(v not in comps for v in named):
        comps = component_counts(result.labelmap.array, named) if named else {}  # no record: count what is there
    voxel_ml = result.labelmap.voxel_volume_ml
    removed = {v: n * voxel_ml for v, n in result.postprocess.get("largest_component_removed", {}).items()}
    report = QCReport(items=plausibility(stats, card, comps, removed_ml=removed))
    report.items += uncertainty_items(result)
    teacher = find_teacher(registry, entry) if second_opinion in ("auto", "teacher") else None
    _, flip_axes = flip_sets(card.image_input.mirror_axes if card.image_input else None)
    other: SegmentationResult | None = None
    if teacher is not None:
        other = yield from scaled(segment_volume(volume, teacher, registry, threads=threads), 0.05, 0.95,
                                  "QC teacher: ")
        report.second_opinion = f"teacher:{teacher.card.id}"
    elif second_opinion in ("auto", "flip") and not flip_axes:
        report.notes.append(f"no flipped second opinion: the card of '{card.id}' lists no mirror axes (the model was "
                            "not trained on mirrored images, so it is not expected to agree with itself on one)")
    elif second_opinion in ("auto", "flip"):
        other = yield from scaled(segment_volume(volume, entry, registry, threads=threads, flips=(flip_axes,)),
                                  0.05, 0.95, "QC flipped: ")
        report.second_opinion = "flip"
    if other is not None:
        dice = dice_by_name(result.labelmap, result.labelmap.labels, other.labelmap, other.labelmap.labels)
        method = "the teacher model" if teacher is not None else "the flipped image"
        partial = {s.name for s in stats if s.touches_border and s.voxels}
        report.items += agreement_items(dice, result.labelmap.labels, method, partial)
    report.items.sort(key=lambda i: (i.value, i.check))
    yield Progress(1.0, "QC done")
    return report
