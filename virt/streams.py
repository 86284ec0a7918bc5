"""Upload into and download from a volume through libvirt streams: the bytes travel over the libvirt
connection, so this works on remote hosts with nothing mounted on the web server.

Memory stays bounded whatever the size: pieces of at most UPLOAD_PIECE (up) or
CHUNK (down) bytes go through, nothing is buffered whole. Both calls block until the transfer ends
(run them as long calls); an error or an exception from the caller's iterator
or sink aborts the stream, and libvirt stops writing.

What moves is the volume's file as stored: a qcow2 volume downloads as a qcow2
image, and an upload into one replaces its content with the uploaded image.

libvirt writes the bytes as they come, whatever they are, and then probes the file
(a dir pool's volume format is what its header says). So an upload must be an image
of the volume's format (check_image): raw bytes into a qcow2 volume would turn it
into a raw one, and a qcow2 image into a raw volume a qcow2 one.
"""
import struct

import libvirt

from .errors import InvalidConfig, InvalidValue
from .xml.storage import VolumeXML, check_size
from .i18n import _, gettext_noop

# One libvirt stream message's payload, either way: libvirt's own size (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX, what
# virStreamSendAll and virsh send). Larger messages cost the host's libvirtd more: each one's buffers go back to
# the kernel and are faulted in again (perf, 1 MiB messages: a third of libvirtd's CPU on page faults; bench/README.md).
CHUNK = 256 * 1024
# What an upload reads from its source at a time, sent as several CHUNK messages: the web process spends about a
# third less CPU per GiB reading 1 MiB at a time than 256 KiB (2 and 4 MiB: no better).
UPLOAD_PIECE = 1024 * 1024
# What one download stream carries at most; libvirt's client may queue two of them (see download_volume).
WINDOW = 8 * 1024 * 1024
_ZEROS = memoryview(bytes(CHUNK))
_ZERO_PIECE = bytes(UPLOAD_PIECE)


QCOW2_MAGIC = b"QFI\xfb"
# The bytes of an upload check_image reads: a version 3 qcow2 header up to its header_length field.
IMAGE_HEADER = 104
# qcow2 version 3 incompatible feature bit 2: the guest's data lives in another file, named in the image.
_QCOW2_EXTERNAL_DATA = 1 << 2


def check_image(volume_format, head, length):
    """Raise InvalidValue("body") unless the upload whose first bytes are `head` (IMAGE_HEADER of them, or all
    `length` if fewer) is an image of `volume_format`; returns the virtual size a qcow2 image's header gives
    (None for raw bytes).

    A qcow2 volume takes a self-contained qcow2 image only: a backing file or an external data file named
    in its header would make the host open that file (another guest's disk, any file) for whoever uses
    the volume. A raw volume takes any bytes but a qcow2 image. Other formats are not checked."""
    is_qcow2 = head.startswith(QCOW2_MAGIC)
    if volume_format == "raw" and is_qcow2:
        raise InvalidValue("body", "body: this is a qcow2 image and the volume is raw: upload it into a qcow2 "
                                   "volume (or convert it to raw first: qemu-img convert -O raw).")
    if volume_format != "qcow2":
        return None
    if not is_qcow2:
        raise InvalidValue("body", "body: the volume is qcow2 and this is not a qcow2 image (it does not start "
                                   "with QFI\\xfb): upload a qcow2 image, or upload raw bytes into a raw volume.")
    if len(head) < IMAGE_HEADER:
        raise InvalidValue("body", f"body: {length} bytes are too short for a qcow2 image.")
    version, backing_offset, _, _, size = struct.unpack_from(">IQIIQ", head, 4)
    if version not in (2, 3):
        raise InvalidValue("body", f"body: qcow2 version {version} is not one QEMU writes (2 or 3).")
    if backing_offset:
        raise InvalidValue("body", "body: this qcow2 image has a backing file: upload a self-contained image "
                                   "(qemu-img convert -O qcow2 merges the chain into one).")
    if version == 3 and struct.unpack_from(">Q", head, 72)[0] & _QCOW2_EXTERNAL_DATA:
        raise InvalidValue("body", "body: this qcow2 image keeps its data in an external file: upload a "
                                   "self-contained image.")
    try:
        return check_size(size, "virtual size in the qcow2 header")
    except InvalidConfig as exc:
        raise InvalidValue("body", f"body: {exc.message}") from None


