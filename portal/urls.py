from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from content.urls import image_urlpatterns as content_image_urls

from . import views

# Django's admin has no login of its own: its sign-in goes through allauth like every other.
admin.site.login = RedirectView.as_view(
    url=settings.WAGTAILADMIN_LOGIN_URL, query_string=True, permanent=False
)

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("", include("content.urls")),
    path("", include(content_image_urls)),
    # Wagtail serves every other path from the page tree; keep it last.
    path("", include(wagtail_urls)),
]
