from django.contrib import admin

from servicedesk.readonly_admin import ReadOnlyAdmin

from .models import AuditEntry, DlpFlag, ListeningItem, OutboundPost


@admin.register(OutboundPost)
class OutboundPostAdmin(ReadOnlyAdmin):
    list_display = ("id", "channel", "event", "status", "created_at")
    list_filter = ("status", "event")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "action", "actor", "channel", "post", "status")
    list_filter = ("action",)


@admin.register(ListeningItem)
class ListeningItemAdmin(ReadOnlyAdmin):
    list_display = ("id", "source", "title", "sentiment", "on_wall")


@admin.register(DlpFlag)
class DlpFlagAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "object_id", "author", "status", "created_at")
