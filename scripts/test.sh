#!/usr/bin/env bash
# Set up everything the test suite needs, from a fresh clone, and run it.
# The README's Quick start and .ci/run both run exactly this script.
#   - a virtual environment in .venv with geo_pcn and its test extras
#   - Debian's chromium for the real-browser map test (installed when missing and we can)
#   - pytest over tests/ (real-data tests skip when ../shared/data is absent)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian chromium for the browser test..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the browser test will be skipped" >&2
  else
    echo "warning: chromium not found and not root; the browser test will be skipped" >&2
  fi
fi

tmp=$(mktemp -d)
export IPYTHONDIR="$tmp/ipython" MPLCONFIGDIR="$tmp/mpl" MPLBACKEND=Agg
exec .venv/bin/python -m pytest "$@"
