"""What every peer support page shares: how a denial looks and who may open which pages."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest

from portal import permissions

from ..models import Supporter
from ..selectors import supporter_profile_of

PAGE_SIZE = 50


def paginate(
    request: HttpRequest, items, param: str = "page", *, per_page: int = PAGE_SIZE
) -> Page:
    """A page of ``items`` from ``?<param>=`` with ``prev_url``/``next_url`` links that keep
    the rest of the query, so one page can hold several paginated lists. Lists are always
    paginated, so a page's query count does not grow with the data.
    (``peer_support/includes/pagination.html`` draws the links.)"""
    page = Paginator(items, per_page).get_page(request.GET.get(param))
    page.prev_url = page.next_url = ""
    query = request.GET.copy()
    if page.has_previous():
        query[param] = str(page.previous_page_number())
        page.prev_url = "?" + query.urlencode()
    if page.has_next():
        query[param] = str(page.next_page_number())
        page.next_url = "?" + query.urlencode()
    return page


def deny() -> Http404:
    """Denied and missing look the same: nothing is revealed about what exists."""
    return Http404("Page not found")


def service_user_required(view):
    """Signed in as a service user (with a record), else 404."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not permissions.is_service_user(request.user):
            raise deny()
        return view(request, *args, **kwargs)

    return wrapped


def supporter_required(view):
    """Signed in with a supporter profile (volunteer or paid worker), else 404. The profile
    is passed to the view as ``supporter``."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        supporter: Supporter | None = supporter_profile_of(user=request.user)
        if supporter is None:
            raise deny()
        return view(request, *args, supporter=supporter, **kwargs)

    return wrapped


def casework_required(view):
    """Signed in as a peer support worker or coordinator of at least one service, else 404.
    Which records they see is still the selectors' business."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not permissions.service_ids_where(request.user, permissions.CASEWORK_ROLES):
            raise deny()
        return view(request, *args, **kwargs)

    return wrapped
