"""The schema of the staff side: languages, profiles, sessions, staff events."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Language',
            fields=[
                ('code', models.CharField(max_length=8, primary_key=True, serialize=False, verbose_name='code')),
                ('name', models.CharField(max_length=64, verbose_name='name')),
            ],
            options={
                'verbose_name': 'language',
                'verbose_name_plural': 'languages',
                'ordering': ['code'],
            },
        ),
        migrations.CreateModel(
            name='OperatorProfile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('capacity', models.PositiveSmallIntegerField(default=10, help_text='Most active cases at once.', verbose_name='capacity')),
                ('on_shift', models.BooleanField(default=False, verbose_name='on shift')),
                ('shift_changed_at', models.DateTimeField(blank=True, null=True, verbose_name='shift changed at')),
                ('last_assigned_at', models.DateTimeField(blank=True, null=True, verbose_name='last assigned at')),
                ('time_zone', models.CharField(default='Europe/Kyiv', max_length=64, verbose_name='time zone')),
                ('ui_language', models.CharField(choices=[('en', 'English'), ('uk', 'Українська')], default='uk', max_length=8, verbose_name='interface language')),
                ('languages', models.ManyToManyField(blank=True, related_name='operators', to='operators.language', verbose_name='languages')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='operator', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'operator profile',
                'verbose_name_plural': 'operator profiles',
                'permissions': [('work_cases', 'Can work cases: take, answer, move through stages'), ('supervise_cases', 'Can see every case, reassign, mark rewards paid')],
                'indexes': [models.Index(fields=['on_shift', 'last_assigned_at'], name='operator_shift_idx')],
            },
        ),
        migrations.CreateModel(
            name='StaffEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('deactivated', 'Deactivated'), ('reactivated', 'Reactivated'), ('second_factor_reset', 'Second factor reset'), ('sessions_ended', 'Sessions ended'), ('capacity_changed', 'Capacity changed'), ('languages_changed', 'Languages changed'), ('role_changed', 'Role changed'), ('shift_changed', 'Shift changed by a supervisor')], max_length=24, verbose_name='kind')),
                ('data', models.JSONField(blank=True, default=dict, verbose_name='details')),
                ('created_at', models.DateTimeField(verbose_name='when')),
                ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('subject', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='staff member')),
            ],
            options={
                'verbose_name': 'staff event',
                'verbose_name_plural': 'staff events',
                'indexes': [models.Index(fields=['-created_at'], name='staffevent_recent_idx'), models.Index(fields=['subject', '-created_at'], name='staffevent_subject_idx')],
            },
        ),
        migrations.CreateModel(
            name='UserSession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('session_key', models.CharField(max_length=40, unique=True)),
                ('created_at', models.DateTimeField()),
                ('last_activity', models.DateTimeField()),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='desk_sessions', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['user', 'last_activity'], name='usersession_user_idx')],
            },
        ),
    ]
