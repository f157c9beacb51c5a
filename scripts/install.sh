#!/usr/bin/env bash
# Install live_snn and everything it needs into ./.venv (created if missing).
# Usage: scripts/install.sh [--test]   (--test adds the test-only tools)
# torch and PySide6 are pinned here, in the same pip command as the package, because an
# unpinned torch pulls several GB of CUDA wheels and PySide6 6.12.0 crashes pyqtgraph.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
extras="gui"
[ "${1:-}" = "--test" ] && extras="gui,test"
.venv/bin/python -m pip install -q --disable-pip-version-check \
    "torch==2.13.0" "PySide6-Essentials==6.11.3" -e ".[${extras}]" 2>&1 \
    | grep -vE "^WARNING: Location .* is ignored" || true
.venv/bin/python -c "import live_snn, torch, dv_processing, faery" || {
    echo "install.sh: live_snn did not import after install" >&2; exit 1; }
if [ "${1:-}" = "--test" ]; then
    # Test-only reference LIF for the parity test (loguru: it cannot import without it); its torchvision pin
    # breaks a normal install, so it comes without its dependencies.
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "spikingjelly==2.0.0" "loguru==0.7.3" 2>&1 \
        | grep -vE "^WARNING: Location .* is ignored" || true
    # A real X server for the one test that opens a real window (root on Debian only).
    if ! command -v xvfb-run >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 \
            libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libegl1 libgl1 \
            >/dev/null) || echo "install.sh: could not install xvfb; the real-window check will be skipped" >&2
    fi
fi
