#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright's own browser downloads are not used).
# Installs the `chromium` package when it is missing (with an emoji font, so screenshots show
# the emoji phones show); needs root or sudo.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: Chromium is missing at $CHROMIUM and apt-get is not available;" \
       "install Chromium and set CHROMIUM=/path/to/chromium" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: installing Chromium needs root or sudo" >&2; exit 1; }
  SUDO="sudo"
fi
printf '\033[1m==> installing Debian chromium for the browser tests\033[0m\n'
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends chromium fonts-noto-color-emoji >/dev/null 2>&1 || {
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y --no-install-recommends chromium fonts-noto-color-emoji >/dev/null
}
[ -x "$CHROMIUM" ] || { echo "error: chromium installed but $CHROMIUM is missing" >&2; exit 1; }
