"""The dashboard's response rollups (hotline.models.ResponseRollup, hotline/dashboard/rollups.py).

PostgreSQL: the table is kept by triggers on hotline_case, so every writer (the services, bulk
INSERTs of the intake, raw SQL) is counted:
- one statement trigger per INSERT, reading the transition table (+1 per key, grouped);
- a row trigger on UPDATE OF the rolled-up columns, only when one of them changes (-1 for the
  old key, +1 for the new): the SLA sweep's updates, which change none of them, cost nothing;
- TRUNCATE empties it (cases are never deleted: hotline_case_kept).
The table is then filled from the cases already there. The SLA a case was answered within is
`hotline_rollup_sla_seconds()`, written here from SLA_HOURS; `manage.py dashboard_rollups_rebuild`
writes it again after SLA_HOURS changes (the dashboard computes exactly until then).
SQLite: nothing (the embedded database computes the figures from the cases).
"""

from django.conf import settings
from django.db import migrations, models

# The key of a case row: the same expressions as hotline/dashboard/rollups.py's KEY.
KEY = """date_trunc('hour', {c}.received_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', {c}.first_responder_id,
        {c}.channel, {c}.language, {c}.stage, {c}.stage_before_close,
        hotline_response_bucket(date_part('epoch', {c}.first_response_at - {c}.received_at)),
        COALESCE({c}.first_response_at <= {c}.received_at + make_interval(secs => hotline_rollup_sla_seconds()),
                 false)"""
COLUMNS = "hour, first_responder_id, channel, language, stage, stage_before_close, bucket, within_sla, n"
WATCHED = ["received_at", "first_response_at", "first_responder_id", "channel", "language", "stage",
           "stage_before_close"]


def sla_function(seconds: float) -> str:
    return f"""
CREATE OR REPLACE FUNCTION hotline_rollup_sla_seconds() RETURNS double precision
    LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT {float(seconds)!r}::double precision $$;
"""


POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION hotline_response_bucket(seconds double precision) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN seconds IS NULL THEN NULL
                WHEN seconds < 64 THEN greatest(floor(seconds), 0)::smallint
                ELSE least(64 + floor(32 * ln(seconds / 64.0) / ln(2.0)), 32767)::smallint END
$$;

CREATE OR REPLACE FUNCTION hotline_response_rollup_rows() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO hotline_responserollup ({COLUMNS})
        SELECT {KEY.format(c="c")}, count(*) FROM new_cases AS c GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO hotline_responserollup ({COLUMNS})
        VALUES ({KEY.format(c="OLD")}, -1), ({KEY.format(c="NEW")}, 1);
    ELSE
        DELETE FROM hotline_responserollup;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER hotline_response_rollup_insert AFTER INSERT ON hotline_case
    REFERENCING NEW TABLE AS new_cases FOR EACH STATEMENT EXECUTE FUNCTION hotline_response_rollup_rows();
CREATE TRIGGER hotline_response_rollup_update AFTER UPDATE OF {", ".join(WATCHED)} ON hotline_case
    FOR EACH ROW WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)})
    EXECUTE FUNCTION hotline_response_rollup_rows();
CREATE TRIGGER hotline_response_rollup_truncate AFTER TRUNCATE ON hotline_case
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_response_rollup_rows();
"""

FILL = f"""
INSERT INTO hotline_responserollup ({COLUMNS})
SELECT {KEY.format(c="c")}, count(*) FROM hotline_case AS c GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS hotline_response_rollup_insert ON hotline_case;
DROP TRIGGER IF EXISTS hotline_response_rollup_update ON hotline_case;
DROP TRIGGER IF EXISTS hotline_response_rollup_truncate ON hotline_case;
DROP FUNCTION IF EXISTS hotline_response_rollup_rows();
DROP FUNCTION IF EXISTS hotline_response_bucket(double precision);
DROP FUNCTION IF EXISTS hotline_rollup_sla_seconds();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(sla_function(settings.SLA_HOURS * 3600) + POSTGRESQL + FILL, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('hotline', '0007_live_search'),
    ]

    operations = [
        migrations.CreateModel(
            name='ResponseRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField()),
                ('first_responder_id', models.IntegerField(null=True)),
                ('channel', models.CharField(max_length=16)),
                ('language', models.CharField(blank=True, max_length=8)),
                ('stage', models.CharField(max_length=16)),
                ('stage_before_close', models.CharField(blank=True, max_length=16)),
                ('bucket', models.SmallIntegerField(null=True)),
                ('within_sla', models.BooleanField()),
                ('n', models.BigIntegerField()),
            ],
            options={
                'indexes': [models.Index(fields=['hour'], name='rollup_hour_idx')],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
