"""Clinic time: response targets, overdue requests and the next try after a missed call.

The rule. Only time the clinic is open counts: CLINIC_OPENS to CLINIC_CLOSES (TIME_ZONE),
on CLINIC_DAYS (Monday to Friday unless set), except public holidays (the `holidays` library for
CLINIC_HOLIDAYS_COUNTRY and CLINIC_HOLIDAYS_SUBDIVISION) and the closure days staff add
in the admin (a `ClosureDay` with "open" ticked keeps the clinic open on a holiday).
A request still new is overdue once the clinic has been open longer than its target
since it was sent: urgent, RESPONSE_TARGET_URGENT_BUSINESS_HOURS clinic hours; routine,
RESPONSE_TARGET_ROUTINE_BUSINESS_DAYS clinic days, one clinic day being one full day of
opening hours.

Examples with 8:00 to 17:00, 2 hours and 1 day:

- routine, sent Friday 15:00: due Monday 15:00 (2 hours on Friday, 7 on Monday);
- routine, sent Saturday or Sunday 22:00: due Monday 17:00, overdue once Tuesday opens;
- urgent, sent Sunday 22:00 or Monday 8:00 (the same thing): due Monday 10:00.

`Calendar` does the arithmetic. It reads the staff's closure days for a range of dates
in one query, so a page that needs many answers (a due time per row) makes one
`Calendar` and asks it. The functions at the bottom make a `Calendar` for one answer.
"""

import datetime
import functools

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

# A Calendar reads closure days this far either side of the dates it is made for: more
# than any response target plus a run of holidays. Asked about a day outside, it reads
# again (one more query), so answers are always right.
MARGIN = datetime.timedelta(days=31)
# Walking day by day stops after a year without an open day (a settings mistake).
MAX_DAYS = 366
ONE_DAY = datetime.timedelta(days=1)


@functools.lru_cache(maxsize=32)
def public_holidays(country, subdivision, year):
    """The `holidays` library's public holidays (date -> name) for one year.

    Includes "observed" days: Christmas on a Saturday closes the Friday before.
    """
    return holidays.country_holidays(country, subdiv=subdivision or None, years=year)


def public_holidays_on_clinic_days(year):
    """[(date, name)] of the public holidays that fall on clinic days in `year`:
    the days the library closes the clinic on (unless staff keep it open)."""
    found = public_holidays(
        settings.CLINIC_HOLIDAYS_COUNTRY, settings.CLINIC_HOLIDAYS_SUBDIVISION, year
    )
    return sorted(
        (day, name) for day, name in found.items() if day.weekday() in settings.CLINIC_DAYS
    )


def _clock(text, name):
    try:
        return datetime.time.fromisoformat(text)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a time like 08:00, not {text!r}.") from None


