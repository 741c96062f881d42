"""Database-level backstop: annotation revisions and review decisions are never rewritten.

UPDATE is refused on PostgreSQL and SQLite. DELETE stays possible so that deleting a project (or a
test flush) can remove its rows; no service deletes them.
"""

from django.db import migrations

TABLES = ("annotation_annotationrevision", "annotation_reviewdecision")

PG_FORWARD = """
CREATE OR REPLACE FUNCTION {table}_no_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = '{table} is append-only (UPDATE refused)',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {table}_no_update ON {table};
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_no_update();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS {table}_no_update ON {table};
DROP FUNCTION IF EXISTS {table}_no_update();
"""
SQLITE_FORWARD = """
CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only (UPDATE refused)'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS {table}_no_update;"

SQL = {
    "postgresql": (PG_FORWARD, PG_BACKWARD),
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
}


def _run(schema_editor, index: int) -> None:
    statements = SQL.get(schema_editor.connection.vendor)
    if statements:
        for table in TABLES:
            schema_editor.execute(statements[index].format(table=table))


def forward(apps, schema_editor):
    _run(schema_editor, 0)


def backward(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("annotation", "0005_labeling_workflow")]

    operations = [migrations.RunPython(forward, backward)]
