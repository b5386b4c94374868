"""The output of a scale-out run: a folder of parts, a resume manifest and an errors table.

``-o OUT.parquet`` (or ``OUT.csv``) is a folder, the layout Dask and Spark use for a partitioned table::

    OUT.parquet/part-00000.parquet        one per input partition (or one folder per study), written atomically
    OUT.parquet/part-00007.errors.csv     the bad rows of partition 7 (row number and reason, never text)
    OUT.parquet/errors.csv                all bad rows of the run, rebuilt at the end of every run
    OUT.parquet/.medpriv-run.jsonl        the run manifest (``core/resume.py``); one per shard with --shard

Only the driver writes the manifest. A worker writes a part to a hidden temporary file in the folder
(``.part-00007.XXXX.tmp``); the driver appends the part's name and keyed hash to the manifest, then renames the file
into place, so a kill at any moment leaves either a finished part the manifest vouches for or a temporary file that
the next run deletes and redoes. A part's errors file is committed before the part itself: a finished part always
has its errors on disk. With ``--shard K/N`` every shard keeps its own manifest and touches only its own parts, so
the N tasks of a job array can write into one folder at the same time.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError
from medpriv_desktop.core.fileio import atomic_open
from medpriv_desktop.core.resume import FOLDER_MANIFEST, RunManifest, refuse_unknown

ERRORS_HEADER = ["partition", "row", "reason"]


def part_name(index: int, suffix: str) -> str:
    """``part-00007.parquet``: the output of partition 7 (``suffix`` without the dot; empty for a folder)."""
    return f"part-{index:05d}" + (f".{suffix}" if suffix else "")


def errors_name(index: int) -> str:
    """The sidecar errors file of partition ``index``."""
    return f"part-{index:05d}.errors.csv"


@dataclass
class RowError:
    """One bad row (or a whole partition, ``row`` None): its global row number and one reason without any text."""

    partition: int
    row: int | None
    reason: str


@dataclass
class PartStore:
    """The output folder of one run (or one shard); see the module docstring."""

    folder: Path
    job: str
    suffix: str
    shard: tuple[int, int] | None = None
    #: Tables the driver rebuilds at the end of every run (a study summary), not vouched for by the manifest.
    extra_tables: tuple[str, ...] = ()
    manifest: RunManifest = field(init=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        name = FOLDER_MANIFEST if self.shard is None else f".medpriv-run.shard-{self.shard[0]}-of-{self.shard[1]}.jsonl"
        self.errors_table = self.folder / ("errors.csv" if self.shard is None
                                           else f"errors.shard-{self.shard[0]}-of-{self.shard[1]}.csv")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.manifest = RunManifest.open(self.folder / name, self.job, where=self.folder)

    # -- before the run -------------------------------------------------------------------------------------------
    def open(self, indices: list[int], inputs: dict[str, str], options: dict[str, Any], restart: bool) -> set[int]:
        """Clean this run's stale temporary files, check the manifest against ``inputs`` and ``options`` (refusing
        another input, other options or files it did not write) and return the partitions already finished."""
        self.clean_temps(indices)
        folders = {part_name(i, ""): i for i in indices} if not self.suffix else {}
        if restart:
            for name in folders:  # folder parts (one per study) the manifest vouches for
                if self._folder_done(name):
                    shutil.rmtree(self.folder / name)
            self.manifest.discard(self.folder)
            for i in indices:
                (self.folder / errors_name(i)).unlink(missing_ok=True)
        self.manifest.expect(inputs=inputs, options=options)
        own = {part_name(i, self.suffix) for i in indices} | {errors_name(i) for i in indices}
        ignore = [self.errors_table.name, *self.extra_tables, *folders]
        if self.shard is not None:  # other shards' parts and manifests are theirs; judge only this shard's names
            ignore += [p.name for p in self.folder.iterdir() if p.name not in own]
        state = self.manifest.scan_folder(self.folder, ignore=ignore)
        for name in folders:
            if self._folder_done(name):
                state.done.add(name)
            elif (self.folder / name).exists():
                state.unknown.append(name)
        refuse_unknown(state, self.folder)
        return {i for i in indices if part_name(i, self.suffix) in state.done}

    def clean_temps(self, indices: list[int]) -> None:
        """Delete the temporary files of these partitions: a killed run's, or those of a worker that died while a
        retry on another worker finished the part (only this run's or shard's partitions: other shards may be
        writing theirs)."""
        for i in indices:
            for stale in self.folder.glob(f".{part_name(i, '')}.*"):
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)

    def _listing(self, folder: Path) -> bytes:
        """A folder part as bytes for the manifest: every file's relative name and keyed hash, sorted."""
        import json

        files = sorted(p for p in folder.rglob("*") if p.is_file())
        return json.dumps([[str(p.relative_to(folder)), self.manifest.mac_file(p)] for p in files]).encode()

    def _folder_done(self, name: str) -> bool:
        import hmac

        path, recorded = self.folder / name, self.manifest.outputs.get(self.manifest.mac_name(name))
        if recorded is None or not path.is_dir() or path.is_symlink():
            return False
        return hmac.compare_digest(self.manifest.mac_bytes("content", self._listing(path)), recorded)

    def expect(self, options: dict[str, Any]) -> None:
        """Options known only later (the detector after the engine loads); refused when they differ."""
        self.manifest.expect(options=options)

    def begin(self) -> None:
        """Write the manifest header of a new run."""
        self.manifest.begin()

    # -- during the run -------------------------------------------------------------------------------------------
    def commit(self, index: int, temp: str, errors: list[RowError]) -> None:
        """Record and rename a finished part: its errors file first, then the part."""
        if errors:
            err_path = self.folder / errors_name(index)
            data = _errors_csv(errors)
            self.manifest.record_output(err_path.name, data)
            with atomic_open(err_path, "wb") as fh:
                fh.write(data)
        final = self.folder / part_name(index, self.suffix)
        if Path(temp).is_dir():  # a study's folder: its listing of keyed hashes stands for its bytes
            self.manifest.record_output(final.name, self._listing(Path(temp)))
            os.chmod(temp, 0o777 & ~_umask())
        else:
            self.manifest.record_output(final.name, Path(temp).read_bytes())
            os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes owner-only files; outputs get normal permissions
        os.replace(temp, final)

    # -- after the run --------------------------------------------------------------------------------------------
    def write_errors_table(self, indices: list[int], failed: list[RowError]) -> int:
        """Rebuild the run's errors table from the finished parts' errors files and the partitions that failed
        outright; returns the number of rows in it (the table is removed when there is none)."""
        rows: list[list[str]] = []
        for i in indices:
            f = self.folder / errors_name(i)
            if f.is_file() and (self.folder / part_name(i, self.suffix)).exists():
                with open(f, newline="", encoding="utf-8") as fh:
                    rows += list(csv.reader(fh))[1:]
        rows += [[str(e.partition), "" if e.row is None else str(e.row), e.reason] for e in failed]
        if not rows:
            self.errors_table.unlink(missing_ok=True)
            return 0
        with atomic_open(self.errors_table, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(ERRORS_HEADER)
            w.writerows(rows)
        return len(rows)


def temp_path(folder: str | Path, index: int) -> str:
    """A fresh hidden temporary file for partition ``index`` in ``folder``; the worker makes it and writes the part,
    :meth:`PartStore.commit` renames it (a run's leftovers match ``.part-NNNNN.*`` and are deleted by the next)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{part_name(index, '')}.", suffix=".tmp", dir=folder)
    os.close(fd)
    return tmp


def _errors_csv(errors: list[RowError]) -> bytes:
    import io

    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(ERRORS_HEADER)
    for e in errors:
        w.writerow([e.partition, "" if e.row is None else e.row, e.reason])
    return buf.getvalue().encode("utf-8")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def refuse_file_output(path: Path) -> None:
    """A scale-out output is a folder: refuse an existing plain file of that name with one sentence."""
    if Path(path).is_file():
        raise InputError("-o names an existing file; a scale-out run writes a folder of parts", path=path,
                         hint="choose a new name (a folder such as OUT.parquet is made)")
