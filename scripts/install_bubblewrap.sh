#!/usr/bin/env bash
# Grading runs student code under bubblewrap (Debian/Ubuntu package `bubblewrap`).
set -euo pipefail
if command -v bwrap >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "bubblewrap is missing: install it (apt-get install bubblewrap)" >&2; exit 1
fi
echo "installing bubblewrap for the grading sandbox..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq bubblewrap >/dev/null
