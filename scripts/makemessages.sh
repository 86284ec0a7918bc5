#!/usr/bin/env bash
# Regenerate the Vietnamese catalogs (docs/vi/GLOSSARY.md): root templates and static/js into locale/ (django.po,
# djangojs.po), each app's Python strings into <app>/locale/, virt/'s into virt/locale/. makemessages files each
# source under the nearest locale directory that exists, so the layout is made first. Then translate the empty
# msgstr and `make test` (tests/test_translations.py) says what is left.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
for app in */apps.py; do
  mkdir -p "$(dirname "$app")/locale/vi/LC_MESSAGES"
done
mkdir -p locale/vi/LC_MESSAGES virt/locale/vi/LC_MESSAGES
ignore=(--ignore=.venv --ignore=node_modules --ignore='static/vendor/*' --ignore=var --ignore=bench --ignore=staticfiles)
export VIRTDECK_LOG_LEVEL=WARNING
"$PY" manage.py makemessages -l vi --no-obsolete "${ignore[@]}" >/dev/null
"$PY" manage.py makemessages -l vi --no-obsolete -d djangojs "${ignore[@]}" >/dev/null
