#!/usr/bin/env bash
# Telephony set-up: install the real voice peers (Debian packages) and generate prompts.
#
#   rtpengine-daemon  media relay, used in userspace (--table=-1): prompts, DTMF, recording
#   sip-tester        sipp, the callers of the end-to-end tests and of bench/sip_load.py
#   baresip-core      headless agent softphones (ctrl_tcp, aufile, aubridge modules)
#   espeak-ng, sox    zh-CN and en prompts as 8 kHz mono PCM WAV (the G.711 call codec)
#
# Idempotent: installs only what is missing, regenerates prompts only when absent.
# Usage: scripts/telephony-setup.sh [PROMPTS_DIR]   (default var/prompts)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(rtpengine-daemon sip-tester baresip-core espeak-ng sox libsox-fmt-base)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "telephony-setup: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian package enables a kernel-mode rtpengine service; we start our own in userspace.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet rtpengine-daemon 2>/dev/null; then
  echo "telephony-setup: note: the packaged rtpengine-daemon service is running (not used by tests)"
fi
for tool in rtpengine sipp baresip espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "telephony-setup: $tool missing after install" >&2; exit 1; }
done

PROMPTS="${1:-var/prompts}"
PYTHON="${PYTHON:-.venv/bin/python}"
"$PYTHON" -m hotline.cli.main telephony prompts --out "$PROMPTS"
echo "telephony-setup: ready (prompts in $PROMPTS)"
