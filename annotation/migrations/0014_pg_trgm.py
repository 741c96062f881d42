"""pg_trgm on PostgreSQL, for the per-project text search index (annotation.items.search_index).
SQLite: nothing. pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it."""

from django.db import migrations


def create_extension(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        # A role that may not create it (a managed database without pg_trgm allowed): deploy anyway;
        # annotation.items.search_index then builds no index (logged) and search scans, as before.
        import logging

        logging.getLogger("annotation").warning("pg_trgm not created, text search stays a scan: %s", error)


class Migration(migrations.Migration):
    dependencies = [('annotation', '0013_item_media_removed')]

    operations = [migrations.RunPython(create_extension, migrations.RunPython.noop, elidable=False)]
