from django.contrib import admin

from .models import Activity, Notification, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """The spine is written by services only; the admin is for looking."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("id", "verb", "stream", "actor", "created_at")
    list_filter = ("verb", "object_type")
    search_fields = ("stream", "summary")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "recipient", "kind", "text", "read", "created_at")
    list_filter = ("kind", "read")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "key", "status", "attempts", "created_at", "sent_at")
    list_filter = ("kind", "status")
