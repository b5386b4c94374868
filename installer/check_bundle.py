"""Check a finished one-folder build: nothing of the training stack, and every piece the app needs is there.

Besides the training stack (:mod:`forbidden`), a few big packages the app has replaced must not come back into the
bundle through a stray import: SimpleITK (about 270 MB; NRRD and MetaImage are read by the app's own code).

Usage: ``python installer/check_bundle.py dist/MedPriv`` (``build.sh`` runs it and fails when it fails).
Prints the size and the largest parts. Exit 0 when the bundle is clean and complete, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forbidden import forbidden_paths  # noqa: E402

#: (what, glob patterns relative to the packages folder; one match of any is enough)
REQUIRED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bundled resources", ("resources/schema/model_card.schema.json",)),
    ("presidio sources (pyz+py)", ("presidio_analyzer/analyzer_engine.py",)),
    ("tldextract suffix-list snapshot", ("tldextract/.tld_set_snapshot",)),
    ("spaCy English language data", ("spacy/lang/en/*", "spacy/lang/*")),
    ("onnxruntime native library", ("onnxruntime/capi/*onnxruntime*",)),
    ("VTK OpenGL rendering", ("vtkmodules/*RenderingOpenGL2*", "*vtkRenderingOpenGL2*")),
    ("Qt platform plugin", ("PySide6/Qt/plugins/platforms/*", "PySide6/plugins/platforms/*")),
)

#: Packages the app does not use at run time although a developer environment has them (first path part, lower case).
NOT_BUNDLED = ("simpleitk",)


def unwanted_path(rel: str | Path) -> bool:
    """True when a path inside the bundle belongs to a package of :data:`NOT_BUNDLED` (folder, metadata, library)."""
    parts = Path(rel).parts
    top = parts[0].lower() if parts else ""
    name = parts[-1].lower() if parts else ""
    return any(top == pkg or top.startswith(pkg + "-") or name.startswith(("_" + pkg, "lib" + pkg))
               for pkg in NOT_BUNDLED)


def packages_dir(bundle: Path) -> Path:
    """The folder PyInstaller 6 puts everything but the executable in (``_internal``), or the bundle itself."""
    inner = bundle / "_internal"
    return inner if inner.is_dir() else bundle


def sizes(bundle: Path, depth: int = 1) -> dict[str, int]:
    """Bytes per top-level entry of the packages folder (files counted once, links not followed)."""
    root = packages_dir(bundle)
    out: dict[str, int] = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            rel = p.relative_to(root).parts
            key = "/".join(rel[:depth])
            out[key] = out.get(key, 0) + p.stat().st_size
    for p in bundle.iterdir():
        if p.is_file() and not p.is_symlink():
            out[f"<bundle>/{p.name}"] = p.stat().st_size
    return out


def check(bundle: Path) -> tuple[list[str], list[str]]:
    """(forbidden or unwanted paths found, required pieces missing)."""
    root = packages_dir(bundle)
    rels = [p.relative_to(root) for p in root.rglob("*")]
    bad = forbidden_paths(rels) + sorted(str(r) for r in rels if unwanted_path(r))
    missing = [what for what, pats in REQUIRED if not any(next(root.glob(pat), None) for pat in pats)]
    return bad, missing


def main(argv: list[str] | None = None) -> int:
    """Check the bundle, print the findings and the largest parts."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--json", type=Path, help="also write the sizes and findings here")
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args(argv)
    if not args.bundle.is_dir():
        print(f"check_bundle: no bundle folder at {args.bundle}", file=sys.stderr)
        return 1
    bad, missing = check(args.bundle)
    parts = sizes(args.bundle)
    total = sum(parts.values())
    print(f"bundle {args.bundle}: {total / 2**20:.0f} MiB unpacked")
    for name, n in sorted(parts.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {n / 2**20:8.1f} MiB  {name}")
    if args.json:
        args.json.write_text(json.dumps({"total_bytes": total, "parts": parts, "forbidden": bad, "missing": missing},
                                        indent=2))
    if bad:
        print("FORBIDDEN in bundle (training stack, or a package the app does not use such as SimpleITK): "
              + ", ".join(bad[:20]), file=sys.stderr)
    if missing:
        print("MISSING from bundle: " + ", ".join(missing), file=sys.stderr)
    return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
