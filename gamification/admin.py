from django.contrib import admin

from .models import Badge, BadgeAward, Bounty, Campaign, DeskVisit, PointEntry, Rule


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "points", "daily_cap", "active")


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "rule", "kind", "bronze", "silver", "gold")


@admin.register(PointEntry)
class PointEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger is append-only; corrections are reversals made by the services."""

    list_display = ("id", "user", "points", "rule", "reason", "reversal_of", "created_at")
    list_filter = ("rule",)
    search_fields = ("user__username", "reason")
    raw_id_fields = ("user", "actor", "reversal_of", "campaign")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(Campaign)
admin.site.register(BadgeAward)
admin.site.register(DeskVisit)
admin.site.register(Bounty)
