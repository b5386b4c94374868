#!/usr/bin/env bash
# Set up the app (no training stack) in .venv-app and start it on the bundled demo:
# a generated phantom CT study, generated notes and reports, and the models in resources/models.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_system_deps.sh
install_system_deps
PY=${PYTHON:-python3}
VENV=${MEDPRIV_APP_VENV:-.venv-app}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e .
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS=""
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  echo "no display found: running under xvfb-run (pass --screenshot FILE.png --quit-after 5 to see it)" >&2
  exec xvfb-run -a -s "-screen 0 1400x900x24" "$VENV/bin/medpriv-desktop" --demo "$@"
fi
exec "$VENV/bin/medpriv-desktop" --demo "$@"
