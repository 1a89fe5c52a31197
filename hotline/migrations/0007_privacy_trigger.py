"""Timeline events cannot be changed or deleted, even by SQL that bypasses the models.

PostgreSQL only (a no-op on SQLite, where the model guards remain): a row trigger raises on
UPDATE or DELETE of hotline_caseevent. TRUNCATE (test teardown, the benchmark's reset) is a
table operation, not affected. A deliberate, audited correction needs a database owner to
drop the trigger: outside the product.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION hotline_caseevent_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hotline_caseevent rows are immutable (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS hotline_caseevent_immutable ON hotline_caseevent;
CREATE TRIGGER hotline_caseevent_immutable
    BEFORE UPDATE OR DELETE ON hotline_caseevent
    FOR EACH ROW EXECUTE FUNCTION hotline_caseevent_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS hotline_caseevent_immutable ON hotline_caseevent;
DROP FUNCTION IF EXISTS hotline_caseevent_immutable();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: "%" is plpgsql's

    return run


class Migration(migrations.Migration):
    dependencies = [("hotline", "0007_privacy_data")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
