"""Finding duplicates: trigram similarity on PostgreSQL, an FTS5 index with a porter tokenizer on
the embedded SQLite (kept in step by SQLite triggers)."""
from django.db import migrations

from servicedesk.similarity import fts5_drop_sql, fts5_table_sql

FTS = {"table": "tickets_ticket_fts", "source": "tickets_ticket", "columns": ("title", "description")}


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS ticket_title_trgm ON tickets_ticket USING gin (title gin_trgm_ops)"
        )
    elif vendor == "sqlite":
        for statement in fts5_table_sql(**FTS):
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS ticket_title_trgm")
    elif vendor == "sqlite":
        for statement in fts5_drop_sql(table=FTS["table"]):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_ticket_and_comment_channel")]

    operations = [migrations.RunPython(forwards, backwards)]
