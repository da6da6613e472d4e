"""Small helpers for rendering Django forms with NHS.UK frontend classes."""

from django import forms, template

register = template.Library()

INPUT_CLASSES = {
    forms.Select: "nhsuk-select",
    forms.Textarea: "nhsuk-textarea",
}


@register.filter
def widget_kind(field) -> str:
    widget = field.field.widget
    # CheckboxSelectMultiple is a subclass of RadioSelect in Django: test it first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    return "input"


@register.simple_tag
def nhs_widget(field, described_by: str = ""):
    """Render a single-value widget with NHS classes, error state and aria-describedby."""
    widget = field.field.widget
    css = INPUT_CLASSES.get(type(widget), "nhsuk-input")
    if field.errors:
        css += f" {css}--error"
    attrs = {"class": css}
    if described_by.strip():
        attrs["aria-describedby"] = described_by.strip()
    return field.as_widget(attrs=attrs)