class Calendar:
    """The clinic's open days and hours, with the closure days of a range of dates loaded.

    Made once and asked many times: `due_at` for every row of a list costs no query.
    """

    def __init__(self, first, last):
        """Read the closure days from `first` to `last` (dates, both included)."""
        self.opens = _clock(settings.CLINIC_OPENS, "CLINIC_OPENS")
        self.closes = _clock(settings.CLINIC_CLOSES, "CLINIC_CLOSES")
        if self.opens >= self.closes:
            raise ImproperlyConfigured("CLINIC_OPENS must be earlier than CLINIC_CLOSES.")
        self.country = settings.CLINIC_HOLIDAYS_COUNTRY
        self.subdivision = settings.CLINIC_HOLIDAYS_SUBDIVISION
        self._load(first, last)

    @classmethod
    def covering(cls, moments):
        """A Calendar for these datetimes or dates (with a margin either side)."""
        days = [timezone.localdate(m) if isinstance(m, datetime.datetime) else m for m in moments]
        return cls(min(days) - MARGIN, max(days) + MARGIN)

    def _load(self, first, last):
        from .models import ClosureDay  # models.py imports this module

        self.first, self.last = first, last
        rows = ClosureDay.objects.filter(day__range=(first, last)).values_list("day", "open")
        self.staff_days = dict(rows)  # date -> True (open that day) or False (closed)

    # Days.

    def is_open_day(self, day):
        """One of CLINIC_DAYS (Monday to Friday unless set), not a public holiday unless
        staff keep it open, and not a day staff closed."""
        if day.weekday() not in settings.CLINIC_DAYS:
            return False
        if not self.first <= day <= self.last:
            self._load(min(day, self.first) - MARGIN, max(day, self.last) + MARGIN)
        if day in self.staff_days:
            return self.staff_days[day]
        return day not in public_holidays(self.country, self.subdivision, day.year)

    def next_open_day(self, day):
        """The first open day after `day`."""
        return self.add_business_days(day, 1)

    def add_business_days(self, day, days):
        """The date `days` open days after `day` (a closed day counts from the open day
        before it: one day after Saturday is Monday)."""
        for _step in range(MAX_DAYS):
            if days <= 0:
                return day
            day += ONE_DAY
            if self.is_open_day(day):
                days -= 1
        raise ImproperlyConfigured("The clinic is never open: check the closure days.")

    def hours(self, day):
        """(opens, closes) on `day` as aware datetimes in TIME_ZONE, or None if closed."""
        if not self.is_open_day(day):
            return None
        return (
            timezone.make_aware(datetime.datetime.combine(day, self.opens)),
            timezone.make_aware(datetime.datetime.combine(day, self.closes)),
        )

    # Clinic time.

    def target(self, urgent):
        """How much clinic time the front desk has to reach the patient."""
        if urgent:
            return datetime.timedelta(hours=settings.RESPONSE_TARGET_URGENT_BUSINESS_HOURS)
        one_day = datetime.datetime.combine(
            datetime.date.min, self.closes
        ) - datetime.datetime.combine(datetime.date.min, self.opens)
        return one_day * settings.RESPONSE_TARGET_ROUTINE_BUSINESS_DAYS

    def add_clinic_time(self, start, amount):
        """The first moment by which the clinic has been open `amount` since `start`.

        A start out of hours counts from the next opening; an answer that ends a clinic
        day is its closing time (not the next opening).
        """
        start = timezone.localtime(start)
        day = start.date()
        for _step in range(MAX_DAYS):
            hours = self.hours(day)
            if hours is not None:
                opens, closes = hours
                begin = max(opens, start)
                if begin <= closes:
                    if amount <= closes - begin:
                        return begin + amount
                    amount -= closes - begin
            day += ONE_DAY
        raise ImproperlyConfigured("The clinic is never open: check the closure days.")

    def subtract_clinic_time(self, end, amount):
        """The first moment after which the clinic is open less than `amount` until `end`.

        So for any moment `m`: m < the answer exactly when the clinic is open longer than
        `amount` between `m` and `end`. Landing on an opening time, the answer is the
        closing time of the open day before (the night between adds no clinic time).
        """
        end = timezone.localtime(end)
        day = end.date()
        for _step in range(MAX_DAYS):
            hours = self.hours(day)
            if hours is not None:
                opens, closes = hours
                finish = min(closes, end)
                if opens < finish:
                    if amount < finish - opens:
                        return finish - amount
                    amount -= finish - opens
            day -= ONE_DAY
        raise ImproperlyConfigured("The clinic is never open: check the closure days.")

    # Answers.

    def response_cutoffs(self, now=None):
        """{"urgent": moment, "routine": moment}: a request still new that was sent
        before its moment is overdue at `now` (default: now)."""
        now = timezone.localtime(now)
        return {
            "urgent": self.subtract_clinic_time(now, self.target(urgent=True)),
            "routine": self.subtract_clinic_time(now, self.target(urgent=False)),
        }

    def due_at(self, submitted_at, urgent):
        """When the request is due: the moment the target's clinic time has passed."""
        return self.add_clinic_time(submitted_at, self.target(urgent))

    def next_try(self, urgent, called_at):
        """The day to call again after a call that did not reach the patient.

        Urgent: URGENT_RETRY_MINUTES of clinic time after the call, so later the same
        day if the clinic is still open then, else the next open day. Routine: the next
        open day after the call's day.
        """
        day = timezone.localdate(called_at)
        if not urgent:
            return self.next_open_day(day)
        retry_at = self.add_clinic_time(
            called_at, datetime.timedelta(minutes=settings.URGENT_RETRY_MINUTES)
        )
        day = retry_at.date()
        if retry_at == self.hours(day)[1]:  # at closing time: nobody can call then
            return self.next_open_day(day)
        return day


# One answer, one query (the closure days around the dates asked about).


def is_open_day(day):
    return Calendar(day, day).is_open_day(day)


def add_business_days(day, days):
    return Calendar.covering([day]).add_business_days(day, days)


def response_cutoffs(now=None):
    now = timezone.localtime(now)
    return Calendar.covering([now]).response_cutoffs(now)


def due_at(submitted_at, urgent):
    return Calendar.covering([submitted_at]).due_at(submitted_at, urgent)


def next_try(urgent, called_at):
    return Calendar.covering([called_at]).next_try(urgent, called_at)
