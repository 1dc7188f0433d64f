from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import LoginRecord, SecurityReport, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Service desk", {"fields": ("role", "team", "display_name", "title", "location", "avatar", "expertise_tags")}),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(SecurityReport)
class SecurityReportAdmin(admin.ModelAdmin):
    list_display = ("id", "reporter", "created_at", "status")
    list_filter = ("status",)
    readonly_fields = ("reporter", "login", "created_at", "note")

    def has_add_permission(self, request):
        return False


@admin.register(LoginRecord)
class LoginRecordAdmin(admin.ModelAdmin):
    list_display = ("username", "at", "ip", "success", "method")
    list_filter = ("success", "method")
    search_fields = ("username", "ip")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
