import codecs

from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

# Paths reachable without a session. The API and /metrics (Prometheus) authenticate themselves (tokens),
# and refuse anonymous callers through DRF's IsAuthenticated.
TOKEN_PREFIXES = ("/api/", "/metrics")
# /i18n/setlang/ only sets the caller's language cookie: the login page offers the switcher too.
PUBLIC_PREFIXES = ("/login/", "/static/", "/i18n/setlang/", *TOKEN_PREFIXES)


class LoginRequiredMiddleware:
    """Every page needs a logged-in user; anonymous callers go to the login page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            if request.headers.get("HX-Request"):
                return JsonResponse({"detail": _("Authentication required.")}, status=401)
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class NoStoreMiddleware:
    """Logged-in pages and every API answer carry Cache-Control: no-store, so that neither a browser (the
    back button after logout on a shared computer) nor a proxy keeps a copy. Static files stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/static/") and (
                request.path.startswith(TOKEN_PREFIXES) or request.user.is_authenticated):
            add_never_cache_headers(response)
        return response


# Django decodes request bodies with any codec Python knows (zlib, rot13...): allow text encodings only.
TEXT_CHARSETS = {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
                 "ascii", "iso8859-1", "iso8859-15", "cp1252"}


class RequestCharsetMiddleware:
    """415 for a request body declared in a charset that is not a text encoding."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = (request.content_params or {}).get("charset")
        if charset:
            try:
                name = codecs.lookup(charset).name
            except LookupError:
                name = None  # Django ignores charsets it does not know
            if name is not None and name not in TEXT_CHARSETS:
                return JsonResponse({"detail": f'Unsupported charset "{charset}" in request.'}, status=415)
        return self.get_response(request)
