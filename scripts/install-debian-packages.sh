#!/usr/bin/env bash
# Debian packages the tests need: chromium (browser tests), poppler-utils (PDF checks) and redis-server
# (the several-process test: the task queue, channel layer and cache of a production layout).
# Idempotent: installs only what is missing.
set -euo pipefail
PACKAGES=(chromium poppler-utils redis-server)
missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "==> installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
