"""The front desk's worklist (issue 15): appointments, optimistic locking, one-time form
tokens, closure days, the discarded-send count, the queued notification task."""

from django.conf import settings
from django.db import migrations, models

from accounts import roles


def unschedule_without_appointment(apps, schema_editor):
    """"Scheduled" now means booked with a date: an older scheduled request without
    one goes back to contacted, and its history says why."""
    Request = apps.get_model("appointments", "Request")
    RequestEvent = apps.get_model("appointments", "RequestEvent")
    for request in Request.objects.filter(status="scheduled", appointment_at__isnull=True):
        request.status = "contacted"
        request.save(update_fields=["status"])
        RequestEvent.objects.create(
            request=request,
            action="status",
            old_value="scheduled",
            new_value="contacted: no appointment date",
        )


class Migration(migrations.Migration):

    dependencies = [
        ('appointments', '0003_rate_limit_counter'),
        ('education', '0004_drafts_and_revisions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ClosureDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(unique=True, verbose_name='day')),
                ('name', models.CharField(max_length=80, verbose_name='why')),
                ('open', models.BooleanField(default=False, help_text='Tick if the clinic works on this public holiday.', verbose_name='open that day')),
            ],
            options={
                'verbose_name': 'closure day',
                'verbose_name_plural': 'closure days',
                'ordering': ['-day'],
            },
        ),
        migrations.CreateModel(
            name='DiscardedSend',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('form', models.CharField(max_length=20, verbose_name='form')),
                ('reason', models.CharField(max_length=20, verbose_name='trap')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='discarded')),
            ],
            options={
                'verbose_name': 'discarded send',
                'verbose_name_plural': 'discarded sends',
                'ordering': ['-day', 'form', 'reason'],
            },
        ),
        migrations.AddField(
            model_name='request',
            name='appointment_at',
            field=models.DateTimeField(blank=True, help_text='Date and time of the booked visit. Needed to mark the request scheduled.', null=True, verbose_name='appointment'),
        ),
        migrations.AddField(
            model_name='request',
            name='appointment_with',
            field=models.CharField(blank=True, help_text='Optional: who the visit is with, or where.', max_length=120, verbose_name='provider or location'),
        ),
        migrations.AddField(
            model_name='request',
            name='notification_task',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='notification task'),
        ),
        migrations.AddField(
            model_name='request',
            name='submission_token',
            field=models.CharField(editable=False, max_length=64, null=True, unique=True, verbose_name='form token (hash)'),
        ),
        migrations.AddField(
            model_name='request',
            name='version',
            field=models.PositiveIntegerField(default=1, editable=False, verbose_name='version'),
        ),
        migrations.AlterField(
            model_name='request',
            name='next_follow_up',
            field=models.DateField(blank=True, help_text='Logging a call the patient did not answer proposes the next try (urgent: later the same day). Change it if needed.', null=True, verbose_name='next follow-up'),
        ),
        migrations.AlterField(
            model_name='request',
            name='notification_attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Each time the email was queued, whether or not it was sent yet.', verbose_name='notification attempts'),
        ),
        migrations.AlterField(
            model_name='request',
            name='voicemail_ok',
            field=models.BooleanField(blank=True, help_text='Empty when the form did not ask (call-back requests sent before it did).', null=True, verbose_name='voicemail allowed'),
        ),
        migrations.AlterField(
            model_name='requestevent',
            name='action',
            field=models.CharField(choices=[('submitted', 'Submitted'), ('status', 'Status changed'), ('assigned', 'Assignment changed'), ('follow_up', 'Next follow-up changed'), ('notes', 'Staff notes edited'), ('appointment', 'Appointment changed'), ('call', 'Call logged'), ('call_corrected', 'Logged call changed'), ('notified', 'Front desk notified'), ('notify_failed', 'Notification failed'), ('notify_retry', 'Notification retried')], max_length=20, verbose_name='what'),
        ),
        migrations.AddIndex(
            model_name='request',
            index=models.Index(fields=['phone'], name='request_phone_idx'),
        ),
        migrations.RunPython(unschedule_without_appointment, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='request',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'scheduled'), _negated=True), ('appointment_at__isnull', False), _connector='OR'), name='request_scheduled_has_appointment', violation_error_message='A scheduled request needs the appointment date.'),
        ),
        migrations.AddConstraint(
            model_name='discardedsend',
            constraint=models.UniqueConstraint(fields=('day', 'form', 'reason'), name='discarded_send_unique'),
        ),
        migrations.AlterField(
            model_name='request',
            name='patient_type',
            field=models.CharField(blank=True, choices=[('new', 'No pump yet'), ('has_pump', 'Has a pump')], max_length=10, verbose_name='pain pump'),
        ),
        migrations.RunPython(roles.create_groups, migrations.RunPython.noop),
    ]
