# syntax=docker/dockerfile:1
# virtdeck image: one image for every process (web, worker, beat, watcher, migrate);
# docker-compose.yml picks the command. See docs/deploy.md.

# --- Front-end libraries from npm (bootstrap, bootstrap-icons, htmx, CodeMirror, noVNC, xterm.js)
FROM node:20-slim AS vendor
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Same layout as scripts/vendor.sh: static/vendor/bootstrap/css/..., .../js/..., etc.
RUN mkdir -p static/vendor/bootstrap static/vendor/bootstrap-icons static/vendor/htmx \
        static/vendor/codemirror/mode/xml static/vendor/novnc static/vendor/xterm \
    && cp -r node_modules/bootstrap/dist/. static/vendor/bootstrap/ \
    && cp -r node_modules/bootstrap-icons/font/. static/vendor/bootstrap-icons/ \
    && cp -r node_modules/htmx.org/dist/. static/vendor/htmx/ \
    && cp node_modules/codemirror/lib/codemirror.js node_modules/codemirror/lib/codemirror.css \
        static/vendor/codemirror/ \
    && cp node_modules/codemirror/mode/xml/xml.js static/vendor/codemirror/mode/xml/ \
    && cp -r node_modules/@novnc/novnc/core node_modules/@novnc/novnc/vendor static/vendor/novnc/ \
    && cp node_modules/@xterm/xterm/lib/xterm.mjs node_modules/@xterm/xterm/css/xterm.css static/vendor/xterm/

# --- Python dependencies (libvirt-python is built from its sdist) --------------------
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev pkg-config libvirt-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

# --- Translations: the .mo catalogs compiled from the .po files (msgfmt stays out of the runtime image)
FROM build AS messages
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY . /src
RUN VIRTDECK_SECRET_KEY=compilemessages-build-only VIRTDECK_STATE_DIR=/tmp/state \
    python manage.py compilemessages

# --- Runtime -------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
# libvirt0: the client library (TLS via GnuTLS, libssh, SASL);
# libsasl2-modules: SASL mechanisms such as SCRAM-SHA-256;
# openssh-client: qemu+ssh:// runs the ssh binary.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libvirt0 libsasl2-modules openssh-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 virtdeck \
    && useradd --system --uid 10001 --gid virtdeck --home-dir /home/virtdeck --create-home \
       --shell /usr/sbin/nologin virtdeck \
    && mkdir -p /var/lib/virtdeck \
    && chown virtdeck:virtdeck /var/lib/virtdeck \
    && chmod 0700 /var/lib/virtdeck

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=virtdeck.settings \
    VIRTDECK_STATE_DIR=/var/lib/virtdeck \
    VIRTDECK_STATIC_ROOT=/app/staticfiles

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Code stays owned by root: the app user can read it, not change it.
COPY --from=messages /src /app
COPY --from=vendor /src/static/vendor /app/static/vendor
# The key is a throwaway for this step only; it is not kept in the image's environment.
# STATIC_ROOT is in the image (/app/staticfiles), not in the state volume, so that an
# upgraded image always serves its own static files.
RUN VIRTDECK_SECRET_KEY=collectstatic-build-only python manage.py collectstatic --noinput

USER 10001:10001
VOLUME ["/var/lib/virtdeck"]
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "virtdeck.asgi:application"]
