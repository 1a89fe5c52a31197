"""Encrypt the personal data already stored, and take it out of the timeline.

- every value of the encrypted columns that is not already a readable token is encrypted,
  in primary-key batches, each batch locked and rewritten in its own transaction: safe to
  re-run, and a crash leaves nothing half-done but the batch being written;
- a close comment (free text) moves from the immutable CLOSED event into an internal note;
- a triage event keeps the question, not the answer.

This must run before 0007_privacy_trigger makes events immutable in the database.
"""

from django.db import migrations

from hotline import crypto

COLUMNS = [
    ("hotline_contact", "identifier"),
    ("hotline_contact", "display_name"),
    ("hotline_message", "body"),
    ("hotline_case", "surrender_place"),
    ("hotline_case", "triage"),
]
BATCH = 500


def encrypt_columns(apps, schema_editor):
    for table, column in COLUMNS:
        crypto.rewrite_column(schema_editor.connection, table, column, crypto.encrypt_if_plain, batch_size=BATCH)


def decrypt_columns(apps, schema_editor):
    def plain(value):
        return crypto.decrypt(value) if crypto.is_readable(value) else None

    for table, column in COLUMNS:
        crypto.rewrite_column(schema_editor.connection, table, column, plain, batch_size=BATCH)


def personal_data_out_of_events(apps, schema_editor):
    CaseEvent = apps.get_model("hotline", "CaseEvent")
    Message = apps.get_model("hotline", "Message")
    last = 0
    while True:
        events = list(
            CaseEvent.objects.filter(pk__gt=last, kind__in=["closed", "triage_answered"]).order_by("pk")[:BATCH]
        )
        if not events:
            return
        last = events[-1].pk
        for event in events:
            data = dict(event.data or {})
            if event.kind == "triage_answered" and "answer" in data:
                data.pop("answer")
            elif event.kind == "closed" and "comment" in data:
                comment = (data.pop("comment") or "").strip()
                data["note_id"] = None
                if comment:
                    case = event.case
                    note = Message.objects.create(
                        case_id=event.case_id, direction="note", channel=case.channel, author_id=event.actor_id,
                        body=comment, created_at=event.created_at,
                    )
                    data["note_id"] = note.pk
            else:
                continue
            CaseEvent.objects.filter(pk=event.pk).update(data=data)


class Migration(migrations.Migration):
    atomic = False  # each batch commits on its own

    dependencies = [("hotline", "0007_privacy")]

    operations = [
        migrations.RunPython(encrypt_columns, decrypt_columns),
        migrations.RunPython(personal_data_out_of_events, migrations.RunPython.noop),
    ]
