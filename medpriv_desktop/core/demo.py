"""The bundled demo: a generated phantom CT study, generated clinical notes and generated radiology reports.

Nothing here comes from real patients. The phantom is a torso made of ellipsoids with CT-like Hounsfield units and
noise; the notes are templates filled with invented names, dates and numbers (the PHI a de-identifier must find);
the reports are short chest X-ray and chest CT reports from phrase templates. ``make_demo`` writes them to a folder
(by default ``<data>/demo``) and is deterministic for a given seed.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medpriv_desktop.core import paths
from medpriv_desktop.core.fileio import atomic_write_text

DEMO_VERSION = 2

# Tissue HU values (approximate published attenuation values).
_HU = {"air": -1000, "fat": -90, "soft": 40, "lung": -850, "heart": 45, "liver": 60, "spleen": 50, "kidney": 35,
       "bone": 700, "aorta": 170}


def phantom_ct(shape: tuple[int, int, int] = (96, 96, 64), spacing: tuple[float, float, float] = (4.0, 4.0, 5.0),
               seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """A torso phantom: (HU volume int16 [x, y, z], label map uint8, label names). Axes are RAS-ordered voxels."""
    rng = np.random.default_rng(seed)
    nx, ny, nz = shape
    x, y, z = np.meshgrid(
        (np.arange(nx) - nx / 2) * spacing[0],
        (np.arange(ny) - ny / 2) * spacing[1],
        (np.arange(nz) - nz / 2) * spacing[2],
        indexing="ij",
    )

    def ell(cx: float, cy: float, cz: float, rx: float, ry: float, rz: float) -> np.ndarray:
        return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 + ((z - cz) / rz) ** 2 <= 1.0

    names = {0: "background", 1: "body", 2: "lung_left", 3: "lung_right", 4: "heart", 5: "liver", 6: "spleen",
             7: "kidney_left", 8: "kidney_right", 9: "aorta", 10: "vertebrae"}
    lab = np.zeros(shape, np.uint8)
    body = ell(0, 0, 0, 165, 115, 400)
    lab[body] = 1
    # RAS+: +x points to the patient's right, +y anterior, +z superior (so left-sided organs sit at -x).
    lab[ell(-75, 5, 70, 60, 70, 110)] = 2
    lab[ell(75, 5, 70, 60, 70, 110)] = 3
    lab[ell(-20, 40, 30, 50, 40, 45)] = 4
    lab[ell(70, 10, -70, 75, 60, 55)] = 5
    lab[ell(-85, -30, -60, 30, 25, 40)] = 6
    lab[ell(-65, -55, -120, 22, 22, 45)] = 7
    lab[ell(65, -55, -120, 22, 22, 45)] = 8
    aorta = ((x + 15) ** 2 + (y + 40) ** 2 <= 12**2) & (np.abs(z) < 160)
    lab[aorta] = 9
    spine = ((x) ** 2 + (y + 75) ** 2 <= 18**2) & (np.abs(z) < 300) & ((np.round(z / 25) % 2) == 0)
    lab[spine] = 10

    tissue = {0: "air", 1: "soft", 2: "lung", 3: "lung", 4: "heart", 5: "liver", 6: "spleen", 7: "kidney",
              8: "kidney", 9: "aorta", 10: "bone"}
    hu = np.zeros(shape, np.float32)
    for v, t in tissue.items():
        hu[lab == v] = _HU[t]
    fat_rim = body & ~ell(0, 0, 0, 150, 100, 400)
    hu[fat_rim & (lab == 1)] = _HU["fat"]
    hu += rng.normal(0, 12, shape).astype(np.float32)
    from scipy.ndimage import gaussian_filter

    hu = gaussian_filter(hu, 0.7)
    return np.clip(hu, -1024, 3071).astype(np.int16), lab, names


_FIRST = ["John", "Maria", "Robert", "Linda", "Ahmed", "Mei", "Carlos", "Grace", "Pieter", "Aisha"]
_LAST = ["Whitfield", "Okafor", "Lindqvist", "Moreno", "Tanaka", "Brennan", "Kowalski", "Haddad", "Novak", "Ferreira"]
_CITIES = [("Springfield", "IL", "62704"), ("Riverton", "WY", "82501"), ("Fairview", "OR", "97024"),
           ("Lakewood", "CO", "80226"), ("Madison", "WI", "53703")]
_HOSP = ["St. Brigid Medical Center", "Lakeside General Hospital", "Mercy Valley Hospital"]


@dataclass(frozen=True)
class DemoNote:
    """A generated note with the PHI values planted in it (category -> values)."""

    name: str
    text: str
    phi: dict[str, list[str]]


def demo_notes(n: int = 6, seed: int = 0) -> list[DemoNote]:
    """Generated nursing/discharge notes with invented PHI of several categories."""
    rng = random.Random(seed)
    out: list[DemoNote] = []
    for i in range(n):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        doc = f"Dr. {rng.choice(_LAST)}"
        city, state, zipc = rng.choice(_CITIES)
        hosp = rng.choice(_HOSP)
        m, d = rng.randint(1, 12), rng.randint(1, 28)
        date = f"{m}/{d}/2019"
        phone = f"({rng.randint(200, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
        mrn = f"{rng.randint(1000000, 9999999)}"
        age = rng.randint(34, 88)
        text = (
            f"Patient {first} {last} (MRN {mrn}), a {age}-year-old admitted to {hosp} on {date}.\n"
            f"Lives in {city}, {state} {zipc}. Contact daughter at {phone}.\n"
            f"Seen by {doc} for shortness of breath and bilateral leg swelling. Chest film shows small "
            f"pleural effusions. Started on furosemide 40 mg IV twice daily; net negative 1.2 L overnight.\n"
            f"Plan: daily weights, BMP in AM, follow up with {doc} in clinic on {m}/{min(d + 7, 28)}.\n"
        )
        phi = {"NAME": [first, last, doc.split()[-1]], "DATE": [date], "LOCATION": [city, zipc, hosp],
               "PHONE": [phone], "ID": [mrn]}
        out.append(DemoNote(f"note_{i + 1:02d}.txt", text, phi))
    return out


_CXR_FINDINGS = [
    ("The heart is enlarged.", "Cardiomegaly"),
    ("Small bilateral pleural effusions.", "Effusion"),
    ("Patchy opacity in the right lower lobe concerning for pneumonia.", "Pneumonia"),
    ("Bibasilar atelectasis.", "Atelectasis"),
    ("Small right apical pneumothorax.", "Pneumothorax"),
    ("Interstitial edema with vascular congestion.", "Edema"),
    ("A 1.5 cm nodule in the left upper lobe.", "Nodule"),
]


def demo_reports(n: int = 10, seed: int = 0) -> list[dict[str, str]]:
    """Generated chest X-ray reports: id, findings, impression, and the labels planted."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        picks = rng.sample(_CXR_FINDINGS, k=rng.randint(0, 2))
        if picks:
            findings = " ".join(p[0] for p in picks) + " No acute bony abnormality."
            impression = "; ".join(p[1].lower() for p in picks) + "."
        else:
            findings = "The lungs are clear. Heart size is normal. No pleural effusion or pneumothorax."
            impression = "No acute cardiopulmonary abnormality."
        rows.append({"report_id": f"R{i + 1:03d}", "findings": findings, "impression": impression,
                     "text": f"FINDINGS: {findings}\nIMPRESSION: {impression}",
                     "planted_labels": ";".join(p[1] for p in picks) or "No Finding"})
    return rows


