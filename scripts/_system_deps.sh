# Sourced by run-demo.sh and test.sh: install the system packages listed in apt-packages.txt when they are missing
# and we may (root with apt-get). Elsewhere, say what is missing and go on.
install_system_deps() {
  local pkgs missing=()
  pkgs=$(grep -vE '^\s*(#|$)' "$(dirname "${BASH_SOURCE[0]}")/apt-packages.txt")
  command -v dpkg-query >/dev/null 2>&1 || { echo "note: not a Debian system; install Xvfb and Mesa GL yourself" >&2; return 0; }
  for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "note: missing system packages (install with sudo apt-get install ${missing[*]})" >&2
  fi
}
