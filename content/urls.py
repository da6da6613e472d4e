from django.urls import path, re_path
from wagtail.images.views.serve import ServeView

from . import views

app_name = "content"

urlpatterns = [
    path("search/", views.search, name="search"),
]

# Easy-read pictures are served through Wagtail's signed image view, so they work with any
# file storage and need no separate media server.
image_urlpatterns = [
    re_path(
        r"^images/([^/]*)/(\d*)/([^/]*)/[^/]*$",
        ServeView.as_view(),
        name="wagtailimages_serve",
    ),
]
