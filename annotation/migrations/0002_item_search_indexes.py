"""PostgreSQL indexes for the item list: metadata containment (GIN) and full-text search.

SQLite (embedded mode) filters without them.
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE INDEX IF NOT EXISTS item_meta_gin ON annotation_item USING gin (meta jsonb_path_ops)",
    "CREATE INDEX IF NOT EXISTS item_search_fts ON annotation_item USING gin (to_tsvector('simple', search_text))",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS item_meta_gin", "DROP INDEX IF EXISTS item_search_fts"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("annotation", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
