from django.contrib import admin

from .models import BusinessCalendar, Holiday, Service, SLAPolicy, Ticket, TicketChange


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "day_start", "day_end")
    inlines = [HolidayInline]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ("priority", "response_minutes", "resolution_minutes", "calendar")


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "owner_team", "confidential", "active")
    list_filter = ("confidential", "active", "owner_team")
    prepopulated_fields = {"slug": ("name",)}


class ChangeInline(admin.TabularInline):
    model = TicketChange
    extra = 0
    can_delete = False
    readonly_fields = ("actor", "field", "old", "new", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only: tickets change through the product so every change is audited and announced."""

    list_display = ("number", "title", "kind", "status", "priority", "requester", "assignee", "team")
    list_filter = ("kind", "status", "priority", "visibility", "team")
    search_fields = ("title",)
    inlines = [ChangeInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
