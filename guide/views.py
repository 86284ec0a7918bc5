from django.utils.translation import get_language
from django.views.generic import TemplateView

from . import rendering


class ConceptsView(TemplateView):
    """The concepts guide in the active language (login: core.middleware.LoginRequiredMiddleware)."""

    template_name = "guide/concepts.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "guide": rendering.render(get_language())}
