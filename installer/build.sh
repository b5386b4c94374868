#!/usr/bin/env bash
# Build the one-folder MedPriv Desktop app for this system (Linux or macOS; Windows: installer/build.ps1):
#   1. an app-only virtual environment (.venv-build) with the app and PyInstaller, no training stack;
#   2. PyInstaller with installer/medpriv.spec into dist/MedPriv (work files in build/pyinstaller);
#   3. strip symbols from VTK's and spaCy's extension modules (Linux), then installer/check_bundle.py: fails when
#      torch, monai, transformers, opacus or peft is inside, or a needed piece (resources, presidio sources,
#      tldextract snapshot, spaCy English, onnxruntime, VTK, Qt platform plugin) is not;
#   4. an archive dist/MedPriv-<version>-<system>-<machine>.tar.gz (skip with MEDPRIV_NO_ARCHIVE=1).
# Environment: MEDPRIV_BUILD_VENV (default .venv-build), MEDPRIV_DIST (default dist), MEDPRIV_WORK (default
# build/pyinstaller), PYTHON (interpreter that creates the venv, default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${MEDPRIV_BUILD_VENV:-.venv-build}
DIST=${MEDPRIV_DIST:-dist}
WORK=${MEDPRIV_WORK:-build/pyinstaller}
t0=$(date +%s)

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
# pip runs from a neutral folder: `python -m pip` puts its working folder on sys.path, and from the repository root it
# would take the source tree's medpriv_desktop.egg-info (rewritten by other editable installs) for an installed
# distribution, which once failed the build with "expected string or bytes-like object, got 'NoneType'".
REPO_DIR=$(pwd)
VENV_PY="$(cd "$VENV" && pwd)/bin/python"
(cd "${TMPDIR:-/tmp}" && "$VENV_PY" -m pip install -q --disable-pip-version-check --upgrade pip)
(cd "${TMPDIR:-/tmp}" && "$VENV_PY" -m pip install -q --disable-pip-version-check -e "$REPO_DIR[installer]")
t_install=$(date +%s)

# spaCy imports torch whenever it is installed: the build environment must not have it (nor the rest of the stack).
if ! "$VENV/bin/python" - <<'EOF'
import importlib.util, sys
bad = [m for m in ("torch", "monai", "transformers", "opacus", "peft") if importlib.util.find_spec(m)]
if bad:
    print("build environment has the training stack installed: " + ", ".join(bad)
          + "; build from a fresh app-only environment (remove it or set MEDPRIV_BUILD_VENV)", file=sys.stderr)
    sys.exit(1)
EOF
then exit 1; fi

export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
"$VENV/bin/python" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" installer/medpriv.spec
t_build=$(date +%s)

# Strip symbols from the big extension modules that are safe to strip (about 190 MB less on Linux). Libraries that
# auditwheel patched (numpy.libs, scipy.libs, ...) break when stripped, so only these folders and files are touched
# (none of them has an RPATH set by auditwheel), and each stripped file must still load (dlopen) or the build fails.
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null 2>&1; then
  stripped="$WORK/stripped.txt"
  mkdir -p "$WORK"
  : > "$stripped"
  for pkg in vtkmodules spacy blis thinc srsly preshed cymem murmurhash tokenizers regex yaml; do
    [ -d "$DIST/MedPriv/_internal/$pkg" ] || continue
    find "$DIST/MedPriv/_internal/$pkg" -name '*.so*' -type f >> "$stripped"
  done
  # The JPEG decoders pydicom reaches through pylibjpeg (pylibjpeg-openjpeg, and CharLS when present).
  find "$DIST/MedPriv/_internal" -maxdepth 1 -type f \( -name '_openjpeg*.so' -o -name '_CharLS*.so' \) >> "$stripped"
  tr '\n' '\0' < "$stripped" | xargs -0 -r strip --strip-unneeded
  "$VENV/bin/python" - "$stripped" <<'EOF'
import ctypes, sys
bad = []
for path in open(sys.argv[1]).read().splitlines():
    try:
        ctypes.CDLL(path)
    except OSError as exc:
        bad.append(f"{path}: {exc}")
if bad:
    sys.exit("stripping broke these libraries:\n" + "\n".join(bad[:20]))
print(f"stripped {len(open(sys.argv[1]).read().splitlines())} libraries; all still load")
EOF
fi

"$VENV/bin/python" installer/check_bundle.py "$DIST/MedPriv" --json "$WORK/bundle_check.json"

if [ "${MEDPRIV_NO_ARCHIVE:-0}" != "1" ]; then
  version=$("$VENV/bin/python" -c "import medpriv_desktop; print(medpriv_desktop.__version__)")
  archive="$DIST/MedPriv-$version-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m).tar.gz"
  tar -C "$DIST" -czf "$archive.part" MedPriv && mv "$archive.part" "$archive"
  echo "archive: $archive ($(du -h "$archive" | cut -f1))"
fi
echo "app: $DIST/MedPriv/medpriv-desktop"
echo "times: environment $((t_install - t0)) s, PyInstaller $((t_build - t_install)) s, total $(( $(date +%s) - t0 )) s"
