from core.streamed_http import STREAMED_BODY

from .recorder import MUTATING, record_request


class AuditMiddleware:
    """Every mutating request, page or API, becomes an audit entry once its answer is known."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in MUTATING:
            return self.get_response(request)
        try:
            # Read (and cached) before a view consumes the stream; never a streamed upload's (it would wait for
            # all of it before the view could refuse it).
            body = b"" if request.META.get(STREAMED_BODY) else request.body
        except Exception:  # noqa: BLE001 - too large or unreadable: the view answers that itself
            body = b""
        # The session's user, before DRF may replace it with AnonymousUser on a refused request (a missing CSRF
        # token): the log must still say who tried.
        before = request.user if getattr(request, "user", None) is not None and request.user.is_authenticated else None
        response = self.get_response(request)
        record_request(request, response, body, fallback_user=before)
        return response
