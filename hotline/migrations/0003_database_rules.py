"""Rules the database itself keeps, so that no writer (the ORM, a bulk UPDATE, raw SQL) escapes
them. Each has its reverse. The reasons, with figures, are in docs/notes/sweep.md and
docs/notes/dashboard.md.

PostgreSQL:
- timeline events are immutable: a row trigger refuses UPDATE and DELETE of hotline_caseevent
  (TRUNCATE, a table operation of the test suite and the benchmark, is not affected);
- each event's case exists, checked once per INSERT statement over its new rows, instead of a
  foreign-key constraint (a constraint locks every referenced case row, one by one: at a million
  cases the sweep's 130,000 events spent more time in those locks than in everything else);
- so a case that exists stays: it is never deleted, nor its id changed;
- cases are counted per (stage, owner, open) in a ledger (CaseCount) that only ever gets
  INSERTs: one statement trigger per INSERT/DELETE (reading the transition table), a row trigger
  on UPDATE OF stage, owner_id, closed_at only when one of them changes, TRUNCATE empties it;
- hotline_case keeps 25% of each page free (fillfactor 75), so an updated row fits on its page
  (a HOT update, no index write).
SQLite (the embedded default): the event's case and the case's permanence, as row triggers.
"""

from django.db import migrations

CASE_FILLFACTOR = 75

POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION hotline_caseevent_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hotline_caseevent rows are immutable (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER hotline_caseevent_immutable
    BEFORE UPDATE OR DELETE ON hotline_caseevent
    FOR EACH ROW EXECUTE FUNCTION hotline_caseevent_immutable();

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

CREATE TRIGGER hotline_caseevent_case_exists
    AFTER INSERT ON hotline_caseevent REFERENCING NEW TABLE AS hotline_caseevent_new
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_caseevent_case_exists();

CREATE OR REPLACE FUNCTION hotline_case_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'hotline_case rows are kept: never deleted or renumbered (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER hotline_case_kept
    BEFORE DELETE ON hotline_case FOR EACH ROW EXECUTE FUNCTION hotline_case_kept();
CREATE TRIGGER hotline_case_kept_id
    BEFORE UPDATE OF id ON hotline_case FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION hotline_case_kept();

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

ALTER TABLE hotline_case SET (fillfactor = {CASE_FILLFACTOR});
"""

POSTGRESQL_REVERSE = """
ALTER TABLE hotline_case RESET (fillfactor);
DROP TRIGGER IF EXISTS hotline_case_count_insert ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_count_delete ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_count_update ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_count_truncate ON hotline_case;
DROP FUNCTION IF EXISTS hotline_case_count_rows();
DROP TRIGGER IF EXISTS hotline_case_kept ON hotline_case;
DROP TRIGGER IF EXISTS hotline_case_kept_id ON hotline_case;
DROP FUNCTION IF EXISTS hotline_case_kept();
DROP TRIGGER IF EXISTS hotline_caseevent_case_exists ON hotline_caseevent;
DROP FUNCTION IF EXISTS hotline_caseevent_case_exists();
DROP TRIGGER IF EXISTS hotline_caseevent_immutable ON hotline_caseevent;
DROP FUNCTION IF EXISTS hotline_caseevent_immutable();
"""

SQLITE = [
    """CREATE TRIGGER hotline_caseevent_case_exists BEFORE INSERT ON hotline_caseevent
    WHEN NOT EXISTS (SELECT 1 FROM hotline_case WHERE id = NEW.case_id)
    BEGIN SELECT RAISE(ABORT, 'hotline_caseevent refers to a case that does not exist'); END""",
    """CREATE TRIGGER hotline_case_kept BEFORE DELETE ON hotline_case
    BEGIN SELECT RAISE(ABORT, 'hotline_case rows are kept: never deleted or renumbered (DELETE refused)'); END""",
    """CREATE TRIGGER hotline_case_kept_id BEFORE UPDATE OF id ON hotline_case
    WHEN NEW.id IS NOT OLD.id
    BEGIN SELECT RAISE(ABORT, 'hotline_case rows are kept: never deleted or renumbered (UPDATE refused)'); END""",
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS hotline_caseevent_case_exists",
    "DROP TRIGGER IF EXISTS hotline_case_kept",
    "DROP TRIGGER IF EXISTS hotline_case_kept_id",
]


def _run(postgresql: str, sqlite: list[str]):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(postgresql, params=None)  # no placeholders: "%" is plpgsql's
        elif vendor == "sqlite":
            for statement in sqlite:
                schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("hotline", "0002_seed_equipment")]

    operations = [migrations.RunPython(_run(POSTGRESQL, SQLITE), _run(POSTGRESQL_REVERSE, SQLITE_REVERSE))]
