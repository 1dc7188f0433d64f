"""Knowledge suggestions: trigram similarity on PostgreSQL, an FTS5 index with a porter tokenizer
on the embedded SQLite (kept in step by SQLite triggers)."""
from django.db import migrations

from servicedesk.similarity import fts5_drop_sql, fts5_table_sql

FTS = {"table": "communities_article_fts", "source": "communities_article", "columns": ("title", "body")}


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    elif vendor == "sqlite":
        for statement in fts5_table_sql(**FTS):
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in fts5_drop_sql(table=FTS["table"]):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("communities", "0004_removals")]

    operations = [migrations.RunPython(forwards, backwards)]
