"""VirtError -> HTTP, once for the whole API: libvirt's own message as `detail`."""
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from virt import errors

STATUS = {
    errors.NotFound: status.HTTP_404_NOT_FOUND,
    errors.InvalidConfig: status.HTTP_400_BAD_REQUEST,
    errors.OperationInvalid: status.HTTP_409_CONFLICT,
    errors.Unsupported: status.HTTP_400_BAD_REQUEST,
    errors.HostUnreachable: status.HTTP_503_SERVICE_UNAVAILABLE,
    errors.OperationFailed: status.HTTP_502_BAD_GATEWAY,
}


def exception_handler(exc, context):
    if isinstance(exc, RecursionError):  # DRF's JSON parser on absurdly nested input
        return Response({"detail": _("JSON parse error - nested too deeply.")}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, errors.VirtError):
        code = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), status.HTTP_502_BAD_GATEWAY)
        body = {"detail": exc.message, "error": type(exc).__name__}
        if getattr(exc, "field", None):  # InvalidValue: the field at fault, shaped as DRF's own field errors
            body[exc.field] = [exc.message]
        return Response(body, status=code)
    if isinstance(exc, Http404):  # get_object_or_404's "No Instance matches the given query." is never translated
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)
