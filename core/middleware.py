from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse

# Paths reachable without a session. The API authenticates itself (tokens),
# and refuses anonymous callers through DRF's IsAuthenticated.
PUBLIC_PREFIXES = ("/login/", "/static/", "/api/")


class LoginRequiredMiddleware:
    """Every page needs a logged-in user; anonymous callers go to the login page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            if request.headers.get("HX-Request"):
                return JsonResponse({"detail": "Authentication required."}, status=401)
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)
