"""PUT /api/storage/volumes/{id}/upload/ and GET .../download/: a volume's bytes as the HTTP body, streamed.

Served below daphne's request buffering by core/streamed_http.py (settings.STREAMED_ROUTES), so neither
direction holds a whole volume. The volume page uses these routes too (session and CSRF header).
"""
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.serializers import JobSerializer
from core.jobs import JobCancelled
from core.streamed_http import body_abort
from virt.errors import InvalidConfig

from . import transfer
from .models import Volume
from .transfer_slots import TransfersBusy


def _volume(request, pk, action):
    try:
        return transfer.volume_for(request.user, pk, action)
    except Volume.DoesNotExist:
        raise NotFound(_("No such volume.")) from None


def _length(request):
    """The announced body size; None when absent (a chunked body), a 400 naming the header when malformed."""
    value = request.META.get("CONTENT_LENGTH") or None
    if value is None:
        return None
    if not value.isdigit():
        raise InvalidConfig(_("Content-Length: expected a number of bytes."))
    return int(value)


def busy_response(exc):
    """503 with Retry-After: every transfer slot is taken (storage/transfer_slots.py)."""
    return Response({"detail": exc.message}, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                    headers={"Retry-After": str(exc.retry_after)})


BUSY = OpenApiResponse(description="as many transfers run as virtdeck allows (VIRTDECK_MAX_TRANSFERS, per host "
                                   "VIRTDECK_MAX_TRANSFERS_PER_HOST): try again after Retry-After seconds")


class VolumeUploadView(APIView):
    """Replace the volume's content with the request body, streamed into libvirt as it arrives."""

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={200: JobSerializer, 400: OpenApiResponse(description="too large for the volume, not an image of "
                                                                        "its format, or the body ended early (the "
                                                                        "job says how far)"),
                   409: OpenApiResponse(description="a running VM uses the volume, or its pool is stopped"),
                   503: BUSY},
        description=(
            "The body (Content-Length required; it must fit a raw volume's capacity) is written from byte 0: "
            "a qcow2 volume gets the uploaded image file, which must be a self-contained qcow2 image (no backing "
            "or external data file; its header gives the volume's new capacity), and a raw volume takes any bytes "
            "but a qcow2 image: a mismatch is a 400 before anything is written. Memory stays bounded whatever the "
            "size. The answer "
            "comes once the bytes are on the host: the finished upload job (progress on the job while it runs). "
            "A body that stops early fails the job and leaves the volume with a partial upload."),
    )
    def put(self, request, pk, file_name=None):
        # file_name (VolumeUploadAsView): curl's -T appends FILE's name to a URL ending in "/"; it names nothing here.
        volume = _volume(request, pk, "upload")
        job = transfer.upload(volume, request._request, _length(request), user=request.user,
                              abort_body=body_abort(request._request))
        return Response(JobSerializer(job, context={"request": request}).data)

    def handle_exception(self, exc):
        job = getattr(exc, "job", None)  # set by core.jobs.run_inline: the upload had started
        if isinstance(exc, TransfersBusy):
            return busy_response(exc)
        if isinstance(exc, JobCancelled):
            response = Response({"detail": _("The upload was cancelled.")}, status=status.HTTP_409_CONFLICT)
        else:
            response = super().handle_exception(exc)
        if job is not None:
            response.data["job"] = job.pk
        return response


@extend_schema(exclude=True)  # the schema documents the upload once, at .../upload/
class VolumeUploadAsView(VolumeUploadView):
    """The upload at .../upload/<file name>: what `curl -T FILE .../upload/` asks for."""


class VolumeDownloadView(APIView):
    """The volume's bytes, streamed from libvirt (holes travel as holes from the host)."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 503: BUSY},
                   description="The volume's file as stored (a qcow2 volume downloads as a qcow2 image), with "
                               "Content-Length and a file name. Memory stays bounded whatever the size.")
    def get(self, request, pk):
        volume = _volume(request, pk, "view")
        if request.method == "HEAD":  # the length only: no stream, no transfer slot
            response = HttpResponse(content_type="application/octet-stream")
            length = transfer.download_size(volume)
        else:
            length, pieces = transfer.open_download(volume)
            response = StreamingHttpResponse(pieces, content_type="application/octet-stream")
        response["Content-Length"] = str(length)
        response["Content-Disposition"] = content_disposition_header(True, volume.name)  # quoted, UTF-8 safe
        return response

    def handle_exception(self, exc):
        if isinstance(exc, TransfersBusy):
            return busy_response(exc)
        return super().handle_exception(exc)
