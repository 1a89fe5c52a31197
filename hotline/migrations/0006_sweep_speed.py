"""Make the overdue sweep's writes cheap (docs/notes/bench.md has the figures).

- One partial index on open cases in the queue's order (awaiting_since, received_at) replaces
  the two sweep indexes and the overdue list index, and serves the supervisors' queue of all
  open cases: no index names the flag columns any more, so flagging a case can be a HOT update.
- `hotline_case` keeps 25% of each page free (fillfactor 75) so the new row version fits on
  its page, which HOT needs. Pages written before this migration are full: a later
  VACUUM FULL (or pg_repack) spreads them out; new cases, the ones a sweep flags, get the room.
- Events written by the system (no actor) skip the actor index, and the two single-column FK
  indexes on events go: the composite indexes lead with the same columns.
- `case_received_idx` carries the columns the dashboard's period figures read (index-only scans).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CASE_FILLFACTOR = 75


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE hotline_case SET (fillfactor = {CASE_FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE hotline_case RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ('hotline', '0005_dashboard'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('closed_at__isnull', True)), fields=['awaiting_since', 'received_at'], name='case_open_wait_idx'),
        ),
        migrations.RemoveIndex(
            model_name='case',
            name='case_overdue_sweep_idx',
        ),
        migrations.RemoveIndex(
            model_name='case',
            name='case_at_risk_sweep_idx',
        ),
        migrations.RemoveIndex(
            model_name='case',
            name='case_overdue_list_idx',
        ),
        migrations.RemoveIndex(
            model_name='caseevent',
            name='event_actor_time_idx',
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, help_text='Empty for the system (bot, sweep).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='case',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='hotline.case'),
        ),
        migrations.AddIndex(
            model_name='caseevent',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor', 'created_at'], name='event_actor_time_idx'),
        ),
        # The dashboard's period figures read only these columns: an index-only scan.
        migrations.RemoveIndex(
            model_name='case',
            name='case_received_idx',
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['received_at'], include=('first_response_at', 'first_responder', 'channel', 'language', 'stage', 'stage_before_close'), name='case_received_idx'),
        ),
        migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False),
    ]
