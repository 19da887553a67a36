#!/usr/bin/env bash
# Install the npm packages (package.json, locked in package-lock.json) and build what the app
# serves from them. Runtime: JsSIP, the desk's softphone SIP stack, bundled by esbuild into
# node_modules/.build/jssip.min.js (the app serves it at /desk/jssip.js). Tests only: axe-core,
# which checks each page's accessibility in headless Chromium. Node and npm come from Debian
# when missing; the packages from the npm registry, never pasted into the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian packages: nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# npm ci only when the installed tree was not made from this lock file.
if ! cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-lock.json
fi
# JsSIP's npm package ships CommonJS only: one browser file, global ``JsSIP``, rebuilt when
# the installed tree changed.
if [ ! -s node_modules/.build/jssip.min.js ] || [ node_modules/.installed-lock.json -nt node_modules/.build/jssip.min.js ]; then
  node_modules/.bin/esbuild node_modules/jssip/lib-es5/JsSIP.js --bundle --minify \
    --format=iife --global-name=JsSIP --log-level=warning --outfile=node_modules/.build/jssip.min.js
fi
