"""The portal's URLs plus one view that fails, to see the 500 page."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def broken_view(request):
    raise RuntimeError("deliberate failure for the 500 page test")


urlpatterns = [path("broken/", broken_view), *portal_urlpatterns]
