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
    path("dashboard/", views.dashboard, name="dashboard"),
    path("my/consents/", views.my_consents, name="my_consents"),
    path("my/consents/give/", views.my_consent_give, name="my_consent_give"),
    path("my/consents/<int:pk>/withdraw/", views.my_consent_withdraw, name="my_consent_withdraw"),
    path("staff/people/", views.staff_people, name="staff_people"),
    path(
        "staff/people/<int:user_id>/consents/",
        views.staff_person_consents,
        name="staff_person_consents",
    ),
    path("staff/audit/", views.staff_audit, name="staff_audit"),
    path("notifications/", include("notifications.urls")),
    path("a/", include("notifications.urls_public")),
    path("", include("peer_support.urls")),
    path("django-admin/", admin.site.urls),
    # Wagtail's admin has its own password sign-in and reset; both would skip the
    # authenticator step, so they are replaced by allauth's before Wagtail's URLs.
    path(
        "admin/login/",
        RedirectView.as_view(url=settings.WAGTAILADMIN_LOGIN_URL, query_string=True),
        name="wagtailadmin_login_redirect",
    ),
    path(
        "admin/password_reset/",
        RedirectView.as_view(url="/accounts/password/reset/"),
        name="wagtailadmin_password_reset_redirect",
    ),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("", include("content.urls")),
    path("", include(content_image_urls)),
    # Wagtail serves every other path from the page tree; keep it last.
    path("", include(wagtail_urls)),
]
