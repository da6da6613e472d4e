"""A page cache for anonymous readers that costs no database query on a hit.

Why not Django's cache middleware: it keys browsers' caches to the same lifetime as the
server's (so a reader could keep an unpublished page for an hour), and it cannot be cleared
when an editor publishes. Here:

* only ``GET``/``HEAD`` requests with no query string and no session or messages cookie are
  looked up or stored, so a signed-in person never gets, or leaves behind, a shared copy;
* only responses a page marked cacheable (``response.page_cacheable``, set by
  ``CachedPageMixin.serve``) with status 200, no ``Set-Cookie`` and no ``Vary: Cookie`` are
  stored; stored copies tell browsers to check back every time (``max-age=0``);
* every stored copy carries the site-wide generation number it was made in, and is used only
  while that is still the current one. Publishing, unpublishing, moving or
  deleting any page, or changing a service, starts a new generation, so listings, the
  directory and the changed page itself are all fresh at once, in every process (the
  ``pages`` cache is Redis or a shared folder, never one process's memory).
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import has_vary_header

CACHE_ALIAS = "pages"
GENERATION_KEY = "page-cache-generation"
HIT_HEADER = "X-Page-Cache"
CACHEABLE_METHODS = {"GET", "HEAD"}


def _cache():
    return caches[CACHE_ALIAS]


def generation() -> str:
    value = _cache().get(GENERATION_KEY)
    if value is None:
        value = uuid.uuid4().hex
        _cache().add(GENERATION_KEY, value, timeout=None)
        value = _cache().get(GENERATION_KEY) or value
    return value


def invalidate_all() -> None:
    """Start a new generation: every stored page is stale from now on."""
    _cache().set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def _key(request: HttpRequest) -> str:
    host = request.get_host()
    digest = hashlib.sha256(f"{request.scheme}://{host}{request.path}".encode()).hexdigest()
    return f"page:{digest}"


def _request_is_cacheable(request: HttpRequest) -> bool:
    if request.method not in CACHEABLE_METHODS or request.GET:
        return False
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _response_is_cacheable(response: HttpResponse) -> bool:
    return (
        getattr(response, "page_cacheable", False)
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not has_vary_header(response, "Cookie")
        and "private" not in response.get("Cache-Control", "")
        and "no-store" not in response.get("Cache-Control", "")
    )


class AnonymousPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = settings.PAGE_CACHE_SECONDS
        if seconds <= 0 or not _request_is_cacheable(request):
            return self.get_response(request)
        key = _key(request)
        try:
            # One round trip: the current generation and this page's stored copy together.
            found = _cache().get_many([GENERATION_KEY, key])
            gen = found.get(GENERATION_KEY) or generation()
            stored = found.get(key)
        except Exception:  # a cache outage must not take the site down: serve uncached
            return self.get_response(request)
        if stored is not None and stored[0] == gen:
            _, status, headers, content = stored
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            response[HIT_HEADER] = "hit"
            if request.method == "HEAD":
                response.content = b""
            return response

        response = self.get_response(request)
        if request.method == "GET" and _response_is_cacheable(response):
            # Browsers must come back each time, so a page taken down is gone at once.
            response["Cache-Control"] = "max-age=0, must-revalidate"
            headers = [
                (name, value)
                for name, value in response.items()
                if name.lower() not in {"set-cookie", HIT_HEADER.lower()}
            ]
            with contextlib.suppress(Exception):  # not storing is always safe
                _cache().set(key, (gen, response.status_code, headers, response.content), seconds)
            response[HIT_HEADER] = "miss"
        return response
