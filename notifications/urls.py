from django.urls import path

from . import views, webhooks

urlpatterns = [
    path("outbox/", views.outbox, name="sms_outbox"),
    path("messages/", views.messages_list, name="sms_messages"),
    path("inbox/", views.inbox, name="sms_inbox"),
    path("inbox/<int:pk>/", views.inbox_message, name="sms_inbox_message"),
    path(
        "appointments/<int:pk>/reminders/",
        views.appointment_reminders,
        name="sms_appointment_reminders",
    ),
    path("templates/", views.templates_list, name="sms_templates"),
    path(
        "templates/<str:purpose>/<str:variant>/",
        views.template_edit,
        name="sms_template_edit",
    ),
    path("twilio/status/", webhooks.twilio_status, name="twilio_status"),
    path("twilio/inbound/", webhooks.twilio_inbound, name="twilio_inbound"),
]
