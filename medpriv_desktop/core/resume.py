"""Run manifests: what a resumable batch job may trust when it finds earlier outputs.

A batch job that resumes must never count something as done that it did not write itself (a raw copy of a note in
a "de-identified" folder), never continue an output made from other inputs or with other options (another
operator, another model), and never build on a half-written record. A :class:`RunManifest` records, beside the
output, keyed hashes of the inputs and of the options that change the output, and of every output file the run
finished; :func:`cut_partial_csv` trims a CSV part file back to its last complete record. Batch jobs of later
issues (Dask partitions) reuse both.

Format (``medpriv-run/1``), JSON lines, UTF-8:

* where: ``<output folder>/.medpriv-run.jsonl`` for a folder output (:data:`FOLDER_MANIFEST`), or
  ``<output>.manifest.jsonl`` beside a single output file (:func:`file_manifest_path`);
* line 1, the header::

    {"format": "medpriv-run/1", "job": "notes.deid.folder", "key_id": "<8 hex>",
     "inputs": {"<mac of input name>": "<mac of input bytes>", ...},
     "options": {"operator": "<mac of the value as canonical JSON>", "model": "...", ...}}

* every further line, one finished output (written *before* the output is renamed into place, so a kill in between
  leaves a line for a file that does not exist, which is simply redone)::

    {"out": "<mac of output name>", "mac": "<mac of output bytes>"}

  When a name appears twice the last line wins.

Every mac is HMAC-SHA256 under the site's ``deid`` key (``core/keys.py``), with a label in front of the data
(``medpriv-run/1|name|...``) so that these hashes never equal one made for another purpose with the same key. The key
keeps names and short notes from being guessed from the manifest; ``key_id`` detects a rotated key (surrogates would
change). Option names are written in clear so that a refusal can say *what* differs; their values only as macs.

Rules a job follows (see ``core/notes/batch.py``): refuse when the header's job, key, inputs or options differ
(one sentence naming what differs, and ``--restart`` or a new output as the way out); count an output as done only
when the manifest holds its name *and* the file's current bytes match the mac; refuse a folder that holds any file
the manifest does not know. A torn last line (a killed run) is cut off before the next append.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medpriv_desktop.core.errors import InputError

FORMAT = "medpriv-run/1"
FOLDER_MANIFEST = ".medpriv-run.jsonl"
RESTART_HINT = "write to a new output, or add --restart to start this one over"
_CHUNK = 1 << 20


def file_manifest_path(output: Path) -> Path:
    """The manifest beside a single output file: ``OUT.csv`` -> ``OUT.csv.manifest.jsonl``."""
    output = Path(output)
    return output.with_name(output.name + ".manifest.jsonl")


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


@dataclass
class FolderState:
    """What a folder holds, judged by a manifest: finished outputs (names), and files it cannot vouch for."""

    done: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


class RunManifest:
    """The manifest of one output (see the module docstring). Create with :meth:`open`."""

    def __init__(self, path: Path, job: str, key: bytes, where: Path) -> None:
        self.path = Path(path)
        self.job = job
        self._key = key
        self.where = Path(where)  # the output the user named, for messages
        self.header: dict[str, Any] | None = None
        self.outputs: dict[str, str] = {}
        self._inputs: dict[str, str] = {}
        self._options: dict[str, str] = {}

    # -- macs ---------------------------------------------------------------------------------------------------------
    def _mac(self, label: str) -> Any:
        return hmac.new(self._key, f"{FORMAT}|{label}|".encode(), hashlib.sha256)

    def mac_bytes(self, label: str, data: bytes) -> str:
        """Keyed hash of ``data`` under ``label``."""
        m = self._mac(label)
        m.update(data)
        return m.hexdigest()

    def mac_file(self, path: Path) -> str:
        """Keyed hash of a file's bytes (streamed), the same as :meth:`mac_bytes` ``("content", bytes)``."""
        m = self._mac("content")
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                m.update(chunk)
        return m.hexdigest()

    def mac_name(self, name: str) -> str:
        """Keyed hash of a file name (names are PHI)."""
        return self.mac_bytes("name", name.encode("utf-8", "surrogateescape"))

    def mac_option(self, name: str, value: Any) -> str:
        """Keyed hash of one option's value (canonical JSON)."""
        return self.mac_bytes(f"option:{name}", _canonical(value))

    # -- reading ------------------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, job: str, where: Path, key: bytes | None = None) -> RunManifest:
        """Load the manifest at ``path`` when there is one (a torn last line is cut off); check format and job."""
        if key is None:
            from medpriv_desktop.core.keys import load_key

            key = load_key("deid")
        self = cls(path, job, key, where)
        if not self.path.exists():
            return self
        try:
            data = self.path.read_bytes()
            if data and not data.endswith(b"\n"):  # a kill during an append: drop the torn line for good
                data = data[: data.rfind(b"\n") + 1]
                with open(self.path, "r+b") as fh:
                    fh.truncate(len(data))
            lines = [json.loads(x) for x in data.decode("utf-8").splitlines() if x.strip()]
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError("the run manifest beside this output is damaged", path=where, hint=RESTART_HINT) from None
        if not lines:
            return self
        head = lines[0]
        if not isinstance(head, dict) or head.get("format") != FORMAT or not isinstance(head.get("inputs"), dict) \
                or not isinstance(head.get("options"), dict):
            raise InputError("the run manifest beside this output is damaged or from another version", path=where,
                             hint=RESTART_HINT)
        if head.get("job") != job:
            raise InputError(f"this output was started by another kind of run ({head.get('job')})", path=where,
                             hint=RESTART_HINT)
        from medpriv_desktop.core.keys import key_id

        if head.get("key_id") != key_id(key):
            raise InputError("this output was started under another deid key", path=where, hint=RESTART_HINT)
        for row in lines[1:]:
            if not isinstance(row, dict) or not isinstance(row.get("out"), str) or not isinstance(row.get("mac"), str):
                raise InputError("the run manifest beside this output is damaged", path=where, hint=RESTART_HINT)
            self.outputs[row["out"]] = row["mac"]
        self.header = head
        return self

    @property
    def started(self) -> bool:
        """True when an earlier run wrote this manifest's header."""
        return self.header is not None

    # -- checks -------------------------------------------------------------------------------------------------------
    def expect(self, inputs: Mapping[str, str] | None = None, options: Mapping[str, Any] | None = None) -> None:
        """Note this run's inputs (name -> :meth:`mac_file` digest) and options; refuse when they differ from the
        recorded ones. May be called more than once (options known only after a model loads)."""
        if inputs is not None:
            self._inputs = {self.mac_name(n): d for n, d in inputs.items()}
        opts = {k: self.mac_option(k, v) for k, v in (options or {}).items()}
        self._options.update(opts)
        if self.header is None:
            return
        if inputs is not None and self._inputs != self.header["inputs"]:
            old = self.header["inputs"]
            changed = sum(1 for k, v in self._inputs.items() if k in old and old[k] != v)
            added = sum(1 for k in self._inputs if k not in old)
            removed = sum(1 for k in old if k not in self._inputs)
            raise InputError(f"this output was started from other inputs ({changed} changed, {added} added, "
                             f"{removed} removed since)", path=self.where, hint=RESTART_HINT)
        differ = sorted(k for k, v in opts.items() if self.header["options"].get(k) != v)
        if differ:
            raise InputError(f"this output was started with another {', '.join(differ)}", path=self.where,
                             hint=RESTART_HINT)

    def begin(self) -> None:
        """Write the header when this is a new run (after every :meth:`expect`, before the first output)."""
        if self.header is not None:
            return
        from medpriv_desktop.core.fileio import atomic_write_text
        from medpriv_desktop.core.keys import key_id

        head = {"format": FORMAT, "job": self.job, "key_id": key_id(self._key), "inputs": self._inputs,
                "options": self._options}
        atomic_write_text(self.path, json.dumps(head, sort_keys=True) + "\n")
        self.header = head

    def record_output(self, name: str, data: bytes) -> None:
        """Append ``name`` with the mac of the bytes about to be renamed into place (flushed to disk first)."""
        from medpriv_desktop.core.fileio import naming

        row = {"out": self.mac_name(name), "mac": self.mac_bytes("content", data)}
        try:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:  # a buffered write loses the file name
            if exc.filename is None:
                raise naming(exc, self.path) from exc
            raise
        self.outputs[row["out"]] = row["mac"]

    def scan_folder(self, folder: Path, ignore: Iterable[str] = ()) -> FolderState:
        """Sort what ``folder`` holds into outputs this manifest vouches for, files it does not know, and files
        whose bytes changed since they were written. The manifest itself and ``ignore`` are skipped."""
        state = FolderState()
        skip = {self.path.name, *ignore}
        for p in sorted(Path(folder).iterdir()):
            if p.name in skip:
                continue
            recorded = self.outputs.get(self.mac_name(p.name))
            if recorded is None or not p.is_file() or p.is_symlink():
                state.unknown.append(p.name)
            elif hmac.compare_digest(self.mac_file(p), recorded):
                state.done.add(p.name)
            else:
                state.changed.append(p.name)
        return state

    def discard(self, folder: Path | None = None) -> int:
        """Start over: delete the outputs in ``folder`` that this manifest vouches for, then the manifest itself.
        Files it does not know are left alone (a later scan still refuses them). Returns how many were deleted."""
        n = 0
        if folder is not None and Path(folder).is_dir() and self.outputs:
            for name in self.scan_folder(folder).done:
                (Path(folder) / name).unlink()
                n += 1
        self.path.unlink(missing_ok=True)
        self.header, self.outputs = None, {}
        return n

    def finish(self) -> None:
        """Remove the manifest of a single-file output once that output is complete (it has nothing left to vouch
        for: a finished output is never resumed)."""
        self.path.unlink(missing_ok=True)


