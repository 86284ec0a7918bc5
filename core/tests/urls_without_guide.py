"""virtdeck's URLs without the guide: the "Learn more" links must then render nothing."""
from virtdeck.urls import urlpatterns as site

urlpatterns = [pattern for pattern in site if getattr(pattern, "namespace", None) != "guide"]
