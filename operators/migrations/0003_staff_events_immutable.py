"""Staff events cannot be changed or deleted, even by SQL that bypasses the models
(PostgreSQL; on SQLite the model's guards remain), like the case timeline."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION operators_staffevent_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'operators_staffevent rows are immutable (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER operators_staffevent_immutable
    BEFORE UPDATE OR DELETE ON operators_staffevent
    FOR EACH ROW EXECUTE FUNCTION operators_staffevent_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS operators_staffevent_immutable ON operators_staffevent;
DROP FUNCTION IF EXISTS operators_staffevent_immutable();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: "%" is plpgsql's

    return run


class Migration(migrations.Migration):
    dependencies = [("operators", "0002_roles_and_languages")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(REVERSE))]
