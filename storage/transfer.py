"""Volume upload and download through libvirt streams, shared by the API and the volume page.

The bytes go straight between the HTTP connection and the libvirt stream, a piece at a time: nothing
holds a whole volume, in memory or on the web server's disk. A big upload reaches the view as it
arrives only on a route that core/streamed_http.py serves below daphne's buffering; on other routes
(tests, small bodies) Django has the body already and it is read the same way.

An upload runs as an inline job (core.jobs.run_inline) in the request's thread: the job row shows its
progress while the request is open. A client that stops half-way leaves the volume *clearly failed*,
not unchanged: libvirt has written what arrived (a volume cannot be swapped in atomically), so the job
fails saying how many bytes reached the volume, and the volume must be uploaded again.
"""
import itertools
import queue
import threading
import time

from django.http import UnreadablePostError
from django.utils.translation import gettext as _

from core import jobs, streamed_http
from core.models import Job
from core.permissions import restrict
from hosts.connection import call, run_long
from virt import streams
from virt import volumes as virt_volumes
from virt.errors import InvalidConfig, OperationInvalid
from virt.volume_users import domains_using

from . import inventory, transfer_slots
from .models import Volume

# The job row's progress is written at most this often (seconds).
PROGRESS_EVERY = 1.0
# Pieces between the download's libvirt thread and the response: with two streams.WINDOW queued inside libvirt's
# client, the most a download holds.
DOWNLOAD_QUEUE_PIECES = 8


class ClientGone(Exception):
    """The HTTP client went away during a download."""


def _check_not_in_use(conn, volume):
    """Refuse while a running (or paused) VM's disk is the volume: its guest would see the bytes change under
    it. A shut-off VM's disk may be replaced: that is how an image is put in place for it."""
    users = domains_using(conn, {volume.path, volume.key}, volume.pool.name, volume.name)
    active = [user.name for user in users if user.active]
    if active:
        raise OperationInvalid(_("%(volume)s is in use by the running VM %(vms)s: shut it down first.")
                               % {"volume": volume, "vms": ", ".join(active)})


def check_upload(volume, length):
    """Refuse an upload of `length` bytes before any is read: size, pool state, VMs using the volume.

    Returns (whether the upload may send zeros as holes (the volume has nothing written yet), the volume's
    format, the size of its file).
    """
    if length is None:
        raise InvalidConfig(_("Content-Length: an upload must announce its size."))
    if not volume.pool.is_active:
        raise OperationInvalid(_("Pool %(pool)s is not running: start it first.") % {"pool": volume.pool})

    def check(conn):
        allocation, volume_format, physical = streams.check_upload(conn, volume.pool.name, volume.name, length)
        _check_not_in_use(conn, volume)
        return allocation == 0, volume_format, physical

    return call(volume.pool.host, check)


def _read_head(pieces, length):
    """The body's first streams.IMAGE_HEADER bytes (all of it if shorter), read from `pieces`, for check_image."""
    head = b""
    wanted = min(streams.IMAGE_HEADER, length)
    while len(head) < wanted:
        head += next(pieces)
    return head


def _body_pieces(body, length, received):
    """Read the request body in streams.UPLOAD_PIECE pieces; a client that stops early is an InvalidConfig."""
    while received[0] < length:
        try:
            piece = body.read(min(streams.UPLOAD_PIECE, length - received[0]))
        except (UnreadablePostError, OSError) as exc:
            raise InvalidConfig(_("body: the client stopped sending after %(sent)d of %(length)d bytes (%(why)s).")
                                % {"sent": received[0], "length": length, "why": exc}) from None
        if not piece:
            raise InvalidConfig(_("body: the client stopped sending after %(sent)d of %(length)d bytes.")
                                % {"sent": received[0], "length": length})
        received[0] += len(piece)
        yield piece


def upload(volume, body, length, *, user=None, abort_body=None):
    """Write the `length` bytes read from `body` (a file-like request body) into the volume: a finished Job.

    It holds a transfer slot (transfer_slots) throughout: none free is a TransfersBusy. Refusals (size, in
    use, pool stopped) come before any byte is read, and leave no job; so does an image of another format
    than the volume's (streams.check_image: its first bytes are read, nothing is written). Once bytes flow,
    a failure (the client went away, the host broke) fails the job, names how far it got, and is raised.
    abort_body(reason): makes a read of `body` that waits for the client fail (core.streamed_http.body_abort),
    so that a cancel takes effect even while the client sends nothing.
    """
    with transfer_slots.acquire(volume.pool.host_id):  # TransfersBusy before anything else
        return _upload(volume, body, length, user=user, abort_body=abort_body)


