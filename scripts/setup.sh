#!/usr/bin/env bash
# Install what virtdeck needs, idempotently: Debian packages (as root), the
# Python venv, npm packages and the static vendor copy. Fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r pkg; do
  [ -z "$pkg" ] || [[ "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < lab/packages.txt
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "virtdeck needs these Debian packages: ${missing[*]}" >&2
    echo "Install them as root: apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "== installing Debian packages: ${missing[*]}"
  # Package scripts must not start system daemons: we start our own, by pidfile.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" -eq 0 ] || rm -f /usr/sbin/policy-rc.d
fi

stamp() { cat "$@" | sha256sum | cut -c1-16; }
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
want=$(stamp requirements.txt requirements-dev.txt)
if [ "$(cat .venv/.virtdeck-stamp 2>/dev/null)" != "$want" ]; then
  echo "== installing Python packages"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > .venv/.virtdeck-stamp
fi
want=$(stamp package.json package-lock.json scripts/vendor.sh)
if [ "$(cat static/vendor/.virtdeck-stamp 2>/dev/null)" != "$want" ]; then
  echo "== installing front-end packages (npm)"
  npm ci --no-audit --no-fund --loglevel=error
  scripts/vendor.sh
  echo "$want" > static/vendor/.virtdeck-stamp
fi
# Translations: compile the .po catalogs (root, apps, virt/) into .mo files, which are not committed; only when
# a .po is newer than its .mo, so that a run with nothing changed does not even start Django.
stale=0
while read -r po; do
  [ "${po%.po}.mo" -nt "$po" ] || stale=1
done < <(find . \( -path ./.venv -o -path ./node_modules -o -path ./static/vendor -o -path ./var \) -prune \
              -o -path '*/locale/*/LC_MESSAGES/*.po' -print)
if [ "$stale" -eq 1 ]; then
  echo "== compiling translations"
  VIRTDECK_LOG_LEVEL=WARNING .venv/bin/python manage.py compilemessages --ignore=.venv --ignore=node_modules --ignore=static/vendor --ignore=var \
    >/dev/null
fi
