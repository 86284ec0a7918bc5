from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from virt.errors import InvalidConfig

from . import services
from .forms import ApiTokenForm


class ApiTokenListView(FormView):
    """Your tokens and a form for a new one; the new secret is shown in this response only (no redirect, so it
    is never stored in a session or message)."""

    template_name = "accounts/token_list.html"
    form_class = ApiTokenForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(tokens=services.tokens_of(self.request.user), **kwargs)

    def form_valid(self, form):
        try:
            token, secret = services.issue_token(self.request.user, **form.cleaned_data)
        except InvalidConfig as exc:
            form.add_error("name", exc.message.partition(": ")[2])
            return self.form_invalid(form)
        response = self.render_to_response(self.get_context_data(form=ApiTokenForm(), issued=token, secret=secret))
        response["Cache-Control"] = "no-store"
        return response


@require_POST
def revoke_token(request, pk):
    token = get_object_or_404(services.tokens_of(request.user), pk=pk)
    token.delete()
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("accounts:token_list")
