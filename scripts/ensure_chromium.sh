#!/bin/sh
# Install Debian's headless-capable Chromium for the dashboard's real-browser test, once.
# A no-op when it is already there; needs root (CI runs as root) or sudo otherwise.
set -eu

CHROMIUM="${SMARTGRID_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $CHROMIUM is missing and apt-get is not available; install Chromium and set SMARTGRID_CHROMIUM to its path" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: installing chromium needs root (apt-get install -y chromium)" >&2
        exit 1
    fi
fi

echo "installing Debian's chromium for the dashboard browser test..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
"$CHROMIUM" --version
