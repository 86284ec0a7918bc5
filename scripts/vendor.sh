#!/usr/bin/env bash
# Copy front-end libraries installed by npm into static/vendor/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
rm -rf static/vendor && mkdir -p static/vendor/bootstrap static/vendor/bootstrap-icons static/vendor/htmx
cp -r node_modules/bootstrap/dist/css node_modules/bootstrap/dist/js static/vendor/bootstrap/
cp -r node_modules/bootstrap-icons/font/. static/vendor/bootstrap-icons/
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