def _volume(conn, pool_name, name):
    return conn.storagePoolLookupByName(pool_name).storageVolLookupByName(name)


def _abort(stream):
    try:
        stream.abort()
    except libvirt.libvirtError:
        pass  # already broken: the original error is the one to report


def _cut(chunk, size):
    """A bytes-like chunk as bytes of at most `size` bytes each (libvirt's binding takes bytes only): no copy of a
    chunk that is bytes of that size already."""
    if type(chunk) is bytes and len(chunk) <= size:
        yield chunk
        return
    view = memoryview(chunk).cast("B")
    for start in range(0, len(view), size):
        yield view[start:start + size].tobytes()


def _pieces(chunks):
    """Re-cut the caller's chunks (bytes-like, any size) into bytes of at most UPLOAD_PIECE bytes."""
    for chunk in chunks:
        yield from _cut(chunk, UPLOAD_PIECE)


def _send(stream, data):
    """Send the bytes `data` in stream messages of at most CHUNK bytes."""
    for part in _cut(data, CHUNK):
        while part:
            part = part[stream.send(part):]


def _upload_target(conn, pool_name, name, length, offset):
    """(volume, its VolumeXML, the most bytes it takes from offset or None) after checking that `length`
    bytes from `offset` fit (raw volumes: their capacity; other formats grow with their content)."""
    check_size(offset, gettext_noop("offset"), minimum=0)
    if length is not None:
        check_size(length, gettext_noop("upload length"), minimum=0)
    volume = _volume(conn, pool_name, name)
    current = VolumeXML.from_xml(volume.XMLDesc(0), trusted=True)
    limit = None
    if current.format in ("raw", None) and current.type in ("file", "block", None):
        limit = current.capacity - offset
        if limit < 0 or (length is not None and length > limit):
            raise InvalidConfig(_("{name} holds {capacity} bytes: {value} bytes from offset {offset} do not fit; "
                                  "resize it first.")
                                .format(name=name, capacity=current.capacity, value=length or 0, offset=offset))
    return volume, current, limit


def check_upload(conn, pool_name, name, length, offset=0):
    """Raise InvalidConfig unless `length` bytes from `offset` fit the volume: checked before a client
    sends them. Returns (its allocation on the host (0: nothing written yet, it reads as zeros), its format,
    the size of its file, None if libvirt does not say)."""
    volume, current, _ = _upload_target(conn, pool_name, name, length, offset)
    return volume.info()[2], current.format, current.physical


def download_length(conn, pool_name, name):
    """How many bytes a whole download of the volume carries: the size of its file (for qcow2, the image file,
    metadata included), which libvirt reports as the volume's physical size."""
    volume = _volume(conn, pool_name, name)
    return volume.infoFlags(libvirt.VIR_STORAGE_VOL_GET_PHYSICAL)[2]


def upload_volume(conn, pool_name, name, chunks, *, length=None, offset=0, sparse=False, progress=None):
    """Write the bytes of `chunks` (an iterable of bytes-like objects) into the volume from `offset`.

    Returns the number of bytes written. `length`: how many bytes the caller will send,
    if known (an HTTP Content-Length): checked against the volume before the stream
    opens, and the upload fails if the chunks add up to more or fewer.

    A raw volume takes at most capacity - offset bytes: more is refused before libvirt
    writes past its end. Other formats are bounded by the pool's free space only.

    sparse: all-zero pieces go as holes (libvirt skips over them), so a thin volume stays
    thin. Only right where the volume reads as zeros already, i.e. a new volume: a hole
    leaves older data in place rather than zeroing it.

    progress: called with the bytes sent so far after each piece (holes included).
    """
    volume, current, limit = _upload_target(conn, pool_name, name, length, offset)
    stream = conn.newStream(0)
    volume.upload(stream, offset, length or 0, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM if sparse else 0)
    sent = 0
    try:
        for piece in _pieces(chunks):
            sent += len(piece)
            if limit is not None and sent > limit:
                raise InvalidConfig(_("The upload is larger than {name} ({capacity} bytes from offset {offset}): "
                                      "stopped at {limit} bytes; resize it first.")
                                    .format(name=name, capacity=current.capacity, offset=offset, limit=limit))
            if length is not None and sent > length:
                raise InvalidConfig(_("The upload sent more than the {length} bytes it announced.")
                                    .format(length=length))
            data = piece
            # bytes == bytes is a memcmp; comparing memoryviews goes byte by byte, 100x slower.
            if sparse and data == (_ZERO_PIECE if len(data) == UPLOAD_PIECE else bytes(len(data))):
                stream.sendHole(len(data), 0)
            else:
                _send(stream, data)
            if progress is not None:
                progress(sent)
        if length is not None and sent != length:
            raise InvalidConfig(_("The upload ended after {sent} of the {length} bytes it announced.")
                                .format(sent=sent, length=length))
        stream.finish()
    except BaseException:
        _abort(stream)
        raise
    return sent


