"""Background tasks (django-tasks). Run by `manage.py db_worker`; immediate in tests."""

import datetime

from django_tasks import task

from . import review_dates


@task()
def send_review_reminders(day=None):
    """Email the clinical reviewers the guide pages past (or near) their review date.

    `day` (ISO date, default: the clinic's today) is the day the daily command ran.
    Raises review_dates.RemindersNotSent when an email fails (logged without
    addresses), so the task shows as failed and the command reports it to cron.
    """
    return review_dates.send_reminders(datetime.date.fromisoformat(day) if day else None)
