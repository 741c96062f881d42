"""Database-level backstop for the append-only audit log.

PostgreSQL refuses UPDATE and DELETE on audit rows. SQLite refuses UPDATE (its DELETE stays open
because Django's test flush empties tables with DELETE; the ORM refuses deletes in every backend).
TRUNCATE, used by PostgreSQL test flushes and by an operator wiping a database, is not a row change.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'core_auditevent is append-only (' || TG_OP || ' refused)',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
DROP FUNCTION IF EXISTS core_auditevent_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update BEFORE UPDATE ON core_auditevent
BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only (UPDATE refused)'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS core_auditevent_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
