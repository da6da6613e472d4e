from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Service, ServiceLocation, User


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
