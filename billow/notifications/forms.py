"""Admin forms: a template is checked (compiled and rendered with sample data) before it is
saved or previewed, so a syntax error is a form error, never a 500."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from billow.accounts.models import Provider
from billow.notifications.errors import TemplateInvalid
from billow.notifications.events import SAMPLE_CLIENT, SAMPLE_CONTEXT, SAMPLE_PROVIDER, Event
from billow.notifications.models import MessageTemplate
from billow.notifications.rendering import build_context, check_template

#: (form field, rendered as HTML?)
TEMPLATE_FIELDS = (("subject", False), ("body", False), ("html_body", True))


def sample_context(event: str, provider: Provider | None, locale: str) -> dict[str, Any]:
    """What the preview renders with: sample client and event data, the real provider."""
    shown = dict(SAMPLE_PROVIDER)
    if provider is not None:
        fields = ("name", "billing_url", "site_url", "support_email")
        shown |= {"id": provider.pk} | {f: getattr(provider, f) for f in fields}
    client = SAMPLE_CLIENT | {"language": locale}
    return build_context(client=client, provider=shown, extra=SAMPLE_CONTEXT.get(event, {}))


def render_fields(form: forms.BaseForm, context: dict[str, Any]) -> dict[str, str]:
    """Render each template field; a failure becomes an error on that field."""
    rendered: dict[str, str] = {}
    for name, html in TEMPLATE_FIELDS:
        text = form.cleaned_data.get(name) or ""
        if not text.strip():
            rendered[name] = ""
            continue
        try:
            rendered[name] = check_template(text, context, html=html)
        except TemplateInvalid as exc:
            form.add_error(name, _("Template error: %(error)s") % {"error": exc.message})
    return rendered


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = [
            "provider",
            "locale",
            "event",
            "channel",
            "subject",
            "body",
            "html_body",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("event") and data.get("locale"):
            render_fields(self, sample_context(data["event"], data.get("provider"), data["locale"]))
        return data


class PreviewForm(forms.Form):
    """The preview page: edit the text and render it with sample data (nothing is saved)."""

    event = forms.ChoiceField(label=_("event"), choices=Event.choices)
    locale = forms.ChoiceField(label=_("language"), choices=settings.LANGUAGES)
    subject = forms.CharField(label=_("subject / title"), max_length=500)
    body = forms.CharField(label=_("text body"), widget=forms.Textarea)
    html_body = forms.CharField(label=_("HTML body"), widget=forms.Textarea, required=False)