def _write(sink, data):
    """sink.write() the whole of `data` (raw files may take part of it)."""
    view = memoryview(data)
    while view:
        written = sink.write(view)
        view = view[len(view) if written is None else written:]


def _open_window(conn, volume, offset, length, sparse):
    """A download stream of at most `length` bytes from `offset`: libvirt's host starts sending at once."""
    stream = conn.newStream(0)
    try:
        volume.download(stream, offset, length, libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM if sparse else 0)
    except BaseException:
        _abort(stream)
        raise
    return stream


def _drain_window(stream, sink, sparse):
    """Write a download stream's bytes to the sink and finish it; returns the bytes it carried (holes included)."""
    total = 0
    try:
        while True:
            data = stream.recvFlags(CHUNK, libvirt.VIR_STREAM_RECV_STOP_AT_HOLE) if sparse else stream.recv(CHUNK)
            if data == -3:  # a hole: libvirt gives its length
                hole = stream.recvHole(0)
                total += hole
                while hole:
                    piece = min(hole, CHUNK)
                    _write(sink, _ZEROS[:piece])
                    hole -= piece
                continue
            if isinstance(data, int):
                raise RuntimeError(f"libvirt stream returned {data}")  # -2: only a non-blocking stream does
            if not data:
                break
            _write(sink, data)
            total += len(data)
        stream.finish()
    except BaseException:
        _abort(stream)
        raise
    return total


def download_volume(conn, pool_name, name, sink, *, offset=0, length=None, sparse=False):
    """Write the volume's bytes from `offset` (`length` of them, or to the end) to sink.write().

    Returns the number of bytes written. `sink` is anything with write(bytes): an open
    binary file, or what feeds an HTTP response. sparse: the host sends holes as a
    length instead of zeros (far less traffic for a thin volume); the sink still gets
    the zeros, CHUNK bytes at a time.

    libvirt's client queues whatever the host sends on a stream, however slowly the sink
    takes it (measured: 35-74 MiB held for 320 MiB when the sink was slower). So the
    volume comes in windows of WINDOW bytes, one stream each. With a known `length`, the
    next window opens as the current one starts draining: its bytes are on their way
    while this one's are written out, instead of a round trip to the host with nothing
    moving between windows. So at most two windows wait in memory.
    """
    check_size(offset, gettext_noop("offset"), minimum=0)
    if length is not None:
        check_size(length, gettext_noop("download length"))
    volume = _volume(conn, pool_name, name)
    windows = []  # (stream, bytes asked) opened and not yet drained, oldest first
    opened = total = 0

    def open_next():
        nonlocal opened
        wanted = WINDOW if length is None else min(WINDOW, length - opened)
        windows.append((_open_window(conn, volume, offset + opened, wanted, sparse), wanted))
        opened += wanted

    try:
        if length != 0:
            open_next()
        while windows:
            if length is not None and opened < length and len(windows) < 2:
                open_next()
            stream, wanted = windows[0]
            carried = _drain_window(stream, sink, sparse)
            windows.pop(0)
            total += carried
            if carried < wanted:
                break  # the end of the volume
            if length is None:
                open_next()
    finally:
        for stream, _ in windows:
            _abort(stream)  # one opened ahead of a failure, or past the end of a volume shorter than `length`
    return total
