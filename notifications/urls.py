from django.urls import path

from . import views

urlpatterns = [path("outbox/", views.outbox, name="sms_outbox")]