def _upload(volume, body, length, *, user, abort_body):
    sparse, volume_format, physical = check_upload(volume, length)
    pool = volume.pool
    received = [0]
    pieces = _body_pieces(body, length, received)
    # Its format is checked before anything is written (nothing written yet: a refusal leaves no job).
    head = _read_head(pieces, length)
    image_capacity = streams.check_image(volume_format, head, length)
    # A qcow2 image shorter than the volume's file would leave the old file's tail behind it: the previous
    # guest data, still in the file and in its downloads. Such a volume is made anew (empty) first.
    renew = image_capacity is not None and (physical is None or physical > length)

    def execute(ctx):
        last = [time.monotonic()]
        if abort_body is not None:
            ctx.on_cancel(lambda: abort_body(_("the upload was cancelled")))

        def progress(sent):
            if time.monotonic() - last[0] >= PROGRESS_EVERY:
                last[0] = time.monotonic()
                ctx.progress(100 * sent // max(length, 1))  # also raises JobCancelled once cancel is asked

        changed = [False]  # a byte handed to the libvirt stream, or the volume made anew

        def stream_pieces():
            for piece in itertools.chain([head], pieces):
                changed[0] = True
                yield piece

        def transfer(conn):
            if renew:
                ctx.log(_("The image is smaller than the volume's file: the volume is made anew before it is "
                          "written."))
                changed[0] = True
                virt_volumes.delete_volume(conn, pool.name, volume.name)
                virt_volumes.create_volume(conn, pool.name, volume.name, image_capacity, volume_format="qcow2")
            sent = streams.upload_volume(conn, pool.name, volume.name, stream_pieces(),
                                         length=length, sparse=sparse and not renew, progress=progress)
            return sent, inventory.read_pool(conn, pool.name)

        try:
            sent, (pool_record, volumes) = run_long(pool.host, transfer)
        except BaseException:
            if changed[0]:
                ctx.log(_("%(bytes)d of %(length)d bytes had been sent to the volume: it holds a partial upload; "
                          "upload it again.") % {"bytes": received[0], "length": length}, level="error")
            else:
                ctx.log(_("No byte had been sent: the volume is unchanged."), level="error")
            ctx.check()  # a cancel that cut the body short ends as cancelled, not failed
            raise
        inventory.apply_pool(pool.host, pool_record, volumes)
        return {"volume": volume.pk, "bytes": sent, "sparse": sparse}

    return jobs.run_inline("upload", execute, user=user, target=volume, host=pool.host, volume_id=volume.pk,
                           length=length)


def download_size(volume):
    """The bytes a download of the volume carries (its file's size on the host)."""
    return call(volume.pool.host, lambda conn: streams.download_length(conn, volume.pool.name, volume.name))


class _QueueSink:
    """download_volume's sink: hands pieces to the response through a bounded queue (it blocks while full)."""

    def __init__(self, pieces, stop):
        self.pieces, self.stop = pieces, stop

    def write(self, data):
        piece = bytes(data)
        while True:
            if self.stop.is_set():
                raise ClientGone()  # aborts the libvirt stream
            try:
                self.pieces.put(piece, timeout=0.5)
                return len(piece)
            except queue.Full:
                continue


def download(volume, length):
    """The volume's first `length` bytes (download_size), as an iterator of pieces for a streaming response.

    A libvirt thread of its own reads the stream. Answering a streamed route (core.streamed_http), it writes
    each piece to the client itself and the iterator yields nothing; elsewhere it feeds a bounded queue that
    the iterator empties, and when the response stops being read (the client went away, the iterator is
    closed) the stream is aborted. Holes travel as holes from the host (sparse stream) and become zeros
    here: HTTP has no holes.
    """
    pool = volume.pool
    sink = streamed_http.response_sink()
    if sink is not None:
        carried = run_long(pool.host, lambda conn: streams.download_volume(
            conn, pool.name, volume.name, sink, length=length, sparse=True))
        _check_carried(volume, carried, length)
        return
    pieces = queue.Queue(maxsize=DOWNLOAD_QUEUE_PIECES)
    stop = threading.Event()
    outcome = {}

    def produce():
        try:
            outcome["bytes"] = run_long(pool.host, lambda conn: streams.download_volume(
                conn, pool.name, volume.name, _QueueSink(pieces, stop), length=length, sparse=True))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer below
            outcome["error"] = exc
        finally:
            while not stop.is_set():
                try:
                    pieces.put(None, timeout=0.5)  # the end
                    break
                except queue.Full:
                    continue

    threading.Thread(target=produce, name=f"download-{volume.pk}", daemon=True).start()
    try:
        while (piece := pieces.get()) is not None:
            yield piece
        if "error" in outcome:
            raise outcome["error"]
        _check_carried(volume, outcome["bytes"], length)
    finally:
        stop.set()


def _check_carried(volume, carried, length):
    if carried != length:
        # The file changed size since the length was read: the response's Content-Length would lie.
        raise InvalidConfig(_("%(volume)s changed size during the download.") % {"volume": volume})


def open_download(volume):
    """(length, pieces) of the whole volume's download, holding a transfer slot until `pieces` is closed
    (TransfersBusy if none is free): the content of a streaming response, which Django closes."""
    slot = transfer_slots.acquire(volume.pool.host_id)
    try:
        length = download_size(volume)
    except BaseException:
        slot.release()
        raise
    return length, transfer_slots.ReleasingIterator(slot, download(volume, length))


def last_upload(volume):
    """The volume's latest upload job, or None."""
    return Job.objects.filter(kind="upload", target_kind=Job.TargetKind.VOLUME, target_id=str(volume.pk)).first()


def volume_for(user, pk, action):
    """The volume `pk` if `user` may `action` it (core.permissions.restrict), else Volume.DoesNotExist."""
    return restrict(Volume.objects.select_related("pool__host"), user, action).get(pk=pk)
