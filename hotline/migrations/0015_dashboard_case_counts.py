"""Cases counted by (stage, owner, open), kept by PostgreSQL triggers as a ledger (CaseCount).

PostgreSQL only: on SQLite the table stays empty and the dashboard counts the cases.
- INSERT and DELETE on hotline_case: one statement trigger each, reading the transition table,
  so a bulk load of a million cases adds a row per (stage, owner, open), not a million.
- UPDATE OF stage, owner_id, closed_at: a row trigger, only when one of the three changes (a
  minus for the old key, a plus for the new). A column list keeps it off every other UPDATE:
  the SLA sweep never fires it.
- TRUNCATE: the ledger is emptied too (the benchmark's reset, test teardown).
Every trigger only INSERTs: two transactions never wait on each other for a counter.
The trigger is created before the backfill, in the migration's transaction: CREATE TRIGGER
locks out writers until the commit, so the backfill counts exactly the cases of that moment.
"""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION hotline_case_count_rows() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO hotline_casecount (stage, owner_id, open, n)
        SELECT stage, owner_id, closed_at IS NULL, count(*) FROM new_cases GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO hotline_casecount (stage, owner_id, open, n)
        SELECT stage, owner_id, closed_at IS NULL, -count(*) FROM old_cases GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO hotline_casecount (stage, owner_id, open, n)
        VALUES (OLD.stage, OLD.owner_id, OLD.closed_at IS NULL, -1), (NEW.stage, NEW.owner_id, NEW.closed_at IS NULL, 1);
    ELSE
        DELETE FROM hotline_casecount;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER hotline_case_count_insert AFTER INSERT ON hotline_case
    REFERENCING NEW TABLE AS new_cases FOR EACH STATEMENT EXECUTE FUNCTION hotline_case_count_rows();
CREATE TRIGGER hotline_case_count_delete AFTER DELETE ON hotline_case
    REFERENCING OLD TABLE AS old_cases FOR EACH STATEMENT EXECUTE FUNCTION hotline_case_count_rows();
CREATE TRIGGER hotline_case_count_update AFTER UPDATE OF stage, owner_id, closed_at ON hotline_case
    FOR EACH ROW WHEN (OLD.stage IS DISTINCT FROM NEW.stage OR OLD.owner_id IS DISTINCT FROM NEW.owner_id
                       OR (OLD.closed_at IS NULL) <> (NEW.closed_at IS NULL))
    EXECUTE FUNCTION hotline_case_count_rows();
CREATE TRIGGER hotline_case_count_truncate AFTER TRUNCATE ON hotline_case
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_case_count_rows();

DELETE FROM hotline_casecount;
INSERT INTO hotline_casecount (stage, owner_id, open, n)
SELECT stage, owner_id, closed_at IS NULL, count(*) FROM hotline_case GROUP BY 1, 2, 3;
"""

DROP = """
DROP TRIGGER IF EXISTS hotline_case_count_insert ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_count_delete ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_count_update ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_count_truncate ON hotline_case;
DROP FUNCTION IF EXISTS hotline_case_count_rows();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("hotline", "0014_telegram_update_attempts")]

    operations = [
        migrations.CreateModel(
            name="CaseCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stage", models.CharField(choices=[
                    ("new", "New"), ("assigned", "Assigned"), ("in_contact", "In contact"), ("verified", "Verified"),
                    ("planning", "Planning"), ("surrendered", "Surrendered"), ("closed", "Closed"),
                ], max_length=16)),
                ("owner_id", models.IntegerField(null=True)),
                ("open", models.BooleanField()),
                ("n", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]
