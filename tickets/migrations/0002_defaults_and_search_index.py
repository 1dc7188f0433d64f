from datetime import time

from django.db import migrations

DEFAULT_POLICIES = [
    # priority, response minutes, resolution minutes, on business hours?
    (1, 30, 4 * 60, False),  # critical: around the clock
    (2, 60, 8 * 60, True),
    (3, 4 * 60, 3 * 8 * 60, True),
    (4, 8 * 60, 5 * 8 * 60, True),
]


def create_defaults(apps, schema_editor):
    BusinessCalendar = apps.get_model("tickets", "BusinessCalendar")
    SLAPolicy = apps.get_model("tickets", "SLAPolicy")
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Business hours",
        defaults={"time_zone": "UTC", "working_days": [0, 1, 2, 3, 4], "day_start": time(9, 0), "day_end": time(17, 0)},
    )
    for priority, response, resolution, business in DEFAULT_POLICIES:
        SLAPolicy.objects.get_or_create(
            priority=priority,
            defaults={"response_minutes": response, "resolution_minutes": resolution, "calendar": calendar if business else None},
        )


def search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS ticket_search_gin ON tickets_ticket USING gin (search_vector)"
        )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS ticket_search_gin")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [
        migrations.RunPython(create_defaults, migrations.RunPython.noop),
        migrations.RunPython(search_index, drop_search_index),
    ]
