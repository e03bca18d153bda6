"""Clinic time (business_days.py): response targets by urgency, holidays, closure days.

Settings pinned in every test: open 8:00 to 17:00, urgent 2 clinic hours, routine 1
clinic day, US federal holidays, urgent retry after 60 minutes. Dates in November and
December 2026: Thanksgiving is Thursday 26 November, Christmas Friday 25 December.
"""

import datetime
import itertools
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import business_days
from appointments.business_days import (
    Calendar,
    add_business_days,
    due_at,
    is_open_day,
    next_try,
    response_cutoffs,
)
from appointments.models import ClosureDay, Request

from .factories import make_request

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
URGENT, ROUTINE = True, False


def at(month, day, hour=0, minute=0, second=0):
    return datetime.datetime(2026, month, day, hour, minute, second, tzinfo=NEW_YORK)


def date(month, day):
    return datetime.date(2026, month, day)


@pytest.fixture(autouse=True)
def _clinic(settings):
    settings.TIME_ZONE = "America/New_York"
    settings.CLINIC_OPENS = "08:00"
    settings.CLINIC_CLOSES = "17:00"
    settings.RESPONSE_TARGET_URGENT_BUSINESS_HOURS = 2
    settings.RESPONSE_TARGET_ROUTINE_BUSINESS_DAYS = 1
    settings.CLINIC_HOLIDAYS_COUNTRY = "US"
    settings.CLINIC_HOLIDAYS_SUBDIVISION = ""
    settings.URGENT_RETRY_MINUTES = 60


def is_overdue(submitted_at, urgent, now):
    """The rule as the database applies it (models.RequestQuerySet.overdue_condition)."""
    return submitted_at < response_cutoffs(now)["urgent" if urgent else "routine"]


# Open days.


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(11, 23), True),  # Monday
        (date(11, 21), False),  # Saturday
        (date(11, 22), False),  # Sunday
        (date(11, 26), False),  # Thanksgiving
        (date(11, 27), True),  # the Friday after: not a federal holiday
        (date(12, 25), False),  # Christmas
        (datetime.date(2027, 12, 24), False),  # Christmas 2027 (a Saturday), observed
    ],
)
def test_open_days_are_weekdays_that_are_not_public_holidays(day, open_):
    assert is_open_day(day) is open_


def test_a_closure_day_closes_a_weekday_and_an_open_one_opens_a_holiday():
    ClosureDay.objects.create(day=date(11, 23), name="Snow day")
    ClosureDay.objects.create(day=date(11, 26), name="We work Thanksgiving", open=True)
    assert not is_open_day(date(11, 23))
    assert is_open_day(date(11, 26))


def test_an_open_day_on_a_weekend_does_not_open_the_clinic():
    ClosureDay.objects.create(day=date(11, 21), name="Saturday", open=True)
    assert not is_open_day(date(11, 21))


def test_the_state_setting_adds_the_state_holidays(settings):
    assert is_open_day(date(11, 27))
    settings.CLINIC_HOLIDAYS_SUBDIVISION = "PA"  # Pennsylvania: Day After Thanksgiving
    assert not is_open_day(date(11, 27))
    assert due_at(at(11, 25, 15), ROUTINE) == at(11, 30, 15)


# Due times and overdue, urgent and routine.


@pytest.mark.parametrize(
    ("sent", "urgent", "due"),
    [
        (at(11, 24, 9), URGENT, at(11, 24, 11)),  # Tuesday morning: two hours later
        (at(11, 24, 9), ROUTINE, at(11, 25, 9)),  # Tuesday morning: Wednesday morning
        (at(11, 20, 16), URGENT, at(11, 23, 9)),  # Friday 16:00: one hour, one on Monday
        (at(11, 20, 15), ROUTINE, at(11, 23, 15)),  # Friday 15:00: Monday 15:00
        (at(11, 21, 12), ROUTINE, at(11, 23, 17)),  # Saturday: the end of Monday
        (at(11, 22, 22), ROUTINE, at(11, 23, 17)),  # Sunday night: the end of Monday
        (at(11, 22, 22), URGENT, at(11, 23, 10)),  # Sunday night: Monday 10:00
        (at(11, 23, 8), URGENT, at(11, 23, 10)),  # Monday at opening: the same
        (at(11, 23, 6), URGENT, at(11, 23, 10)),  # before opening: from opening
        (at(11, 24, 20), URGENT, at(11, 25, 10)),  # after closing: from next opening
        (at(11, 25, 16, 30), URGENT, at(11, 27, 9, 30)),  # over Thanksgiving
        (at(11, 25, 15), ROUTINE, at(11, 27, 15)),  # over Thanksgiving
        (at(12, 24, 10), ROUTINE, at(12, 28, 10)),  # over Christmas and the weekend
        (at(12, 24, 16), URGENT, at(12, 28, 9)),  # over Christmas and the weekend
    ],
)
def test_due_times(sent, urgent, due):
    assert due_at(sent, urgent) == due


