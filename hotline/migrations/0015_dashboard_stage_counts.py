"""The count of cases per stage, kept by PostgreSQL triggers as a ledger (CaseStageCount).

PostgreSQL only: on SQLite the table stays empty and the dashboard counts the cases.
- INSERT and DELETE on hotline_case: one statement trigger each, reading the transition table,
  so a bulk load of a million cases adds one row per stage, not a million.
- UPDATE OF stage: a row trigger, only when the stage changes (a minus for the old stage, a plus
  for the new). A column list keeps it off every other UPDATE: the SLA sweep never fires it.
- TRUNCATE: the ledger is emptied too (the benchmark's reset, test teardown).
Every trigger only INSERTs: two transactions never wait on each other for a counter.
The trigger is created before the backfill, in the migration's transaction: CREATE TRIGGER
locks out writers until the commit, so the backfill counts exactly the cases of that moment.
"""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION hotline_case_stage_count_rows() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO hotline_casestagecount (stage, n) SELECT stage, count(*) FROM new_cases GROUP BY stage;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO hotline_casestagecount (stage, n) SELECT stage, -count(*) FROM old_cases GROUP BY stage;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO hotline_casestagecount (stage, n) VALUES (OLD.stage, -1), (NEW.stage, 1);
    ELSE
        DELETE FROM hotline_casestagecount;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER hotline_case_stage_count_insert AFTER INSERT ON hotline_case
    REFERENCING NEW TABLE AS new_cases FOR EACH STATEMENT EXECUTE FUNCTION hotline_case_stage_count_rows();
CREATE TRIGGER hotline_case_stage_count_delete AFTER DELETE ON hotline_case
    REFERENCING OLD TABLE AS old_cases FOR EACH STATEMENT EXECUTE FUNCTION hotline_case_stage_count_rows();
CREATE TRIGGER hotline_case_stage_count_update AFTER UPDATE OF stage ON hotline_case
    FOR EACH ROW WHEN (OLD.stage IS DISTINCT FROM NEW.stage) EXECUTE FUNCTION hotline_case_stage_count_rows();
CREATE TRIGGER hotline_case_stage_count_truncate AFTER TRUNCATE ON hotline_case
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_case_stage_count_rows();

DELETE FROM hotline_casestagecount;
INSERT INTO hotline_casestagecount (stage, n) SELECT stage, count(*) FROM hotline_case GROUP BY stage;
"""

DROP = """
DROP TRIGGER IF EXISTS hotline_case_stage_count_insert ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_stage_count_delete ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_stage_count_update ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_stage_count_truncate ON hotline_case;
DROP FUNCTION IF EXISTS hotline_case_stage_count_rows();
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
            name="CaseStageCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stage", models.CharField(choices=[
                    ("new", "New"), ("assigned", "Assigned"), ("in_contact", "In contact"), ("verified", "Verified"),
                    ("planning", "Planning"), ("surrendered", "Surrendered"), ("closed", "Closed"),
                ], max_length=16)),
                ("n", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP)),
    ]
