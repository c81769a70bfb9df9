#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through Playwright (no browser download).
# Safe to run concurrently (two `make test` at once): installs are serialised by a lock,
# and apt waits for a dpkg lock held by anyone else instead of failing.
set -euo pipefail
have_chromium() { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; }
have_chromium && exit 0
if [ "$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "chromium is missing: install Debian's 'chromium' package (apt-get install chromium)" >&2; exit 1
fi
exec 9>"${TMPDIR:-/tmp}/backprop-course-install-chromium.lock"
flock -w 900 9 || { echo "another chromium install did not finish within 15 minutes" >&2; exit 1; }
have_chromium && exit 0  # installed by whoever held the lock
echo "installing Debian's chromium for the browser test..."
APT_WAIT=(-o DPkg::Lock::Timeout=600)
$SUDO apt-get "${APT_WAIT[@]}" update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_WAIT[@]}" install -y -qq chromium >/dev/null
have_chromium || { echo "apt-get installed chromium but /usr/bin/chromium is missing" >&2; exit 1; }