def refuse_unknown(state: FolderState, folder: Path) -> None:
    """One :class:`InputError` when a folder holds files a run did not write, or changed ones."""
    if state.unknown:
        raise InputError(f"output folder holds {len(state.unknown)} files this run did not write", path=folder,
                         hint="use an empty or new output folder; --restart removes only files a run wrote itself")
    if state.changed:
        raise InputError(f"{len(state.changed)} outputs were changed after this run wrote them", path=folder,
                         hint="use a new output folder, or move those files away and run again")


def _records(path: Path) -> Iterable[tuple[int, list[str] | None]]:
    """Yield (end byte offset, fields) for each record of a CSV file written with ``newline=''``; fields is None for
    a record that is not complete (no line end, an open quote, undecodable bytes)."""
    import csv

    offset = 0
    last_line = ""

    def lines(fh: Any) -> Iterable[str]:
        nonlocal offset, last_line
        for line in fh:
            offset += len(line.encode("utf-8", "surrogateescape"))
            last_line = line
            yield line

    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        reader = csv.reader(lines(fh), strict=True)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield offset, None
                return
            complete = last_line.endswith("\n") and not any("\udc80" <= ch <= "\udcff" for c in row for ch in c)
            yield offset, row if complete else None
            if not complete:
                return


def cut_partial_csv(path: Path, header: list[str]) -> int:
    """Cut a CSV part file back to its last complete record and return how many data rows it keeps.

    A record counts only when it ends with a line end, parses (no open quote) and has as many fields as ``header``;
    everything from the first record that fails is removed (a disk-full or a kill leaves half a row at the end).
    A file whose header is not complete is emptied (0 rows); a complete header other than ``header`` is refused.
    """
    path = Path(path)
    keep, rows = 0, -1
    for end, fields in _records(path):
        if fields is None or len(fields) != len(header):
            break
        if rows < 0 and fields != header:
            raise InputError("the part file's header does not match this run", path=path, hint=RESTART_HINT)
        keep, rows = end, rows + 1
    if path.stat().st_size != keep:
        with open(path, "r+b") as fh:
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
    return max(rows, 0)
