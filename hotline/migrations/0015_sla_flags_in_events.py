"""SLA flags live in the timeline only; the case of an event is checked without row locks.

- The case columns `at_risk_since` and `overdue_since` go: whether a case is at risk or overdue
  is read from its wait and the clock (hotline.sla), and the sweep records each crossing as one
  event (unique per case, threshold and wait). Every flag ever set has its event: the sweep
  always wrote both together.
- CaseEvent.case loses its foreign-key constraint. Checking one locks the referenced case row
  (FOR KEY SHARE), event by event, at COMMIT; after a checkpoint each lock also writes the whole
  page to the WAL. For the 130,000 events of a sweep at a million cases that was 1.1–1.6 s, more
  than the events themselves (docs/notes/sweep.md). The same integrity, without the locks:
  * every INSERT into hotline_caseevent is checked once per statement: each new event's case must
    exist (PostgreSQL: a statement trigger over the inserted rows; SQLite: a row trigger);
  * a case can never be deleted, nor its id changed, so a case that exists stays (the locks of
    the constraint only ever guarded against that). Cases were not deletable before either: their
    events are immutable (0007). Retention erases personal data; the case stays.
  Not covered, as for 0007: TRUNCATE, a table operation for the test suite and the benchmark.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = """
CREATE OR REPLACE FUNCTION hotline_caseevent_case_exists() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hotline_caseevent_new AS n
               WHERE NOT EXISTS (SELECT 1 FROM hotline_case AS c WHERE c.id = n.case_id)) THEN
        RAISE EXCEPTION 'hotline_caseevent refers to a case that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS hotline_caseevent_case_exists ON hotline_caseevent;
CREATE TRIGGER hotline_caseevent_case_exists
    AFTER INSERT ON hotline_caseevent REFERENCING NEW TABLE AS hotline_caseevent_new
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_caseevent_case_exists();

CREATE OR REPLACE FUNCTION hotline_case_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hotline_case rows are kept: never deleted or renumbered (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS hotline_case_kept ON hotline_case;
CREATE TRIGGER hotline_case_kept
    BEFORE DELETE ON hotline_case FOR EACH ROW EXECUTE FUNCTION hotline_case_kept();
DROP TRIGGER IF EXISTS hotline_case_kept_id ON hotline_case;
CREATE TRIGGER hotline_case_kept_id
    BEFORE UPDATE OF id ON hotline_case FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION hotline_case_kept();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS hotline_caseevent_case_exists ON hotline_caseevent;
DROP FUNCTION IF EXISTS hotline_caseevent_case_exists();
DROP TRIGGER IF EXISTS hotline_case_kept ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_kept_id ON hotline_case;
DROP FUNCTION IF EXISTS hotline_case_kept();
"""

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS hotline_caseevent_case_exists BEFORE INSERT ON hotline_caseevent
    WHEN NOT EXISTS (SELECT 1 FROM hotline_case WHERE id = NEW.case_id)
    BEGIN SELECT RAISE(ABORT, 'hotline_caseevent refers to a case that does not exist'); END""",
    """CREATE TRIGGER IF NOT EXISTS hotline_case_kept BEFORE DELETE ON hotline_case
    BEGIN SELECT RAISE(ABORT, 'hotline_case rows are kept: never deleted or renumbered (DELETE refused)'); END""",
    """CREATE TRIGGER IF NOT EXISTS hotline_case_kept_id BEFORE UPDATE OF id ON hotline_case
    WHEN NEW.id IS NOT OLD.id
    BEGIN SELECT RAISE(ABORT, 'hotline_case rows are kept: never deleted or renumbered (UPDATE refused)'); END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS hotline_caseevent_case_exists",
    "DROP TRIGGER IF EXISTS hotline_case_kept",
    "DROP TRIGGER IF EXISTS hotline_case_kept_id",
]


def _run(postgresql, sqlite):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(postgresql, params=None)  # no placeholders: "%" is plpgsql's
        elif vendor == "sqlite":
            for statement in sqlite:
                schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("hotline", "0014_telegram_update_attempts")]

    operations = [
        migrations.RemoveField(model_name="case", name="at_risk_since"),
        migrations.RemoveField(model_name="case", name="overdue_since"),
        migrations.AlterField(
            model_name="caseevent",
            name="case",
            field=models.ForeignKey(
                db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT,
                related_name="events", to="hotline.case", verbose_name="case",
            ),
        ),
        migrations.RunPython(_run(POSTGRESQL, SQLITE), _run(POSTGRESQL_DROP, SQLITE_DROP)),
    ]
