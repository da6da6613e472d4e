from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from portal import permissions

from .models import ConsoleMessage


@login_required
@require_safe
def outbox(request):
    """What the console SMS backend would have sent (development and demos)."""
    if not permissions.can_read_outbox(request.user):
        raise Http404("Page not found")
    sent = ConsoleMessage.objects.order_by("-created_at", "-pk")[:100]
    return render(request, "notifications/outbox.html", {"messages_sent": sent})
