"""Training data: stored phantoms, per-volume synthesis and normalisation, and patch sampling.

Phantoms are stored once (``generate``) as uncompressed ``.npy`` generation label maps, memory-mapped when read so
parallel runs share the page cache. Each training volume is synthesised afresh (CT or MR-like), resampled to the
model spacing when needed, normalised with the *card's* rule over the whole volume (as the app does before its
sliding window), and cut into patches; half of the patches are centred on a randomly chosen structure
(every present class equally likely), which keeps the adrenal glands from being a rounding error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from medpriv_desktop.core.imaging.normalize import normalize_intensity
from medpriv_desktop.core.imaging.sliding_window import centred_pads
from medpriv_desktop.core.jobs import Job, Progress
from training.seg.config import CT_NORM, MR_NORM, SegConfig
from training.seg.msd import Case
from training.seg.phantom import PhantomSpec, generate_phantom
from training.seg.synth import pool_factor, synthesize

NORMS = {"CT": CT_NORM, "MR": MR_NORM}


def phantom_path(folder: str | Path, index: int) -> Path:
    """File of phantom ``index``."""
    return Path(folder) / f"phantom_{index:04d}.npy"


def check_phantom_spacing(folder: str | Path, spacing: float) -> None:
    """Refuse phantoms stored on another fine grid than ``spacing`` (``spec.json`` written by ``generate``)."""
    import json

    spec = Path(folder) / "spec.json"
    if spec.exists():
        stored = float(json.loads(spec.read_text())["spacing_mm"])
        if abs(stored - spacing) > 1e-6:
            from medpriv_desktop.core.errors import ConfigError

            raise ConfigError(f"phantoms in {folder} are on a {stored:g} mm grid but data.phantom_spacing_mm is "
                              f"{spacing:g}", path=spec, hint="set data.phantom_spacing_mm or use another phantom_dir")


def generate_phantoms(folder: str | Path, n: int, seed: int, spec: PhantomSpec = PhantomSpec()) -> Job[list[Path]]:
    """Write phantoms 0..n-1 (seed + index) that are not there yet; resumable, each file written atomically.

    ``spec.json`` records the fine grid so that readers can refuse a mismatched ``data.phantom_spacing_mm``.
    """
    import json

    from medpriv_desktop.core.fileio import atomic_path, atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    check_phantom_spacing(folder, spec.spacing)
    atomic_write_text(folder / "spec.json", json.dumps({"spacing_mm": spec.spacing}))
    out = []
    for i in range(n):
        path = phantom_path(folder, i)
        if not path.exists():
            labels, _ = generate_phantom(seed + i, spec)
            with atomic_path(path, suffix=".npy") as tmp:
                np.save(tmp, labels)
        out.append(path)
        yield Progress((i + 1) / n, f"phantom {i + 1}/{n}")
    return out


def normalized_pad(modality: str) -> float:
    """Value of empty air after normalisation (pads patches that run past the volume)."""
    if modality == "CT":
        return float(normalize_intensity(np.array([-1024.0], np.float32), CT_NORM)[0])
    return float("nan")  # MR: the volume's own minimum, decided per volume


def prepare_volume(image: np.ndarray, modality: str) -> np.ndarray:
    """Normalise a whole volume with the card's rule for its modality (the app's exact function)."""
    return normalize_intensity(image, NORMS[modality])


def resample_case(case: Case, spacing: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Image and labels of a real case at isotropic ``spacing``, resampled as the app does before inference (area
    average where the grid gets coarser, linear where finer; labels nearest): what the model trains on is what it
    will be given."""
    from medpriv_desktop.core.imaging.preprocess import resample_to_spacing

    target = (spacing, spacing, spacing)
    img = resample_to_spacing(case.image, case.spacing, target, order=1)
    lab = resample_to_spacing(case.labels, case.spacing, target, order=0) if case.labels is not None else None
    return img.astype(np.float32, copy=False), lab


