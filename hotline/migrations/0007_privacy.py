# Encrypted personal data, retention marks, the ANONYMISED event (issue 7B).

import hotline.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('hotline', '0005_dashboard'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='anonymised_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='contact',
            name='erased_at',
            field=models.DateTimeField(blank=True, help_text='Identifier and name erased (retention).', null=True),
        ),
        migrations.AddField(
            model_name='message',
            name='erased_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='case',
            name='surrender_place',
            field=hotline.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name='case',
            name='triage',
            field=hotline.fields.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='kind',
            field=models.CharField(choices=[('created', 'Case opened'), ('request', 'Request received'), ('reopened', 'Reopened'), ('assigned', 'Assigned'), ('unassigned', 'Returned to queue'), ('replied', 'Replied'), ('call_logged', 'Call logged'), ('note_added', 'Note added'), ('stage_changed', 'Stage changed'), ('closed', 'Closed'), ('equipment_declared', 'Equipment declared'), ('surrendered', 'Surrender recorded'), ('reward_paid', 'Reward paid'), ('at_risk', 'Flagged at risk'), ('overdue', 'Flagged overdue'), ('message_edited', 'Message edited'), ('delivery_failed', 'Delivery failed'), ('contact_updated', 'Contact updated'), ('triage_answered', 'Triage question answered'), ('viewed', 'Viewed'), ('anonymised', 'Personal data erased')], max_length=24),
        ),
        migrations.AlterField(
            model_name='contact',
            name='display_name',
            field=hotline.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name='contact',
            name='identifier',
            field=hotline.fields.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name='message',
            name='body',
            field=hotline.fields.EncryptedTextField(blank=True),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('anonymised_at__isnull', True), ('closed_at__isnull', False)), fields=['closed_at'], name='case_retention_idx'),
        ),
    ]
