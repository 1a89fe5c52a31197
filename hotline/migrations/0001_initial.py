"""The schema of the case desk, as of the baseline (the history before it was reset: README)."""

import django.db.models.deletion
import hotline.privacy.fields
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CannedReply',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=100, verbose_name='title')),
                ('body', models.TextField(verbose_name='text')),
                ('language', models.CharField(blank=True, help_text='Empty: any language.', max_length=8, verbose_name='language')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'canned reply',
                'verbose_name_plural': 'canned replies',
                'ordering': ['title', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='CaseCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stage', models.CharField(choices=[('new', 'New'), ('assigned', 'Assigned'), ('in_contact', 'In contact'), ('verified', 'Verified'), ('planning', 'Planning'), ('surrendered', 'Surrendered'), ('closed', 'Closed')], max_length=16)),
                ('owner_id', models.IntegerField(null=True)),
                ('open', models.BooleanField()),
                ('n', models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='EquipmentType',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True, verbose_name='name')),
                ('reward_amount', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=12, verbose_name='reward amount')),
                ('currency', models.CharField(default='USD', max_length=3, verbose_name='currency')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='position')),
            ],
            options={
                'verbose_name': 'equipment type',
                'verbose_name_plural': 'equipment types',
                'ordering': ['position', 'name'],
            },
        ),
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('prefix', models.CharField(max_length=16, unique=True, verbose_name='prefix')),
                ('secret_hash', models.CharField(max_length=64, verbose_name='secret hash')),
                ('created_at', models.DateTimeField(verbose_name='created at')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked at')),
                ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='last used at')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
            ],
            options={
                'verbose_name': 'API token',
                'verbose_name_plural': 'API tokens',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='Contact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channel', models.CharField(choices=[('telegram', 'Telegram'), ('phone', 'Phone'), ('web', 'Web form'), ('api', 'API')], max_length=16)),
                ('lookup_hash', models.CharField(max_length=64)),
                ('identifier', hotline.privacy.fields.EncryptedTextField()),
                ('display_name', hotline.privacy.fields.EncryptedTextField(blank=True)),
                ('language', models.CharField(blank=True, max_length=8)),
                ('unreachable_since', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField()),
                ('erased_at', models.DateTimeField(blank=True, help_text='Identifier and name erased (retention).', null=True)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('channel', 'lookup_hash'), name='contact_unique_per_channel')],
            },
        ),
        migrations.CreateModel(
            name='Case',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channel', models.CharField(choices=[('telegram', 'Telegram'), ('phone', 'Phone'), ('web', 'Web form'), ('api', 'API')], max_length=16, verbose_name='channel')),
                ('language', models.CharField(blank=True, max_length=8, verbose_name='language')),
                ('stage', models.CharField(choices=[('new', 'New'), ('assigned', 'Assigned'), ('in_contact', 'In contact'), ('verified', 'Verified'), ('planning', 'Planning'), ('surrendered', 'Surrendered'), ('closed', 'Closed')], default='new', max_length=16, verbose_name='stage')),
                ('close_reason', models.CharField(blank=True, choices=[('withdrew', 'Withdrew'), ('lost_contact', 'Lost contact'), ('provocation', 'Provocation (hostile or fake)'), ('duplicate', 'Duplicate'), ('info_only', 'Information only'), ('referred', 'Referred elsewhere')], max_length=16, verbose_name='close reason')),
                ('stage_before_close', models.CharField(blank=True, choices=[('new', 'New'), ('assigned', 'Assigned'), ('in_contact', 'In contact'), ('verified', 'Verified'), ('planning', 'Planning'), ('surrendered', 'Surrendered'), ('closed', 'Closed')], max_length=16, verbose_name='stage before closing')),
                ('received_at', models.DateTimeField(help_text='The first request of this case.', verbose_name='received at')),
                ('last_request_at', models.DateTimeField(verbose_name='last request at')),
                ('assigned_at', models.DateTimeField(blank=True, null=True, verbose_name='assigned at')),
                ('first_response_at', models.DateTimeField(blank=True, null=True, verbose_name='first response at')),
                ('awaiting_since', models.DateTimeField(blank=True, null=True, verbose_name='awaiting since')),
                ('closed_at', models.DateTimeField(blank=True, help_text='Closed or surrendered.', null=True, verbose_name='closed at')),
                ('surrendered_at', models.DateTimeField(blank=True, null=True, verbose_name='surrendered at')),
                ('surrender_place', hotline.privacy.fields.EncryptedTextField(blank=True, verbose_name='surrender place')),
                ('reward_state', models.CharField(choices=[('none', 'No reward'), ('due', 'Due'), ('paid', 'Paid')], default='none', max_length=8, verbose_name='reward')),
                ('reward_paid_at', models.DateTimeField(blank=True, null=True, verbose_name='reward paid at')),
                ('triage', hotline.privacy.fields.EncryptedJSONField(blank=True, default=dict, verbose_name='triage answers')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('anonymised_at', models.DateTimeField(blank=True, null=True, verbose_name='anonymised at')),
                ('first_responder', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='first responder')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
                ('contact', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='hotline.contact', verbose_name='contact')),
            ],
            options={
                'verbose_name': 'case',
                'verbose_name_plural': 'cases',
            },
        ),
        migrations.CreateModel(
            name='CaseEquipment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('role', models.CharField(choices=[('declared', 'Declared'), ('surrendered', 'Came at surrender')], max_length=12)),
                ('quantity', models.PositiveSmallIntegerField(default=1)),
                ('unit_reward', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=12)),
                ('currency', models.CharField(default='USD', max_length=3)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='equipment', to='hotline.case')),
                ('equipment_type', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='hotline.equipmenttype')),
            ],
        ),
        migrations.CreateModel(
            name='Message',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('direction', models.CharField(choices=[('inbound', 'Inbound'), ('outbound', 'Outbound'), ('note', 'Internal note')], max_length=8)),
                ('channel', models.CharField(choices=[('telegram', 'Telegram'), ('phone', 'Phone'), ('web', 'Web form'), ('api', 'API')], max_length=16)),
                ('body', hotline.privacy.fields.EncryptedTextField(blank=True)),
                ('is_call', models.BooleanField(default=False)),
                ('is_automatic', models.BooleanField(default=False)),
                ('delivery', models.CharField(blank=True, choices=[('', 'Not applicable'), ('queued', 'Queued'), ('sent', 'Sent'), ('failed', 'Failed')], default='', max_length=8)),
                ('delivery_error', models.CharField(blank=True, max_length=200)),
                ('delivered_at', models.DateTimeField(blank=True, null=True)),
                ('external_id', models.CharField(blank=True, max_length=64)),
                ('intake_key', models.CharField(blank=True, max_length=128, null=True, unique=True)),
                ('created_at', models.DateTimeField()),
                ('edited_at', models.DateTimeField(blank=True, null=True)),
                ('erased_at', models.DateTimeField(blank=True, null=True)),
                ('delivery_attempts', models.PositiveSmallIntegerField(default=0)),
                ('delivery_claimed_at', models.DateTimeField(blank=True, null=True)),
                ('delivery_next_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='hotline.case')),
            ],
        ),
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=24, verbose_name='kind')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='count')),
                ('text', models.CharField(max_length=200, verbose_name='text')),
                ('link', models.CharField(blank=True, max_length=200, verbose_name='link')),
                ('created_at', models.DateTimeField(verbose_name='created at')),
            ],
            options={
                'verbose_name': 'notification',
                'verbose_name_plural': 'notifications',
                'indexes': [models.Index(fields=['-created_at'], name='notification_recent_idx')],
            },
        ),
        migrations.CreateModel(
            name='TelegramUpdate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('update_id', models.BigIntegerField(unique=True)),
                ('kind', models.CharField(max_length=32)),
                ('received_at', models.DateTimeField(db_index=True)),
                ('payload', hotline.privacy.fields.EncryptedTextField(blank=True, null=True)),
                ('processed_at', models.DateTimeField(blank=True, null=True)),
                ('result', models.CharField(blank=True, max_length=16)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                'indexes': [models.Index(condition=models.Q(('processed_at__isnull', True)), fields=['id'], name='tgupdate_pending_idx')],
            },
        ),
        migrations.CreateModel(
            name='CaseEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('created', 'Case opened'), ('request', 'Request received'), ('reopened', 'Reopened'), ('assigned', 'Assigned'), ('unassigned', 'Returned to queue'), ('replied', 'Replied'), ('call_logged', 'Call logged'), ('note_added', 'Note added'), ('stage_changed', 'Stage changed'), ('closed', 'Closed'), ('equipment_declared', 'Equipment declared'), ('surrendered', 'Surrender recorded'), ('reward_paid', 'Reward paid'), ('at_risk', 'Flagged at risk'), ('overdue', 'Flagged overdue'), ('message_edited', 'Message edited'), ('delivery_failed', 'Delivery failed'), ('contact_updated', 'Contact updated'), ('triage_answered', 'Triage question answered'), ('viewed', 'Viewed'), ('anonymised', 'Personal data erased')], max_length=24, verbose_name='kind')),
                ('data', models.JSONField(blank=True, default=dict, verbose_name='data')),
                ('created_at', models.DateTimeField(verbose_name='created at')),
                ('sla_wait', models.DateTimeField(blank=True, null=True, verbose_name='flagged wait')),
                ('actor', models.ForeignKey(blank=True, db_index=False, help_text='Empty for the system (bot, sweep).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                ('case', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='hotline.case', verbose_name='case')),
            ],
            options={
                'verbose_name': 'case event',
                'verbose_name_plural': 'case events',
                'indexes': [models.Index(condition=models.Q(('kind__in', ['at_risk', 'overdue']), _negated=True), fields=['case', 'created_at'], name='event_case_time_idx'), models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor', 'created_at'], name='event_actor_time_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('kind__in', ['at_risk', 'overdue'])), fields=('case', 'kind', 'sla_wait'), name='event_one_flag_per_wait')],
            },
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('closed_at__isnull', True), ('owner__isnull', True)), fields=['awaiting_since', 'received_at'], name='case_unassigned_queue_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('closed_at__isnull', True)), fields=['owner', 'awaiting_since', 'received_at'], name='case_owner_open_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('closed_at__isnull', True)), fields=['awaiting_since', 'received_at'], name='case_open_wait_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['received_at'], include=('first_response_at', 'first_responder', 'channel', 'language', 'stage', 'stage_before_close'), name='case_received_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('closed_at__isnull', False)), fields=['closed_at'], include=('stage', 'close_reason'), name='case_closed_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('surrendered_at__isnull', False)), fields=['surrendered_at'], include=('stage', 'received_at'), name='case_surrendered_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['stage'], name='case_stage_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('anonymised_at__isnull', True), ('closed_at__isnull', False)), fields=['closed_at'], name='case_retention_idx'),
        ),
        migrations.AddConstraint(
            model_name='caseequipment',
            constraint=models.UniqueConstraint(fields=('case', 'equipment_type', 'role'), name='equipment_once_per_role'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(fields=['case', 'created_at'], name='message_case_time_idx'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('delivery', 'queued')), fields=['created_at'], name='message_queued_idx'),
        ),
    ]
