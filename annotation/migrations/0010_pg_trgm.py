"""pg_trgm on PostgreSQL, for the per-project text search index (annotation.items.search_index).
SQLite: nothing. pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it."""

from django.db import migrations


def create_extension(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


class Migration(migrations.Migration):
    dependencies = [("annotation", "0009_item_bulk_action")]

    operations = [migrations.RunPython(create_extension, migrations.RunPython.noop, elidable=False)]
