"""The one way any app reaches a saved host's libvirt: `call(host, fn)`.

Importable at module top by every app (it imports only hosts.models, hosts.credentials
and virt). Modules import `call` by name, so a test replaces it where it is looked up:
`monkeypatch.setattr(instances.services, "call", fake)` fakes the host for that module only.
To forbid libvirt altogether, patch `virt.connection.Pool.call`.
"""
from django.conf import settings
from django.utils import translation

from virt.connection import ConnectionSpec, get_pool

from .credentials import managed_params
from .models import libvirt_host_uri


def pool():
    """This process's connection pool, with the timeouts and backoff from settings."""
    return get_pool(call_timeout=settings.VIRT_CALL_TIMEOUT, connect_timeout=settings.VIRT_CONNECT_TIMEOUT,
                    backoff_max=settings.VIRT_BACKOFF_MAX)


def pool_key(host):
    """The pool entry of a saved host (probes of unsaved settings use keys of their own)."""
    return f"host-{host.pk}"


def connection_spec(host, key=None):
    """What the pool connects to. Raises URIError (a VirtError) when today's settings refuse the host's URI."""
    parsed = libvirt_host_uri(host.uri)
    return ConnectionSpec(
        key=key or pool_key(host),
        uri=parsed.build(managed_params(host, parsed)),
        username=host.username,
        password=host.password,
        display=host.uri,
        keepalive=settings.VIRT_KEEPALIVE,
    )


def in_callers_language(fn):
    """fn, run in the language active here: the pool runs it in a thread of its own, where virt/'s messages
    would be in the default language (Django's active language is thread-local)."""
    language = translation.get_language()

    def run(conn):
        with translation.override(language):
            return fn(conn)

    return run


def call(host, fn, timeout=None):
    """Run fn(conn) on the host, bounded and translated (see virt.connection.Pool.call)."""
    return pool().call(connection_spec(host), in_callers_language(fn), timeout=timeout)


def run_long(host, fn, **kwargs):
    """Run fn(conn) on a connection of its own for long work (clone, conversion); see Pool.run_long."""
    return pool().run_long(connection_spec(host), in_callers_language(fn), **kwargs)


def reconnect(host):
    """Close the host's connection and clear its backoff: the next call connects afresh."""
    pool().reset(pool_key(host))


def disconnect(host):
    """Close the host's connection and forget its pool entry (the host is gone)."""
    pool().discard(pool_key(host))
