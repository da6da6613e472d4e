"""Database triggers that make the audit log append-only below the ORM.

The ORM and admin already refuse changes; these triggers also stop raw SQL, shells and other
clients. PostgreSQL (production) refuses UPDATE and DELETE of any row. SQLite refuses UPDATE
only: Django's test-suite `flush` empties tables with DELETE there (PostgreSQL uses TRUNCATE,
which is left to the database owner), and the embedded SQLite set-up is for development.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """
    CREATE TRIGGER portal_auditevent_no_update BEFORE UPDATE ON portal_auditevent
    BEGIN SELECT RAISE(ABORT, 'portal_auditevent is append-only'); END;
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS portal_auditevent_no_update;",
]
POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION portal_auditevent_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'portal_auditevent is append-only';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER portal_auditevent_no_update_or_delete
    BEFORE UPDATE OR DELETE ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_auditevent_refuse_change();
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS portal_auditevent_no_update_or_delete ON portal_auditevent;",
    "DROP FUNCTION IF EXISTS portal_auditevent_refuse_change();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_accounts_consent_audit")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
