from .recorder import MUTATING, record_request


class AuditMiddleware:
    """Every mutating request, page or API, becomes an audit entry once its answer is known."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in MUTATING:
            return self.get_response(request)
        try:
            body = request.body  # read (and cached) before a view consumes the stream
        except Exception:  # noqa: BLE001 - too large or unreadable: the view answers that itself
            body = b""
        # The session's user, before DRF may replace it with AnonymousUser on a refused request (a missing CSRF
        # token): the log must still say who tried.
        before = request.user if getattr(request, "user", None) is not None and request.user.is_authenticated else None
        response = self.get_response(request)
        record_request(request, response, body, fallback_user=before)
        return response
