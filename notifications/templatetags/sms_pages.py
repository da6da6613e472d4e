"""The dashboard's links to the text message pages.

The dashboard belongs to ``portal``, which imports no app above it: its template loads this
library by name (as it finds peer support pages by URL name), so the count of replies waiting
comes from the notifications selectors without portal importing them.
"""

from __future__ import annotations

from django import template

from .. import services
from ..selectors import inbox_for
from ..views import can_read_messages

register = template.Library()


@register.inclusion_tag("notifications/includes/dashboard_links.html", takes_context=True)
def sms_dashboard_links(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not can_read_messages(user):
        return {"can_read": False, "can_edit": False, "waiting": 0}
    return {
        "can_read": True,
        "can_edit": services.can_edit_templates(user),
        "waiting": inbox_for(user=user).count(),
    }