def test_an_urgent_request_a_day_old_and_never_called_is_overdue():
    # The bug in the issue: one business day for urgent requests too.
    assert is_overdue(at(11, 23, 9), URGENT, now=at(11, 24, 8, 30))
    assert not is_overdue(at(11, 23, 9), ROUTINE, now=at(11, 24, 8, 30))


def test_overdue_starts_the_moment_the_target_has_passed():
    friday = at(11, 20, 15)
    assert not is_overdue(friday, ROUTINE, now=at(11, 23, 15))
    assert is_overdue(friday, ROUTINE, now=at(11, 23, 15, 0, 1))
    sunday_night, monday_opening = at(11, 22, 22), at(11, 23, 8)
    for sent in (sunday_night, monday_opening):
        assert not is_overdue(sent, URGENT, now=at(11, 23, 10))
        assert is_overdue(sent, URGENT, now=at(11, 23, 10, 0, 1))


def test_a_weekend_request_due_at_closing_is_overdue_when_the_clinic_opens_again():
    saturday = at(11, 21, 12)
    assert not is_overdue(saturday, ROUTINE, now=at(11, 23, 16, 59))
    assert not is_overdue(saturday, ROUTINE, now=at(11, 23, 22))  # closed: no clinic time
    assert is_overdue(saturday, ROUTINE, now=at(11, 24, 8, 1))
    assert is_overdue(at(11, 20, 16, 59), ROUTINE, now=at(11, 23, 17))


def test_nothing_becomes_overdue_on_a_holiday():
    wednesday = at(11, 25, 15)
    assert not is_overdue(wednesday, ROUTINE, now=at(11, 26, 16))  # Thanksgiving
    assert not is_overdue(wednesday, ROUTINE, now=at(11, 27, 14, 59))
    assert is_overdue(wednesday, ROUTINE, now=at(11, 27, 15, 1))


def test_a_staff_closure_day_moves_the_due_time():
    ClosureDay.objects.create(day=date(11, 23), name="Snow day")
    assert due_at(at(11, 20, 15), ROUTINE) == at(11, 24, 15)
    assert not is_overdue(at(11, 20, 15), ROUTINE, now=at(11, 23, 16))


def test_an_open_holiday_counts():
    ClosureDay.objects.create(day=date(11, 26), name="We work Thanksgiving", open=True)
    assert due_at(at(11, 25, 15), ROUTINE) == at(11, 26, 15)
    assert is_overdue(at(11, 25, 15), ROUTINE, now=at(11, 26, 16))


def test_the_targets_and_hours_are_settings(settings):
    settings.RESPONSE_TARGET_URGENT_BUSINESS_HOURS = 4
    settings.RESPONSE_TARGET_ROUTINE_BUSINESS_DAYS = 2
    settings.CLINIC_OPENS, settings.CLINIC_CLOSES = "09:00", "13:00"
    assert due_at(at(11, 24, 12), URGENT) == at(11, 25, 12)  # 1 hour + 3 hours
    # 8 hours: Tuesday 1, Wednesday 4, Thanksgiving none, Friday 3.
    assert due_at(at(11, 24, 12), ROUTINE) == at(11, 27, 12)


def clinic_time_between(start, end, closed_days):
    """Clinic time from start to end, counted minute by minute (independent of the module)."""
    minute, total = datetime.timedelta(minutes=1), datetime.timedelta()
    moment = start
    while moment + minute <= end:
        local = moment.astimezone(NEW_YORK)
        if (
            local.weekday() < 5
            and local.date() not in closed_days
            and datetime.time(8) <= local.time() < datetime.time(17)
        ):
            total += minute
        moment += minute
    return total


