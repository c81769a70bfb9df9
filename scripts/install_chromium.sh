#!/usr/bin/env bash
# The browser test drives Debian's Chromium through Playwright (no browser download).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "chromium is missing: install Debian's 'chromium' package (apt-get install chromium)" >&2; exit 1
fi
echo "installing Debian's chromium for the browser test..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
