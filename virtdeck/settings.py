"""virtdeck settings: everything comes from the environment, with safe defaults.

`make run` needs none of these set; production sets at least
VIRTDECK_SECRET_KEY, VIRTDECK_ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""
import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as language_name

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("VIRTDECK_STATE_DIR", BASE_DIR / "var"))
RUN_DIR = Path(os.environ.get("VIRTDECK_RUN_DIR", STATE_DIR / "run"))


def _env_bool(name, default=False):
    return os.environ.get(name, str(default)).lower() in ("1", "true", "yes", "on")


def _secret_key():
    """A key from the environment, else one generated once and kept (0600) in STATE_DIR."""
    key = os.environ.get("VIRTDECK_SECRET_KEY")
    if key:
        return key
    path = STATE_DIR / "secret_key"
    if not path.exists():
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Rotation (docs/security.md): earlier secret keys, still accepted for sessions and signatures until they expire.
SECRET_KEY_FALLBACKS = [k for k in os.environ.get("VIRTDECK_SECRET_KEY_FALLBACKS", "").split(",") if k]
# Credentials of hosts are encrypted with this key (Fernet, derived from SECRET_KEY if unset).
ENCRYPTION_KEY = os.environ.get("VIRTDECK_ENCRYPTION_KEY", "")
# Earlier credential keys: still read, until `manage.py rotate_credential_key` has re-encrypted everything.
ENCRYPTION_KEY_FALLBACKS = [k for k in os.environ.get("VIRTDECK_ENCRYPTION_KEY_FALLBACKS", "").split(",") if k]
DEBUG = _env_bool("VIRTDECK_DEBUG", False)
ALLOWED_HOSTS = os.environ.get("VIRTDECK_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("VIRTDECK_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "csp",
    "core",
    "accounts",
    "access",
    "audit",
    "hosts",
    "instances",
    "networks",
    "storage",
    "console",
    "metrics",
    "dashboard",
    "guide",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # before whitenoise: static files too
    "core.middleware.RequestCharsetMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the language: cookie (the switcher), else Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a lockout into its answer
]

ROOT_URLCONF = "virtdeck.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.health",
                "access.context_processors.roles",
            ],
            "builtins": ["core.templatetags.virtdeck"],
        },
    },
]
WSGI_APPLICATION = "virtdeck.wsgi.application"
ASGI_APPLICATION = "virtdeck.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        # No persistent connections: under ASGI each request may run in another thread, and Django
        # closes connections only at request end; persistent ones would pile up (Django's ASGI docs).
        default=f"sqlite:///{STATE_DIR / 'virtdeck.sqlite3'}", conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (web, worker, watcher) write: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": str(STATE_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"

# Login protection (django-axes): after AXES_FAILURE_LIMIT failed logins for one account, or from one address,
# further attempts are refused for the cool-off time; the attempts are logged (logger "axes"). A user name is
# locked on its own too, so that guessing from many addresses does not help; the cool-off bounds the nuisance.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("VIRTDECK_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("VIRTDECK_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# REMOTE_ADDR only: core.asgi_middleware already set it from X-Forwarded-For for trusted proxies alone.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Log who and from where (axes masks them by default); the password is always masked.
AXES_SENSITIVE_PARAMETERS = []
LOGIN_REDIRECT_URL = "dashboard:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("VIRTDECK_TIME_ZONE", "UTC")
USE_I18N = True
# English and Vietnamese (issue 13). Root templates and virtdeck/ translate in locale/, each app in its own
# <app>/locale/, virt/ (which never imports Django) in virt/locale/. Catalogs are compiled by scripts/setup.sh.
# The names come translated from Django's own catalog, so makemessages is not meant to extract them (its
# directory-prefix test would file virtdeck/'s strings under virt/locale or locale/ depending on walk order).
LANGUAGES = [("en", language_name("English")), ("vi", language_name("Vietnamese"))]
# locale/libraries: what the libraries' own catalogs leave in English (most of Django REST framework's vi).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "virt" / "locale", BASE_DIR / "locale" / "libraries"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("VIRTDECK_STATIC_ROOT", STATE_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one

# Requests: daphne refuses a body over this many bytes (413) before reading it, and a request line
# (method, URL, version) over MAX_URL_BYTES (414); see core/server_limits.py. Twisted caps a request
# line and all headers at 16 KiB together, so MAX_URL_BYTES above that has no effect.
MAX_REQUEST_BYTES = int(os.environ.get("VIRTDECK_MAX_REQUEST_BYTES", str(4 * 1024 * 1024)))
MAX_URL_BYTES = int(os.environ.get("VIRTDECK_MAX_URL_BYTES", "8192"))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES  # Django's own check (request.body, forms) agrees
# Routes whose bodies stream through daphne a piece at a time, past MAX_REQUEST_BYTES (core/streamed_http.py):
# (method, regular expression of the path).
STREAMED_ROUTES = [
    ("PUT", r"/api/storage/volumes/\d+/upload/[^/]*"),  # and a file name after it: what `curl -T FILE URL/` sends
    ("GET", r"/api/storage/volumes/\d+/download/"),
    ("HEAD", r"/api/storage/volumes/\d+/download/"),  # else daphne would run a whole download for nothing
]
# A streamed request's client that sends (or reads) nothing for this long while virtdeck waits for it is dropped.
STREAMED_IDLE_SECONDS = float(os.environ.get("VIRTDECK_STREAMED_IDLE_SECONDS", "120"))
# On a plain TCP connection, a streamed body's bytes go between the socket and the thread feeding libvirt
# without passing through daphne's reactor (about twice a download's throughput). 0: always through the reactor,
# as under TLS (core/streamed_http.py).
STREAMED_DIRECT_IO = os.environ.get("VIRTDECK_STREAMED_DIRECT_IO", "1") != "0"
# Volume uploads and downloads running at once, over all web processes and per host (0: no limit); a slot's
# lease in Redis, renewed while the transfer runs, frees it this long after a web process dies
# (storage/transfer_slots.py).
MAX_TRANSFERS = int(os.environ.get("VIRTDECK_MAX_TRANSFERS", "8"))
MAX_TRANSFERS_PER_HOST = int(os.environ.get("VIRTDECK_MAX_TRANSFERS_PER_HOST", "4"))
TRANSFER_LEASE_SECONDS = float(os.environ.get("VIRTDECK_TRANSFER_LEASE_SECONDS", "30"))
# Addresses (IPs or networks, comma-separated) of reverse proxies whose X-Forwarded-For is believed;
# from anyone else the header is ignored and the TCP peer is the client (core/asgi_middleware.py).
TRUSTED_PROXIES = [ipaddress.ip_network(p.strip(), strict=False)
                   for p in os.environ.get("VIRTDECK_TRUSTED_PROXIES", "").split(",") if p.strip()]

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content Security Policy (django-csp): scripts only from our own static files, never inline, never eval;
# no plugins, no framing, forms post only to virtdeck. 'self' also covers the console's and live updates'
# websockets on the same host and port (CSP level 3). Styles allow inline: the templates size progress
# bars with style attributes, and xterm.js, Swagger UI and htmx add <style> elements at run time; styles
# cannot run code. Images: data: and blob: for noVNC's cursor and screenshots, Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if _env_bool("VIRTDECK_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Behind the TLS proxy: a plain-HTTP request is sent to https://, and browsers are told to come back
    # over HTTPS only (HSTS), for this host and its subdomains (docs/deploy.md).
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("VIRTDECK_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _env_bool("VIRTDECK_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading puts the whole domain in browsers' built-in HTTPS-only list, hard to undo: a decision
        # for the domain's owner (VIRTDECK_HSTS_PRELOAD=1), not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

REDIS_URL = os.environ.get("REDIS_URL", f"unix://{RUN_DIR / 'redis.sock'}")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}

_broker = REDIS_URL.replace("unix://", "redis+socket://", 1) if REDIS_URL.startswith("unix://") else REDIS_URL
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", _broker)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Two queues: "celery" (the default) carries jobs, which can run for minutes; "inventory" carries the
# periodic syncs and the reaper, on a worker of its own, so long jobs never starve them.
# Task modules beyond each app's tasks.py (autodiscovered): the worker must import them to run their jobs.
CELERY_IMPORTS = ("instances.creation_tasks", "instances.lifecycle_jobs")
CELERY_TASK_ROUTES = {
    "hosts.tasks.sync_host": {"queue": "inventory"},
    "hosts.tasks.sync_all_hosts": {"queue": "inventory"},
    "core.tasks.reap_lost_jobs": {"queue": "inventory"},
    "metrics.tasks.sample_host": {"queue": "inventory"},
    "metrics.tasks.sample_all_hosts": {"queue": "inventory"},
}
CELERY_BEAT_SCHEDULE = {
    "sync-inventory": {
        "task": "hosts.tasks.sync_all_hosts",
        "schedule": float(os.environ.get("VIRTDECK_SYNC_INTERVAL", "5")),
    },
    "reap-lost-jobs": {"task": "core.tasks.reap_lost_jobs", "schedule": 15.0},
    # metrics/: one sample of every host's and VM's CPU, memory, disk and network every N seconds.
    "sample-metrics": {
        "task": "metrics.tasks.sample_all_hosts",
        "schedule": float(os.environ.get("VIRTDECK_METRICS_INTERVAL", "10")),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: anonymous API callers get 401 with WWW-Authenticate, not 403. Named tokens (vd_...)
        # before DRF's own, which would refuse them as unknown keys.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "accounts.permissions.ReadOnlyTokens"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.Pagination",
    "DEFAULT_METADATA_CLASS": "core.api.metadata.Metadata",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    # Token endpoint: password guessing is slowed to 10 tries a minute per client (per process:
    # the default cache is Django's in-memory one).
    "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
    # Throttles key on REMOTE_ADDR, never on X-Forwarded-For as sent: core.asgi_middleware sets the
    # client address from it only for TRUSTED_PROXIES.
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "virtdeck API",
    "DESCRIPTION": "One REST API for a fleet of KVM hosts. Long writes answer 202 with a job.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Fields that share a name across the API but not their choices get an enum each, named here.
    "ENUM_NAME_OVERRIDES": {
        "HostStateEnum": "hosts.models.Host.State",
        "InstanceStateEnum": "instances.choices.InstanceState",
        "PoolStateEnum": "storage.choices.PoolState",
        "PoolTypeEnum": "storage.choices.POOL_TYPE_CHOICES",
        "VolumeAllocationEnum": "storage.choices.Allocation",
        "DiskAllocationEnum": "virt.volumes.ALLOCATIONS",
        "NicTypeEnum": "virt.hardware.NIC_TYPES",
    },
}

# libvirt's test driver (test://, test+tcp://, test+unix://): fake hosts for `make run`'s demo, the tests
# and the benchmark, off unless enabled (libvirt reads a node file with its own rights: root, for libvirtd).
VIRTDECK_ALLOW_TEST_DRIVER = _env_bool("VIRTDECK_ALLOW_TEST_DRIVER", False)
# The socket of `make run`'s private demo libvirtd (virtdeck/demo_libvirtd.py): test+unix:// URIs reach it.
VIRTDECK_DEMO_LIBVIRT_SOCKET = os.environ.get("VIRTDECK_DEMO_LIBVIRT_SOCKET", "")
# Node XML files it may load (test:///path.xml): the suite's fixtures, the lab's and the benchmark's.
# A file must resolve inside one of them and load no other file; libvirt is handed a checked copy kept
# under STATE_DIR/test-nodes (virt.testnode), which a test+tcp libvirtd on this machine must be able to read.
VIRTDECK_TEST_NODE_DIRS = [
    d for d in os.environ.get(
        "VIRTDECK_TEST_NODE_DIRS",
        ":".join(str(p) for p in (BASE_DIR / "core" / "testing" / "nodes", BASE_DIR / "var" / "lab",
                                  BASE_DIR / "var" / "bench")),
    ).split(":") if d
]

# libvirt access: every call is bounded; a host that does not answer is marked
# unreachable after this many seconds and retried with backoff.
VIRT_CALL_TIMEOUT = float(os.environ.get("VIRTDECK_LIBVIRT_TIMEOUT", "10"))
VIRT_CONNECT_TIMEOUT = float(os.environ.get("VIRTDECK_LIBVIRT_CONNECT_TIMEOUT", "5"))
# libvirt keepalive "interval,count": a silent host is dropped after about interval x count seconds.
VIRT_KEEPALIVE = tuple(int(n) for n in os.environ.get("VIRTDECK_LIBVIRT_KEEPALIVE", "5,3").split(","))
# Retries of a host that failed back off exponentially up to this many seconds.
VIRT_BACKOFF_MAX = float(os.environ.get("VIRTDECK_LIBVIRT_BACKOFF_MAX", "30"))
# A VM asked to shut down (ACPI) that still runs after this many seconds: its page offers force off.
INSTANCE_SHUTDOWN_GRACE = float(os.environ.get("VIRTDECK_SHUTDOWN_GRACE", "60"))
# A running job whose heartbeat is older than this is declared lost.
JOB_HEARTBEAT_TIMEOUT = float(os.environ.get("VIRTDECK_JOB_HEARTBEAT_TIMEOUT", "30"))

# Health (core/health.py): workers, beat and the watcher write a heartbeat to Redis; a component
# silent for HEALTH_DOWN_AFTER seconds is shown as down (Celery workers beat every 2 s).
HEALTH_HEARTBEAT_INTERVAL = float(os.environ.get("VIRTDECK_HEALTH_HEARTBEAT_INTERVAL", "2"))
HEALTH_DOWN_AFTER = float(os.environ.get("VIRTDECK_HEALTH_DOWN_AFTER", "10"))
HEALTH_REDIS_TIMEOUT = 0.5  # seconds: a hung Redis must not hold pages

# Host watchers share the hosts through leases in Redis (hosts/leases.py): a watcher that stops without
# letting go has its hosts taken over by the others after this many seconds. Must exceed a rescan (2 s).
WATCHER_LEASE_SECONDS = float(os.environ.get("VIRTDECK_WATCHER_LEASE_SECONDS", "10"))
# A host whose last sync is older than this shows as stale, not up: a few sync intervals, plus the
# longest a sync may take (connect and call timeouts) before it writes.
HOST_STALE_AFTER = float(os.environ.get(
    "VIRTDECK_HOST_STALE_AFTER",
    3 * CELERY_BEAT_SCHEDULE["sync-inventory"]["schedule"] + VIRT_CONNECT_TIMEOUT + VIRT_CALL_TIMEOUT,
))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"without_traceback": {"()": "core.log_filters.WithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("VIRTDECK_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # A request with a Host not in ALLOWED_HOSTS gets a 400 and one log line (scanners send many).
        "django.security.DisallowedHost": {"filters": ["without_traceback"]},
        "asyncssh": {"level": "WARNING"},  # a line per connection step when virtdeck fetches a host key
    },
}

# Storage: a pool's volumes are re-read when it changes (actions, events, refresh) and at least this often
# (seconds); the steady sync reads pools only, whatever the number of volumes.
STORAGE_VOLUMES_MAX_AGE = float(os.environ.get("VIRTDECK_STORAGE_VOLUMES_MAX_AGE", "600"))
