from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from rest_framework.authtoken.models import TokenProxy

from . import services
from .models import ApiToken, LoginRecord, SecurityReport, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Service desk", {"fields": ("role", "team", "display_name", "title", "location", "avatar", "expertise_tags")}),
    )

    def save_model(self, request, obj, form, change):
        """Edits here reach open live sockets too: a deactivated account or a new role closes them."""
        super().save_model(request, obj, form, change)
        if change:
            changed = set(form.changed_data)
            services.user_access_changed(
                user=obj, role_changed="role" in changed, deactivated="is_active" in changed and not obj.is_active,
                password_changed="password" in changed,
            )

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            if user is not None:
                services.user_access_changed(user=user, role_changed=False, deactivated=False, password_changed=True)
        return response


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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Only digests are stored: admins see which tokens exist and may revoke them, never a key."""

    list_display = ("prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "prefix")
    fields = ("user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.select_related("user"):
            services.api_token_revoke(actor=token.user, token=token)


# DRF's own token model keeps raw keys; tokens live in ApiToken (hashed), so it is not offered.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