def test_overdue_is_exactly_more_clinic_time_than_the_target():
    """Every half hour from Tuesday to the Tuesday after Thanksgiving, against every
    send time before it: overdue exactly when the clinic time between is over target."""
    closed = {date(11, 26)}
    moments = [at(11, 24) + datetime.timedelta(minutes=30 * n) for n in range(8 * 48)]
    targets = {URGENT: datetime.timedelta(hours=2), ROUTINE: datetime.timedelta(hours=9)}
    cumulative = {moments[0]: datetime.timedelta()}  # clinic time since the first moment
    for before, after in itertools.pairwise(moments):
        cumulative[after] = cumulative[before] + clinic_time_between(before, after, closed)
    calendar = Calendar.covering(moments)
    for now in moments:
        cutoffs = calendar.response_cutoffs(now)
        for sent in moments:
            if sent > now:
                break
            between = cumulative[now] - cumulative[sent]
            for urgent, target in targets.items():
                expected = between > target
                cutoff = cutoffs["urgent" if urgent else "routine"]
                assert (sent < cutoff) is expected, (sent, now, urgent)
    half_hour = datetime.timedelta(minutes=30)
    for sent in moments:
        for urgent, target in targets.items():
            due = calendar.due_at(sent, urgent)
            if due in cumulative:  # the first moment with the target's clinic time
                assert cumulative[due] - cumulative[sent] == target
                assert due - half_hour < sent or (
                    cumulative[due - half_hour] - cumulative[sent] < target
                )


# Through the database.


def test_the_database_marks_overdue_by_urgency(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: at(11, 24, 12))  # Tuesday noon
    urgent_late = make_request(urgent=True, submitted_at=at(11, 24, 9, 30))
    urgent_on_time = make_request(urgent=True, submitted_at=at(11, 24, 10, 30))
    routine_late = make_request(submitted_at=at(11, 23, 11))
    routine_on_time = make_request(submitted_at=at(11, 23, 13))
    called = make_request(urgent=True, submitted_at=at(11, 20, 9), status=Request.Status.CONTACTED)
    overdue = set(Request.objects.overdue())
    assert overdue == {urgent_late, routine_late}
    flagged = {r.pk: bool(r.is_overdue) for r in Request.objects.with_overdue()}
    assert flagged == {
        urgent_late.pk: True,
        urgent_on_time.pk: False,
        routine_late.pk: True,
        routine_on_time.pk: False,
        called.pk: False,
    }


def test_the_database_counts_closure_days(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: at(11, 23, 16))  # Monday 16:00
    friday = make_request(submitted_at=at(11, 20, 15))
    assert list(Request.objects.overdue()) == [friday]
    ClosureDay.objects.create(day=date(11, 23), name="Snow day")
    assert list(Request.objects.overdue()) == []


def test_response_cutoffs_make_one_query(django_assert_max_num_queries):
    ClosureDay.objects.create(day=date(11, 23), name="Snow day")
    with django_assert_max_num_queries(1):
        response_cutoffs(at(11, 24, 12))


def test_one_calendar_gives_many_due_times_without_more_queries(django_assert_num_queries):
    sent = [at(11, 20, 9) + datetime.timedelta(hours=7 * n) for n in range(40)]
    with django_assert_num_queries(1):
        calendar = Calendar.covering(sent)
        for moment in sent:
            calendar.due_at(moment, URGENT)
            calendar.due_at(moment, ROUTINE)


def test_a_day_outside_the_calendar_is_read_when_asked():
    ClosureDay.objects.create(day=datetime.date(2027, 3, 3), name="Staff day")
    calendar = Calendar(date(11, 1), date(11, 30))
    assert not calendar.is_open_day(datetime.date(2027, 3, 3))


# The next try after a call that did not reach the patient.


@pytest.mark.parametrize(
    ("called", "day"),
    [
        (at(11, 23, 10), date(11, 23)),  # Monday morning: later today
        (at(11, 23, 15, 59), date(11, 23)),  # 16:59 is still open
        (at(11, 23, 16), date(11, 24)),  # 17:00 is closing time: tomorrow
        (at(11, 23, 7), date(11, 23)),  # before opening: today
        (at(11, 23, 19), date(11, 24)),  # after closing: tomorrow
        (at(11, 20, 16, 30), date(11, 23)),  # late on Friday: Monday
        (at(11, 21, 12), date(11, 23)),  # Saturday: Monday
        (at(11, 25, 16, 30), date(11, 27)),  # late before Thanksgiving: Friday
        (at(12, 24, 16, 30), date(12, 28)),  # late before Christmas: Monday
    ],
)
def test_next_try_for_an_urgent_request(called, day):
    assert next_try(URGENT, called) == day


@pytest.mark.parametrize(
    ("called", "day"),
    [
        (at(11, 23, 10), date(11, 24)),  # Monday: Tuesday
        (at(11, 20, 10), date(11, 23)),  # Friday: Monday
        (at(11, 21, 10), date(11, 23)),  # Saturday: Monday
        (at(11, 25, 10), date(11, 27)),  # before Thanksgiving: Friday
        (at(12, 24, 10), date(12, 28)),  # before Christmas: Monday
    ],
)
def test_next_try_for_a_routine_request(called, day):
    assert next_try(ROUTINE, called) == day


