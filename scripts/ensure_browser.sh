#!/usr/bin/env bash
# The console's browser tests drive headless Chromium with its matching chromedriver, both from the
# OS packages (nothing can be downloaded from elsewhere). Installed here when missing (Debian or
# Ubuntu, as root or with sudo); otherwise say how, and fail.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing chromium and chromium-driver from the OS packages (for the console's browser tests)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  command -v chromium >/dev/null && command -v chromedriver >/dev/null && exit 0
fi
echo "the console's browser tests need chromium and chromedriver on PATH (Debian: apt-get install chromium chromium-driver)" >&2
exit 1