def sample_patches(image: np.ndarray, labels: np.ndarray, patch: tuple[int, int, int], n: int,
                   rng: np.random.Generator, fg_fraction: float = 0.5, pad: float | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` patches [n, 1, *patch] and label patches [n, *patch]; padded with ``pad`` (default: image minimum)."""
    pad = float(image.min()) if pad is None or np.isnan(pad) else pad
    widths = centred_pads(image.shape, patch)  # the app's sliding window pads a small volume the same way
    if any(before or after for before, after in widths):
        image = np.pad(image, widths, constant_values=pad)
        labels = np.pad(labels, widths, constant_values=0)
    # Structures present (at full resolution: at 6 mm an adrenal gland is a handful of voxels a stride would miss).
    present = [v for v in np.unique(labels) if v > 0]
    imgs, labs = [], []
    for _ in range(n):
        if present and rng.random() < fg_fraction:
            cls = present[int(rng.integers(len(present)))]
            pts = np.argwhere(labels == cls)
            centre = pts[int(rng.integers(len(pts)))] + rng.integers(-patch[0] // 4, patch[0] // 4 + 1, 3)
            start = [int(np.clip(c - p // 2, 0, s - p)) for c, p, s in zip(centre, patch, image.shape)]
        else:
            start = [int(rng.integers(0, s - p + 1)) for p, s in zip(patch, image.shape)]
        sl = tuple(slice(a, a + p) for a, p in zip(start, patch))
        imgs.append(image[sl])
        labs.append(labels[sl])
    return np.stack(imgs)[:, None].astype(np.float32), np.stack(labs).astype(np.int64)


class PhantomStream:
    """Endless stream of (image patches, label patches) batches from stored phantoms with fresh synthesis."""

    def __init__(self, cfg: SegConfig, rng: np.random.Generator, indices: list[int] | None = None):
        self.cfg = cfg
        self.rng = rng
        folder = Path(cfg.data.phantom_dir)
        n_train = cfg.data.n_phantoms - cfg.data.n_val_phantoms
        self.paths = [phantom_path(folder, i) for i in (indices if indices is not None else range(n_train))]
        self._all = self.paths
        check_phantom_spacing(folder, cfg.data.phantom_spacing_mm)
        self.factor = pool_factor(cfg.model.spacing_mm, cfg.data.phantom_spacing_mm)
        self._refresh()

    def _refresh(self) -> None:
        """Use the phantoms that exist so far (a run may start while ``generate`` is still writing)."""
        self.paths = [p for p in self._all if p.exists()]
        if not self.paths:
            from medpriv_desktop.core.errors import InputError

            raise InputError("phantoms missing; run 'medpriv-train seg generate' first", path=self._all[0])

    def volume(self) -> tuple[np.ndarray, np.ndarray, str]:
        """One synthesised, normalised training volume with its labels and modality."""
        d = self.cfg.data
        if len(self.paths) < len(self._all) and self.rng.random() < 0.1:
            self._refresh()
        gen = np.load(self.paths[int(self.rng.integers(len(self.paths)))], mmap_mode="r")
        mods = d.modalities
        modality = "MR" if ("MR" in mods and (len(mods) == 1 or self.rng.random() < d.mr_fraction)) else "CT"
        img, seg = synthesize(np.asarray(gen), modality, self.rng, fine_spacing=d.phantom_spacing_mm,
                              factor=self.factor)
        return prepare_volume(img, modality), seg, modality

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Batches of ``optim.batch_size``; each synthesised volume gives ``patches_per_volume`` patches."""
        bs = self.cfg.optim.batch_size
        patch = tuple(self.cfg.model.patch)
        buf_x: list[np.ndarray] = []
        buf_y: list[np.ndarray] = []
        while True:
            while len(buf_x) < bs:
                img, seg, modality = self.volume()
                x, y = sample_patches(img, seg, patch, self.cfg.data.patches_per_volume, self.rng,
                                      self.cfg.data.foreground_oversample, normalized_pad(modality))
                buf_x.extend(x)
                buf_y.extend(y)
            yield np.stack(buf_x[:bs]), np.stack(buf_y[:bs])
            del buf_x[:bs], buf_y[:bs]


class MixedStream(PhantomStream):
    """Phantoms mixed with real templates (``data.templates``) under random deformation.

    A volume is a phantom with probability ``1 - template_fraction``; otherwise a template chosen uniformly, drawn
    either as its deformed real image with intensity augmentation (``template_real_fraction``) or as a
    SynthSeg-style synthesis from its deformed generation map (CT or MR-like, as for phantoms).
    """

    def __init__(self, cfg: SegConfig, rng: np.random.Generator, indices: list[int] | None = None):
        from training.seg.templates import load_template

        super().__init__(cfg, rng, indices)
        d = cfg.data
        data_dir = d.template_data_dir or _default_data_dir()
        if data_dir is None:
            from medpriv_desktop.core.errors import ConfigError

            raise ConfigError("data.templates needs the shared data folder",
                              hint="set data.template_data_dir or MEDPRIV_DATA")
        self.templates = [load_template(data_dir, name, d.phantom_spacing_mm, cfg.model.spacing_mm,
                                        tuple(cfg.model.patch)) for name in d.templates]
        self.drawn: dict[str, int] = {}  # source -> count, for the run's log and tests

    def volume(self) -> tuple[np.ndarray, np.ndarray, str]:
        """One normalised training volume with its labels and modality, from a phantom or a template."""
        from training.seg.templates import sample_real, sample_synthetic

        d = self.cfg.data
        if not self.templates or self.rng.random() >= d.template_fraction:
            self.drawn["phantom"] = self.drawn.get("phantom", 0) + 1
            return super().volume()
        t = self.templates[int(self.rng.integers(len(self.templates)))]
        if self.rng.random() < d.template_real_fraction:
            self.drawn[f"{t.name}:real"] = self.drawn.get(f"{t.name}:real", 0) + 1
            img, seg = sample_real(t, self.rng, self.cfg.model.spacing_mm, label_p=d.template_label_intensity_p)
            return img, seg, t.modality
        self.drawn[f"{t.name}:synth"] = self.drawn.get(f"{t.name}:synth", 0) + 1
        mods = d.modalities
        modality = "MR" if ("MR" in mods and (len(mods) == 1 or self.rng.random() < d.mr_fraction)) else "CT"
        img, seg = sample_synthetic(t, self.rng, d.phantom_spacing_mm, self.factor, modality)
        return prepare_volume(img, modality), seg, modality


def _default_data_dir() -> Path | None:
    """``MEDPRIV_DATA`` or ``../shared/data`` beside the repository, when it exists."""
    import os

    env = os.environ.get("MEDPRIV_DATA")
    p = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return p if p.is_dir() else None


class CaseStream:
    """Batches from real cases (MSD layout), already resampled and normalised; labels may be None (pseudo-label)."""

    def __init__(self, cases: list[Case], cfg: SegConfig, rng: np.random.Generator):
        self.cfg = cfg
        self.rng = rng
        self.items = []
        for c in cases:
            img, lab = resample_case(c, cfg.model.spacing_mm)
            self.items.append((prepare_volume(img, c.modality), lab, c.modality))

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Batches of ``optim.batch_size`` random patches (labels all 0 when the case has none)."""
        bs = self.cfg.optim.batch_size
        patch = tuple(self.cfg.model.patch)
        while True:
            xs, ys = [], []
            for _ in range(bs):
                img, lab, modality = self.items[int(self.rng.integers(len(self.items)))]
                lab = lab if lab is not None else np.zeros(img.shape, np.uint8)
                x, y = sample_patches(img, lab, patch, 1, self.rng, self.cfg.data.foreground_oversample,
                                      normalized_pad(modality))
                xs.append(x[0])
                ys.append(y[0])
            yield np.stack(xs), np.stack(ys)
