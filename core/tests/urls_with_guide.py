"""virtdeck's URLs with a stand-in `guide:concepts` (/guide/) where the guide app is not installed, for the
"Learn more" links' tests (templates/core/_learn_more.html)."""
from django.http import HttpResponse
from django.urls import include, path

from virtdeck.urls import urlpatterns as site

urlpatterns = list(site)
if not any(getattr(pattern, "namespace", None) == "guide" for pattern in site):
    urlpatterns.append(path("guide/", include(([path("", lambda request: HttpResponse(), name="concepts")], "guide"))))
