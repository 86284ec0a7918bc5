"""Pages of the domain XML editor (/instances/<id>/xml/) and of create-from-XML (/instances/from-xml/).

They call the same services as /api/instances/ (instances/xml_edit.py). Both work as plain forms; with
JavaScript the textarea becomes a CodeMirror editor (static/js/xml_editor.js) that submits the same field.
"""
from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from django.views.generic.detail import SingleObjectMixin

from core.permissions import RestrictedQuerysetMixin, restrict
from hosts.models import Host
from virt.errors import InvalidConfig, VirtError
from virt.xml.parser import to_string

from . import xml_edit
from .models import Instance


def xml_textarea():
    return forms.Textarea(attrs={"class": "form-control font-monospace small", "rows": 28, "spellcheck": "false",
                                 "autocomplete": "off", "data-xml-editor": ""})


def hide_passwords(form):
    """Take graphics passwords out of the XML the form shows back (as a password field never shows its
    value again). True if there were any; XML that does not parse is left alone (its error says why)."""
    try:
        root = xml_edit.parse_user_xml(form.data.get("xml", ""))
    except InvalidConfig:
        return False
    if not xml_edit.has_passwords(root):
        return False
    form.data = form.data.copy()
    form.data["xml"] = to_string(xml_edit.without_secrets(root))
    return True


class XMLForm(forms.Form):
    xml = forms.CharField(label=gettext_lazy("Domain XML"), strip=False, widget=xml_textarea())
    # The definition the edit started from: saving is refused if it changed meanwhile (xml_edit.digest).
    digest = forms.RegexField(r"^[0-9a-f]{64}$", required=False, widget=forms.HiddenInput)

    def clean_xml(self):
        # A review shows the XML back: a password in it would be echoed, so this page does not set them.
        if hide_passwords(self):
            raise forms.ValidationError(_(
                "This page does not set passwords (it would have to show them back): the passwd attribute was "
                "taken out and the VM keeps its password. Set a new one through the API."))
        return self.cleaned_data["xml"]


class FromXMLForm(forms.Form):
    host = forms.ModelChoiceField(label=gettext_lazy("Host"), queryset=Host.objects.none(),
                                  widget=forms.Select(attrs={"class": "form-select"}))
    xml = forms.CharField(label=gettext_lazy("Domain XML"), strip=False, required=False, widget=xml_textarea())
    file = forms.FileField(label=gettext_lazy("or upload an XML file"), required=False,
                           widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xml,text/xml"}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = restrict(Host.objects.order_by("name"), user, "create_instance")

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None:
            if upload.size > xml_edit.MAX_XML_BYTES:
                self.add_error("file", _("The file is %(size)d bytes long; at most %(max)d bytes are accepted.")
                               % {"size": upload.size, "max": xml_edit.MAX_XML_BYTES})
                return cleaned
            try:
                cleaned["xml"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("file", _("The file is not UTF-8 text."))
        elif not cleaned.get("xml", "").strip():
            self.add_error("xml", _("Paste the domain XML or upload a file."))
        return cleaned


class InstanceXMLView(RestrictedQuerysetMixin, SingleObjectMixin, FormView):
    """Edit → "Review changes" (a dry run: the diff and what waits for the next boot) → "Save" (defined)."""

    queryset = Instance.objects.select_related("host")
    form_class = XMLForm
    template_name = "instances/instance_xml.html"
    context_object_name = "instance"

    def dispatch(self, request, *args, **kwargs):
        self.object = self.get_object()
        self.read_error, self.current = "", None
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        if self.request.method != "GET":  # a post carries its own XML and digest
            return {}
        try:
            self.current = xml_edit.read_xml(self.object)
            return {"xml": self.current.xml, "digest": self.current.digest}
        except VirtError as exc:
            self.read_error = exc.message
            return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["read_error"] = self.read_error
        context["current"] = self.current  # on the first load only: a review shows its own next-boot parts
        return context

    def form_valid(self, form):
        save = "save" in self.request.POST
        try:
            result = xml_edit.edit_xml(self.object, form.cleaned_data["xml"], dry_run=not save,
                                       expected_digest=form.cleaned_data["digest"])
        except InvalidConfig as exc:
            form.add_error("xml", exc.message)
            return self.form_invalid(form)
        except VirtError as exc:  # changed meanwhile, the host is down, or the VM is gone
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        if not save:
            return self.render_to_response(self.get_context_data(form=form, review=result))
        changed = ", ".join(change["part"] for change in result.changes)
        messages.success(self.request, _("Definition of %(name)s saved. Changed: %(parts)s.")
                         % {"name": self.object.name, "parts": changed or _("nothing")})
        if result.next_boot:
            messages.warning(self.request, _("%(name)s is running: it gets these only at its next boot (a full "
                                             "shutdown and start): %(parts)s.")
                             % {"name": self.object.name,
                                "parts": ", ".join(change["part"] for change in result.next_boot)})
        return redirect(reverse("instances:instance_xml", args=[self.object.pk]))


class InstanceFromXMLView(FormView):
    """Paste or upload a domain XML and define it on a host."""

    form_class = FromXMLForm
    template_name = "instances/instance_from_xml.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_invalid(self, form):
        if hide_passwords(form):
            form.add_error(None, _("The password was taken out of the XML shown here: put it back before trying "
                                   "again, or the VM gets none."))
        return super().form_invalid(form)

    def form_valid(self, form):
        try:
            instance = xml_edit.create_from_xml(form.cleaned_data["host"], form.cleaned_data["xml"])
        except InvalidConfig as exc:
            form.add_error("file" if form.cleaned_data.get("file") else "xml", exc.message)
            return self.form_invalid(form)
        except VirtError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, _("%(name)s defined on %(host)s.")
                         % {"name": instance.name, "host": instance.host.name})
        return redirect(instance.get_absolute_url())
