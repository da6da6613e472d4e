"""Keep the anonymous page cache true: any change to what readers see starts a new generation.

Wagtail's signals are how Wagtail (below us) tells us a page changed; portal.Service changes
reach the directory the same way.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from wagtail.signals import page_published, page_unpublished, post_page_move

from portal.models import Service, ServiceLocation

from .cache import invalidate_all


def _invalidate(**kwargs) -> None:
    invalidate_all()


def connect() -> None:
    page_published.connect(_invalidate, dispatch_uid="content-cache-published")
    page_unpublished.connect(_invalidate, dispatch_uid="content-cache-unpublished")
    post_page_move.connect(_invalidate, dispatch_uid="content-cache-moved")
    # Deleting a live page unpublishes it first only sometimes; catch every deletion.
    from wagtail.models import Page, Site

    post_delete.connect(_invalidate, sender=Page, dispatch_uid="content-cache-page-deleted")
    for model in (Site, Service, ServiceLocation):
        post_save.connect(_invalidate, sender=model, dispatch_uid=f"content-cache-{model}-saved")
        post_delete.connect(
            _invalidate, sender=model, dispatch_uid=f"content-cache-{model}-deleted"
        )
