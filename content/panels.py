"""Editor panels."""

from __future__ import annotations

from wagtail.admin.panels import Panel


class ReadingAgePanel(Panel):
    """Shows the reading age of the page's saved text, its target, and a warning above it."""

    @property
    def clean_name(self):
        return super().clean_name or "reading_age"

    class BoundPanel(Panel.BoundPanel):
        template_name = "content/admin/reading_age_panel.html"

        def get_context_data(self, parent_context=None):
            from .readability import page_reading_age

            context = super().get_context_data(parent_context)
            context["reading"] = page_reading_age(self.instance)
            return context
