#!/usr/bin/env bash
# Debian packages the browser tests need: Chromium (Playwright drives /usr/bin/chromium; no browser
# is ever downloaded) and fonts. Installs them when missing and we may (root + apt-get).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium fonts-liberation >/dev/null
else
  echo "The browser tests need Debian's chromium: sudo apt-get install -y chromium fonts-liberation" >&2
  exit 1
fi
