#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline). Installs
# chromium and a CJK font (for readable screenshots) when missing and we may; otherwise says why the browser
# tests will skip. Never fails the run by itself.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "NOTE: /usr/bin/chromium missing and apt-get unavailable as root: browser tests will skip" >&2
  exit 0
fi
echo "=== installing Debian's chromium for the browser tests ==="
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium fonts-noto-cjk >/tmp/shijian-apt.log 2>&1 \
  || { apt-get update -q >>/tmp/shijian-apt.log 2>&1 && apt-get install -y -q chromium fonts-noto-cjk >>/tmp/shijian-apt.log 2>&1; } \
  || echo "NOTE: installing chromium failed (see /tmp/shijian-apt.log): browser tests will skip" >&2
exit 0
