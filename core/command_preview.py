"""The command line behind a form, following the form as it changes (virt/commands.py builds the words).

The page includes templates/core/_command_preview.html: on load and on every change of the form, htmx asks
GET <the form's page>?commands=1&<the form's fields>, and the page answers only the lines
(templates/core/_command_lines.html), built from the valid form's cleaned data: the data the action takes.
A GET changes nothing; the CSRF token stays out of the query string (hx-params).
"""
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from virt.errors import VirtError

PARAM = "commands"
LINES_TEMPLATE = "core/_command_lines.html"


def is_preview(request):
    return request.method == "GET" and PARAM in request.GET


def preview_url(request):
    """The page's own URL (its query too: a step's ?host=&type=) asking for the lines."""
    query = request.GET.copy()
    query[PARAM] = "1"
    return f"{request.path}?{query.urlencode()}"


def lines_response(request, form, build):
    """The lines for a form bound to the request's GET: build(form) once it is valid, else a hint (with
    virtdeck's or libvirt's refusal when building them was refused, e.g. an address outside the subnet)."""
    commands, error = None, ""
    if form.is_valid():
        try:
            commands = build(form)
        except VirtError as exc:
            error = exc.message
        except ValidationError as exc:  # a service's check, keyed by field
            error = " ".join(exc.messages)
    return TemplateResponse(request, LINES_TEMPLATE,
                            {"commands": commands, "form_invalid": commands is None, "error": error})


class CommandPreviewMixin:
    """For a FormView: `command_lines(form)` builds the lines from the valid form; GET ?commands=1 answers them.

    The context gets `command_preview_url`, and `commands` when the form on the page is bound and valid (a page
    re-rendered after a preview step shows the lines without waiting for htmx).
    """

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if is_preview(self.request):
            kwargs["data"] = self.request.GET
        return kwargs

    def get(self, request, *args, **kwargs):
        if is_preview(request):
            return lines_response(request, self.get_form(), self.command_lines)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["command_preview_url"] = preview_url(self.request)
        form = context.get("form")
        if form is not None and form.is_bound and form.is_valid():
            try:
                context["commands"] = self.command_lines(form)
            except (VirtError, ValidationError):
                pass  # the page shows the refusal on the form already
        return context

    def command_lines(self, form):
        """The view's own: the virt.commands lines for the valid `form`, built as its action will act."""
        raise NotImplementedError(f"{type(self).__name__} must say which command lines its form stands for")
