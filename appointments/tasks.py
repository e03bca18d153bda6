"""Background tasks (django-tasks). Run by `manage.py db_worker`; immediate in tests."""

from django_tasks import task

from . import notifications


@task()
def notify_front_desk(request_id):
    """Email the front desk about a new request. Failures are recorded, then retried by
    `manage.py retry_notifications` (cron) or the admin's "Retry notification" action."""
    return notifications.send_notification(request_id)
