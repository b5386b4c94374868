"""Output guard: a command never writes over, into or around its own inputs, and finds out early that it cannot write.

Every command that writes calls :func:`guard_outputs` with its inputs and its outputs before it reads a model or
touches an input. An output is refused (one :class:`InputError` naming the output) when, after symlinks are resolved,

* it is an input file or folder (also through a hard link),
* it lies inside an input folder (``classify DIR -o DIR/labels.csv``), or
* it contains an input (``synth notes/ -o .`` run from the notes' parent, ``segment scans/ct.nii -o scans``),

or when two outputs of the same command are the same path (``classify R.csv -o L.csv --evidence L.csv``).
Then each output folder (the folder itself for folder outputs, the parent folder for file outputs) is probed: a
file is created in it and removed again (missing folders are made for the probe and removed after it), so a
read-only folder, a full disk or a missing permission is one sentence before any model loads instead of a traceback
after an hour of work.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from medpriv_desktop.core.errors import InputError


@dataclass(frozen=True)
class Output:
    """A path a command will write: a file (its parent folder must be writable) or a folder."""

    path: Path
    folder: bool = False
    #: what the option is called on the command line, for the message (``-o``, ``--evidence``)
    option: str = "-o"


def _resolved(path: Path) -> Path:
    """The absolute path with every existing symlink followed (missing tails kept as written)."""
    return Path(os.path.realpath(os.path.abspath(os.fspath(path))))


def _inside(child: Path, parent: Path) -> bool:
    """True when ``child`` is ``parent`` or below it (both resolved)."""
    return child == parent or parent in child.parents


def _same_file(a: Path, b: Path) -> bool:
    """True when both exist and are one file (hard links, bind mounts)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_paths(inputs: Iterable[Path | None], outputs: Sequence[Output]) -> None:
    """Refuse outputs that are, lie inside or contain an input, or repeat another output (see the module docstring)."""
    ins = [(Path(p), _resolved(Path(p))) for p in inputs if p is not None]
    seen: dict[Path, Output] = {}
    for out in outputs:
        o = _resolved(out.path)
        for raw, i in ins:
            if o == i or _same_file(out.path, raw):
                raise InputError(f"{out.option} is the input itself; it would be overwritten", path=out.path,
                                 hint="choose an output outside the input")
            if os.path.isdir(i) and _inside(o, i):
                raise InputError(f"{out.option} lies inside the input folder", path=out.path,
                                 hint="choose an output outside the input folder")
            if _inside(i, o):
                raise InputError(f"{out.option} contains the input", path=out.path,
                                 hint="choose an output folder that holds no input")
        if o in seen:
            raise InputError(f"{out.option} is the same path as {seen[o].option}", path=out.path,
                             hint="give each output its own name")
        seen[o] = out


def _reason(exc: OSError) -> str:
    """A short lower-case reason for an OS error (``no space left on device``)."""
    text = exc.strerror or (os.strerror(exc.errno) if exc.errno else type(exc).__name__)
    return text[:1].lower() + text[1:]


def probe_folder(folder: Path, option: str = "-o") -> None:
    """Create and remove a probe file in ``folder``; one :class:`InputError` when that fails.

    Missing folders are created for the probe and removed again afterwards, so a run refused later (a bad input,
    a model that will not load) leaves no empty folder behind; the job creates them again when it writes.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{option} must be a folder but a file has this name", path=folder,
                         hint="choose another name or remove the file")
    created: list[Path] = []
    probe_at = folder.absolute()
    while not probe_at.exists() and probe_at != probe_at.parent:
        created.append(probe_at)
        probe_at = probe_at.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".medpriv-probe-", dir=folder)
        try:
            os.write(fd, b"probe")  # a full disk can accept the create and refuse the first byte
        finally:
            os.close(fd)
            os.unlink(probe)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"{option}: a file stands where a folder is needed", path=folder) from None
    except OSError as exc:
        hint = "free some space" if exc.errno == errno.ENOSPC else "choose a writable output folder"
        raise InputError(f"cannot write here ({_reason(exc)})", path=folder, hint=hint) from None
    finally:
        for made in created:  # deepest first; a folder someone filled meanwhile stays
            try:
                made.rmdir()
            except OSError:
                break


def guard_outputs(inputs: Iterable[Path | None], outputs: Sequence[Output]) -> None:
    """Check the paths, then probe every output folder. Call it before any work starts."""
    outputs = [o for o in outputs if o.path is not None]
    check_paths(inputs, outputs)
    for out in outputs:
        if out.folder:
            probe_folder(out.path, out.option)
        else:
            if Path(out.path).is_dir():
                raise InputError(f"{out.option} names a folder, a file is needed", path=out.path,
                                 hint="give a file name")
            probe_folder(Path(out.path).parent, out.option)
