#!/usr/bin/env bash
# Copy front-end libraries installed by npm into static/vendor/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
rm -rf static/vendor && mkdir -p static/vendor/bootstrap static/vendor/bootstrap-icons static/vendor/htmx \
  static/vendor/codemirror/mode/xml static/vendor/novnc static/vendor/xterm static/vendor/chartjs
cp -r node_modules/bootstrap/dist/css node_modules/bootstrap/dist/js static/vendor/bootstrap/
cp -r node_modules/bootstrap-icons/font/. static/vendor/bootstrap-icons/
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
# The XML editor: CodeMirror 5 ships a browser-ready build (6 needs a bundler); the XML mode for highlighting.
cp node_modules/codemirror/lib/codemirror.js node_modules/codemirror/lib/codemirror.css static/vendor/codemirror/
cp node_modules/codemirror/mode/xml/xml.js static/vendor/codemirror/mode/xml/
cp node_modules/codemirror/LICENSE static/vendor/codemirror/
# noVNC ships ES modules: core/ imports ../vendor/pako, so both keep their relative places.
cp -r node_modules/@novnc/novnc/core node_modules/@novnc/novnc/vendor node_modules/@novnc/novnc/LICENSE.txt \
  static/vendor/novnc/
cp node_modules/@xterm/xterm/lib/xterm.mjs node_modules/@xterm/xterm/css/xterm.css node_modules/@xterm/xterm/LICENSE \
  static/vendor/xterm/
# Charts (migration progress, storage benchmarks, metrics): Chart.js's UMD build needs no bundler.
cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md static/vendor/chartjs/