def test_the_urgent_retry_is_a_setting(settings):
    settings.URGENT_RETRY_MINUTES = 240
    assert next_try(URGENT, at(11, 23, 12)) == date(11, 23)
    assert next_try(URGENT, at(11, 23, 13, 30)) == date(11, 24)


def test_next_try_skips_a_staff_closure_day():
    ClosureDay.objects.create(day=date(11, 24), name="Staff training")
    assert next_try(ROUTINE, at(11, 23, 10)) == date(11, 25)
    assert next_try(URGENT, at(11, 23, 16, 30)) == date(11, 25)


# Follow-ups (the demo data uses add_business_days).


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (date(11, 20), 1, date(11, 23)),  # Friday: Monday
        (date(11, 21), 1, date(11, 23)),  # Saturday: Monday
        (date(11, 23), 1, date(11, 24)),
        (date(11, 25), 1, date(11, 27)),  # over Thanksgiving
        (date(12, 23), 2, date(12, 28)),  # over Christmas
        (date(11, 23), 0, date(11, 23)),
    ],
)
def test_add_business_days_skips_closed_days(start, days, end):
    assert add_business_days(start, days) == end


def test_public_holidays_listed_for_staff_are_those_on_clinic_days():
    listed = dict(business_days.public_holidays_on_clinic_days(2026))
    assert listed[date(11, 26)] == "Thanksgiving Day"
    assert listed[date(7, 3)] == "Independence Day (observed)"
    assert date(7, 4) not in listed  # a Saturday: closed anyway


def test_the_closure_days_page_lists_the_public_holidays_already_counted(superuser_client):
    ClosureDay.objects.create(day=date(11, 27), name="Staff day")
    this_year = timezone.localdate().year
    thanksgiving = next(
        day
        for day, name in business_days.public_holidays_on_clinic_days(this_year)
        if name == "Thanksgiving Day"
    )
    ClosureDay.objects.create(day=thanksgiving, name="We work Thanksgiving", open=True)
    response = superuser_client.get(reverse("admin:appointments_closureday_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Fri 27 Nov 2026" in page  # the day with its weekday
    assert "Public holidays (US): already closed" in page
    holidays = {h["day"]: h for h in response.context["public_holidays"]}
    assert holidays[thanksgiving]["open"] is True
    assert holidays[thanksgiving]["add_url"] == ""  # already added: change it in the list
    first_next_year = min(day for day in holidays if day.year == this_year + 1)
    add_url = reverse("admin:appointments_closureday_add")
    assert holidays[first_next_year]["add_url"].startswith(f"{add_url}?day={first_next_year}")
    form = superuser_client.get(holidays[first_next_year]["add_url"]).context["adminform"].form
    assert form["day"].value() == str(first_next_year)
    assert "checked" in str(form["open"])  # the link ticks "open that day"
    assert {h["day"].year for h in response.context["public_holidays"]} == {
        this_year,
        this_year + 1,
    }


def test_open_on_a_weekend_is_refused_with_a_reason(superuser_client):
    url = reverse("admin:appointments_closureday_add")
    response = superuser_client.post(url, {"day": "2026-12-05", "name": "Saturday", "open": "on"})
    assert "The clinic is never open on this day of the week." in response.content.decode()
    assert not ClosureDay.objects.exists()


def test_a_clinic_open_on_saturdays_counts_them(settings):
    settings.CLINIC_DAYS = [0, 1, 2, 3, 4, 5]
    assert business_days.is_open_day(datetime.date(2026, 12, 5))  # a Saturday
    assert not business_days.is_open_day(datetime.date(2026, 12, 6))  # a Sunday


@pytest.mark.parametrize(
    ("text", "days"),
    [("Mon-Fri", [0, 1, 2, 3, 4]), ("Mon-Fri,Sat", [0, 1, 2, 3, 4, 5]), ("Tue, Thu", [1, 3])],
)
def test_clinic_days_are_read_from_weekday_names(text, days):
    from clinic_site.settings import weekdays

    assert weekdays(text) == days


def test_a_misspelt_clinic_day_stops_the_site_with_a_clear_message():
    from django.core.exceptions import ImproperlyConfigured

    from clinic_site.settings import weekdays

    with pytest.raises(ImproperlyConfigured, match="weekday names"):
        weekdays("Monday-Friday")