def demo_dir() -> Path:
    """The default demo folder."""
    return paths.data_dir() / "demo"


def make_demo(out: Path | None = None, seed: int = 0, force: bool = False) -> Path:
    """Write the demo study, notes and reports to ``out`` (default: user data dir); return the folder."""
    out = Path(out) if out is not None else demo_dir()
    stamp = out / "demo.json"
    if stamp.exists() and not force:
        try:
            if json.loads(stamp.read_text()).get("version") == DEMO_VERSION:
                return out
        except ValueError:
            pass
    out.mkdir(parents=True, exist_ok=True)
    from medpriv_desktop.core.imaging.io import write_volume
    from medpriv_desktop.core.imaging.volume import Volume

    hu, lab, names = phantom_ct(seed=seed)
    spacing = (4.0, 4.0, 5.0)
    for arr, fname in ((hu, "demo_ct.nii.gz"), (lab, "demo_ct_reference_labels.nii.gz")):
        # The phantom's voxel grid is RAS-ordered with its first voxel at the world origin.
        write_volume(Volume(arr, spacing, (0.0, 0.0, 0.0), np.eye(3)), out / fname)
    atomic_write_text(out / "demo_ct_reference_labels.json", json.dumps(names, indent=2))
    notes_dir = out / "notes"
    notes_dir.mkdir(exist_ok=True)
    for note in demo_notes(seed=seed):
        atomic_write_text(notes_dir / note.name, note.text)
    rows = demo_reports(seed=seed)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(out / "reports.csv", buf.getvalue())
    reports_dir = out / "reports"
    reports_dir.mkdir(exist_ok=True)
    for row in rows:
        atomic_write_text(reports_dir / f"{row['report_id']}.txt", row["text"] + "\n")
    atomic_write_text(stamp, json.dumps({"version": DEMO_VERSION, "seed": seed}))
    return out
