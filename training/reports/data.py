"""Data adapters: every source becomes a :class:`ReportDataset` (ids, texts, a 0/1 label matrix, label names).

Sources: the CT-RATE CSV (18 labels), Open-i reports with NegBio's ChestX-ray14 gold labels, MIMIC-CXR-style CSVs with
CheXpert labels (1 / 0 / -1 uncertain / blank), and a generic CSV (one text column, chosen label columns).
Splits are made by report id with a keyed hash, so a report lands in the same split on every run and machine.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.reports.labels import CHESTXRAY14, CHEXPERT14, CTRATE18
from medpriv_desktop.core.reports.sections import join_sections

OPENI_LICENSE = "CC BY-NC-ND 4.0 (reports, Demner-Fushman et al. 2016); labels public domain (NegBio, Peng et al. 2018)"
CTRATE_LICENSE = "CC BY-NC-SA 4.0 (CT-RATE, Hamamci et al. 2024)"


@dataclass
class ReportDataset:
    """Reports with multi-label 0/1 targets."""

    name: str
    label_set: str
    label_names: list[str]
    ids: list[str]
    texts: list[str]
    labels: np.ndarray  # (N, L) float32 in {0, 1}
    license: str = ""
    citation: str | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, idx: np.ndarray | list[int]) -> ReportDataset:
        """The reports at positions ``idx``."""
        idx = list(int(i) for i in idx)
        return ReportDataset(self.name, self.label_set, list(self.label_names), [self.ids[i] for i in idx],
                             [self.texts[i] for i in idx], self.labels[idx], self.license, self.citation,
                             list(self.notes))

    def positives(self) -> dict[str, int]:
        """Number of positive reports per label."""
        return {n: int(self.labels[:, j].sum()) for j, n in enumerate(self.label_names)}


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise InputError("file not found", path=path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except UnicodeDecodeError:
        raise InputError("CSV is not UTF-8 text", path=path) from None


def _value(raw: str | None, uncertain: str, path: Path, column: str) -> float:
    """One label cell: 1/1.0 positive, 0/blank negative, -1 uncertain mapped by policy ('ones' or 'zeros')."""
    s = (raw or "").strip()
    if s == "":
        return 0.0
    try:
        v = float(s)
    except ValueError:
        raise InputError(f"label column '{column}' holds a non-number", path=path) from None
    if v < 0:
        return 1.0 if uncertain == "ones" else 0.0
    return 1.0 if v > 0 else 0.0


def load_generic_csv(path: str | Path, text_column: str, label_columns: list[str], id_column: str | None = None,
                     *, name: str | None = None, label_set: str = "custom", uncertain: str = "zeros",
                     license: str = "site data") -> ReportDataset:
    """A CSV with one text column and 0/1 (or 1/0/-1/blank) label columns; empty texts are dropped."""
    path = Path(path)
    rows = _read_csv(path)
    if not rows:
        raise InputError("CSV has no rows", path=path)
    missing = [c for c in [text_column, *label_columns, *([id_column] if id_column else [])] if c not in rows[0]]
    if missing:
        raise InputError(f"CSV lacks columns {missing}", path=path, hint=f"columns: {', '.join(rows[0])[:200]}")
    ids, texts, labels = [], [], []
    for i, r in enumerate(rows):
        text = (r[text_column] or "").strip()
        if not text:
            continue
        ids.append(r[id_column] if id_column else str(i))
        texts.append(text)
        labels.append([_value(r[c], uncertain, path, c) for c in label_columns])
    return ReportDataset(name or path.stem, label_set, list(label_columns), ids, texts,
                         np.asarray(labels, dtype=np.float32).reshape(len(ids), len(label_columns)), license)


def load_ctrate(path: str | Path) -> ReportDataset:
    """CT-RATE ``train.csv`` (``AccessionNo, report_text`` + 18 labels)."""
    path = Path(path)
    if path.is_dir():
        path = path / "train.csv"
    ds = load_generic_csv(path, "report_text", list(CTRATE18), "AccessionNo", name="CT-RATE", label_set="CT-RATE",
                          license=CTRATE_LICENSE)
    ds.citation = "Hamamci I.E. et al., CT-CLIP / CT-RATE, 2024"
    return ds


def load_openi(folder: str | Path) -> ReportDataset:
    """Open-i ``indiana_reports.csv`` joined with NegBio's ``openi_gold_labels.csv`` (ChestX-ray14 names).

    The text is the findings and impression with headings; reports with neither are dropped (nothing to classify).
    """
    folder = Path(folder)
    reports = _read_csv(folder / "indiana_reports.csv")
    gold = {r["filename"]: r for r in _read_csv(folder / "openi_gold_labels.csv")}
    ids, texts, labels = [], [], []
    for r in reports:
        key = f"CXR{r['uid']}"
        lab = gold.get(key)
        text = join_sections(r.get("findings"), r.get("impression"))
        if lab is None or not text:
            continue
        ids.append(key)
        texts.append(text)
        labels.append([_value(lab.get(c), "zeros", folder, c) for c in CHESTXRAY14])
    ds = ReportDataset("Open-i", "ChestX-ray14", list(CHESTXRAY14), ids, texts, np.asarray(labels, dtype=np.float32),
                       OPENI_LICENSE, "Demner-Fushman D. et al., JAMIA 2016; Peng Y. et al., NegBio, AMIA 2018")
    dropped = len(reports) - len(ids)
    if dropped:
        ds.notes.append(f"{dropped} reports without findings or impression (or labels) dropped")
    return ds


def load_chexpert_csv(path: str | Path, text_column: str = "report", id_column: str | None = None,
                      uncertain: str = "ones") -> ReportDataset:
    """A MIMIC-CXR-style CSV with the 14 CheXpert label columns (1, 0, -1 uncertain, blank = not mentioned)."""
    ds = load_generic_csv(path, text_column, list(CHEXPERT14), id_column, name=Path(path).stem,
                          label_set="CheXpert", uncertain=uncertain, license="site data (CheXpert labels)")
    ds.notes.append(f"uncertain (-1) labels mapped to {uncertain}")
    return ds


def load_dataset(spec: str, data_root: str | Path | None = None, *, kind: str = "auto", text_column: str | None = None,
                 label_columns: list[str] | None = None, id_column: str | None = None) -> ReportDataset:
    """Load by name or path.

    ``openi`` / ``ctrate`` come from the shared data root. A path is read as ``kind``: ``ctrate`` (CT-RATE CSV, the
    default for ``auto``), ``chexpert`` (MIMIC-CXR-style CSV with the 14 CheXpert columns; ``text_column`` defaults
    to ``report``) or ``generic`` (``text_column`` + ``label_columns``).
    """
    root = Path(data_root) if data_root else None
    key = spec.lower().replace("-", "")
    if key in ("openi", "ctrate") and not Path(spec).exists():
        if root is None:
            raise InputError(f"dataset '{spec}' needs a data root", hint="pass --data or set MEDPRIV_DATA")
        return load_openi(root / "reports" / "openi") if key == "openi" else load_ctrate(root / "reports" / "ct-rate")
    if kind == "chexpert":
        return load_chexpert_csv(spec, text_column or "report", id_column)
    if kind == "generic":
        if not text_column or not label_columns:
            raise InputError("a generic CSV needs a text column and label columns", path=spec,
                             hint="pass --text-column and --label-columns")
        return load_generic_csv(spec, text_column, label_columns, id_column)
    return load_ctrate(spec)


def split_ids(ids: list[str], fractions: tuple[float, float, float] = (0.7, 0.1, 0.2), salt: str = "medpriv-reports"
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train / validation / test positions by a hash of each report id (stable, independent of row order)."""
    u = np.array([int.from_bytes(hashlib.sha256(f"{salt}:{i}".encode()).digest()[:8], "big") / 2**64 for i in ids])
    a, b = fractions[0], fractions[0] + fractions[1]
    return np.where(u < a)[0], np.where((u >= a) & (u < b))[0], np.where(u >= b)[0]
