"""Wagtail admin: consent records as snippets, editors' dashboard panels, consent follow-up."""

from __future__ import annotations

from django.utils import timezone
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from portal.queue import enqueue_on_commit

from .models import PublicationConsent
from .selectors import (
    case_studies_taken_down,
    guidance_without_easy_read,
    pages_due_for_review,
)


class PublicationConsentViewSet(SnippetViewSet):
    model = PublicationConsent
    icon = "doc-full"
    menu_label = "Publication consent"
    menu_order = 300
    add_to_admin_menu = True
    list_display = ["reference", "scope", "given_on", "expires_on", "withdrawn_on"]
    search_fields = ["reference"]


register_snippet(PublicationConsentViewSet)


class EditorialPanel(Component):
    """Dashboard lists for editors: review reminders, missing easy read, stories taken down."""

    name = "editorial"
    order = 50
    template_name = "content/admin/editorial_panel.html"

    def get_context_data(self, parent_context=None):
        today = timezone.localdate()
        return {
            "due": pages_due_for_review(today=today),
            "no_easy_read": list(guidance_without_easy_read()),
            "taken_down": list(case_studies_taken_down(today=today)),
        }


@hooks.register("construct_homepage_panels")
def add_editorial_panel(request, panels):
    if request.user.has_perm("wagtailadmin.access_admin"):
        panels.append(EditorialPanel())


@hooks.register("after_edit_snippet")
def take_down_when_consent_withdrawn(request, instance):
    """A withdrawal takes effect now, not at the next scheduled sweep."""
    if isinstance(instance, PublicationConsent) and instance.withdrawn_on:
        enqueue_on_commit("content.tasks.case_studies_consent_sweep")
