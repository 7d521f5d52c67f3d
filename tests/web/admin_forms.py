"""Build the POST data of an admin change form from its GET response (main form and every
inline formset with their current values), so a test changes only what it names."""

from __future__ import annotations

from typing import Any


def _field_value(bound: Any) -> Any:
    value = bound.value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return value


def _form_data(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for bound in form:
        value = _field_value(bound)
        if value == "" and getattr(bound.field.widget, "input_type", "") == "checkbox":
            continue
        data[bound.html_name] = value
    return data


def change_form_data(response: Any) -> dict[str, Any]:
    data = _form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.forms:
            data.update(_form_data(form))
    return data
