"""Business-day arithmetic for the response target and follow-ups (weekdays; no holidays).

The clinic promises an answer within RESPONSE_TARGET_BUSINESS_DAYS. Time only counts on
weekdays, in the clinic's time zone: a request sent on Friday at 3 pm with a one-day target
is due on Monday at 3 pm; one sent on Saturday is due at the end of Monday.
"""

import datetime

from django.conf import settings
from django.utils import timezone

SATURDAY = 5


def add_business_days(day, days):
    """The date `days` weekdays after `day` (a weekend day counts from the Friday before)."""
    while days > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < SATURDAY:
            days -= 1
    return day


def overdue_cutoff(now=None, days=None):
    """The moment before which a request still new today is past the response target.

    The one place the overdue rule lives: the admin's column, filter and tests use it.
    Walks back `days` weekdays from now, skipping weekends, so the weekday time between
    the cutoff and now is exactly the target.
    """
    days = settings.RESPONSE_TARGET_BUSINESS_DAYS if days is None else days
    now = timezone.localtime(now)
    day, time_of_day = now.date(), now.time()
    if day.weekday() >= SATURDAY:
        # The clock stopped at the end of Friday (Saturday 00:00).
        day -= datetime.timedelta(days=day.weekday() - SATURDAY)
        time_of_day = datetime.time()
    while days > 0:
        day -= datetime.timedelta(days=1)
        if day.weekday() < SATURDAY:
            days -= 1
    if day.weekday() == 0 and time_of_day == datetime.time():
        # Monday 00:00 is the same weekday time as Saturday 00:00: take the earlier one
        # so weekend submissions count as on time, like the rule above says.
        day -= datetime.timedelta(days=2)
    return timezone.make_aware(datetime.datetime.combine(day, time_of_day))
