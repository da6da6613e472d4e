"""Django admin for peer support (staff only, behind MFA). Lists show ids and codes, not
names or numbers; changes here bypass the services' rules, so matches, appointments, offers,
contacts and alerts are read-only (the portal's own pages change them through the services)
and exclusions can be added but not edited."""

from django.contrib import admin

from .models import (
    Alert,
    Appointment,
    Contact,
    Exclusion,
    Match,
    Offer,
    ServiceUserRecord,
    Supporter,
)


@admin.register(ServiceUserRecord)
class ServiceUserRecordAdmin(admin.ModelAdmin):
    list_display = ("__str__", "service", "status", "age_band", "in_custody", "created_at")
    list_filter = ("status", "service", "age_band", "in_custody")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Supporter)
class SupporterAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "kind",
        "capacity",
        "paused",
        "dbs_checked_on",
        "last_supervision_on",
    )
    list_filter = ("kind", "paused", "services", "dbs_level", "cleared_for_under_18")
    raw_id_fields = ("user",)
    filter_horizontal = ("services",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Exclusion)
class ExclusionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "service_user", "supporter", "other_service_user", "kind")
    list_filter = ("kind",)
    raw_id_fields = ("service_user", "supporter", "other_service_user", "entered_by")
    readonly_fields = ("created_at",)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Created and changed through the services, which check the rules and send signals."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Match)
class MatchAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "service_user", "supporter", "started_at", "ended_at", "end_reason")
    list_filter = ("end_reason",)


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "service_user", "kind", "starts_at", "status", "outcome")
    list_filter = ("kind", "status", "outcome")
    date_hierarchy = "starts_at"


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "service_user", "supporter", "status", "offered_at", "respond_by")
    list_filter = ("status",)


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    # Notes are not shown in the list: the change view (read-only) shows them to admins only.
    list_display = ("__str__", "service_user", "supporter", "method", "occurred_at")
    list_filter = ("method", "safeguarding_concern")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "service", "kind", "created_at", "resolved_at")
    list_filter = ("kind", "service")
