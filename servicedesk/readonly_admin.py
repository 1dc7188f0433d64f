"""Admin pages for records that only services write (the event spine, what left the building)."""
from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Readable in the admin site; changed only through the product's services and pages."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
