#!/usr/bin/env bash
# The PostgreSQL gradebook tests start their own throw-away cluster with Debian's server binaries
# (initdb, pg_ctl, pg_isready in /usr/lib/postgresql/<version>/bin); install them if missing.
# Debian's package also creates and starts a "main" cluster on port 5432; the tests never use it.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "PostgreSQL is missing: install Debian's 'postgresql' package (apt-get install postgresql)" >&2; exit 1
fi
echo "installing Debian's postgresql for the PostgreSQL gradebook tests..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
