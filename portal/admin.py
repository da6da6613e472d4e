from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import AuditEvent, ConsentWording, Membership, Service, ServiceLocation, User
from .services import membership_grant, membership_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Contact", {"fields": ("first_name", "last_name", "email", "mobile")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    list_display = ("username", "first_name", "is_staff", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")


class ServiceLocationInline(admin.TabularInline):
    model = ServiceLocation
    extra = 1


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "area", "phone")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "area", "locations__town")
    inlines = [ServiceLocationInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Role changes go through the services, so each one is written to the audit log."""

    list_display = ("user", "service", "role", "created_at")
    list_filter = ("role", "service")
    raw_id_fields = ("user",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # revoke and grant instead, so the audit log shows both

    def save_model(self, request, obj, form, change) -> None:
        saved = membership_grant(
            user=obj.user, service=obj.service, role=obj.role, granted_by=request.user
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        membership_revoke(membership=obj, revoked_by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset:
            membership_revoke(membership=membership, revoked_by=request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "subject", "service")
    list_filter = ("action", "object_type", "service")


@admin.register(ConsentWording)
class ConsentWordingAdmin(admin.ModelAdmin):
    """New wording is a new version; existing versions are never edited."""

    list_display = ("purpose", "version", "effective_from")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
