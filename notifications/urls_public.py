"""The short confirm link in every reminder: ``/a/<token>/``, no sign-in."""

from django.urls import path

from . import views

urlpatterns = [path("<str:token>/", views.appointment_link, name="appointment_link")]
