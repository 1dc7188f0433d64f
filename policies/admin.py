from django.contrib import admin

from .models import AuditEntry, DlpFlag, ListeningItem, OutboundPost


class ReadOnlyAdmin(admin.ModelAdmin):
    """The record of what left the building: readable here, changed only through the product's pages."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
