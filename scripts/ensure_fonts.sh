#!/usr/bin/env bash
# Signed documents (受理通知书, 行政处罚决定书) embed a Chinese TrueType font: Debian's WenQuanYi Zen Hei
# (fonts-wqy-zenhei, GPL-2 with the font embedding exception). Installs it when missing and we may; otherwise the
# documents reference the PDF standard font STSong-Light without embedding it. Never fails the run by itself.
set -u
if [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "NOTE: fonts-wqy-zenhei missing and apt-get unavailable as root: signed documents will not embed a font" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q fonts-wqy-zenhei >/tmp/shijian-apt-fonts.log 2>&1 \
  || { apt-get update -q >>/tmp/shijian-apt-fonts.log 2>&1 && apt-get install -y -q fonts-wqy-zenhei >>/tmp/shijian-apt-fonts.log 2>&1; } \
  || echo "NOTE: installing fonts-wqy-zenhei failed (see /tmp/shijian-apt-fonts.log)" >&2
exit 0
