from django.contrib import admin

from servicedesk.readonly_admin import ReadOnlyAdmin

from .models import Activity, Notification, OutboxMessage


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
