"""Reaching past Twisted's buffers to a connection's own socket, for the paths that move bulk bytes
(console/splice.py, core/streamed_http.py): every hop through the reactor and its buffer costs a copy and a
wake-up per piece, which shows at hundreds of MiB/s. Twisted is pinned: this reads its FileDescriptor's
buffer fields (dataBuffer[offset:] and the list _tempDataBuffer).
"""
from twisted.internet import tcp


def plain_socket(transport):
    """The socket under `transport` if it carries the connection's bytes as they are, else None: a plain TCP
    (or unix) connection, no TLS in between (a TLS wrapper passes attribute look-ups on to the TCP transport
    under it: hence the isinstance), still open."""
    if (isinstance(transport, tcp.Connection) and not getattr(transport, "TLS", False)
            and transport.connected and not transport.disconnecting):
        return transport.socket
    return None


def idle_socket(transport):
    """plain_socket(transport) if nothing waits in Twisted's buffer to go out before what is written to the
    socket now, else None."""
    if plain_socket(transport) is not None and not transport._tempDataBuffer \
            and len(transport.dataBuffer) == transport.offset:
        return transport.socket
    return None
